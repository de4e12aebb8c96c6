#include "data/generate_dialog.h"

#include "app/session.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QStandardItemModel>

namespace ft::ui {

GenerateDialog::GenerateDialog(Session* session, const QString& sourceDataset, const QString& sourceKind,
                               QWidget* parent)
    : CliTaskDialog(session, tr("Generate data with a model"), tr("Generate"), parent), m_source(sourceDataset),
      m_sourceKind(sourceKind) {
    m_mode = new QComboBox(this);
    m_mode->setObjectName(QStringLiteral("generateMode"));
    m_mode->addItem(tr("Answers to the prompts (distillation)"), QStringLiteral("responses"));
    m_mode->addItem(tr("Preference pairs ranked by the rows' verifiers"), QStringLiteral("verifier"));
    m_mode->addItem(tr("Preference pairs ranked by a judge model"), QStringLiteral("judge"));
    m_mode->setToolTip(tr("Answers: one per prompt, as instruction rows. Pairs: several sampled answers per prompt; "
                          "a passing and a failing one (verifiers), or the judge's best and worst, as a preference "
                          "row"));
    m_target = new QLineEdit(this);
    m_target->setObjectName(QStringLiteral("generateTarget"));
    m_target->setToolTip(tr("The dataset to fill; created when missing. Rows made earlier into it are kept and "
                            "their prompts skipped"));
    m_model = folderField(QStringLiteral("generateModel"), tr("Choose the model that answers"),
                          tr("The model folder that writes the answers (a bigger local model for distillation)"));
    m_model->setText(session->modelDir());
    m_adapter = folderField(QStringLiteral("generateAdapter"), tr("Choose an adapter"),
                            tr("Optional: an adapter folder (PEFT layout) applied to that model"));
    m_adapter->setPlaceholderText(tr("none"));
    m_template = new QComboBox(this);
    m_template->setObjectName(QStringLiteral("generateTemplate"));
    m_template->addItems({QStringLiteral("auto"), QStringLiteral("model"), QStringLiteral("alpaca"),
                          QStringLiteral("chatml"), QStringLiteral("plain"), QStringLiteral("none")});
    m_template->setToolTip(tr("How prompts reach the model: auto = the model's chat template when it has one"));
    m_judge = folderField(QStringLiteral("generateJudge"), tr("Choose the judge model"),
                          tr("The model folder that ranks the answers (may be the same model)"));
    m_judge->setText(session->modelDir());
    m_threshold = new QDoubleSpinBox(this);
    m_threshold->setObjectName(QStringLiteral("generateThreshold"));
    m_threshold->setRange(0.5, 1.0);
    m_threshold->setSingleStep(0.05);
    m_threshold->setValue(0.6);
    m_threshold->setToolTip(tr("Keep a pair only when the judge prefers the best answer to the worst with at least "
                               "this probability"));
    m_samples = new QSpinBox(this);
    m_samples->setObjectName(QStringLiteral("generateSamples"));
    m_samples->setRange(2, 64);
    m_samples->setValue(4);
    m_samples->setToolTip(tr("Answers sampled per prompt"));
    m_maxNew = new QSpinBox(this);
    m_maxNew->setObjectName(QStringLiteral("generateMaxNew"));
    m_maxNew->setRange(1, 8192);
    m_maxNew->setValue(128);
    m_temperature = new QDoubleSpinBox(this);
    m_temperature->setObjectName(QStringLiteral("generateTemperature"));
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setValue(0.8);
    m_temperature->setToolTip(tr("Sampling temperature (answers: 0 = greedy)"));
    m_limit = new QSpinBox(this);
    m_limit->setObjectName(QStringLiteral("generateLimit"));
    m_limit->setRange(0, 100000000);
    m_limit->setSpecialValueText(tr("all rows"));
    m_limit->setToolTip(tr("Use only the first N rows of the source"));

    form()->addRow(tr("Prompts from"), new QLabel(tr("%1 (%2 rows)").arg(sourceDataset, sourceKind), this));
    form()->addRow(tr("Make"), m_mode);
    form()->addRow(tr("Into dataset"), m_target);
    form()->addRow(tr("Model"), m_model->parentWidget());
    form()->addRow(tr("Adapter"), m_adapter->parentWidget());
    form()->addRow(tr("Prompt format"), m_template);
    form()->addRow(tr("Judge model"), m_judge->parentWidget());
    form()->addRow(tr("Judge threshold"), m_threshold);
    form()->addRow(tr("Answers per prompt"), m_samples);
    form()->addRow(tr("Longest answer (tokens)"), m_maxNew);
    form()->addRow(tr("Temperature"), m_temperature);
    form()->addRow(tr("Rows"), m_limit);

    // Verifiers exist only on verifiable rows; a judge ranks any prompt.
    if (sourceKind != QLatin1String("verifiable"))
        if (auto* model = qobject_cast<QStandardItemModel*>(m_mode->model()))
            model->item(1)->setEnabled(false);
    setMode(sourceKind == QLatin1String("verifiable") ? QStringLiteral("verifier") : QStringLiteral("responses"));
    connect(m_mode, &QComboBox::currentIndexChanged, this, [this] {
        proposeTarget();
        updateEnabled();
    });
    proposeTarget();
    updateEnabled();
}

QLineEdit* GenerateDialog::folderField(const QString& objectName, const QString& title, const QString& tip) {
    auto* row = new QWidget(this);
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* edit = new QLineEdit(row);
    edit->setObjectName(objectName);
    edit->setToolTip(tip);
    auto* browse = new QPushButton(tr("Browse…"), row);
    browse->setToolTip(title);
    layout->addWidget(edit, 1);
    layout->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, [this, edit, title] {
        const QString dir = QFileDialog::getExistingDirectory(this, title, edit->text());
        if (!dir.isEmpty())
            edit->setText(dir);
    });
    return edit;
}

