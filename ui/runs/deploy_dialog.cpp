#include "runs/deploy_dialog.h"

#include "engine/cli_job.h"
#include "train/memory_preview.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPushButton>

namespace ft::ui {
namespace {

// Bytes per weight of each --type, for the estimate. q4_k_m: 4.5 bits for most
// matrices, 6.5625 for the ones llama.cpp keeps higher; about 4.9 bits over a model.
struct TypeInfo {
    const char* name;
    double bytesPerWeight;
    const char* help;
};
constexpr TypeInfo kTypes[] = {
    {"q4_k_m", 0.61, "4-bit K-quants, some tensors at 6 bits (llama.cpp's usual choice)"},
    {"q8_0", 1.0625, "8-bit, nearly lossless"},
    {"q4_0", 0.5625, "4-bit, the simplest quantization"},
    {"f16", 2.0, "16-bit floats"},
    {"bf16", 2.0, "bfloat16"},
    {"f32", 4.0, "32-bit floats, exact"},
};

// Sizes as file managers show them (1 MB = 1000^2 bytes), like the engine's reports.
QString formatSize(double b) { return QLocale().formattedDataSize(qint64(b), 1, QLocale::DataSizeSIFormat); }

// The run's adapter is LoRA without DoRA: what a GGUF LoRA adapter can carry. Read from
// its adapter_config.json, so no technique list lives here.
bool hasPlainLoraAdapter(const QString& runDir) {
    QFile file(QDir(runDir).filePath(QStringLiteral("adapter/adapter_config.json")));
    if (!file.open(QIODevice::ReadOnly))
        return false;
    const QJsonObject config = QJsonDocument::fromJson(file.readAll()).object();
    return config.value("peft_type").toString() == QLatin1String("LORA") && !config.value("use_dora").toBool();
}

}  // namespace

DeployDialog::DeployDialog(Session* session, const QString& runDir, const QString& modelDir, Target initial,
                           QWidget* parent)
    : CliTaskDialog(session, tr("Export for llama.cpp and Ollama"), tr("Export"), parent), m_runDir(runDir),
      m_modelDir(modelDir) {
    setMinimumWidth(780);
    m_lora = hasPlainLoraAdapter(runDir);
    m_target = new QComboBox(this);
    m_target->setObjectName(QStringLiteral("deployTarget"));
    m_target->addItem(tr("GGUF file: the model with this run's adapter merged (llama.cpp, LM Studio)"),
                      int(Target::Gguf));
    if (m_lora)
        m_target->addItem(tr("GGUF LoRA adapter alone (llama.cpp --lora, Ollama ADAPTER)"), int(Target::GgufLora));
    m_target->addItem(tr("Ollama folder: GGUF + Modelfile with the chat template and stops"), int(Target::Ollama));
    m_target->setCurrentIndex(std::max(0, m_target->findData(int(initial))));
    m_type = new QComboBox(this);
    m_type->setObjectName(QStringLiteral("deployType"));
    m_out = new QLineEdit(this);
    m_out->setObjectName(QStringLiteral("deployOut"));
    auto* browseButton = new QPushButton(tr("Browse…"), this);
    auto* outRow = new QWidget(this);
    auto* outLayout = new QHBoxLayout(outRow);
    outLayout->setContentsMargins(0, 0, 0, 0);
    outLayout->addWidget(m_out, 1);
    outLayout->addWidget(browseButton);
    m_template = new QComboBox(this);
    m_template->setObjectName(QStringLiteral("deployTemplate"));
    m_template->addItem(tr("auto: the run's prompt format, else the model's chat template"), QStringLiteral("auto"));
    m_template->setToolTip(tr("The chat format the Modelfile's TEMPLATE spells out in Ollama's Go-template syntax"));
    m_system = new QLineEdit(this);
    m_system->setObjectName(QStringLiteral("deploySystem"));
    m_system->setPlaceholderText(tr("optional SYSTEM message"));
    m_estimate = new QLabel(this);
    m_estimate->setObjectName(QStringLiteral("deployEstimate"));
    form()->addRow(tr("Export"), m_target);
    form()->addRow(tr("Type"), m_type);
    form()->addRow(tr("Size"), m_estimate);
    form()->addRow(tr("Write to"), outRow);
    form()->addRow(tr("Chat format"), m_template);
    form()->addRow(tr("System"), m_system);

    m_info = new CliJob(this);
    connect(m_info, &CliJob::finished, this, [this](bool ok, const QString&) {
        if (ok)
            m_parameters = QJsonDocument::fromJson(m_info->allOutput().toUtf8()).object().value("parameters").toDouble();
        updateEstimate();
    });
    m_info->start({QStringLiteral("info"), QStringLiteral("--model"), m_modelDir, QStringLiteral("--json")});
    m_templates = new CliJob(this);
    connect(m_templates, &CliJob::finished, this, [this](bool ok, const QString&) {
        if (!ok)
            return;
        for (const QJsonValue& v : QJsonDocument::fromJson(m_templates->allOutput().toUtf8()).array()) {
            const QJsonObject f = v.toObject();
            m_template->addItem(f.value("name").toString() + QStringLiteral(" — ") + f.value("models").toString(),
                                f.value("name").toString());
        }
    });
    m_templates->start({QStringLiteral("export"), QStringLiteral("ollama"), QStringLiteral("--list-templates"),
                        QStringLiteral("--json")});

    connect(m_target, &QComboBox::currentIndexChanged, this, &DeployDialog::targetChanged);
    connect(m_type, &QComboBox::currentIndexChanged, this, [this] {
        updateEstimate();
        if (target() != Target::Ollama) {  // keep the suggested file name in step with the type
            const QFileInfo f(m_out->text());
            if (f.fileName().startsWith(QStringLiteral("model-")) || f.fileName().startsWith(QStringLiteral("lora-")))
                m_out->setText(f.dir().filePath((target() == Target::GgufLora ? QStringLiteral("lora-")
                                                                               : QStringLiteral("model-")) +
                                                m_type->currentData().toString() + QStringLiteral(".gguf")));
        }
    });
    connect(browseButton, &QPushButton::clicked, this, &DeployDialog::browse);
    targetChanged();
}

DeployDialog* DeployDialog::forRunConfig(Session* session, const QJsonObject& config, Target target, QWidget* parent) {
    auto* dialog = new DeployDialog(session, config.value("output_dir").toString(), config.value("model").toString(),
                                    target, parent);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    return dialog;
}

DeployDialog::Target DeployDialog::target() const { return Target(m_target->currentData().toInt()); }

void DeployDialog::targetChanged() {
    const Target t = target();
    const QString keep = m_type->currentData().toString();
    m_type->clear();
    for (const auto& type : kTypes) {
        const QString name = QLatin1String(type.name);
        if (t == Target::GgufLora && name.startsWith(QLatin1String("q4")))
            continue;  // an adapter is small: f32, f16, bf16 or q8_0
        m_type->addItem(name + QStringLiteral(" — ") + tr(type.help), name);
    }
    const int again = m_type->findData(keep);
    m_type->setCurrentIndex(again >= 0 ? again : (t == Target::GgufLora ? m_type->findData(QStringLiteral("f16")) : 0));
    const QString exportDir = QDir(m_runDir).filePath(QStringLiteral("export"));
    const QString type = m_type->currentData().toString();
    m_out->setText(t == Target::Ollama     ? QDir(exportDir).filePath(QStringLiteral("ollama"))
                   : t == Target::GgufLora ? QDir(exportDir).filePath(QStringLiteral("lora-%1.gguf").arg(type))
                                           : QDir(exportDir).filePath(QStringLiteral("model-%1.gguf").arg(type)));
    m_template->setEnabled(t == Target::Ollama);
    m_system->setEnabled(t == Target::Ollama);
    updateEstimate();
}

void DeployDialog::updateEstimate() {
    const QString type = m_type->currentData().toString();
    double perWeight = 0;
    for (const auto& t : kTypes)
        if (type == QLatin1String(t.name))
            perWeight = t.bytesPerWeight;
    if (target() == Target::GgufLora) {
        const QFileInfo adapter(QDir(m_runDir).filePath(QStringLiteral("adapter/adapter_model.safetensors")));
        m_estimate->setText(adapter.exists() ? tr("about %1 (the adapter's %2 weights)")
                                                   .arg(formatSize(double(adapter.size()) / 4.0 * perWeight))
                                                   .arg(formatSize(double(adapter.size()) / 4.0))
                                             : tr("the run has no adapter file"));
        return;
    }
    if (m_parameters <= 0) {
        m_estimate->setText(m_info->isRunning() ? tr("reading the model…") : tr("unknown (the model could not be read)"));
        return;
    }
    m_estimate->setText(
        tr("about %1 for %2 parameters").arg(formatSize(m_parameters * perWeight), formatCount(qint64(m_parameters))));
}

void DeployDialog::browse() {
    if (target() == Target::Ollama) {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Folder for the Ollama export"), m_out->text());
        if (!dir.isEmpty())
            m_out->setText(dir);
        return;
    }
    const QString file = QFileDialog::getSaveFileName(this, tr("GGUF file"), m_out->text(), tr("GGUF files (*.gguf)"));
    if (!file.isEmpty())
        m_out->setText(file.endsWith(QStringLiteral(".gguf")) ? file : file + QStringLiteral(".gguf"));
}

QStringList DeployDialog::arguments(QString* error) {
    const QString out = m_out->text().trimmed();
    if (out.isEmpty()) {
        *error = tr("Choose where to write the export.");
        return {};
    }
    const QString adapter = QDir(m_runDir).filePath(QStringLiteral("adapter"));
    if (!QFileInfo::exists(QDir(adapter).filePath(QStringLiteral("adapter_config.json")))) {
        *error = tr("This run has no finished adapter (%1).").arg(adapter);
        return {};
    }
    const QString folder = target() == Target::Ollama ? out : QFileInfo(out).absolutePath();
    if (!QDir().mkpath(folder)) {
        *error = tr("Cannot create the folder %1.").arg(folder);
        return {};
    }
    QStringList args;
    if (target() == Target::Ollama) {
        args = {QStringLiteral("export"), QStringLiteral("ollama"), QStringLiteral("--template"),
                m_template->currentData().toString()};
        args << QStringLiteral("--name") << QFileInfo(m_runDir).fileName();
        if (!m_system->text().trimmed().isEmpty())
            args << QStringLiteral("--system") << m_system->text().trimmed();
    } else {
        args = {QStringLiteral("export"), QStringLiteral("gguf")};
        if (target() == Target::GgufLora)
            args << QStringLiteral("--lora-only");
    }
    args << QStringLiteral("--model") << m_modelDir << QStringLiteral("--adapter") << adapter << QStringLiteral("--type")
         << m_type->currentData().toString() << QStringLiteral("--out") << out;
    return args;
}

}  // namespace ft::ui
