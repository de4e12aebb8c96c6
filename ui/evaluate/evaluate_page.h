// The Evaluate page: a suite (shipped or a JSONL file, docs/evaluation.md) scored on the
// base model and the ticked adapters by `ftstudio-cli eval` in a child process, with a
// progress bar and Cancel; the results side by side: a table of metrics with their 95 %
// intervals, a bar chart of the headline metric with its interval, and every item
// (prompt, expected answer, each model's answer, passed or failed). The engine stores
// each result in the project (evaluations named "eval"), so earlier evaluations are
// listed and shown again after a restart.
// Not here: scoring (core/suite), the engine process (engine/cli_job.h).
#pragma once

#include <nlohmann/json.hpp>

#include <QString>
#include <QStringList>
#include <QWidget>

#include <map>
#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QLineEdit;
class QListWidget;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace ft::ui {

class CliJob;
class Session;

class EvaluatePage : public QWidget {
    Q_OBJECT
public:
    static constexpr const char* kEvaluationName = "eval";

    explicit EvaluatePage(Session* session, QWidget* parent = nullptr);

    // The suite to run: a shipped suite's name or a file (added to the list when new).
    void setSuite(const QString& nameOrPath);
    QString suite() const;
    QStringList modelNames() const;  // "base" first, then finished runs' adapters
    void setModelChecked(const QString& name, bool checked);
    bool addAdapterFolder(const QString& dir, QString* error = nullptr);
    bool isRunning() const;
    int historyCount() const;  // stored evaluations listed (one per suite run)
    // The comparison shown: one entry per model, each the engine's result JSON with
    // "model" set to the name shown.
    const std::vector<nlohmann::json>& shownResults() const { return m_shown; }

public slots:
    void run();
    void cancel();
    void reloadFromProject();

signals:
    void evaluationFinished(bool ok, const QString& message);

private:
    QWidget* buildLeft();
    void refreshModels();
    void refreshSuites();
    void showHistoryEntry(int index);
    void showResults(const QString& suiteName, const QString& kind, std::vector<nlohmann::json> results);
    void fillMetricsTable();
    void fillChart();
    void fillItemsTable();
    void onProgress(const QString& line);
    void onFinished(bool ok, const QString& message);
    QString displayName(const QString& label) const;  // an adapter path as its run's name

    Session* m_session = nullptr;
    CliJob* m_job = nullptr;
    QComboBox* m_suite = nullptr;
    QLineEdit* m_split = nullptr;
    QComboBox* m_template = nullptr;
    QSpinBox* m_limit = nullptr;
    QListWidget* m_models = nullptr;
    QPushButton* m_runButton = nullptr;
    QPushButton* m_cancelButton = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QComboBox* m_history = nullptr;
    QLabel* m_title = nullptr;
    QTableWidget* m_metrics = nullptr;
    QCustomPlot* m_chart = nullptr;
    QTableWidget* m_items = nullptr;

    struct Entry {  // one stored comparison: a suite on several models, one batch
        QString batch, suite, kind, when;
        std::vector<nlohmann::json> results;
    };
    std::vector<Entry> m_entries;
    std::vector<nlohmann::json> m_shown;
    QString m_shownKind;
    QStringList m_runModels;  // labels of the models of the running job, in order
    QString m_progressModel;
    int m_progressIndex = -1;
};

} // namespace ft::ui
