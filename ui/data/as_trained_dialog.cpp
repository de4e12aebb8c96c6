#include "data/as_trained_dialog.h"

#include "app/session.h"
#include "engine/cli_job.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

// The objective a dataset kind is previewed for: the rows of one kind are rendered
// alike by every objective that trains on them.
QString objectiveForKind(const QString& kind)
{
    if (kind == QLatin1String("preference"))
        return QStringLiteral("dpo");
    if (kind == QLatin1String("unpaired"))
        return QStringLiteral("kto");
    if (kind == QLatin1String("verifiable"))
        return QStringLiteral("grpo");
    return QStringLiteral("sft");
}

QString tokenHtml(const QString& text, bool loss, bool odd)
{
    QString shown = text.toHtmlEscaped();
    shown.replace(QLatin1Char(' '), QStringLiteral("&nbsp;"));
    shown.replace(QLatin1Char('\t'), QStringLiteral("&rarr;"));
    shown.replace(QLatin1Char('\n'), QStringLiteral("&#8629;<br>"));
    // Alternating shades show where one token ends and the next begins.
    const char* style = loss ? (odd ? "background:#a6dba6;color:#003300;font-weight:bold"
                                    : "background:#c9ebc9;color:#003300;font-weight:bold")
                             : (odd ? "background:#e3e3e3;color:#8a8a8a" : "background:#f1f1f1;color:#8a8a8a");
    return QStringLiteral("<span style=\"%1\">%2</span>").arg(QLatin1String(style), shown);
}

} // namespace

AsTrainedDialog::AsTrainedDialog(Session* session, QWidget* parent) : QDialog(parent), m_session(session)
{
    setWindowTitle(tr("As trained"));
    resize(760, 560);
    m_job = new CliJob(this);
    auto* lay = new QVBoxLayout(this);
    m_title = new QLabel;
    m_title->setObjectName("asTrainedTitle");
    lay->addWidget(m_title);
    auto* settings = new QHBoxLayout;
    m_template = new QComboBox;
    m_template->setObjectName("template");
    m_template->addItems({"alpaca", "chatml", "plain", "model"});
    m_template->setToolTip(tr("The prompt format of the run (objective.template); model = the model's chat template"));
    m_maxSeqLen = new QSpinBox;
    m_maxSeqLen->setObjectName("maxSeqLen");
    m_maxSeqLen->setRange(8, 131072);
    m_maxSeqLen->setValue(512);
    m_lossOn = new QComboBox;
    m_lossOn->setObjectName("lossOn");
    m_lossOn->addItems({"assistant", "all"});
    m_lossOn->setToolTip(tr("SFT: loss on the responses only, or on every token"));
    m_packing = new QCheckBox(tr("Packing"));
    m_packing->setObjectName("packing");
    m_packing->setToolTip(tr("SFT: pack short examples into rows of max_seq_len tokens (objective.packing) and "
                             "show which rows share this one's packed row in the first epoch"));
    auto* form = new QFormLayout;
    form->addRow(tr("Prompt format"), m_template);
    auto* form2 = new QFormLayout;
    form2->addRow(tr("max_seq_len"), m_maxSeqLen);
    auto* form3 = new QFormLayout;
    form3->addRow(tr("Loss on"), m_lossOn);
    settings->addLayout(form);
    settings->addLayout(form2);
    settings->addLayout(form3);
    settings->addWidget(m_packing);
    settings->addStretch(1);
    lay->addLayout(settings);
    m_summary = new QLabel;
    m_summary->setObjectName("asTrainedSummary");
    m_summary->setWordWrap(true);
    lay->addWidget(m_summary);
    m_view = new QTextBrowser;
    m_view->setObjectName("asTrainedView");
    QFont mono(QStringLiteral("monospace"));
    mono.setStyleHint(QFont::Monospace);
    m_view->setFont(mono);
    lay->addWidget(m_view, 1);
    auto* legend = new QLabel(tr("<span style=\"background:#c9ebc9;font-weight:bold\">&nbsp;trains&nbsp;</span> "
                                 "tokens the loss sees &nbsp; <span style=\"background:#f1f1f1;color:#8a8a8a\">"
                                 "&nbsp;masked&nbsp;</span> tokens it does not (label −100) &nbsp; shades alternate "
                                 "per token; &#8629; is a newline, ✂ where max_seq_len cuts"));
    legend->setWordWrap(true);
    lay->addWidget(legend);

    connect(m_template, &QComboBox::currentIndexChanged, this, &AsTrainedDialog::refresh);
    connect(m_lossOn, &QComboBox::currentIndexChanged, this, &AsTrainedDialog::refresh);
    connect(m_packing, &QCheckBox::toggled, this, &AsTrainedDialog::refresh);
    connect(m_maxSeqLen, &QSpinBox::editingFinished, this, &AsTrainedDialog::refresh);
    connect(m_job, &CliJob::finished, this, [this](bool ok, const QString& message) {
        if (!ok) {
            if (message != QLatin1String("cancelled")) {
                m_preview = nullptr;
                m_summary->setText(tr("The engine could not show this row: %1").arg(message));
                m_view->clear();
                emit previewShown(false);
            }
            return;
        }
        const auto j = nlohmann::json::parse(m_job->allOutput().toStdString(), nullptr, false);
        if (!j.is_object()) {
            m_summary->setText(tr("The engine's output could not be read."));
            emit previewShown(false);
            return;
        }
        showPreview(j);
        emit previewShown(true);
    });
}

