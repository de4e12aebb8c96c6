#include "model/model_page.h"

#include "app/session.h"
#include "engine/cli_job.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLocale>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace ft::ui {

namespace {
QString bytes(double b) {
    return QLocale().formattedDataSize(static_cast<qint64>(b), 1, QLocale::DataSizeTraditionalFormat);
}
QString count(double n) {
    if (n >= 1e9)
        return QString::number(n / 1e9, 'f', 2) + QStringLiteral(" B");
    if (n >= 1e6)
        return QString::number(n / 1e6, 'f', 2) + QStringLiteral(" M");
    return QLocale().toString(static_cast<qint64>(n));
}
} // namespace

ModelPage::ModelPage(Session* session, QWidget* parent)
    : QWidget(parent), m_session(session), m_describe(new CliJob(this)), m_generate(new CliJob(this)) {
    auto* layout = new QVBoxLayout(this);
    auto* top = new QHBoxLayout;
    m_path = new QComboBox(this);
    m_path->setObjectName(QStringLiteral("modelPath"));
    m_path->setEditable(true);
    m_path->setToolTip(QStringLiteral("A Hugging Face model folder: config.json, *.safetensors and a tokenizer. "
                                      "You can also drop a folder on the window."));
    m_path->addItems(QSettings().value("recent/models").toStringList());
    auto* browse = new QPushButton(QStringLiteral("Open Folder…"), this);
    auto* use = new QPushButton(QStringLiteral("Use"), this);
    auto* gguf = new QPushButton(QStringLiteral("View GGUF…"), this);
    gguf->setObjectName(QStringLiteral("viewGgufButton"));
    gguf->setToolTip(QStringLiteral("Look inside a .gguf file (an export for llama.cpp / Ollama): read-only"));
    top->addWidget(new QLabel(QStringLiteral("Model folder:"), this));
    top->addWidget(m_path, 1);
    top->addWidget(browse);
    top->addWidget(use);
    top->addWidget(gguf);
    layout->addLayout(top);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("modelState"));
    layout->addWidget(m_state);

    auto* split = new QSplitter(Qt::Horizontal, this);
    m_info = new QTableWidget(0, 2, split);
    m_info->setObjectName(QStringLiteral("modelInfo"));
    m_info->setHorizontalHeaderLabels({QStringLiteral("Property"), QStringLiteral("Value")});
    m_info->horizontalHeader()->setStretchLastSection(true);
    m_info->verticalHeader()->hide();
    m_info->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_info->setColumnWidth(0, 220);

    auto* tryBox = new QGroupBox(QStringLiteral("Try it"), split);
    auto* tryLayout = new QVBoxLayout(tryBox);
    m_prompt = new QPlainTextEdit(tryBox);
    m_prompt->setObjectName(QStringLiteral("quickPrompt"));
    m_prompt->setPlaceholderText(QStringLiteral("A prompt, e.g.  Question: What is the capital of France?\\nAnswer:"));
    m_prompt->setPlainText(QStringLiteral("### Instruction:\nWhat is 2 + 3?\n### Response:\n"));
    m_prompt->setMaximumHeight(110);
    auto* settings = new QHBoxLayout;
    m_maxTokens = new QSpinBox(tryBox);
    m_maxTokens->setRange(1, 4096);
    m_maxTokens->setValue(48);
    m_temperature = new QDoubleSpinBox(tryBox);
    m_temperature->setRange(0, 5);
    m_temperature->setSingleStep(0.1);
    m_temperature->setToolTip(QStringLiteral("0 = greedy"));
    m_run = new QPushButton(QStringLiteral("Generate"), tryBox);
    m_run->setObjectName(QStringLiteral("generateButton"));
    m_run->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Return));
    m_run->setToolTip(QStringLiteral("Generate (Ctrl+Return)"));
    m_stop = new QPushButton(QStringLiteral("Stop"), tryBox);
    m_stop->setEnabled(false);
    settings->addWidget(new QLabel(QStringLiteral("Max new tokens"), tryBox));
    settings->addWidget(m_maxTokens);
    settings->addWidget(new QLabel(QStringLiteral("Temperature"), tryBox));
    settings->addWidget(m_temperature);
    settings->addStretch();
    settings->addWidget(m_run);
    settings->addWidget(m_stop);
    m_output = new QTextBrowser(tryBox);
    m_output->setObjectName(QStringLiteral("quickOutput"));
    tryLayout->addWidget(m_prompt);
    tryLayout->addLayout(settings);
    tryLayout->addWidget(m_output, 1);
    split->addWidget(m_info);
    split->addWidget(tryBox);
    split->setSizes({560, 740});
    m_info->setWordWrap(true);
    layout->addWidget(split, 1);

    connect(browse, &QPushButton::clicked, this, &ModelPage::chooseFolder);
    connect(gguf, &QPushButton::clicked, this, &ModelPage::chooseGguf);
    m_describeGguf = new CliJob(this);
    connect(m_describeGguf, &CliJob::finished, this, [this](bool ok, const QString& message) {
        if (!ok) {
            m_state->setText(QStringLiteral("<span style='color:#a00'>%1</span>").arg(message.toHtmlEscaped()));
            return;
        }
        showGguf(QJsonDocument::fromJson(m_describeGguf->allOutput().toUtf8()).object());
    });
    connect(use, &QPushButton::clicked, this, [this] { m_session->setModelDir(QDir(m_path->currentText()).absolutePath()); });
    connect(m_session, &Session::modelChanged, this, &ModelPage::describe);
    connect(m_run, &QPushButton::clicked, this, &ModelPage::generate);
    connect(m_stop, &QPushButton::clicked, m_generate, &CliJob::cancel);
    connect(m_generate, &CliJob::outputText, this, [this](const QString& chunk) {
        m_output->moveCursor(QTextCursor::End);
        m_output->insertPlainText(chunk);
    });
    connect(m_generate, &CliJob::finished, this, [this](bool ok, const QString& message) {
        m_run->setEnabled(true);
        m_stop->setEnabled(false);
        if (!ok)
            m_output->append(QStringLiteral("\n[%1]").arg(message));
    });
    connect(m_describe, &CliJob::finished, this, [this](bool ok, const QString& message) {
        if (!ok) {
            m_state->setText(QStringLiteral("<span style='color:#a00'>%1</span>").arg(message.toHtmlEscaped()));
            return;
        }
        const QJsonObject info = QJsonDocument::fromJson(m_describe->allOutput().toUtf8()).object();
        m_info->setRowCount(0);
        if (info.contains("multimodal")) {  // Gemma 3 4B+: the language model of a vision-language folder
            const QJsonObject mm = info.value("multimodal").toObject();
            addRow(QStringLiteral("Architecture"), QStringLiteral("%1 (language model: %2)")
                                                       .arg(mm.value("architecture").toString(),
                                                            info.value("architecture").toString()));
            addRow(QStringLiteral("Multimodal"),
                   QStringLiteral("the language model trains; the vision tower and projector (%1 parameters) are kept "
                                  "and written back with a merged model")
                       .arg(count(mm.value("other_modality_parameters").toDouble())));
        } else {
            addRow(QStringLiteral("Architecture"), info.value("architecture").toString());
        }
        addRow(QStringLiteral("Parameters"), count(info.value("parameters").toDouble()));
        QStringList dtypes;
        const QJsonObject stored = info.value("stored_dtypes").toObject();
        for (auto it = stored.begin(); it != stored.end(); ++it)
            dtypes << it.key();
        addRow(QStringLiteral("Stored dtype"), dtypes.join(QStringLiteral(", ")));
        addRow(QStringLiteral("Context length"), QString::number(info.value("max_position_embeddings").toInt()));
        addRow(QStringLiteral("Layers × hidden"), QStringLiteral("%1 × %2").arg(info.value("layers").toInt()).arg(info.value("hidden_size").toInt()));
        addRow(QStringLiteral("Heads (query / key-value)"),
               QStringLiteral("%1 / %2").arg(info.value("attention_heads").toInt()).arg(info.value("key_value_heads").toInt()));
        addRow(QStringLiteral("Vocabulary"), QString::number(info.value("vocab_size").toInt()));
        QString rope = QStringLiteral("θ = %1, scaling %2").arg(info.value("rope_theta").toDouble()).arg(info.value("rope_scaling").toString());
        if (info.value("rotary_dim").toInt() < info.value("head_dim").toInt())
            rope += QStringLiteral(", rotating %1 of %2 head dims").arg(info.value("rotary_dim").toInt()).arg(info.value("head_dim").toInt());
        addRow(QStringLiteral("RoPE"), rope);
        if (info.contains("experts")) {  // a mixture of experts
            const QJsonObject e = info.value("experts").toObject();
            addRow(QStringLiteral("Experts"),
                   QStringLiteral("%1 per sparse layer (%2 of %3 layers), top %4 per token; %5 parameters active per token")
                       .arg(e.value("count").toInt())
                       .arg(e.value("sparse_layers").toInt())
                       .arg(info.value("layers").toInt())
                       .arg(e.value("per_token").toInt())
                       .arg(count(e.value("active_parameters").toDouble())));
        }
        addRow(QStringLiteral("Tied embeddings"), info.value("tie_word_embeddings").toBool() ? QStringLiteral("yes") : QStringLiteral("no"));
        addRow(QStringLiteral("Weights in memory (fp32 / bf16)"),
               bytes(info.value("memory_fp32_bytes").toDouble()) + " / " + bytes(info.value("memory_bf16_bytes").toDouble()));
        addRow(QStringLiteral("Full fine-tuning, AdamW fp32"), bytes(info.value("full_finetune_adamw_fp32_bytes").toDouble()) +
                                                                   QStringLiteral(" + activations"));
        addRow(QStringLiteral("KV cache per 1k tokens"), bytes(info.value("kv_cache_bytes_per_1k_tokens_fp32").toDouble()));
        fillTokenizerRows(m_described);
        m_info->resizeRowsToContents();
        m_state->setText(QStringLiteral("Using %1").arg(m_described));
    });
}

