// Export a run for the runtimes people deploy with: one GGUF file (the base with the
// run's adapter merged; llama.cpp, LM Studio), the adapter alone as a GGUF LoRA
// (llama.cpp --lora; LoRA-family runs), or an Ollama folder (GGUF + Modelfile). The
// form offers the types with a size estimate; the engine (`ftstudio-cli export gguf` /
// `export ollama`) writes while the bar follows its progress; Cancel stops it and the
// temporary file is left behind, never a half-written .gguf.
// Not here: the formats (core/deploy), running the engine (CliTaskDialog).
#pragma once

#include "data/cli_task_dialog.h"

class QComboBox;
class QJsonObject;
class QLabel;
class QLineEdit;

namespace ft::ui {

class CliJob;

class DeployDialog : public CliTaskDialog {
    Q_OBJECT
public:
    enum class Target { Gguf, GgufLora, Ollama };

    // `runDir` holds the run's adapter (RUN/adapter); `modelDir` is its base. The GGUF
    // LoRA choice is offered when that adapter is plain LoRA (its adapter_config.json).
    DeployDialog(Session* session, const QString& runDir, const QString& modelDir, Target target,
                 QWidget* parent = nullptr);

    // For a run's config (output_dir, model); deletes itself when closed.
    static DeployDialog* forRunConfig(Session* session, const QJsonObject& config, Target target, QWidget* parent);

    // For tests: the form's widgets.
    QComboBox* targetBox() const { return m_target; }
    QComboBox* typeBox() const { return m_type; }
    QLineEdit* outEdit() const { return m_out; }
    QComboBox* templateBox() const { return m_template; }
    QLabel* estimateLabel() const { return m_estimate; }

protected:
    QStringList arguments(QString* error) override;

private:
    Target target() const;
    void targetChanged();
    void updateEstimate();
    void browse();

    QString m_runDir, m_modelDir;
    bool m_lora = false;
    QComboBox* m_target = nullptr;
    QComboBox* m_type = nullptr;
    QLineEdit* m_out = nullptr;
    QComboBox* m_template = nullptr;
    QLineEdit* m_system = nullptr;
    QLabel* m_estimate = nullptr;
    CliJob* m_info = nullptr;       // parameters of the base, for the estimate
    CliJob* m_templates = nullptr;  // the chat families export ollama knows
    double m_parameters = 0;
};

} // namespace ft::ui