void AsTrainedDialog::setRow(const QString& dataset, const QString& kind, qint64 rowId)
{
    m_dataset = dataset;
    m_kind = kind;
    m_rowId = rowId;
    m_lossOn->setEnabled(objectiveForKind(kind) == QLatin1String("sft"));
    m_packing->setEnabled(objectiveForKind(kind) == QLatin1String("sft"));
    refresh();
}

bool AsTrainedDialog::isRunning() const { return m_job->isRunning(); }

QString AsTrainedDialog::html() const { return m_view->toHtml(); }

void AsTrainedDialog::refresh()
{
    if (m_dataset.isEmpty() || m_rowId <= 0 || !m_session->hasProject())
        return;
    const QString objective = objectiveForKind(m_kind);
    m_title->setText(tr("<b>%1</b>, row %2 (%3 rows, previewed for %4)")
                         .arg(m_dataset.toHtmlEscaped())
                         .arg(m_rowId)
                         .arg(m_kind, objective));
    QStringList args{"data",        "preview",      "--project",   m_session->projectPath(), "--dataset",
                     m_dataset,     "--row",        QString::number(m_rowId), "--objective", objective,
                     "--template",  m_template->currentText(), "--max-seq-len", QString::number(m_maxSeqLen->value()),
                     "--json"};
    if (objective == QLatin1String("sft")) {
        args << "--loss-on" << m_lossOn->currentText();
        if (m_packing->isChecked())
            args << "--packing";
    }
    if (!m_session->modelDir().isEmpty())
        args << "--model" << m_session->modelDir();
    m_summary->setText(tr("Asking the engine…"));
    m_job->start(args);  // a job still running is replaced
}

