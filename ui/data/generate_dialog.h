// Synthetic data from a local model into a dataset of the open project, through
// `ftstudio-cli data generate`: answers to the current dataset's prompts (distillation
// from a bigger local model), or preference pairs from several sampled answers per
// prompt, ranked by the rows' verifiers or by a judge model (the on-policy DPO recipe).
// A progress bar follows the engine's per-prompt lines; Cancel stops it, and the rows
// made so far stay: running it again goes on where it stopped.
// Not here: generating and ranking (app/cli/cmd_data_generate.cpp, core/align/ai_judge.h),
// the dialog machinery (cli_task_dialog.h).
#pragma once

#include "data/cli_task_dialog.h"

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace ft::ui {

class GenerateDialog : public CliTaskDialog {
    Q_OBJECT
public:
    // `sourceKind`: the source dataset's kind name ("instruction", "verifiable", ...).
    GenerateDialog(Session* session, const QString& sourceDataset, const QString& sourceKind,
                   QWidget* parent = nullptr);

    // "responses", "verifier" (pairs ranked by the rows' verifiers) or "judge".
    void setMode(const QString& mode);
    void setTarget(const QString& name);
    void setModel(const QString& dir);
    void setJudge(const QString& dir);
    void setThreshold(double p);
    void setLimit(int rows);
    void setSamples(int n);
    void setMaxNewTokens(int n);
    void setTemperature(double t);
    void setTemplate(const QString& name);
    QString target() const;

signals:
    void generated(const QString& datasetName);

protected:
    QStringList arguments(QString* error) override;
    void onFinished(bool ok) override;
    QString cancelledText() const override;

private:
    void updateEnabled();
    void proposeTarget();  // <source>-answers or <source>-pairs, by the mode
    QLineEdit* folderField(const QString& objectName, const QString& title, const QString& tip);

    QString m_source, m_sourceKind;
    QComboBox* m_mode = nullptr;
    QLineEdit* m_target = nullptr;
    QLineEdit* m_model = nullptr;
    QLineEdit* m_adapter = nullptr;
    QComboBox* m_template = nullptr;
    QLineEdit* m_judge = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QSpinBox* m_samples = nullptr;
    QSpinBox* m_maxNew = nullptr;
    QDoubleSpinBox* m_temperature = nullptr;
    QSpinBox* m_limit = nullptr;
};

} // namespace ft::ui
