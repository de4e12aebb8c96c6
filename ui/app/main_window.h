// The studio's one window: a page list (Model, Train, Data, Label, Compare, Runs) beside
// the pages, menus, toolbar, status bar and shortcuts; remembered geometry, recent
// projects and models (also on the desktop's recent list); one window per project
// (project_instance.h); session errors shown in a banner. Closing it while a run is
// going asks whether to stop (saving a checkpoint) or keep the run.
#pragma once

#include "app/first_start.h"

#include <QMainWindow>

class QListWidget;
class QStackedWidget;
class QLabel;
class QMenu;

namespace ft::ui {

class Session;
class ErrorBanner;
class ModelPage;
class TrainPage;
class DataPage;
class LabelPage;
class ComparePage;
class EvaluatePage;
class RunsPage;
class ProjectInstance;

class MainWindow : public QMainWindow {
    Q_OBJECT
public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override;

    // Finds the model and the project (building/creating the defaults when missing).
    void startUp(const StartOptions& options);

    Session* session() const { return m_session; }
    ErrorBanner* errorBanner() const { return m_banner; }
    TrainPage* trainPage() const { return m_train; }
    void showPage(int index);
    int pageCount() const;
    QString pageName(int index) const;
    // Saves a PNG of every page into `dir` (for the docs and for looking at the GUI).
    bool saveScreenshots(const QString& dir, QString* error);

    // Opens (or creates) a project; a project another studio window has open is raised
    // there instead (false). Opened projects go to the recent lists (ours and the desktop's).
    bool openProject(const QString& path, bool create);
    void setModel(const QString& dir);
    // Shows, raises and activates the window (another launch asked for our project).
    void bringToFront();

protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

private:
    void buildPages();
    void buildMenus();
    void rememberRecent(const QString& key, const QString& value);
    void rememberProject(const QString& path);
    void refreshRecentMenu();
    void refreshTitle();
    void onProjectReady(const StartOptions& options);
    void newProject();
    void openProjectDialog();
    void openModelDialog();

    Session* m_session = nullptr;
    ErrorBanner* m_banner = nullptr;
    QListWidget* m_nav = nullptr;
    QStackedWidget* m_stack = nullptr;
    QLabel* m_projectStatus = nullptr;
    QLabel* m_modelStatus = nullptr;
    QLabel* m_engineStatus = nullptr;
    QMenu* m_recentMenu = nullptr;
    ModelPage* m_model = nullptr;
    TrainPage* m_train = nullptr;
    DataPage* m_data = nullptr;
    LabelPage* m_label = nullptr;
    ComparePage* m_compare = nullptr;
    EvaluatePage* m_evaluate = nullptr;
    RunsPage* m_runs = nullptr;
    ProjectInstance* m_instance = nullptr;
};

} // namespace ft::ui
