// A dismissable strip that shows an error a person can act on, without a modal dialog
// (a modal box would stop the event loop the engine's events need).
#pragma once

#include <QFrame>

class QLabel;

namespace ft::ui {

class ErrorBanner : public QFrame {
    Q_OBJECT
public:
    explicit ErrorBanner(QWidget* parent = nullptr);
    void showMessage(const QString& message);  // newest message first; the last 5 are kept
    QString text() const;

private:
    QLabel* m_label = nullptr;
    QStringList m_messages;
};

} // namespace ft::ui