void ModelPage::addRow(const QString& name, const QString& value) {
    const int r = m_info->rowCount();
    m_info->insertRow(r);
    m_info->setItem(r, 0, new QTableWidgetItem(name));
    auto* v = new QTableWidgetItem(value);
    v->setToolTip(value);
    m_info->setItem(r, 1, v);
}

void ModelPage::fillTokenizerRows(const QString& dir) {
    QDir d(dir);
    QString tok = d.exists("tokenizer.json") ? QStringLiteral("tokenizer.json")
                  : d.exists("tokenizer.model") ? QStringLiteral("tokenizer.model (sentencepiece)")
                                                : QStringLiteral("none found");
    addRow(QStringLiteral("Tokenizer"), tok);
    QFile cfg(d.filePath("tokenizer_config.json"));
    QString tmpl = QStringLiteral("none (the default prompt format is used)");
    if (cfg.open(QIODevice::ReadOnly)) {
        const QJsonValue t = QJsonDocument::fromJson(cfg.readAll()).object().value("chat_template");
        if (t.isString())
            tmpl = QStringLiteral("Jinja chat template (%1 characters)").arg(t.toString().size());
        else if (t.isArray())
            tmpl = QStringLiteral("%1 named chat templates").arg(t.toArray().size());
    }
    addRow(QStringLiteral("Chat template"), tmpl);
}

