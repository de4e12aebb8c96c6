#include "train/run_banner.h"

#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextCursor>
#include <QVBoxLayout>

namespace ft::ui {

RunBanner::RunBanner(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("errorBanner"));
    setStyleSheet(QStringLiteral("#errorBanner { background: #fdecea; border: 1px solid #e6a19a; border-radius: 4px; }"
                                 " #errorBanner QLabel { color: #7b241c; }"));
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(8, 6, 8, 6);
    auto* top = new QHBoxLayout;
    m_text = new QLabel(this);
    m_text->setObjectName(QStringLiteral("errorMessage"));
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_resume = new QPushButton(QStringLiteral("Resume"), this);
    m_resume->setObjectName(QStringLiteral("bannerResumeButton"));
    m_resume->setToolTip(QStringLiteral("Continue from the last complete checkpoint"));
    auto* dismiss = new QPushButton(QStringLiteral("Dismiss"), this);
    top->addWidget(m_text, 1);
    top->addWidget(m_resume, 0, Qt::AlignTop);
    top->addWidget(dismiss, 0, Qt::AlignTop);
    layout->addLayout(top);
    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("bannerLog"));
    m_log->setReadOnly(true);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_log->setFixedHeight(m_log->fontMetrics().lineSpacing() * 6 + 10);
    layout->addWidget(m_log);
    connect(m_resume, &QPushButton::clicked, this, &RunBanner::resumeRequested);
    connect(dismiss, &QPushButton::clicked, this, &QWidget::hide);
    hide();
}

void RunBanner::showFailure(const QString& title, const QString& message, const QStringList& logLines, bool resumable) {
    const bool saysResume = message.contains(QLatin1String("resume"), Qt::CaseInsensitive);
    m_text->setText(QStringLiteral("<b>%1</b> %2%3")
                        .arg(title.toHtmlEscaped(), message.toHtmlEscaped(),
                             resumable && !saysResume
                                 ? QStringLiteral(" Resume continues from the last complete checkpoint.")
                                 : QString()));
    m_log->setPlainText(logLines.join('\n'));
    m_log->setVisible(!logLines.isEmpty());
    m_log->moveCursor(QTextCursor::End);
    m_resume->setVisible(resumable);
    show();
}

void RunBanner::setResumeEnabled(bool enabled) { m_resume->setEnabled(enabled); }

} // namespace ft::ui
