#include "train/train_setup.h"

#include "app/session.h"
#include "app/studio_paths.h"
#include "engine/cli_job.h"
#include "train/data_picker.h"
#include "train/memory_preview.h"
#include "train/run_recorder.h"
#include "train/schema_form.h"

#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFile>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QTemporaryDir>
#include <QTimer>
#include <QUrl>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

// Settings this panel edits itself: the form leaves them out.
const QStringList kOwnPaths{QStringLiteral("model"), QStringLiteral("output_dir"), QStringLiteral("resume"),
                            QStringLiteral("data.train")};

QString errorStyle() { return QStringLiteral("color: #c0392b;"); }

} // namespace

TrainSetup::TrainSetup(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    m_stamp = QDateTime::currentDateTime().toString(QStringLiteral("MMdd-HHmmss"));
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->setSpacing(6);

    auto* scroll = new QScrollArea(this);
    scroll->setObjectName(QStringLiteral("setupScroll"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    auto* inner = new QWidget(scroll);
    auto* innerLayout = new QVBoxLayout(inner);
    innerLayout->setContentsMargins(0, 0, 6, 0);
    innerLayout->setSpacing(6);
    scroll->setWidget(inner);
    outer->addWidget(scroll, 1);

    auto* runBox = new QGroupBox(QStringLiteral("Run"), inner);
    auto* runForm = new QFormLayout(runBox);
    runForm->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    runForm->setLabelAlignment(Qt::AlignRight | Qt::AlignVCenter);
    runForm->setContentsMargins(8, 6, 8, 6);
    runForm->setVerticalSpacing(4);
    m_name = new QLineEdit(runBox);
    m_name->setObjectName(QStringLiteral("runName"));
    m_name->setToolTip(QStringLiteral("The run's name in the project; its output folder is named after it."));
    runForm->addRow(QStringLiteral("Name"), m_name);

    auto* modelRow = new QHBoxLayout;
    m_model = new QLineEdit(runBox);
    m_model->setObjectName(QStringLiteral("modelPath"));
    m_model->setReadOnly(true);
    m_model->setPlaceholderText(QStringLiteral("no base model chosen"));
    m_changeModel = new QPushButton(QStringLiteral("Change…"), runBox);
    m_changeModel->setObjectName(QStringLiteral("changeModelButton"));
    modelRow->addWidget(m_model, 1);
    modelRow->addWidget(m_changeModel);
    runForm->addRow(QStringLiteral("Base model"), modelRow);

    m_data = new DataPicker(session, runBox);
    runForm->addRow(QStringLiteral("Training data"), m_data);

    auto* outRow = new QHBoxLayout;
    m_output = new QLineEdit(runBox);
    m_output->setObjectName(QStringLiteral("outputDir"));
    m_output->setToolTip(QStringLiteral("Checkpoints, the adapter and run_config.json go here."));
    m_browseOutput = new QPushButton(QStringLiteral("…"), runBox);
    m_browseOutput->setMaximumWidth(32);
    outRow->addWidget(m_output, 1);
    outRow->addWidget(m_browseOutput);
    runForm->addRow(QStringLiteral("Output folder"), outRow);
    innerLayout->addWidget(runBox);

    m_formHolder = new QVBoxLayout;
    m_loading = new QLabel(QStringLiteral("Loading settings…"), inner);
    m_loading->setObjectName(QStringLiteral("schemaLoading"));
    m_loading->setWordWrap(true);
    m_formHolder->addWidget(m_loading);
    innerLayout->addLayout(m_formHolder);
    innerLayout->addStretch(1);

    m_estimate = new QLabel(this);
    m_estimate->setObjectName(QStringLiteral("estimateLabel"));
    m_estimate->setWordWrap(true);
    m_estimate->setTextFormat(Qt::RichText);
    m_estimate->setFrameShape(QFrame::StyledPanel);
    m_estimate->setContentsMargins(6, 4, 6, 4);
    outer->addWidget(m_estimate);
    auto* checkRow = new QHBoxLayout;
    m_check = new QPushButton(QStringLiteral("Check"), this);
    m_check->setObjectName(QStringLiteral("checkButton"));
    m_check->setToolTip(QStringLiteral("Ask the engine whether it accepts this config (ftstudio-cli train --check)."));
    m_checkResult = new QLabel(this);
    m_checkResult->setObjectName(QStringLiteral("checkResult"));
    m_checkResult->setWordWrap(true);
    m_checkResult->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::LinksAccessibleByMouse);
    checkRow->addWidget(m_check, 0, Qt::AlignTop);
    checkRow->addWidget(m_checkResult, 1);
    outer->addLayout(checkRow);

    m_estimateJob = new CliJob(this);
    connect(m_estimateJob, &CliJob::finished, this, &TrainSetup::showEstimate);
    m_estimateTimer = new QTimer(this);
    m_estimateTimer->setSingleShot(true);
    m_estimateTimer->setInterval(200);
    connect(m_estimateTimer, &QTimer::timeout, this, &TrainSetup::updateEstimate);
    m_checkJob = new CliJob(this);
    connect(m_checkJob, &CliJob::finished, this, [this](bool ok, const QString& message) {
        if (ok) {
            m_checkResult->setStyleSheet(QString());
            m_checkResult->setText(QStringLiteral("<span style=\"color:#1e8449\">✓ The engine accepts this config.</span> "
                                                  "Reading the data as training will…"));
            m_dataCheckJob->start({QStringLiteral("train"), QStringLiteral("--config"), m_checkedConfigPath,
                                   QStringLiteral("--check-data"), QStringLiteral("--json")});
            return;
        }
        m_check->setEnabled(true);
        QStringList lines = m_checkJob->allErrors().trimmed().split('\n');
        if (lines.size() > 12)
            lines = lines.mid(0, 12) << QStringLiteral("…");
        showProblems(lines.join('\n').trimmed().isEmpty() ? QStringList{message} : lines);
        emit checkFinished(false);
    });
    m_dataCheckJob = new CliJob(this);
    connect(m_dataCheckJob, &CliJob::finished, this, &TrainSetup::showDataChecks);
    connect(m_checkResult, &QLabel::linkActivated, this, [this](const QString& link) {
        // rows:<dataset>:<id>,<id>,...
        const QStringList parts = link.split(QLatin1Char(':'));
        if (parts.size() < 3 || parts[0] != QLatin1String("rows"))
            return;
        QList<qint64> ids;
        for (const QString& id : parts.last().split(QLatin1Char(','), Qt::SkipEmptyParts))
            ids << id.toLongLong();
        emit rowsRequested(QUrl::fromPercentEncoding(parts.mid(1, parts.size() - 2).join(QLatin1Char(':')).toUtf8()), ids);
    });

    m_modelDir = session->modelDir();
    m_model->setText(m_modelDir);
    connect(session, &Session::modelChanged, this, [this](const QString& dir) {
        m_modelDir = dir;
        m_model->setText(dir);
        m_estimateTimer->start();
        emit changed();
    });
    connect(m_changeModel, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Base model folder"), m_modelDir);
        if (dir.isEmpty())
            return;
        if (!isBaseModelFolder(dir)) {
            showProblems({QStringLiteral("model: %1 is not a model folder (config.json and model.safetensors)").arg(dir)});
            return;
        }
        m_session->setModelDir(dir);
    });
    connect(m_browseOutput, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Parent of the output folder"),
                                                              runsDir());
        if (!dir.isEmpty())
            m_output->setText(QDir(dir).filePath(runName()));
    });
    connect(m_name, &QLineEdit::textEdited, this, [this] {
        m_nameEdited = true;
        if (!m_outputEdited)
            m_output->setText(QDir(runsDir()).filePath(runName()));
    });
    connect(m_output, &QLineEdit::textEdited, this, [this] { m_outputEdited = true; });
    connect(m_data, &QComboBox::currentIndexChanged, this, [this] { emit changed(); });
    connect(m_check, &QPushButton::clicked, this, &TrainSetup::check);
    updateName();
    m_estimate->setText(QStringLiteral("<i>The estimate appears when the settings are loaded.</i>"));
}

