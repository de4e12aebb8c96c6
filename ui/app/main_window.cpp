#include "app/main_window.h"

#include "app/about_dialog.h"
#include "app/desktop_recent.h"
#include "app/error_banner.h"
#include "app/project_instance.h"
#include "app/session.h"
#include "app/studio_paths.h"
#include "compare/compare_page.h"
#include "evaluate/evaluate_page.h"
#include "data/data_page.h"
#include "engine/engine_process.h"
#include "label/label_page.h"
#include "model/model_page.h"
#include "runs/deploy_dialog.h"
#include "runs/runs_page.h"
#include "train/train_page.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>
#include <QToolBar>
#include <QVBoxLayout>

namespace ft::ui {

namespace {
constexpr int kMaxRecent = 8;
const char* kRecentProjects = "recent/projects";
const char* kRecentModels = "recent/models";
} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent), m_session(new Session(this)), m_instance(new ProjectInstance(this)) {
    setWindowTitle(QStringLiteral("Fine-Tuning Studio"));
    connect(m_instance, &ProjectInstance::raiseRequested, this, &MainWindow::bringToFront);
    setAcceptDrops(true);
    buildPages();
    buildMenus();
    connect(m_session, &Session::errorOccurred, this, [this](const QString& message) {
        m_banner->showMessage(message);
        statusBar()->showMessage(message, 15000);
    });
    connect(m_session, &Session::projectChanged, this, &MainWindow::refreshTitle);
    connect(m_session, &Session::modelChanged, this, [this](const QString& dir) {
        m_modelStatus->setText(QStringLiteral("Model: ") + (dir.isEmpty() ? QStringLiteral("none") : QFileInfo(dir).fileName()));
        m_modelStatus->setToolTip(dir);
        if (!dir.isEmpty()) {
            rememberRecent(kRecentModels, dir);
            QSettings().setValue("last/model", dir);
        }
    });
    QSettings settings;
    if (!restoreGeometry(settings.value("window/geometry").toByteArray()))
        resize(1360, 860);
    restoreState(settings.value("window/state").toByteArray());
    refreshTitle();
}

MainWindow::~MainWindow() = default;

void MainWindow::buildPages() {
    auto* central = new QWidget(this);
    auto* outer = new QVBoxLayout(central);
    outer->setContentsMargins(6, 6, 6, 0);
    m_banner = new ErrorBanner(central);
    outer->addWidget(m_banner);
    auto* row = new QHBoxLayout;
    m_nav = new QListWidget(central);
    m_nav->setObjectName(QStringLiteral("pageList"));
    m_nav->setFixedWidth(150);
    m_nav->setStyleSheet(QStringLiteral("QListWidget { font-size: 11pt; } QListWidget::item { padding: 8px 6px; }"));
    m_stack = new QStackedWidget(central);
    m_model = new ModelPage(m_session, m_stack);
    m_train = new TrainPage(m_session, m_stack);
    m_data = new DataPage(m_session, m_stack);
    m_label = new LabelPage(m_session, m_stack);
    m_compare = new ComparePage(m_session, m_stack);
    m_evaluate = new EvaluatePage(m_session, m_stack);
    m_runs = new RunsPage(m_session, m_stack);
    const QList<QPair<QString, QWidget*>> pages{{QStringLiteral("Model"), m_model},
                                                {QStringLiteral("Train"), m_train},
                                                {QStringLiteral("Data"), m_data},
                                                {QStringLiteral("Label"), m_label},
                                                {QStringLiteral("Compare"), m_compare},
                                                {QStringLiteral("Evaluate"), m_evaluate},
                                                {QStringLiteral("Runs"), m_runs}};
    for (const auto& [name, page] : pages) {
        m_nav->addItem(name);
        m_stack->addWidget(page);
    }
    connect(m_nav, &QListWidget::currentRowChanged, m_stack, &QStackedWidget::setCurrentIndex);
    m_nav->setCurrentRow(0);
    row->addWidget(m_nav);
    row->addWidget(m_stack, 1);
    outer->addLayout(row, 1);
    setCentralWidget(central);

    connect(m_runs, &RunsPage::resumeRequested, this, [this](qint64 runId) {
        if (m_train->resumeRun(runId))
            showPage(1);
    });
    connect(m_train, &TrainPage::deployRequested, this, [this](const QJsonObject& config) {
        DeployDialog::forRunConfig(m_session, config, DeployDialog::Target::Gguf, this)->open();
    });
    connect(m_train, &TrainPage::rowsRequested, this, [this](const QString& dataset, const QList<qint64>& ids) {
        m_data->showRows(dataset, ids);
        showPage(2);
    });
    connect(m_runs, &RunsPage::duplicateRequested, this, [this](const QJsonObject& config) {
        m_train->loadConfig(config);
        showPage(1);
    });

    m_projectStatus = new QLabel(this);
    m_modelStatus = new QLabel(QStringLiteral("Model: none"), this);
    m_engineStatus = new QLabel(QStringLiteral("Engine: idle"), this);
    statusBar()->addPermanentWidget(m_projectStatus);
    statusBar()->addPermanentWidget(m_modelStatus);
    statusBar()->addPermanentWidget(m_engineStatus);
    connect(m_train->engine(), &EngineProcess::stateChanged, this, [this](EngineProcess::State s) {
        m_engineStatus->setText(QStringLiteral("Engine: ") + EngineProcess::stateName(s));
    });
}

