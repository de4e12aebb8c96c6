#include "engine/engine_process.h"

#include "app/studio_paths.h"
#include "engine/cli_job.h"

#include <QJsonDocument>
#include <QJsonParseError>

#include <csignal>

namespace ft::ui {

namespace {
constexpr int kMaxLogLines = 200;
}

EngineProcess::EngineProcess(QObject* parent) : QObject(parent) {}

EngineProcess::~EngineProcess() {
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_process->disconnect(this);
        ::kill(static_cast<pid_t>(m_process->processId()), SIGTERM);
        m_process->waitForFinished(30000);
    }
}

QString EngineProcess::stateName(State s) {
    switch (s) {
    case State::Idle: return QStringLiteral("idle");
    case State::Running: return QStringLiteral("running");
    case State::Paused: return QStringLiteral("paused");
    case State::Stopping: return QStringLiteral("stopping");
    case State::Finished: return QStringLiteral("finished");
    case State::Stopped: return QStringLiteral("stopped");
    case State::Failed: return QStringLiteral("failed");
    }
    return {};
}

bool EngineProcess::isActive() const {
    return m_state == State::Running || m_state == State::Paused || m_state == State::Stopping;
}

qint64 EngineProcess::processId() const { return m_process ? m_process->processId() : 0; }

void EngineProcess::start(const QString& configPath, bool resume) {
    if (isActive())
        return;
    if (m_process) {
        m_process->disconnect(this);
        m_process->deleteLater();
    }
    m_configPath = configPath;
    m_error.clear();
    m_outBuffer.clear();
    m_errBuffer.clear();
    m_finishedStatus.clear();
    m_log.clear();
    m_outDecoder.resetState();
    m_errDecoder.resetState();
    m_killed = false;
    m_ended = false;
    m_process = new QProcess(this);
    connect(m_process, &QProcess::readyReadStandardOutput, this, &EngineProcess::onStdout);
    connect(m_process, &QProcess::readyReadStandardError, this, &EngineProcess::onStderr);
    connect(m_process, &QProcess::finished, this, &EngineProcess::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, &EngineProcess::onProcessError);
    QStringList args{QStringLiteral("train"), QStringLiteral("--config"), configPath,
                     QStringLiteral("--events"), QStringLiteral("-")};
    if (resume)
        args << QStringLiteral("--resume");
    setState(State::Running);
    m_process->start(cliPath(), args);
}

void EngineProcess::send(const char* command) {
    if (m_process && m_process->state() == QProcess::Running) {
        m_process->write(command);
        m_process->write("\n");
    }
}

void EngineProcess::pause() {
    if (m_state == State::Running)
        send("pause");
}

void EngineProcess::resume() {
    if (m_state == State::Paused)
        send("resume");
}

void EngineProcess::stop() {
    if (m_state == State::Running || m_state == State::Paused) {
        send("stop");
        setState(State::Stopping);
    }
}

void EngineProcess::kill() {
    if (m_process && m_process->state() != QProcess::NotRunning) {
        m_killed = true;
        m_process->kill();
    }
}

void EngineProcess::detach() {
    if (!m_process)
        return;
    m_process->disconnect(this);
    m_process->closeReadChannel(QProcess::StandardOutput);
    m_process->closeReadChannel(QProcess::StandardError);
    m_process->setParent(nullptr);  // QProcess's destructor would kill it
    m_process = nullptr;
    m_state = State::Idle;
}

void EngineProcess::setState(State s) {
    if (s == m_state)
        return;
    m_state = s;
    emit stateChanged(s);
}

void EngineProcess::addLog(const QString& line) {
    m_log << line;
    while (m_log.size() > kMaxLogLines)
        m_log.removeFirst();
    emit logLine(line);
}

void EngineProcess::onStdout() {
    m_outBuffer += m_outDecoder.decode(m_process->readAllStandardOutput());
    qsizetype nl;
    while ((nl = m_outBuffer.indexOf('\n')) >= 0) {
        const QString line = m_outBuffer.left(nl).trimmed();
        m_outBuffer.remove(0, nl + 1);
        if (!line.isEmpty())
            handleLine(line);
    }
}

void EngineProcess::onStderr() {
    m_errBuffer += m_errDecoder.decode(m_process->readAllStandardError());
    qsizetype nl;
    while ((nl = m_errBuffer.indexOf('\n')) >= 0) {
        const QString line = m_errBuffer.left(nl);
        m_errBuffer.remove(0, nl + 1);
        if (!line.trimmed().isEmpty())
            addLog(line);
    }
}

void EngineProcess::handleLine(const QString& line) {
    QJsonParseError err;
    const QJsonDocument doc = QJsonDocument::fromJson(line.toUtf8(), &err);
    if (err.error != QJsonParseError::NoError || !doc.isObject()) {
        addLog(line);  // not an event: show it as it came
        return;
    }
    const QJsonObject e = doc.object();
    const QString type = e.value(QStringLiteral("event")).toString();
    if (type == QLatin1String("paused"))
        setState(State::Paused);
    else if (type == QLatin1String("resumed"))
        setState(State::Running);
    else if (type == QLatin1String("error"))
        m_error = e.value(QStringLiteral("message")).toString();
    else if (type == QLatin1String("finished"))
        m_finishedStatus = e.value(QStringLiteral("status")).toString();
    // `log` events need no line of their own: the engine prints each one on stderr too
    // (it is never started with --quiet), and stderr lines are the log.
    emit event(e);
}

void EngineProcess::onFinished(int code, QProcess::ExitStatus status) {
    onStdout();
    onStderr();
    if (!m_outBuffer.trimmed().isEmpty())
        handleLine(m_outBuffer.trimmed());
    m_outBuffer.clear();
    if (m_ended)
        return;
    m_ended = true;
    State final = State::Failed;
    QString message;
    if (status == QProcess::NormalExit && code == 0 && !m_finishedStatus.isEmpty()) {
        final = m_finishedStatus == QLatin1String("stopped") ? State::Stopped : State::Finished;
    } else if (!m_error.isEmpty()) {
        message = m_error;
    } else if (m_killed) {
        message = QStringLiteral("the engine was killed; resume continues from its last complete checkpoint");
    } else if (status == QProcess::CrashExit) {
        message = QStringLiteral("the engine died (%1); resume continues from its last complete checkpoint")
                      .arg(m_process->errorString());
    } else {
        const QString last = m_log.isEmpty() ? QString() : m_log.last();
        message = last.isEmpty() ? QStringLiteral("the engine exited with status %1").arg(code) : last;
    }
    if (final == State::Failed && m_error.isEmpty())
        m_error = message;
    setState(final);
    emit ended(final, message);
}

void EngineProcess::onProcessError(QProcess::ProcessError error) {
    if (error != QProcess::FailedToStart || m_ended)
        return;
    m_ended = true;
    m_error = QStringLiteral("could not start the engine '%1': %2 (set FTSTUDIO_CLI to its path)")
                  .arg(cliPath(), m_process->errorString());
    setState(State::Failed);
    emit ended(State::Failed, m_error);
}

} // namespace ft::ui
