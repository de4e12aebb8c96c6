// What the studio does when it starts: find (or build, with a progress dialog) the
// embedded base model, and open the last project or create the default one with the
// sample datasets, so a new user can train, label and compare at once.
// Not here: the window itself (main_window.h).
#pragma once

#include <QObject>
#include <QString>
#include <QStringList>

class QProgressDialog;

namespace ft::ui {

class CliJob;
class Session;

struct StartOptions {
    QString projectPath;    // --project; else the last project, else the default one
    QString modelDir;       // --model; else the last model, else the embedded base
    QString screenshotDir;  // --screenshots: save every page and quit
};

// The sample datasets a new default project gets: (dataset name, file under samplesDir()).
QList<QPair<QString, QString>> sampleDatasets();

// Creates `path` as a project holding the sample datasets (one transaction each).
// False with `error` when the file cannot be created or a sample fails to import.
bool createSampleProject(Session* session, const QString& path, QString* error);

// Builds the embedded base model with `ftstudio-cli make-base` behind a progress dialog
// (its stderr lines shown as they come, Cancel kills it).
class BaseModelBuilder : public QObject {
    Q_OBJECT
public:
    explicit BaseModelBuilder(QWidget* dialogParent);
    ~BaseModelBuilder() override;
    void start();

signals:
    void ready(const QString& modelDir);
    void failed(const QString& message);

private:
    QWidget* m_parent = nullptr;
    CliJob* m_job = nullptr;
    QProgressDialog* m_dialog = nullptr;
};

} // namespace ft::ui