void MainWindow::buildMenus() {
    QMenu* file = menuBar()->addMenu(QStringLiteral("&File"));
    QAction* newProj = file->addAction(QStringLiteral("&New Project…"), this, &MainWindow::newProject);
    newProj->setShortcut(QKeySequence::New);
    QAction* openProj = file->addAction(QStringLiteral("&Open Project…"), this, &MainWindow::openProjectDialog);
    openProj->setShortcut(QKeySequence::Open);
    m_recentMenu = file->addMenu(QStringLiteral("Open &Recent"));
    QAction* openModel = file->addAction(QStringLiteral("Open &Model Folder…"), this, &MainWindow::openModelDialog);
    openModel->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    file->addSeparator();
    QAction* quit = file->addAction(QStringLiteral("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence::Quit);

    QMenu* edit = menuBar()->addMenu(QStringLiteral("&Edit"));
    QAction* undo = edit->addAction(QStringLiteral("&Undo"), m_session, &Session::undo);
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = edit->addAction(QStringLiteral("&Redo"), m_session, &Session::redo);
    redo->setShortcuts({QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z), QKeySequence::Redo});
    auto refreshUndo = [this, undo, redo] {
        undo->setEnabled(m_session->canUndo());
        redo->setEnabled(m_session->canRedo());
        undo->setText(m_session->canUndo() ? QStringLiteral("&Undo ") + m_session->undoLabel() : QStringLiteral("&Undo"));
        redo->setText(m_session->canRedo() ? QStringLiteral("&Redo ") + m_session->redoLabel() : QStringLiteral("&Redo"));
    };
    connect(m_session, &Session::historyChanged, this, refreshUndo);
    refreshUndo();

    QMenu* view = menuBar()->addMenu(QStringLiteral("&View"));
    for (int i = 0; i < m_nav->count(); ++i) {
        QAction* a = view->addAction(m_nav->item(i)->text(), this, [this, i] { showPage(i); });
        a->setShortcut(QKeySequence(Qt::CTRL | static_cast<Qt::Key>(Qt::Key_1 + i)));
    }

    QMenu* run = menuBar()->addMenu(QStringLiteral("&Run"));
    EngineProcess* engine = m_train->engine();
    run->addAction(QStringLiteral("&Pause"), engine, &EngineProcess::pause);
    run->addAction(QStringLiteral("&Resume"), engine, &EngineProcess::resume);
    run->addAction(QStringLiteral("&Stop and Save"), engine, &EngineProcess::stop);

    QMenu* help = menuBar()->addMenu(QStringLiteral("&Help"));
    help->addAction(QStringLiteral("&About"), this, [this] {
        auto* about = new AboutDialog(this);
        about->setAttribute(Qt::WA_DeleteOnClose);
        about->open();
    });

    QToolBar* bar = addToolBar(QStringLiteral("Main"));
    bar->setObjectName(QStringLiteral("mainToolBar"));
    bar->setMovable(false);
    bar->addAction(openProj);
    bar->addAction(openModel);
    bar->addSeparator();
    bar->addAction(undo);
    bar->addAction(redo);
    refreshRecentMenu();
}

void MainWindow::rememberRecent(const QString& key, const QString& value) {
    QSettings settings;
    QStringList list = settings.value(key).toStringList();
    list.removeAll(value);
    list.prepend(value);
    while (list.size() > kMaxRecent)
        list.removeLast();
    settings.setValue(key, list);
    refreshRecentMenu();
}

void MainWindow::refreshRecentMenu() {
    if (!m_recentMenu)
        return;
    m_recentMenu->clear();
    QSettings settings;
    for (const QString& p : settings.value(kRecentProjects).toStringList())
        m_recentMenu->addAction(p, this, [this, p] { openProject(p, false); });
    m_recentMenu->addSeparator();
    for (const QString& m : settings.value(kRecentModels).toStringList())
        m_recentMenu->addAction(QStringLiteral("Model: ") + m, this, [this, m] { setModel(m); });
    m_recentMenu->setEnabled(!m_recentMenu->isEmpty());
}

void MainWindow::refreshTitle() {
    const QString path = m_session->projectPath();
    setWindowTitle(path.isEmpty() ? QStringLiteral("Fine-Tuning Studio")
                                  : QFileInfo(path).fileName() + QStringLiteral(" — Fine-Tuning Studio"));
    m_projectStatus->setText(QStringLiteral("Project: ") + (path.isEmpty() ? QStringLiteral("none") : path));
}

bool MainWindow::openProject(const QString& path, bool create) {
    QString error;
    // One window per project: a project another studio has open is raised there instead.
    const QString held = m_instance->claimedPath();
    if (!m_instance->claim(path, &error)) {
        ProjectInstance::raiseRunning(path);
        m_banner->showMessage(error + QStringLiteral("; brought that window to the front"));
        return false;
    }
    if (!m_session->openProject(path, create, &error)) {
        m_banner->showMessage(QStringLiteral("Cannot open project %1: %2").arg(path, error));
        if (!held.isEmpty())
            m_instance->claim(held);  // the previous project is still the open one
        return false;
    }
    rememberProject(m_session->projectPath());
    return true;
}

void MainWindow::rememberProject(const QString& path) {
    rememberRecent(kRecentProjects, path);
    QSettings().setValue("last/project", path);
    QString error;
    if (!addDesktopRecent({path, QStringLiteral("application/x-ftstudio-project"), QStringLiteral("Fine-Tuning Studio"),
                           QStringLiteral("ftstudio %u")},
                          &error))
        statusBar()->showMessage(QStringLiteral("Not added to the desktop's recent files: ") + error, 10000);
}

void MainWindow::bringToFront() {
    if (isMinimized())
        showNormal();
    show();
    raise();
    activateWindow();
}

void MainWindow::setModel(const QString& dir) {
    if (!isBaseModelFolder(dir)) {
        m_banner->showMessage(QStringLiteral("'%1' is not a model folder: it needs config.json and "
                                             "model.safetensors (or model.safetensors.index.json)").arg(dir));
        return;
    }
    m_session->setModelDir(QFileInfo(dir).absoluteFilePath());
}

void MainWindow::newProject() {
    QString path = QFileDialog::getSaveFileName(this, QStringLiteral("New project"), dataDir() + "/projects",
                                                QStringLiteral("Projects (*.ftproj)"));
    if (path.isEmpty())
        return;
    if (QFileInfo(path).suffix().isEmpty())
        path += QLatin1Char('.') + QLatin1String(kProjectSuffix);
    if (QFileInfo::exists(path)) {
        m_banner->showMessage(QStringLiteral("%1 already exists; open it with File > Open Project").arg(path));
        return;
    }
    openProject(path, true);
}

void MainWindow::openProjectDialog() {
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Open project"), dataDir() + "/projects",
                                                      projectFileFilter());
    if (!path.isEmpty())
        openProject(path, false);
}

