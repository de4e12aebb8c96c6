#include "data/cli_task_dialog.h"

#include "app/session.h"
#include "engine/cli_job.h"

#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QFormLayout>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QVBoxLayout>

namespace ft::ui {

CliTaskDialog::CliTaskDialog(Session* session, const QString& title, const QString& runLabel, QWidget* parent)
    : QDialog(parent), m_session(session) {
    setWindowTitle(title);
    setMinimumWidth(560);
    auto* layout = new QVBoxLayout(this);
    m_form = new QFormLayout;
    m_form->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    layout->addLayout(m_form);
    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("taskProgress"));
    m_progress->setRange(0, 0);  // busy: the engine reports no fraction
    m_progress->setTextVisible(false);
    m_progress->hide();
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("taskStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_report = new QPlainTextEdit(this);
    m_report->setObjectName(QStringLiteral("taskReport"));
    m_report->setReadOnly(true);
    m_report->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_report->setPlaceholderText(tr("The engine's report appears here."));
    m_report->setMinimumHeight(140);
    auto* buttons = new QDialogButtonBox(this);
    m_run = buttons->addButton(runLabel, QDialogButtonBox::AcceptRole);
    m_run->setObjectName(QStringLiteral("taskRunButton"));
    m_run->setDefault(true);
    m_close = buttons->addButton(QDialogButtonBox::Close);
    layout->addWidget(m_progress);
    layout->addWidget(m_status);
    layout->addWidget(m_report, 1);
    layout->addWidget(buttons);

    m_job = new CliJob(this);
    connect(m_run, &QPushButton::clicked, this, &CliTaskDialog::start);
    connect(m_close, &QPushButton::clicked, this, &CliTaskDialog::reject);
    connect(m_job, &CliJob::outputLine, this, &CliTaskDialog::appendReport);
    // "progress: N%" on stderr (the engine's convention for long writes) drives the bar.
    connect(m_job, &CliJob::errorLine, this, [this](const QString& line) {
        static const QRegularExpression progress(QStringLiteral("^progress: (\\d+)%$"));
        if (const auto m = progress.match(line.trimmed()); m.hasMatch()) {
            m_progress->setRange(0, 100);
            m_progress->setValue(m.captured(1).toInt());
            m_progress->setTextVisible(true);
            return;
        }
        // {"done": N, "total": M, ...}: a command that reports per item (data generate --progress).
        if (line.startsWith(QLatin1Char('{'))) {
            const QJsonObject o = QJsonDocument::fromJson(line.toUtf8()).object();
            if (o.contains(QStringLiteral("done")) && o.value(QStringLiteral("total")).toDouble() > 0) {
                const int total = o.value(QStringLiteral("total")).toInt(), done = o.value(QStringLiteral("done")).toInt();
                m_progress->setRange(0, total);
                m_progress->setValue(done);
                m_progress->setFormat(o.contains(QStringLiteral("made"))
                                          ? tr("%1 of %2 rows, %3 made").arg(done).arg(total).arg(
                                                o.value(QStringLiteral("made")).toInt())
                                          : tr("%1 of %2").arg(done).arg(total));
                m_progress->setTextVisible(true);
                return;
            }
        }
        appendReport(line);
    });
    connect(m_job, &CliJob::finished, this, [this](bool ok, const QString& message) {
        setRunning(false);
        m_finished = true;
        m_succeeded = ok;
        if (ok)
            setStatus(lastLine(m_job->allOutput()).isEmpty() ? tr("Done.") : lastLine(m_job->allOutput()));
        else
            setStatus(message == QStringLiteral("cancelled") ? cancelledText() : message, true);
        onFinished(ok);
        emit taskFinished(ok);
    });
}

bool CliTaskDialog::start() {
    if (isRunning())
        return false;
    if (!m_session->hasProject()) {
        setStatus(tr("No project is open (File > Open Project)."), true);
        return false;
    }
    QString error;
    const QStringList args = arguments(&error);
    if (args.isEmpty()) {
        setStatus(error, true);
        return false;
    }
    m_finished = m_succeeded = false;
    m_report->clear();
    appendReport(QStringLiteral("$ ftstudio-cli ") + args.join(' '));
    setStatus(tr("Working…"));
    setRunning(true);
    m_job->start(args);
    return true;
}

QString CliTaskDialog::cancelledText() const { return tr("Cancelled; nothing was changed."); }

bool CliTaskDialog::isRunning() const { return m_job->isRunning(); }
QString CliTaskDialog::report() const { return m_report->toPlainText(); }
QString CliTaskDialog::statusText() const { return m_status->text(); }

void CliTaskDialog::reject() {
    if (isRunning()) {
        m_job->cancel();
        return;
    }
    QDialog::reject();
}

void CliTaskDialog::setStatus(const QString& text, bool isError) {
    m_status->setStyleSheet(isError ? QStringLiteral("color: #a01010;") : QStringLiteral("font-weight: bold;"));
    m_status->setText(text);
}

void CliTaskDialog::appendReport(const QString& line) { m_report->appendPlainText(line); }

void CliTaskDialog::setRunning(bool running) {
    m_progress->setVisible(running);
    if (running) {  // busy until the engine reports a fraction
        m_progress->setRange(0, 0);
        m_progress->setFormat(QStringLiteral("%p%"));
        m_progress->setTextVisible(false);
    }
    m_run->setEnabled(!running);
    m_close->setText(running ? tr("Cancel") : tr("Close"));
    m_close->setToolTip(running ? tr("Stop the engine; nothing is imported or written") : QString());
    for (int i = 0; i < m_form->rowCount(); ++i)
        if (QLayoutItem* item = m_form->itemAt(i, QFormLayout::FieldRole); item && item->widget())
            item->widget()->setEnabled(!running);
}

} // namespace ft::ui