TrainSetup::~TrainSetup() { delete m_checkDir; }

void TrainSetup::setSchema(const QJsonObject& schema) {
    if (m_form)
        return;
    m_form = new SchemaForm(schema, kOwnPaths, this);
    m_form->setObjectName(QStringLiteral("schemaForm"));
    m_loading->hide();
    m_formHolder->addWidget(m_form);
    connect(m_form, &SchemaForm::changed, this, [this] {
        updateName();
        m_estimateTimer->start();
        emit changed();
    });
    if (!m_pendingConfig.isEmpty()) {
        const QJsonObject pending = m_pendingConfig;
        m_pendingConfig = {};
        loadConfig(pending);
    }
    updateName();
    updateEstimate();
}

void TrainSetup::selectData(const QString& ref) { m_data->selectRef(ref); }

QString TrainSetup::runName() const { return m_name->text().trimmed(); }
QString TrainSetup::outputDir() const { return m_output->text().trimmed(); }

void TrainSetup::updateName() {
    if (m_nameEdited)
        return;
    QString technique = QStringLiteral("lora"), objective = QStringLiteral("sft");
    if (m_form) {
        technique = m_form->value(QStringLiteral("technique.name")).toString(technique);
        objective = m_form->value(QStringLiteral("objective.name")).toString(objective);
    }
    m_name->setText(QStringLiteral("%1-%2-%3").arg(technique, objective, m_stamp));
    if (!m_outputEdited)
        m_output->setText(QDir(runsDir()).filePath(runName()));
}

