#include "app/error_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>

namespace ft::ui {

ErrorBanner::ErrorBanner(QWidget* parent) : QFrame(parent) {
    setObjectName(QStringLiteral("errorBanner"));
    setStyleSheet(QStringLiteral("#errorBanner { background: #fdecea; border: 1px solid #e0b4b4; border-radius: 4px; }"
                                 "#errorBanner QLabel { color: #8a1f11; }"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 4, 4);
    m_label = new QLabel(this);
    m_label->setWordWrap(true);
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto* close = new QToolButton(this);
    close->setText(QStringLiteral("✕"));
    close->setToolTip(QStringLiteral("Dismiss"));
    close->setAutoRaise(true);
    layout->addWidget(m_label, 1);
    layout->addWidget(close, 0, Qt::AlignTop);
    connect(close, &QToolButton::clicked, this, [this] {
        m_messages.clear();
        hide();
    });
    hide();
}

void ErrorBanner::showMessage(const QString& message) {
    m_messages.prepend(message);
    while (m_messages.size() > 5)
        m_messages.removeLast();
    m_label->setText(m_messages.join(QStringLiteral("\n")));
    show();
}

QString ErrorBanner::text() const { return m_label->text(); }

} // namespace ft::ui
