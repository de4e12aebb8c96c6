// A dialog that runs one `ftstudio-cli` command built from its form (the Data page's
// import and export, the Runs page's GGUF / Ollama export): a progress bar (busy, or
// the engine's "progress: N%" lines) and Cancel while the engine works, then the
// engine's report (what it read, what it rejected and why) in a read-only box.
// Subclasses add their fields to form() and turn them into arguments.
// Not here: the engine (CliJob), what the commands do (core/data importer/exporter).
#pragma once

#include <QDialog>

class QFormLayout;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;

namespace ft::ui {

class CliJob;
class Session;

class CliTaskDialog : public QDialog {
    Q_OBJECT
public:
    CliTaskDialog(Session* session, const QString& title, const QString& runLabel, QWidget* parent = nullptr);

    // Checks the form and starts the engine; false (with the reason shown) when the form is incomplete.
    bool start();
    bool isRunning() const;
    bool hasFinished() const { return m_finished; }
    bool succeeded() const { return m_succeeded; }
    QString report() const;       // everything the engine printed
    QString statusText() const;   // the one-line outcome

    void reject() override;  // cancels a running job first

signals:
    void taskFinished(bool ok);

protected:
    // The arguments after `ftstudio-cli`; empty with `error` set when the form is incomplete.
    virtual QStringList arguments(QString* error) = 0;
    virtual void onFinished(bool ok) { Q_UNUSED(ok); }
    // The status after Cancel: by default nothing was written.
    virtual QString cancelledText() const;
    QFormLayout* form() const { return m_form; }
    Session* session() const { return m_session; }
    void setStatus(const QString& text, bool isError = false);

private:
    void appendReport(const QString& line);
    void setRunning(bool running);

    Session* m_session = nullptr;
    CliJob* m_job = nullptr;
    QFormLayout* m_form = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QPlainTextEdit* m_report = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_close = nullptr;
    bool m_finished = false;
    bool m_succeeded = false;
};

} // namespace ft::ui
