// A training run in the engine process: `ftstudio-cli train --config FILE --events -`.
// Reads its JSON-lines events (docs/events.md) and turns them into signals; sends
// pause / resume / stop on its stdin; keeps the last log lines, so that when the engine
// fails, crashes or is killed the GUI can show why and offer to resume.
// Not here: charts and widgets (train/), short one-shot jobs (cli_job.h).
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringDecoder>
#include <QStringList>

namespace ft::ui {

class EngineProcess : public QObject {
    Q_OBJECT
public:
    enum class State { Idle, Running, Paused, Stopping, Finished, Stopped, Failed };
    Q_ENUM(State)

    explicit EngineProcess(QObject* parent = nullptr);
    ~EngineProcess() override;  // a run still going is asked to stop and save (SIGTERM), then left to finish

    // Starts the engine on a run config file; `resume` adds --resume (continue from the
    // last complete checkpoint in the config's output_dir).
    void start(const QString& configPath, bool resume = false);
    void pause();
    void resume();
    void stop();  // finish the step, checkpoint, exit (the run ends as Stopped)
    void kill();  // SIGKILL: ends at once (the run ends as Failed, resumable)
    // Keep the engine running after this object is destroyed (closing the window with
    // "keep the run"): its events are no longer read.
    void detach();

    State state() const { return m_state; }
    bool isActive() const;  // Running, Paused or Stopping
    qint64 processId() const;
    QStringList lastLogLines() const { return m_log; }  // newest last, at most 200
    QString errorMessage() const { return m_error; }
    QString configPath() const { return m_configPath; }

    static QString stateName(State s);

signals:
    void event(const QJsonObject& e);   // every event line, as parsed
    void logLine(const QString& line);  // the engine's stderr lines (progress, `log` events, errors)
    void stateChanged(ft::ui::EngineProcess::State state);
    // The process is gone. Finished/Stopped: it ended normally; Failed: `message` says
    // why (its error event, its last log line, or how it died).
    void ended(ft::ui::EngineProcess::State state, const QString& message);

private:
    void setState(State s);
    void onStdout();
    void onStderr();
    void onFinished(int code, QProcess::ExitStatus status);
    void onProcessError(QProcess::ProcessError error);
    void handleLine(const QString& line);
    void addLog(const QString& line);
    void send(const char* command);

    QProcess* m_process = nullptr;
    State m_state = State::Idle;
    QString m_configPath, m_error, m_outBuffer, m_errBuffer, m_finishedStatus;
    QStringList m_log;
    QStringDecoder m_outDecoder{QStringDecoder::Utf8};
    QStringDecoder m_errDecoder{QStringDecoder::Utf8};
    bool m_killed = false;
    bool m_ended = false;
};

} // namespace ft::ui