void GenerateDialog::proposeTarget() {
    const bool answers = m_mode->currentData().toString() == QLatin1String("responses");
    m_target->setText(m_source + (answers ? QStringLiteral("-answers") : QStringLiteral("-pairs")));
}

void GenerateDialog::updateEnabled() {
    const QString mode = m_mode->currentData().toString();
    const bool judge = mode == QLatin1String("judge"), pairs = mode != QLatin1String("responses");
    m_judge->parentWidget()->setEnabled(judge);
    m_threshold->setEnabled(judge);
    m_samples->setEnabled(pairs);
}

void GenerateDialog::setMode(const QString& mode) {
    const int i = m_mode->findData(mode);
    if (i >= 0)
        m_mode->setCurrentIndex(i);
    updateEnabled();
}
void GenerateDialog::setTarget(const QString& name) { m_target->setText(name); }
void GenerateDialog::setModel(const QString& dir) { m_model->setText(dir); }
void GenerateDialog::setJudge(const QString& dir) { m_judge->setText(dir); }
void GenerateDialog::setThreshold(double p) { m_threshold->setValue(p); }
void GenerateDialog::setLimit(int rows) { m_limit->setValue(rows); }
void GenerateDialog::setSamples(int n) { m_samples->setValue(n); }
void GenerateDialog::setMaxNewTokens(int n) { m_maxNew->setValue(n); }
void GenerateDialog::setTemperature(double t) { m_temperature->setValue(t); }
void GenerateDialog::setTemplate(const QString& name) { m_template->setCurrentText(name); }
QString GenerateDialog::target() const { return m_target->text().trimmed(); }

QStringList GenerateDialog::arguments(QString* error) {
    const QString mode = m_mode->currentData().toString();
    const QString model = m_model->text().trimmed(), judge = m_judge->text().trimmed();
    if (target().isEmpty()) {
        *error = tr("Name the dataset to fill.");
        return {};
    }
    if (target() == m_source) {
        *error = tr("The answers go into another dataset than the prompts come from.");
        return {};
    }
    if (!QFileInfo::exists(model + QStringLiteral("/config.json"))) {
        *error = tr("No model at '%1' (a folder with config.json).").arg(model);
        return {};
    }
    if (mode == QLatin1String("judge") && !QFileInfo::exists(judge + QStringLiteral("/config.json"))) {
        *error = tr("No judge model at '%1' (a folder with config.json).").arg(judge);
        return {};
    }
    QStringList args{QStringLiteral("data"),
                     QStringLiteral("generate"),
                     QStringLiteral("--project"),
                     session()->projectPath(),
                     QStringLiteral("--from"),
                     m_source,
                     QStringLiteral("--to"),
                     target(),
                     QStringLiteral("--mode"),
                     mode == QLatin1String("responses") ? QStringLiteral("responses") : QStringLiteral("pairs"),
                     QStringLiteral("--model"),
                     model,
                     QStringLiteral("--template"),
                     m_template->currentText(),
                     QStringLiteral("--max-new-tokens"),
                     QString::number(m_maxNew->value()),
                     QStringLiteral("--temperature"),
                     QString::number(m_temperature->value()),
                     QStringLiteral("--progress")};
    if (!m_adapter->text().trimmed().isEmpty())
        args << QStringLiteral("--adapter") << m_adapter->text().trimmed();
    if (mode != QLatin1String("responses"))
        args << QStringLiteral("--samples") << QString::number(m_samples->value());
    if (mode == QLatin1String("judge"))
        args << QStringLiteral("--judge") << judge << QStringLiteral("--judge-threshold")
             << QString::number(m_threshold->value());
    if (m_limit->value() > 0)
        args << QStringLiteral("--limit") << QString::number(m_limit->value());
    return args;
}

QString GenerateDialog::cancelledText() const {
    return tr("Stopped. The rows made so far are kept in '%1'; Generate again goes on where it stopped.").arg(target());
}

void GenerateDialog::onFinished(bool ok) {
    // Cancelled or not, rows may have been made: the datasets and rows are re-read.
    session()->notifyDatasetsChanged();
    session()->notifyRowsChanged(-1);
    if (ok)
        emit generated(target());
}

} // namespace ft::ui
