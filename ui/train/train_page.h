// The Train page: set up a run on the left (train_setup.h: model, data, the settings
// form generated from the engine's schema, estimate, check), watch it on the right:
// Start / Pause / Resume / Stop, live charts (train_charts.h), step/ETA/throughput
// status, the engine's log and generated samples. The run goes in an `ftstudio-cli
// train` process (EngineProcess); it is recorded in the project with its metrics
// (run_recorder.h). When the engine fails, crashes or is killed, an inline banner says
// why with the last log lines and offers Resume (from the last complete checkpoint);
// the page keeps working. Not here: the runs list and comparisons (runs/).
#pragma once

#include <QJsonObject>
#include <QWidget>

#include "engine/engine_process.h"

class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTreeWidget;

namespace ft::ui {

class RunBanner;
class RunRecorder;
class Session;
class TrainCharts;
class TrainSetup;

class TrainPage : public QWidget {
    Q_OBJECT
public:
    explicit TrainPage(Session* session, QWidget* parent = nullptr);
    ~TrainPage() override;

    bool isRunning() const;  // the engine is running, paused or stopping
    EngineProcess* engine() { return m_engine; }
    TrainCharts* charts() { return m_charts; }
    TrainSetup* setup() { return m_setup; }
    // Shows a run config (e.g. a past run's, from the runs page) in the form.
    void loadConfig(const QJsonObject& config);
    // Continues a run of the project from its last complete checkpoint (false: no such
    // run, a run is going, or its config cannot be written; the banner says why).
    bool resumeRun(qint64 runId);
    qint64 currentRunId() const;
    bool isSchemaLoaded() const;

public slots:
    void start();
    void pause();
    void resume();  // a paused run goes on; a failed or stopped one restarts with --resume
    void stop();

signals:
    void runStateChanged();
    // "Export…" after a finished run: its config (output_dir, model, technique).
    void deployRequested(const QJsonObject& runConfig);
    // The data check's rows were clicked (train_setup.h): show them on the Data page.
    void rowsRequested(const QString& dataset, const QList<qint64>& rowIds);

private:
    void launch(bool resume);
    void onEvent(const QJsonObject& e);
    void onEnded(EngineProcess::State state, const QString& message);
    void updateButtons();
    void showBanner(const QString& title, const QString& message, const QStringList& logLines);
    void hideBanner();
    void loadStoredMetrics(qint64 runId);

    Session* m_session;
    EngineProcess* m_engine = nullptr;
    RunRecorder* m_recorder = nullptr;
    TrainSetup* m_setup = nullptr;
    TrainCharts* m_charts = nullptr;
    QPushButton* m_start = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_export = nullptr;  // shown once a run has finished with an adapter
    QLabel* m_status = nullptr;
    RunBanner* m_banner = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QTreeWidget* m_samples = nullptr;
    QString m_configPath;       // the current run's config file
    bool m_resumable = false;   // the last run ended failed or stopped and may continue
    bool m_severalProcesses = false;  // the run trains on several processes: no pause
    qint64 m_totalSteps = 0;
};

} // namespace ft::ui
