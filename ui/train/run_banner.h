// The inline banner the Train page shows when a run fails, crashes or is killed: the
// message, the engine's last log lines, and Resume (from the last complete checkpoint)
// and Dismiss buttons. No dialog: the page stays usable behind it.
// Not here: deciding when a run is resumable (train_page.h).
#pragma once

#include <QFrame>
#include <QStringList>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace ft::ui {

class RunBanner : public QFrame {
    Q_OBJECT
public:
    explicit RunBanner(QWidget* parent = nullptr);

    // `title` in bold ("The run failed."), then the message; Resume shows when `resumable`.
    void showFailure(const QString& title, const QString& message, const QStringList& logLines, bool resumable);
    void setResumeEnabled(bool enabled);

signals:
    void resumeRequested();

private:
    QLabel* m_text = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QPushButton* m_resume = nullptr;
};

} // namespace ft::ui