void TrainSetup::newRunName() {
    m_stamp = QDateTime::currentDateTime().toString(QStringLiteral("MMdd-HHmmss"));
    m_nameEdited = false;
    m_outputEdited = false;
    updateName();
}

void TrainSetup::makeOutputUnique() {
    const QString base = outputDir(), name = runName();
    QString dir = base, uniqueName = name;
    for (int n = 2; QFileInfo::exists(dir) || QFileInfo::exists(dir + QStringLiteral(".config.json")); ++n) {
        dir = base + '-' + QString::number(n);
        uniqueName = name + '-' + QString::number(n);
    }
    if (dir != base) {
        m_output->setText(dir);
        m_name->setText(uniqueName);
    }
}

QJsonObject TrainSetup::runConfig() const {
    QJsonObject cfg = m_form ? m_form->config() : QJsonObject();
    cfg.insert(QStringLiteral("model"), m_modelDir);
    cfg.insert(QStringLiteral("output_dir"), QFileInfo(outputDir()).absoluteFilePath());
    QJsonObject data = cfg.value(QStringLiteral("data")).toObject();
    data.insert(QStringLiteral("train"), m_data->currentRef());
    cfg.insert(QStringLiteral("data"), data);
    return cfg;
}

QStringList TrainSetup::validate() const {
    QStringList out;
    if (!m_form)
        return {QStringLiteral("the settings are not loaded yet")};
    if (m_modelDir.isEmpty())
        out << QStringLiteral("model: choose a base model folder");
    else if (!QFileInfo::exists(QDir(m_modelDir).filePath(QStringLiteral("config.json"))))
        out << QStringLiteral("model: %1 has no config.json").arg(m_modelDir);
    if (m_data->currentRef().isEmpty())
        out << QStringLiteral("data.train: choose the training data");
    if (outputDir().isEmpty())
        out << QStringLiteral("output_dir: choose an output folder");
    if (runName().isEmpty())
        out << QStringLiteral("name: give the run a name");
    const QString kind = m_data->currentKind();
    QStringList kinds;
    for (const QJsonValue& k : m_form->currentVariant(QStringLiteral("objective")).value(QStringLiteral("data_kinds")).toArray())
        kinds << k.toString();
    if (!kind.isEmpty() && !kinds.isEmpty() && !kinds.contains(kind))
        out << QStringLiteral("data.train: the dataset holds %1 rows; objective %2 trains on %3")
                   .arg(kind, m_form->value(QStringLiteral("objective.name")).toString(), kinds.join(QStringLiteral(", ")));
    return out + m_form->validate();
}

