// The studio window as a whole: the first start creates the default project with the
// sample datasets, every page is there and reachable by its shortcut, errors land in
// the banner, Edit > Undo follows the project's history, and the screenshot command
// writes a PNG per page.
#include "app/error_banner.h"
#include "app/main_window.h"
#include "app/session.h"
#include "app/studio_paths.h"
#include "data/project_store.h"

#include "test_main.h"

#include <QAction>
#include <QListWidget>
#include <QMenuBar>
#include <QStackedWidget>
#include <QTemporaryDir>
#include <QtTest>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_gui_studio {

using namespace ft::ui;

class TestGuiStudio : public QObject {
    Q_OBJECT
    QTemporaryDir m_home;

private slots:
    void initTestCase() {
        // Nothing of the user's: a data folder and settings of our own.
        qputenv("FTSTUDIO_DATA_DIR", m_home.filePath("data").toUtf8());
        qputenv("XDG_CONFIG_HOME", m_home.filePath("config").toUtf8());
        qputenv("XDG_DATA_HOME", m_home.filePath("xdg-data").toUtf8());  // the desktop's recent list
        QCoreApplication::setOrganizationName("ftstudio-test");
        // A folder that looks like a model (the Model page's description of it fails
        // and says so; nothing here needs the weights).
        QDir().mkpath(m_home.filePath("model"));
        for (const char* f : {"config.json", "model.safetensors"}) {
            QFile file(m_home.filePath(QString("model/") + f));
            QVERIFY(file.open(QIODevice::WriteOnly));
        }
    }

    void firstStartOpensTheSampleProject() {
        MainWindow window;
        window.show();
        StartOptions options;
        options.modelDir = m_home.filePath("model");
        window.startUp(options);
        QTRY_VERIFY(window.session()->hasProject());
        QCOMPARE(window.session()->projectPath(), QFileInfo(defaultProjectPath()).absoluteFilePath());
        QVERIFY(window.session()->store()->datasets().size() >= 4);
        QCOMPARE(window.session()->modelDir(), QFileInfo(m_home.filePath("model")).absoluteFilePath());
        QVERIFY(window.windowTitle().startsWith("default.ftproj"));
    }

    void pagesAndShortcuts() {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        QCOMPARE(window.pageCount(), 7);
        QStringList names;
        for (int i = 0; i < window.pageCount(); ++i)
            names << window.pageName(i);
        QCOMPARE(names, (QStringList{"Model", "Train", "Data", "Label", "Compare", "Evaluate", "Runs"}));
        auto* stack = window.findChild<QStackedWidget*>();
        QTest::keyClick(&window, Qt::Key_3, Qt::ControlModifier);
        QCOMPARE(stack->currentIndex(), 2);
        QTest::keyClick(&window, Qt::Key_6, Qt::ControlModifier);
        QCOMPARE(stack->currentIndex(), 5);
        QTest::keyClick(&window, Qt::Key_7, Qt::ControlModifier);
        QCOMPARE(stack->currentIndex(), 6);
    }

    void errorsReachTheBannerAndUndoFollowsHistory() {
        MainWindow window;
        window.show();
        QVERIFY(window.openProject(m_home.filePath("other.db"), true));
        window.setModel(m_home.filePath("nowhere"));
        QVERIFY(window.errorBanner()->isVisible());
        QVERIFY(window.errorBanner()->text().contains("is not a model folder"));
        QAction* undo = nullptr;
        for (QAction* a : window.menuBar()->actions())
            if (a->menu() && a->text() == "&Edit")
                undo = a->menu()->actions().first();
        QVERIFY(undo);
        QVERIFY(!undo->isEnabled());
        auto* store = window.session()->store();
        const int64_t ds = store->createDataset("d", ft::data::DatasetKind::Text);
        ft::data::Row row;
        row.fields = {{"text", "hello"}};
        store->insertRow(ds, row);
        window.session()->notifyRowsChanged(ds);
        QVERIFY(undo->isEnabled());
        QVERIFY(undo->text().contains("insert"));
        undo->trigger();
        ft::data::RowQuery all;
        all.datasetId = ds;
        QCOMPARE(store->count(all), int64_t{0});
        window.session()->run("Failing on purpose", [](ft::data::ProjectStore& s) { s.requireDataset("missing"); });
        QVERIFY(window.errorBanner()->text().startsWith("Failing on purpose: "));
    }

    void screenshotsOfEveryPage() {
        MainWindow window;
        window.resize(1280, 800);
        window.show();
        QVERIFY(window.openProject(defaultProjectPath(), false));
        QString error;
        QVERIFY2(window.saveScreenshots(m_home.filePath("shots"), &error), qPrintable(error));
        const QStringList files = QDir(m_home.filePath("shots")).entryList({"*.png"});
        QCOMPARE(files.size(), 7);
        QVERIFY(files.contains("2-train.png"));
        QImage image(m_home.filePath("shots/1-model.png"));
        QVERIFY(image.width() >= 1000);
    }
};

FT_TEST_MAIN_GUI(TestGuiStudio)

} // namespace test_gui_studio

#include "test_gui_studio.moc"