void ModelPage::describe(const QString& dir) {
    m_described = dir;
    if (m_path->currentText() != dir) {
        if (m_path->findText(dir) < 0)
            m_path->insertItem(0, dir);
        m_path->setCurrentText(dir);
    }
    m_state->setText(QStringLiteral("Reading %1…").arg(dir));
    m_describe->start({QStringLiteral("info"), QStringLiteral("--model"), dir, QStringLiteral("--json")});
}

void ModelPage::chooseFolder() {
    const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Open a Hugging Face model folder"),
                                                          m_session->modelDir());
    if (!dir.isEmpty())
        m_session->setModelDir(dir);
}

void ModelPage::chooseGguf() {
    const QString file = QFileDialog::getOpenFileName(this, QStringLiteral("View a GGUF file"), m_session->modelDir(),
                                                      QStringLiteral("GGUF files (*.gguf)"));
    if (!file.isEmpty())
        describeGguf(file);
}

void ModelPage::describeGguf(const QString& file) {
    m_state->setText(QStringLiteral("Reading %1…").arg(file));
    m_describeGguf->start({QStringLiteral("info"), file, QStringLiteral("--json")});
}

void ModelPage::showGguf(const QJsonObject& info) {
    const QJsonObject meta = info.value("metadata").toObject();
    const QString arch = info.value("architecture").toString();
    const auto key = [&](const QString& k) { return meta.value(arch + "." + k); };
    m_info->setRowCount(0);
    addRow(QStringLiteral("File"), info.value("file").toString());
    addRow(QStringLiteral("Kind"), meta.value("general.type").toString() == QLatin1String("adapter")
                                       ? QStringLiteral("%1 adapter (applied to a %2 base)")
                                             .arg(meta.value("adapter.type").toString(), arch)
                                       : QStringLiteral("model"));
    addRow(QStringLiteral("Architecture"), arch);
    addRow(QStringLiteral("Parameters"), count(info.value("parameters").toDouble()));
    addRow(QStringLiteral("File size"), bytes(info.value("bytes").toDouble()));
    QStringList types;
    const QJsonObject byType = info.value("tensor_types").toObject();
    for (auto it = byType.begin(); it != byType.end(); ++it)
        types << QStringLiteral("%1 × %2").arg(it.value().toInt()).arg(it.key());
    addRow(QStringLiteral("Tensor types"), types.join(QStringLiteral(", ")));
    if (key("context_length").isDouble()) {
        addRow(QStringLiteral("Context length"), QString::number(key("context_length").toInt()));
        addRow(QStringLiteral("Layers × hidden"), QStringLiteral("%1 × %2").arg(key("block_count").toInt()).arg(key("embedding_length").toInt()));
        addRow(QStringLiteral("Attention heads / KV heads"), QStringLiteral("%1 / %2").arg(key("attention.head_count").toInt())
                                                                 .arg(key("attention.head_count_kv").toInt()));
    }
    if (meta.contains("tokenizer.ggml.model"))
        addRow(QStringLiteral("Tokenizer"), QStringLiteral("%1 (pre-tokenizer %2), %3 tokens")
                                                 .arg(meta.value("tokenizer.ggml.model").toString(),
                                                      meta.value("tokenizer.ggml.pre").toString(QStringLiteral("default")))
                                                 .arg(info.value("tokens").toInt()));
    addRow(QStringLiteral("Chat template"), meta.contains("tokenizer.chat_template") ? QStringLiteral("yes (Jinja, in the file)")
                                                                                     : QStringLiteral("none"));
    for (auto it = meta.begin(); it != meta.end(); ++it)  // every other key, as stored
        if (!it.value().isObject() && it.key() != QLatin1String("tokenizer.chat_template"))
            addRow(it.key(), it.value().isString() ? it.value().toString() : QString::fromUtf8(QJsonDocument(QJsonArray{it.value()}).toJson(QJsonDocument::Compact)).mid(1).chopped(1));
    m_info->resizeRowsToContents();
    m_state->setText(QStringLiteral("Viewing %1 (read-only: the studio trains from the model folder %2)")
                         .arg(info.value("file").toString(), m_described.isEmpty() ? QStringLiteral("(none)") : m_described));
}

void ModelPage::generate() {
    if (m_session->modelDir().isEmpty()) {
        m_output->setPlainText(QStringLiteral("Choose a model folder first."));
        return;
    }
    m_output->clear();
    m_run->setEnabled(false);
    m_stop->setEnabled(true);
    QString prompt = m_prompt->toPlainText();
    prompt.replace('\n', QStringLiteral("\\n"));
    m_generate->start({QStringLiteral("generate"), QStringLiteral("--model"), m_session->modelDir(),
                       QStringLiteral("--prompt"), prompt, QStringLiteral("--max-new-tokens"),
                       QString::number(m_maxTokens->value()), QStringLiteral("--temperature"),
                       QString::number(m_temperature->value())});
}

} // namespace ft::ui
