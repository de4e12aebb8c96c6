// Pause, resume, stop-and-save and save-now requests for a running training loop,
// from three sources: commands on a file descriptor (stdin, one per line: pause,
// resume, stop, save), signals (SIGTERM and SIGINT stop and save, SIGUSR1 pauses,
// SIGUSR2 resumes) and direct calls (tests, a GUI running the engine in-process).
// The trainer polls it between steps. Not here: saving or emitting events.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace ft::train {

class RunControl {
public:
    // Told about each command line that is not a known command and about each stop
    // signal received; called on the reader thread or on a thread calling the queries.
    using NoticeCallback = std::function<void(const std::string& message)>;

    RunControl() = default;
    // Stops and joins the reader thread (within ~100 ms: it polls) and puts the
    // previous signal handlers back.
    ~RunControl();
    RunControl(const RunControl&) = delete;
    RunControl& operator=(const RunControl&) = delete;

    void setNoticeCallback(NoticeCallback callback);

    // Reads commands from `commandFd` (STDIN_FILENO, a pipe; -1 = none) on a thread
    // of its own; end of input does not stop the run (a GUI may close the pipe).
    // With `handleSignals`, installs the signal handlers; only one RunControl in a
    // process may hold them (ft::Error otherwise). Call once.
    void start(int commandFd, bool handleSignals = true);

    void requestPause();
    void requestResume();
    void requestStop();  // stop and save; also wakes waitWhilePaused
    void requestSave();  // save a checkpoint now and go on

    bool stopRequested();
    bool saveRequested();  // true once per request: the call consumes it
    bool paused();
    // Blocks while paused; returns false when a stop was requested (before or while
    // paused), true when the run should go on.
    bool waitWhilePaused();

private:
    void readCommands(int fd);
    void handleCommand(const std::string& line);
    void notice(const std::string& message);
    void absorbSignals();  // turns what the signal handler recorded into requests

    std::atomic<bool> m_stop{false};
    std::atomic<bool> m_save{false};
    std::atomic<bool> m_paused{false};
    std::atomic<bool> m_quit{false};  // tells the reader thread to end
    bool m_ownsSignals = false;
    std::thread m_reader;
    std::mutex m_mutex;  // for m_wake
    std::condition_variable m_wake;
    std::mutex m_noticeMutex;
    NoticeCallback m_notice;
};

} // namespace ft::train
