// The Runs page: every run of the project with its status, technique, objective,
// duration and final metrics; the selected run's config and loss curves; actions to
// resume it, duplicate its config as a new run, open its folder, export its adapter
// (a copy in PEFT layout), the merged model (`ftstudio-cli adapter export`) or a
// deployable GGUF / GGUF LoRA / Ollama folder (DeployDialog), and delete it from the
// project (its folder is left on disk).
#pragma once

#include <QJsonObject>
#include <QWidget>

class QCustomPlot;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QTableWidget;

namespace ft::ui {

class CliJob;
class Session;

class RunsPage : public QWidget {
    Q_OBJECT
public:
    explicit RunsPage(Session* session, QWidget* parent = nullptr);

    qint64 selectedRunId() const;
    void selectRun(qint64 runId);

public slots:
    void refresh();

signals:
    void resumeRequested(qint64 runId);
    void duplicateRequested(const QJsonObject& config);

private:
    void showSelected();
    void exportAdapter();
    void exportMerged();
    void exportDeploy(int target);  // DeployDialog::Target
    void deleteRun();
    QString selectedOutputDir() const;

    Session* m_session;
    QTableWidget* m_table = nullptr;
    QPlainTextEdit* m_config = nullptr;
    QCustomPlot* m_plot = nullptr;
    QLabel* m_state = nullptr;
    QPushButton* m_resume = nullptr;
    QPushButton* m_duplicate = nullptr;
    QPushButton* m_open = nullptr;
    QPushButton* m_exportAdapter = nullptr;
    QPushButton* m_exportMerged = nullptr;
    QPushButton* m_exportDeploy = nullptr;
    QPushButton* m_delete = nullptr;
    CliJob* m_job = nullptr;
};

} // namespace ft::ui
