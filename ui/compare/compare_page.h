// The Compare page: a list of prompts run through the base model and one or more
// adapters (finished runs' adapter folders, or any adapter folder), the outputs streamed
// side by side (rows = prompts, columns = models), and a blind A/B mode (blind_vote.h)
// whose votes give win rates. Every finished generation is stored in the project as an
// evaluation named "compare" (JSON: prompt, model, adapter, model_dir, settings{
// max_new_tokens, temperature, seed}, output), and reloaded from there when the project
// opens, so outputs and prompts survive a restart.
// Not here: the process queue (compare_runner.h), voting (blind_vote.h).
#pragma once

#include "compare/blind_vote.h"
#include "compare/compare_runner.h"

#include <QWidget>

#include <map>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QListWidget;
class QListWidgetItem;
class QPushButton;
class QSpinBox;
class QStackedWidget;
class QTableWidget;

namespace ft::ui {

class Session;

class ComparePage : public QWidget {
    Q_OBJECT
public:
    static constexpr const char* kEvaluationName = "compare";

    explicit ComparePage(Session* session, QWidget* parent = nullptr);
    ~ComparePage() override;

    QStringList prompts() const;
    void addPrompt(const QString& prompt);
    QStringList modelNames() const;    // in list order: "base" first
    QStringList checkedModels() const;
    void setModelChecked(const QString& name, bool checked);
    // Adds an adapter folder (PEFT layout: adapter_config.json) to the list, checked; false
    // and `error` when it is not one.
    bool addAdapterFolder(const QString& dir, QString* error = nullptr);
    QString output(const QString& prompt, const QString& model) const;
    // With a prompt template: the prompt as the model saw it ("" when sent raw).
    QString renderedPrompt(const QString& prompt, const QString& model) const;
    void setBlindMode(bool on);
    BlindVotePanel* blindPanel() const { return m_blind; }
    bool isRunning() const { return m_runner->isRunning(); }
    // A blind vote as the panel records it: shownA/shownB are the real names shown as A and B;
    // choice is "A", "B" or "tie".
    bool recordBlindVote(const QString& prompt, const QString& shownA, const QString& shownB, const QString& choice);

public slots:
    void runAll();   // every prompt through every checked model
    void stop();
    void reloadFromProject();  // models from the runs, prompts and outputs from the "compare" evaluations
    void importPrompts();      // from the dataset chosen in the import box

private:
    QWidget* buildLeft();
    void refreshDatasets();
    void refreshModels();
    void rebuildTable();
    void refreshBlind();
    void setCell(const QString& prompt, const QString& model, const QString& text);
    CompareModel modelOf(const QString& name) const;
    QListWidgetItem* addModelItem(const CompareModel& m, bool checked);
    QString uniqueModelName(const QString& wanted) const;
    void onTaskFinished(const CompareTask& task, const QString& output, bool ok, const QString& message);

    Session* m_session = nullptr;
    CompareRunner* m_runner = nullptr;
    QListWidget* m_prompts = nullptr;
    QListWidget* m_models = nullptr;
    QComboBox* m_importDataset = nullptr;
    QSpinBox* m_importCount = nullptr;
    QSpinBox* m_maxTokens = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QSpinBox* m_seed = nullptr;
    QComboBox* m_template = nullptr;  // generate --template: none, model, alpaca, chatml, plain
    QPushButton* m_runButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    QLabel* m_status = nullptr;
    QCheckBox* m_blindMode = nullptr;
    QStackedWidget* m_stack = nullptr;
    QTableWidget* m_table = nullptr;
    BlindVotePanel* m_blind = nullptr;

    BlindVotePanel::Outputs m_outputs;  // prompt -> model -> latest output
    std::map<QString, std::map<QString, QString>> m_rendered;  // prompt -> model -> prompt as the model saw it
    QStringList m_columns;              // models shown as table columns
};

} // namespace ft::ui
