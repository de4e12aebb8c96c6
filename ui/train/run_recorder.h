// Records a run started from the GUI in the open project: the run row (name, config,
// output folder, status) and its metric curves from the engine's events. Metrics are
// queued and written once a second in one transaction (never a database write per
// event). Without an open project nothing is recorded and the run still goes.
// Also writes the run config file the engine reads. Not here: widgets, the process.
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QString>
#include <QVector>

class QTimer;

namespace ft::ui {

class Session;

// Writes `config` as indented JSON to `path` (temporary name, then renamed).
bool writeRunConfigFile(const QString& path, const QJsonObject& config, QString* error);
// Metric name -> value pairs an event carries, as stored: step: loss, lr, grad_norm,
// tokens_per_second, rss_bytes, cuda_allocated, cuda_reserved and the objective's
// metrics by their own names; eval: eval_loss, eval_perplexity, eval_<metric>.
QVector<QPair<QString, double>> metricsOfEvent(const QJsonObject& event);

class RunRecorder : public QObject {
    Q_OBJECT
public:
    explicit RunRecorder(Session* session, QObject* parent = nullptr);
    ~RunRecorder() override;  // writes what is queued

    // Creates the run (status "created"); 0 when no project is open (or it failed: the
    // session reports why).
    qint64 createRun(const QString& name, const QJsonObject& config, const QString& outputDir);
    void attach(qint64 runId);  // record into an existing run (resume)
    qint64 runId() const { return m_runId; }
    void setStatus(const QString& status);  // also writes the queued metrics first
    void addEvent(const QJsonObject& event);
    void flush();
    int queued() const { return int(m_queue.size()); }

private:
    struct Point {
        qint64 step;
        QString name;
        double value;
    };
    Session* m_session;
    qint64 m_runId = 0;
    QVector<Point> m_queue;
    QTimer* m_timer = nullptr;
};

} // namespace ft::ui
