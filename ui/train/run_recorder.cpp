#include "train/run_recorder.h"

#include "app/session.h"
#include "data/project_store.h"

#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QSaveFile>
#include <QTimer>

#include <cmath>

namespace ft::ui {

namespace {
bool finite(const QJsonValue& v) { return v.isDouble() && std::isfinite(v.toDouble()); }
}

bool writeRunConfigFile(const QString& path, const QJsonObject& config, QString* error) {
    QDir().mkpath(QFileInfo(path).absolutePath());
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(QJsonDocument(config).toJson(QJsonDocument::Indented)) < 0 ||
        !file.commit()) {
        if (error)
            *error = QStringLiteral("cannot write the run config %1: %2").arg(path, file.errorString());
        return false;
    }
    return true;
}

QVector<QPair<QString, double>> metricsOfEvent(const QJsonObject& e) {
    QVector<QPair<QString, double>> out;
    const QString type = e.value(QStringLiteral("event")).toString();
    auto take = [&](const QString& name, const QJsonValue& v) {
        if (finite(v))
            out.append({name, v.toDouble()});
    };
    if (type == QLatin1String("step")) {
        for (const char* key : {"loss", "lr", "grad_norm", "tokens_per_second"})
            take(QLatin1String(key), e.value(QLatin1String(key)));
        const QJsonObject mem = e.value(QStringLiteral("memory")).toObject();
        for (const char* key : {"rss_bytes", "cuda_allocated", "cuda_reserved"})
            take(QLatin1String(key), mem.value(QLatin1String(key)));
        const QJsonObject metrics = e.value(QStringLiteral("metrics")).toObject();
        for (auto it = metrics.begin(); it != metrics.end(); ++it)
            take(it.key(), *it);
    } else if (type == QLatin1String("eval")) {
        take(QStringLiteral("eval_loss"), e.value(QStringLiteral("loss")));
        QJsonObject metrics = e.value(QStringLiteral("metrics")).toObject();
        if (!metrics.contains(QStringLiteral("perplexity")))
            metrics.insert(QStringLiteral("perplexity"), e.value(QStringLiteral("perplexity")));
        for (auto it = metrics.begin(); it != metrics.end(); ++it)
            take(QStringLiteral("eval_") + it.key(), *it);
    }
    return out;
}

RunRecorder::RunRecorder(Session* session, QObject* parent) : QObject(parent), m_session(session) {
    m_timer = new QTimer(this);
    m_timer->setInterval(1000);
    connect(m_timer, &QTimer::timeout, this, &RunRecorder::flush);
}

RunRecorder::~RunRecorder() { flush(); }

qint64 RunRecorder::createRun(const QString& name, const QJsonObject& config, const QString& outputDir) {
    flush();
    m_runId = 0;
    if (!m_session->hasProject())
        return 0;
    const std::string json = QJsonDocument(config).toJson(QJsonDocument::Compact).toStdString();
    qint64 id = 0;
    if (m_session->run(QStringLiteral("Record the run"), [&](ft::data::ProjectStore& s) {
            id = s.createRun(name.toStdString(), json, outputDir.toStdString());
        }))
        m_runId = id;
    if (m_runId)
        m_session->notifyRunsChanged();
    return m_runId;
}

void RunRecorder::attach(qint64 runId) {
    flush();
    m_runId = runId;
}

void RunRecorder::setStatus(const QString& status) {
    flush();
    if (!m_runId || !m_session->hasProject())
        return;
    const qint64 id = m_runId;
    if (m_session->run(QStringLiteral("Record the run's status"),
                       [&](ft::data::ProjectStore& s) { s.setRunStatus(id, status.toStdString()); }))
        m_session->notifyRunsChanged();
}

void RunRecorder::addEvent(const QJsonObject& e) {
    if (!m_runId)
        return;
    const qint64 step = e.value(QStringLiteral("step")).toInteger();
    for (const auto& [name, value] : metricsOfEvent(e))
        m_queue.append({step, name, value});
    if (!m_queue.isEmpty() && !m_timer->isActive())
        m_timer->start();
}

void RunRecorder::flush() {
    m_timer->stop();
    if (m_queue.isEmpty() || !m_runId || !m_session->hasProject()) {
        m_queue.clear();
        return;
    }
    const QVector<Point> points = std::move(m_queue);
    m_queue.clear();
    const qint64 id = m_runId;
    m_session->run(QStringLiteral("Record the run's metrics"), [&](ft::data::ProjectStore& s) {
        s.transaction([&] {
            for (const Point& p : points)
                s.addMetric(id, p.step, p.name.toStdString(), p.value);
        });
    });
}

} // namespace ft::ui