void MainWindow::openModelDialog() {
    const QString dir = QFileDialog::getExistingDirectory(this, QStringLiteral("Open a Hugging Face model folder"),
                                                          m_session->modelDir());
    if (!dir.isEmpty())
        setModel(dir);
}

void MainWindow::showPage(int index) { m_nav->setCurrentRow(index); }
int MainWindow::pageCount() const { return m_stack->count(); }
QString MainWindow::pageName(int index) const { return m_nav->item(index)->text(); }

void MainWindow::startUp(const StartOptions& options) {
    QSettings settings;
    QString model = options.modelDir;
    if (model.isEmpty() && isBaseModelFolder(settings.value("last/model").toString()))
        model = settings.value("last/model").toString();
    if (model.isEmpty() && isBaseModelFolder(defaultBaseModelDir()))
        model = defaultBaseModelDir();
    if (!model.isEmpty()) {
        setModel(model);
        onProjectReady(options);
        return;
    }
    auto* builder = new BaseModelBuilder(this);
    connect(builder, &BaseModelBuilder::ready, this, [this, builder, options](const QString& dir) {
        setModel(dir);
        builder->deleteLater();
        onProjectReady(options);
    });
    connect(builder, &BaseModelBuilder::failed, this, [this, builder, options](const QString& message) {
        m_banner->showMessage(message + QStringLiteral(" — open a model folder with File > Open Model Folder"));
        builder->deleteLater();
        onProjectReady(options);
    });
    builder->start();
}

