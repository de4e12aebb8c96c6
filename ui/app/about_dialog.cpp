#include "app/about_dialog.h"

#include "app/studio_paths.h"
#include "engine/cli_job.h"
#include "util/version.h"

#include <QApplication>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSettings>
#include <QVBoxLayout>

namespace ft::ui {

namespace {
constexpr int kLabelWidth = 24;  // "  sentencepiece bridge" and a space
} // namespace

AboutDialog::AboutDialog(QWidget* parent) : QDialog(parent) {
    setObjectName(QStringLiteral("aboutDialog"));
    setWindowTitle(QStringLiteral("About Fine-Tuning Studio"));
    auto* layout = new QVBoxLayout(this);
    auto* head = new QHBoxLayout;
    auto* icon = new QLabel(this);
    icon->setPixmap(QApplication::windowIcon().pixmap(96, 96));
    head->addWidget(icon, 0, Qt::AlignTop);
    auto* title = new QLabel(this);
    title->setTextFormat(Qt::RichText);
    title->setOpenExternalLinks(true);
    title->setText(QStringLiteral("<h2>Fine-Tuning Studio %1</h2>"
                                  "<p>Fine-tune language models on a workstation: LoRA, QLoRA, prefix and "
                                  "adapter tuning, SFT, DPO, PPO, GRPO, RLVR and more.</p>"
                                  "<p>Free software under the GNU General Public License, version 3 or later. "
                                  "It comes with no warranty.</p>"
                                  "<p>Built with Qt %2 (running on %3), libtorch, QCustomPlot, sentencepiece "
                                  "and SQLite.</p>")
                       .arg(QString::fromLatin1(ft::version()), QStringLiteral(QT_VERSION_STR),
                            QString::fromLatin1(qVersion())));
    title->setWordWrap(true);
    head->addWidget(title, 1);
    layout->addLayout(head);

    m_warning = new QLabel(this);
    m_warning->setStyleSheet(QStringLiteral("color: #a40000;"));
    m_warning->setWordWrap(true);
    m_warning->hide();
    layout->addWidget(m_warning);

    m_details = new QPlainTextEdit(this);
    m_details->setObjectName(QStringLiteral("aboutDetails"));
    m_details->setReadOnly(true);
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_details->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_details->setMinimumSize(660, 170);
    auto show = [this] {
        auto row = [](const QString& label, const QString& value) {
            return label.leftJustified(kLabelWidth) + value + QLatin1Char('\n');
        };
        m_details->setPlainText(row(QStringLiteral("studio"), QApplication::applicationFilePath()) +
                                row(QStringLiteral("engine"), cliPath()) +
                                (m_engine.isEmpty() ? QStringLiteral("(asking the engine…)\n") : m_engine) +
                                row(QStringLiteral("data folder"), dataDir()) +
                                row(QStringLiteral("settings"), QSettings().fileName()));
    };
    show();
    layout->addWidget(m_details, 1);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    m_job = new CliJob(this);
    connect(m_job, &CliJob::finished, this, [this, show](bool ok, const QString& message) {
        if (ok) {
            // Its first line names its version; the rest are the folders it uses.
            const QStringList lines = m_job->allOutput().split(QLatin1Char('\n'), Qt::SkipEmptyParts);
            for (const QString& line : lines.mid(1)) {  // "label   value", re-aligned under ours
                const QString label = line.left(21).trimmed();
                m_engine += (QStringLiteral("  ") + label).leftJustified(kLabelWidth) + line.mid(21).trimmed() +
                            QLatin1Char('\n');
            }
            const QString first = lines.value(0);
            m_engine.prepend(QStringLiteral("engine version").leftJustified(kLabelWidth) +
                             first.section(QLatin1Char(' '), 1) + QLatin1Char('\n'));
            if (first.section(QLatin1Char(' '), 1, 1) != QLatin1String(ft::version())) {
                m_warning->setText(QStringLiteral("The engine is version %1, the studio %2: reinstall so "
                                                  "that they match.")
                                       .arg(first.section(QLatin1Char(' '), 1, 1), QString::fromLatin1(ft::version())));
                m_warning->show();
            }
        } else {
            m_engine = QStringLiteral("engine did not answer: %1\n").arg(message);
            m_warning->setText(QStringLiteral("The engine could not be started: %1").arg(message));
            m_warning->show();
        }
        show();
        emit engineAnswered();
    });
    m_job->start({QStringLiteral("--version")});
}

QString AboutDialog::engineText() const { return m_engine; }

} // namespace ft::ui