void AsTrainedDialog::showPreview(const nlohmann::json& preview)
{
    m_preview = preview;
    QString html;
    QStringList summary;
    for (const auto& side : preview["sides"]) {
        const QString name = QString::fromStdString(side.value("name", std::string()));
        const qint64 kept = side.value("kept", 0), full = side.value("full_length", 0);
        const qint64 loss = side.value("loss_tokens", 0), masked = side.value("masked_tokens", 0);
        QString line = tr("%1%2 tokens (of %3): %4 carry loss, %5 masked")
                           .arg(name.isEmpty() ? QString() : name + QStringLiteral(": "))
                           .arg(kept)
                           .arg(full)
                           .arg(loss)
                           .arg(masked);
        if (side.value("truncated", false))
            line += tr("; %1 tokens cut by max_seq_len").arg(full - kept);
        summary << line;
        if (!name.isEmpty())
            html += QStringLiteral("<h3>%1</h3>").arg(name.toHtmlEscaped());
        if (side.value("dropped", false))
            html += tr("<p style=\"color:#b00000;font-weight:bold\">Nothing of the response is left within "
                       "max_seq_len: this row is left out of training.</p>");
        html += QStringLiteral("<p>");
        int i = 0;
        for (const auto& t : side["tokens"])
            html += tokenHtml(QString::fromStdString(t.value("text", std::string())), t.value("loss", false), (i++ % 2) != 0);
        if (side.value("truncated", false))
            html += tr("<span style=\"color:#b00000;font-weight:bold\"> ✂ cut here (%1 more tokens)</span>")
                        .arg(full - kept);
        html += QStringLiteral("</p>");
    }
    if (preview.contains("packed")) {
        QString line;
        html += packedHtml(preview["packed"], &line);
        summary << line;
    }
    m_summary->setText(tr("Prompt format %1, max_seq_len %2. ")
                           .arg(QString::fromStdString(preview.value("format", std::string())))
                           .arg(preview.value("max_seq_len", 0)) +
                       summary.join(QStringLiteral("; ")));
    m_view->setHtml(html);
}

QString AsTrainedDialog::packedHtml(const nlohmann::json& packed, QString* summary)
{
    if (packed.value("in_eval", false)) {
        *summary = tr("in the evaluation split: scored on its own, not packed");
        return tr("<h3>Packing</h3><p>This row is in the evaluation split, which is scored row by row and never "
                  "packed.</p>");
    }
    if (packed.value("dropped", false)) {
        *summary = tr("dropped, so in no packed row");
        return QString();
    }
    const qint64 used = packed.value("used", 0), length = packed.value("length", 0);
    const qint64 row = packed.value("packed_row", 0) + 1, rows = packed.value("packed_rows", 0);
    const auto& examples = packed["examples"];
    *summary = tr("packed row %1 of %2 with %3 other example(s), %4 of %5 tokens used")
                   .arg(row)
                   .arg(rows)
                   .arg(qint64(examples.size()) - 1)
                   .arg(used)
                   .arg(length);
    QString html = tr("<h3>Packed row %1 of %2 (epoch 1)</h3><p>%3 of %4 tokens used, %5 padding. Each example "
                      "attends only to itself; the first token of each carries no loss.</p>")
                       .arg(row)
                       .arg(rows)
                       .arg(used)
                       .arg(length)
                       .arg(length - used);
    html += QStringLiteral("<table cellspacing=\"0\" cellpadding=\"3\" border=\"1\" "
                           "style=\"border-collapse:collapse\">");
    html += tr("<tr><th>positions</th><th>row</th><th>tokens</th><th>loss</th><th>text</th></tr>");
    for (const auto& e : examples) {
        const bool self = e.value("self", false);
        const qint64 start = e.value("start", 0), n = e.value("tokens", 0);
        QString text = QString::fromStdString(e.value("text", std::string()));
        if (text.size() > 160)
            text = text.left(157) + QStringLiteral("…");
        QString shown = text.toHtmlEscaped();
        shown.replace(QLatin1Char('\n'), QStringLiteral("&#8629; "));
        html += QStringLiteral("<tr style=\"%1\"><td>%2–%3</td><td>%4%5</td><td>%6</td><td>%7</td><td>%8</td></tr>")
                    .arg(self ? QStringLiteral("background:#fff3c4;font-weight:bold") : QStringLiteral("color:#555555"))
                    .arg(start)
                    .arg(start + n - 1)
                    .arg(e.value("row", qint64(0)))
                    .arg(self ? tr(" (this row)") : QString())
                    .arg(n)
                    .arg(e.value("loss_tokens", qint64(0)))
                    .arg(shown);
    }
    html += QStringLiteral("</table>");
    return html;
}

} // namespace ft::ui
