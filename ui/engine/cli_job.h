// One run of the engine binary (ftstudio-cli) for a short task: describe a model,
// generate text (streamed), import/export data, build the base model. Output arrives
// as signals while it runs; the GUI thread never waits on it. Not here: training runs
// with events and control (engine_process.h).
#pragma once

#include <QObject>
#include <QProcess>
#include <QString>
#include <QStringDecoder>
#include <QStringList>

namespace ft::ui {

class CliJob : public QObject {
    Q_OBJECT
public:
    explicit CliJob(QObject* parent = nullptr);
    ~CliJob() override;  // kills a job still running

    // Starts `ftstudio-cli <args>` (cliPath()). A job already running is killed first.
    void start(const QStringList& args);
    void cancel();  // kills it; finished(false, "cancelled") follows
    bool isRunning() const;
    QString allOutput() const { return m_stdout; }
    QString allErrors() const { return m_stderr; }
    QStringList arguments() const { return m_args; }

signals:
    void outputText(const QString& chunk);  // stdout as it arrives (UTF-8 split safely)
    void outputLine(const QString& line);   // each complete stdout line, without '\n'
    void errorLine(const QString& line);    // each complete stderr line (progress, warnings)
    // ok: exit status 0. Otherwise `message` is the engine's last stderr line, or why it
    // could not start / how it crashed.
    void finished(bool ok, const QString& message);

private:
    void onStdout();
    void onStderr();
    void onFinished(int code, QProcess::ExitStatus status);
    void onError(QProcess::ProcessError error);

    QProcess* m_process = nullptr;
    QStringList m_args;
    QString m_stdout, m_stderr, m_lineBuffer, m_errBuffer;
    QStringDecoder m_outDecoder{QStringDecoder::Utf8};
    QStringDecoder m_errDecoder{QStringDecoder::Utf8};
    bool m_cancelled = false;
    bool m_reported = false;
};

// The last non-empty line of `text` (the engine prints its error as one line).
QString lastLine(const QString& text);

} // namespace ft::ui