void TrainSetup::loadConfig(const QJsonObject& config) {
    if (!m_form) {
        m_pendingConfig = config;
        return;
    }
    QJsonObject settings = config;
    settings.remove(QStringLiteral("model"));
    settings.remove(QStringLiteral("output_dir"));
    settings.remove(QStringLiteral("resume"));
    QJsonObject data = settings.value(QStringLiteral("data")).toObject();
    const QString train = data.value(QStringLiteral("train")).toString();
    data.remove(QStringLiteral("train"));
    settings.insert(QStringLiteral("data"), data);
    m_form->setConfig(settings);
    if (const QString model = config.value(QStringLiteral("model")).toString(); !model.isEmpty()) {
        m_modelDir = model;
        m_model->setText(model);
    }
    if (!train.isEmpty())
        selectData(train);
    newRunName();
    showProblems(m_form->validate());
}

void TrainSetup::setLocked(bool locked) {
    for (QWidget* w : std::initializer_list<QWidget*>{m_name, m_changeModel, m_data, m_output, m_browseOutput, m_check})
        w->setEnabled(!locked);
    if (m_form)
        m_form->setEnabled(!locked);
}

void TrainSetup::updateEstimate() {
    if (!m_form)
        return;
    if (m_modelDir.isEmpty() || !QFileInfo::exists(QDir(m_modelDir).filePath(QStringLiteral("config.json")))) {
        m_estimateJob->cancel();
        m_estimate->setText(previewError(m_modelDir.isEmpty()
                                             ? QStringLiteral("choose a base model folder to see an estimate")
                                             : QStringLiteral("%1 has no config.json").arg(m_modelDir))
                                .summaryHtml());
        return;
    }
    // The engine computes it (ftstudio-cli train --estimate) from the form as it is now.
    QJsonObject config = m_form->fullConfig();
    config.insert(QStringLiteral("model"), m_modelDir);
    const QString path = m_estimateDir.filePath(QStringLiteral("estimate.json"));
    QFile file(path);
    if (!m_estimateDir.isValid() || !file.open(QIODevice::WriteOnly | QIODevice::Truncate) ||
        file.write(QJsonDocument(config).toJson()) < 0) {
        m_estimate->setText(previewError(QStringLiteral("cannot write %1").arg(path)).summaryHtml());
        return;
    }
    file.close();
    m_estimateJob->start({QStringLiteral("train"), QStringLiteral("--estimate"), QStringLiteral("--json"),
                          QStringLiteral("--config"), path});
}

void TrainSetup::showEstimate(bool ok, const QString& message) {
    if (!ok) {
        if (message != QLatin1String("cancelled"))
            m_estimate->setText(previewError(message).summaryHtml());
        return;
    }
    const QJsonDocument doc = QJsonDocument::fromJson(lastLine(m_estimateJob->allOutput()).toUtf8());
    const MemoryPreview preview = doc.isObject() ? previewFromEstimate(doc.object())
                                                 : previewError(QStringLiteral("the engine printed no estimate"));
    m_estimate->setText(preview.summaryHtml());
    // The processes setting: off, with the reason, where there is one device to run on
    // (unless a loaded config already asks for more, which stays visible and editable).
    if (QWidget* processes = m_form ? m_form->editor(QStringLiteral("distributed.processes")) : nullptr) {
        processes->setEnabled(!preview.ok || preview.processesUseful() || preview.processes > 1);
        processes->setToolTip(preview.processesHint());
    }
}

void TrainSetup::showEngineFigures(const QJsonObject& e) {
    m_estimateJob->cancel();  // the run's own figures win over a pending estimate
    const QJsonObject params = e.value(QStringLiteral("parameters")).toObject();
    const QJsonObject mem = e.value(QStringLiteral("memory_estimate")).toObject();
    const qint64 trainable = params.value(QStringLiteral("trainable")).toInteger();
    const qint64 total = params.value(QStringLiteral("total")).toInteger();
    const double share = total > 0 ? 100.0 * double(trainable) / double(total) : 0;
    m_estimate->setText(
        QStringLiteral("<b>Run</b> on %1 (%2): trainable %3 of %4 (%5 %)<br>Memory estimate <b>%6</b> "
                       "<span style='color:gray'>(weights %7, gradients %8, optimizer %9, activations %10)</span>")
            .arg(e.value(QStringLiteral("device")).toString(), e.value(QStringLiteral("dtype")).toString(),
                 formatCount(trainable), formatCount(total), QString::number(share, 'g', 3),
                 formatBytes(mem.value(QStringLiteral("total")).toInteger()),
                 formatBytes(mem.value(QStringLiteral("weights")).toInteger()),
                 formatBytes(mem.value(QStringLiteral("gradients")).toInteger()),
                 formatBytes(mem.value(QStringLiteral("optimizer")).toInteger()))
            .arg(formatBytes(mem.value(QStringLiteral("activations")).toInteger())));
}

