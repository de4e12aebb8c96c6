// Help > About: the studio's version (the CMake project version), the engine it runs
// (`ftstudio-cli --version`: its version, libtorch, and the folders it finds its files
// in), Qt's version, the data and settings folders, and the licence. The engine's lines
// arrive while the dialog is open; a mismatched engine version is pointed out.
#pragma once

#include <QDialog>

class QLabel;
class QPlainTextEdit;

namespace ft::ui {

class CliJob;

class AboutDialog : public QDialog {
    Q_OBJECT
public:
    explicit AboutDialog(QWidget* parent = nullptr);
    QString engineText() const;  // what the engine said (for tests)

signals:
    void engineAnswered();

private:
    QPlainTextEdit* m_details = nullptr;
    QLabel* m_warning = nullptr;
    CliJob* m_job = nullptr;
    QString m_engine;
};

} // namespace ft::ui
