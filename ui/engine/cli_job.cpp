#include "engine/cli_job.h"

#include "app/studio_paths.h"

namespace ft::ui {

QString lastLine(const QString& text) {
    const QStringList lines = text.split('\n', Qt::SkipEmptyParts);
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (!it->trimmed().isEmpty())
            return it->trimmed();
    return {};
}

CliJob::CliJob(QObject* parent) : QObject(parent) {}

CliJob::~CliJob() {
    if (m_process) {
        m_process->disconnect(this);
        m_process->kill();
        m_process->waitForFinished(2000);
    }
}

void CliJob::start(const QStringList& args) {
    if (m_process) {
        m_process->disconnect(this);
        m_process->kill();
        m_process->waitForFinished(2000);
        m_process->deleteLater();
    }
    m_args = args;
    m_stdout.clear();
    m_stderr.clear();
    m_lineBuffer.clear();
    m_errBuffer.clear();
    m_outDecoder.resetState();
    m_errDecoder.resetState();
    m_cancelled = false;
    m_reported = false;
    m_process = new QProcess(this);
    connect(m_process, &QProcess::readyReadStandardOutput, this, &CliJob::onStdout);
    connect(m_process, &QProcess::readyReadStandardError, this, &CliJob::onStderr);
    connect(m_process, &QProcess::finished, this, &CliJob::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &CliJob::onError);
    m_process->start(cliPath(), args);
}

void CliJob::cancel() {
    if (!isRunning())
        return;
    m_cancelled = true;
    m_process->kill();
}

bool CliJob::isRunning() const { return m_process && m_process->state() != QProcess::NotRunning; }

void CliJob::onStdout() {
    const QString chunk = m_outDecoder.decode(m_process->readAllStandardOutput());
    if (chunk.isEmpty())
        return;
    m_stdout += chunk;
    emit outputText(chunk);
    m_lineBuffer += chunk;
    qsizetype nl;
    while ((nl = m_lineBuffer.indexOf('\n')) >= 0) {
        emit outputLine(m_lineBuffer.left(nl));
        m_lineBuffer.remove(0, nl + 1);
    }
}

void CliJob::onStderr() {
    const QString chunk = m_errDecoder.decode(m_process->readAllStandardError());
    m_stderr += chunk;
    m_errBuffer += chunk;
    qsizetype nl;
    while ((nl = m_errBuffer.indexOf('\n')) >= 0) {
        emit errorLine(m_errBuffer.left(nl));
        m_errBuffer.remove(0, nl + 1);
    }
}

void CliJob::onFinished(int code, QProcess::ExitStatus status) {
    onStdout();
    onStderr();
    if (!m_lineBuffer.isEmpty()) {
        emit outputLine(m_lineBuffer);
        m_lineBuffer.clear();
    }
    if (m_reported)
        return;
    m_reported = true;
    if (m_cancelled)
        emit finished(false, QStringLiteral("cancelled"));
    else if (status == QProcess::CrashExit)
        emit finished(false, QStringLiteral("the engine crashed (%1); last output: %2")
                                 .arg(m_process->errorString(), lastLine(m_stderr)));
    else if (code != 0)
        emit finished(false, lastLine(m_stderr).isEmpty()
                                 ? QStringLiteral("the engine exited with status %1").arg(code)
                                 : lastLine(m_stderr));
    else
        emit finished(true, QString());
}

void CliJob::onError(QProcess::ProcessError error) {
    if (error != QProcess::FailedToStart || m_reported)
        return;
    m_reported = true;
    emit finished(false, QStringLiteral("could not start the engine '%1': %2 (set FTSTUDIO_CLI to its path)")
                             .arg(cliPath(), m_process->errorString()));
}

} // namespace ft::ui