void TrainSetup::showProblems(const QStringList& problems) {
    m_checkResult->setStyleSheet(problems.isEmpty() ? QString() : errorStyle());
    m_checkResult->setText(problems.join('\n'));
}

void TrainSetup::check() {
    const QStringList problems = validate();
    if (!problems.isEmpty()) {
        showProblems(problems);
        return;
    }
    delete m_checkDir;
    m_checkDir = new QTemporaryDir;
    const QString path = m_checkDir->filePath(QStringLiteral("check.json"));
    QString error;
    if (!writeRunConfigFile(path, runConfig(), &error)) {
        showProblems({error});
        return;
    }
    m_check->setEnabled(false);
    m_checkResult->setStyleSheet(QString());
    m_checkResult->setText(QStringLiteral("Checking…"));
    m_checkedConfigPath = path;
    m_checkJob->start({QStringLiteral("train"), QStringLiteral("--config"), path, QStringLiteral("--check")});
}

QString TrainSetup::checkText() const { return m_checkResult->text(); }

// The findings of `train --check-data`: one line each, its rows a link to the Data page
// when the data is a project dataset.
void TrainSetup::showDataChecks(bool ok, const QString& message) {
    m_check->setEnabled(true);
    const QJsonObject report = QJsonDocument::fromJson(m_dataCheckJob->allOutput().toUtf8()).object();
    QString html = QStringLiteral("<span style=\"color:#1e8449\">✓ The engine accepts this config.</span><br>");
    if (report.isEmpty()) {
        html += QStringLiteral("<span style=\"color:#b00000\">The data could not be read: %1</span>")
                    .arg((ok ? tr("no report") : message).toHtmlEscaped());
        m_checkResult->setText(html);
        emit checkFinished(true);
        return;
    }
    const QString source = report.value(QStringLiteral("source")).toString();
    const int hash = source.lastIndexOf(QLatin1Char('#'));
    const QString dataset = hash > 0 ? source.mid(hash + 1) : QString();
    const QJsonArray findings = report.value(QStringLiteral("findings")).toArray();
    if (findings.isEmpty())
        html += QStringLiteral("<span style=\"color:#1e8449\">✓ The data: no problem found in %1 training and %2 "
                               "held-out rows.</span>")
                    .arg(report.value(QStringLiteral("train_rows")).toInt())
                    .arg(report.value(QStringLiteral("eval_rows")).toInt());
    for (const QJsonValue& v : findings) {
        const QJsonObject f = v.toObject();
        const bool error = f.value(QStringLiteral("severity")).toString() == QLatin1String("error");
        QStringList ids;
        for (const QJsonValue& id : f.value(QStringLiteral("rows")).toArray())
            ids << QString::number(id.toInteger());
        QString rows;
        if (!ids.isEmpty()) {
            const QString shown = ids.mid(0, 8).join(QStringLiteral(", ")) + (ids.size() > 8 ? QStringLiteral(", …") : QString());
            rows = dataset.isEmpty()
                       ? QStringLiteral(" (rows %1)").arg(shown)
                       : QStringLiteral(" (<a href=\"rows:%1:%2\">rows %3</a>)")
                             .arg(QString::fromUtf8(QUrl::toPercentEncoding(dataset)), ids.join(QLatin1Char(',')), shown);
        }
        html += QStringLiteral("<span style=\"color:%1\">%2 %3</span>%4<br>")
                    .arg(error ? QStringLiteral("#b00000") : QStringLiteral("#9a6700"),
                         error ? QStringLiteral("✖") : QStringLiteral("⚠"),
                         f.value(QStringLiteral("message")).toString().toHtmlEscaped(), rows);
    }
    m_checkResult->setText(html);
    emit checkFinished(true);
}

} // namespace ft::ui
