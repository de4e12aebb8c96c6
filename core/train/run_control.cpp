// Run control requests from a command stream, signals and direct calls (see
// run_control.h). The signal handler only stores into lock-free atomics; whoever
// asks a question next (the trainer, the reader thread, a paused wait that wakes
// every 100 ms) turns those into requests.
#include "train/run_control.h"

#include "util/error.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <iterator>
#include <poll.h>
#include <unistd.h>

namespace ft::train {

namespace {

static_assert(std::atomic<int>::is_always_lock_free, "the signal handler needs lock-free atomics");

constexpr int kHandledSignals[] = {SIGTERM, SIGINT, SIGUSR1, SIGUSR2};
constexpr int kPauseSignal = 1;
constexpr int kResumeSignal = 2;
constexpr auto kPollInterval = std::chrono::milliseconds(100);

std::atomic<int> g_stopSignal{0};   // number of the last SIGTERM/SIGINT not yet absorbed
std::atomic<int> g_pauseSignal{0};  // kPauseSignal or kResumeSignal, whichever came last
std::atomic<bool> g_signalsOwned{false};
struct sigaction g_previous[std::size(kHandledSignals)];

extern "C" void onControlSignal(int sig)
{
    if (sig == SIGTERM || sig == SIGINT)
        g_stopSignal.store(sig);
    else if (sig == SIGUSR1)
        g_pauseSignal.store(kPauseSignal);
    else if (sig == SIGUSR2)
        g_pauseSignal.store(kResumeSignal);
}

std::string trimmedLower(const std::string& line)
{
    size_t begin = 0, end = line.size();
    while (begin < end && std::isspace(static_cast<unsigned char>(line[begin])))
        ++begin;
    while (end > begin && std::isspace(static_cast<unsigned char>(line[end - 1])))
        --end;
    std::string out = line.substr(begin, end - begin);
    std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) { return std::tolower(c); });
    return out;
}

} // namespace

RunControl::~RunControl()
{
    m_quit = true;
    if (m_reader.joinable())
        m_reader.join();
    if (m_ownsSignals) {
        for (size_t i = 0; i < std::size(kHandledSignals); ++i)
            sigaction(kHandledSignals[i], &g_previous[i], nullptr);
        g_stopSignal = 0;
        g_pauseSignal = 0;
        g_signalsOwned = false;
    }
}

void RunControl::setNoticeCallback(NoticeCallback callback)
{
    std::lock_guard lock(m_noticeMutex);
    m_notice = std::move(callback);
}

void RunControl::start(int commandFd, bool handleSignals)
{
    if (m_reader.joinable() || m_ownsSignals)
        fail("RunControl::start called twice");
    if (handleSignals) {
        if (g_signalsOwned.exchange(true))
            fail("another RunControl already handles SIGTERM, SIGINT, SIGUSR1 and SIGUSR2 in this process");
        m_ownsSignals = true;
        g_stopSignal = 0;
        g_pauseSignal = 0;
        struct sigaction action {};
        action.sa_handler = onControlSignal;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;  // reads elsewhere in the engine are not cut short
        for (size_t i = 0; i < std::size(kHandledSignals); ++i)
            sigaction(kHandledSignals[i], &action, &g_previous[i]);
    }
    if (commandFd >= 0)
        m_reader = std::thread([this, commandFd] { readCommands(commandFd); });
}

void RunControl::requestPause()
{
    absorbSignals();
    m_paused = true;
}

void RunControl::requestResume()
{
    absorbSignals();
    m_paused = false;
    { std::lock_guard lock(m_mutex); }  // a waiter between its check and its wait sees the change
    m_wake.notify_all();
}

void RunControl::requestStop()
{
    m_stop = true;
    { std::lock_guard lock(m_mutex); }
    m_wake.notify_all();
}

void RunControl::requestSave()
{
    m_save = true;
}

bool RunControl::stopRequested()
{
    absorbSignals();
    return m_stop;
}

bool RunControl::saveRequested()
{
    return m_save.exchange(false);
}

bool RunControl::paused()
{
    absorbSignals();
    return m_paused;
}

bool RunControl::waitWhilePaused()
{
    std::unique_lock lock(m_mutex);
    for (;;) {
        absorbSignals();
        if (m_stop)
            return false;
        if (!m_paused)
            return true;
        // Signals cannot notify a condition variable, hence the timeout.
        m_wake.wait_for(lock, kPollInterval);
    }
}

void RunControl::absorbSignals()
{
    if (!m_ownsSignals)
        return;
    if (const int pause = g_pauseSignal.exchange(0); pause != 0)
        m_paused = pause == kPauseSignal;
    if (const int sig = g_stopSignal.exchange(0); sig != 0) {
        m_stop = true;
        notice(std::string("received ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
               ": stopping after saving a checkpoint");
    }
}

void RunControl::notice(const std::string& message)
{
    std::lock_guard lock(m_noticeMutex);
    if (m_notice)
        m_notice(message);
}

void RunControl::handleCommand(const std::string& line)
{
    const std::string command = trimmedLower(line);
    if (command.empty())
        return;
    if (command == "pause")
        requestPause();
    else if (command == "resume")
        requestResume();
    else if (command == "stop")
        requestStop();
    else if (command == "save")
        requestSave();
    else
        notice("unknown command '" + line.substr(0, 80) + "'; expected pause, resume, stop or save (one per line)");
}

void RunControl::readCommands(int fd)
{
    std::string pending;
    char chunk[512];
    while (!m_quit) {
        absorbSignals();
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(kPollInterval.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready < 0) {
            notice(std::string("cannot read commands: ") + std::strerror(errno) + "; signals still work");
            return;
        }
        if (ready == 0)
            continue;
        const ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0) {
            // End of input (or an error): the run goes on, driven by signals from here.
            if (n == 0 && !pending.empty())
                handleCommand(pending);
            return;
        }
        pending.append(chunk, static_cast<size_t>(n));
        for (size_t newline; (newline = pending.find('\n')) != std::string::npos;) {
            handleCommand(pending.substr(0, newline));
            pending.erase(0, newline + 1);
        }
        if (pending.size() > 4096) {
            notice("a command line longer than 4096 bytes was ignored");
            pending.clear();
        }
    }
}

} // namespace ft::train