void MainWindow::onProjectReady(const StartOptions& options) {
    QString project = options.projectPath;
    const QString last = QSettings().value("last/project").toString();
    if (project.isEmpty() && !last.isEmpty() && QFileInfo::exists(last))
        project = last;
    if (!project.isEmpty()) {
        openProject(project, true);
    } else if (QFileInfo::exists(defaultProjectPath())) {
        openProject(defaultProjectPath(), false);
    } else {
        QString error;
        if (!m_instance->claim(defaultProjectPath(), &error))
            m_banner->showMessage(error);
        else if (createSampleProject(m_session, defaultProjectPath(), &error))
            rememberProject(m_session->projectPath());
        else
            m_banner->showMessage(QStringLiteral("Creating the default project failed: ") + error);
    }
    if (!options.screenshotDir.isEmpty()) {
        // Let the pages load their data (schema, tables) before the pictures.
        QTimer::singleShot(2500, this, [this, dir = options.screenshotDir] {
            QString error;
            const bool ok = saveScreenshots(dir, &error);
            if (!ok)
                fprintf(stderr, "ftstudio: %s\n", qPrintable(error));
            QApplication::exit(ok ? 0 : 1);
        });
    }
}

bool MainWindow::saveScreenshots(const QString& dir, QString* error) {
    QDir().mkpath(dir);
    const int current = m_stack->currentIndex();
    for (int i = 0; i < pageCount(); ++i) {
        showPage(i);
        QApplication::processEvents();
        const QString file = QStringLiteral("%1/%2-%3.png").arg(dir).arg(i + 1).arg(pageName(i).toLower());
        if (!grab().save(file)) {
            if (error)
                *error = QStringLiteral("cannot write %1").arg(file);
            return false;
        }
        fprintf(stdout, "%s\n", qPrintable(file));
    }
    showPage(current);
    return true;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    EngineProcess* engine = m_train->engine();
    if (engine->isActive()) {
        QMessageBox box(QMessageBox::Question, QStringLiteral("A training run is going"),
                        QStringLiteral("Stop the run (a checkpoint is saved first, and it can be resumed from the "
                                       "Runs page) or keep it running in the background?"),
                        QMessageBox::NoButton, this);
        QPushButton* stop = box.addButton(QStringLiteral("Stop and save"), QMessageBox::DestructiveRole);
        QPushButton* keep = box.addButton(QStringLiteral("Keep running"), QMessageBox::AcceptRole);
        box.addButton(QMessageBox::Cancel);
        box.exec();
        if (box.clickedButton() == stop) {
            engine->stop();  // the destructor waits for the checkpoint
        } else if (box.clickedButton() == keep) {
            engine->detach();
        } else {
            event->ignore();
            return;
        }
    }
    QSettings settings;
    settings.setValue("window/geometry", saveGeometry());
    settings.setValue("window/state", saveState());
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    if (event->mimeData()->hasUrls())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    for (const QUrl& url : event->mimeData()->urls()) {
        const QString path = url.toLocalFile();
        if (QFileInfo(path).isDir())
            setModel(path);
        else if (isProjectFileName(path))
            openProject(path, false);
        else
            m_banner->showMessage(
                QStringLiteral("Drop a model folder or a project (.ftproj) file; '%1' is neither").arg(path));
    }
}

} // namespace ft::ui
