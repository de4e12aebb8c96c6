// The studio on the desktop: opened projects go to the desktop's recent-files list
// (recently-used.xbel, read back by GLib itself, the library GTK and GNOME use, with the
// entries of other applications intact); one studio per project (a second claim is
// refused, a request to raise reaches the first, a socket left by a dead studio is taken
// over); Help > About names the studio's and the engine's version.
#include "app/about_dialog.h"
#include "app/desktop_recent.h"
#include "app/main_window.h"
#include "app/error_banner.h"
#include "app/project_instance.h"
#include "util/version.h"

#include "test_main.h"

#include <QDir>
#include <QFile>
#include <QLocalServer>
#include <QPlainTextEdit>
#include <QProcess>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <thread>

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace test_gui_desktop {

using namespace ft::ui;

namespace {
// GLib itself (tests/glib_reference.py, through ctypes) on a recent list.
bool glibReference(const QStringList& args, QString* out) {
    QProcess p;
    p.start("/usr/bin/python3", QStringList{QString::fromUtf8(qgetenv("FTSTUDIO_SOURCE_DIR")) + "/tests/glib_reference.py"} + args);
    const bool ok = p.waitForFinished(30000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    *out = QString::fromUtf8(ok ? p.readAllStandardOutput() : p.readAllStandardError());
    return ok;
}
} // namespace

class TestGuiDesktop : public QObject {
    Q_OBJECT
    QTemporaryDir m_home;

private slots:
    void initTestCase() {
        qputenv("XDG_DATA_HOME", m_home.filePath("xdg-data").toUtf8());
        qputenv("XDG_CONFIG_HOME", m_home.filePath("config").toUtf8());
        qputenv("FTSTUDIO_DATA_DIR", m_home.filePath("data").toUtf8());
        QCoreApplication::setOrganizationName("ftstudio-test");
    }

    void recentListKeepsOtherApplications() {
        const QString file = desktopRecentFile();
        QCOMPARE(file, m_home.filePath("xdg-data/recently-used.xbel"));
        // Another application's entry, written by GLib itself.
        QDir().mkpath(QFileInfo(file).absolutePath());
        QString out;
        QVERIFY2(glibReference({"bookmarks-write", file}, &out), qPrintable(out));
        const QString project = m_home.filePath("my project.ftproj");  // a space: percent-encoded in the URI
        const DesktopRecentEntry entry{project, "application/x-ftstudio-project", "Fine-Tuning Studio", "ftstudio %u"};
        QString error;
        const QDateTime t0 = QDateTime::fromString("2026-12-07T10:00:00Z", Qt::ISODate);
        QVERIFY2(addDesktopRecent(entry, &error, t0), qPrintable(error));
        QVERIFY2(addDesktopRecent(entry, &error, t0.addSecs(60)), qPrintable(error));

        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray xml = f.readAll();
        QCOMPARE(xml.count("<bookmark "), 2);
        QVERIFY(xml.contains("href=\"file://" + QUrl::toPercentEncoding(m_home.filePath("my project.ftproj"), "/") + "\""));
        QVERIFY(xml.contains("added=\"2026-12-07T10:00:00.000000Z\""));
        QVERIFY(xml.contains("modified=\"2026-12-07T10:01:00.000000Z\""));
        // GLib reads both: the other application's entry as it wrote it, ours counted twice.
        QVERIFY2(glibReference({"bookmarks-read", file}, &out), qPrintable(out));
        const QStringList rows = out.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(rows.size(), 2);
        QVERIFY2(rows[0].startsWith("file:///home/u/notes.txt|text/plain|gedit|gedit file:///home/u/notes.txt|1|"),
                 qPrintable(rows[0]));
        const QString uri = QString::fromUtf8(QUrl::fromLocalFile(project).toEncoded());
        QVERIFY2(rows[1].startsWith(uri + "|application/x-ftstudio-project|Fine-Tuning Studio|ftstudio " + uri + "|2|"),
                 qPrintable(rows[1]));
        QCOMPARE(rows[1].section('|', -1).toLongLong(), t0.addSecs(60).toSecsSinceEpoch());
    }

    void unreadableRecentListIsLeftAlone() {
        const QString file = desktopRecentFile();
        QFile f(file);
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write("<xbel version=\"1.0\"><bookmark href=");
        f.close();
        QString error;
        QVERIFY(!addDesktopRecent({m_home.filePath("p.ftproj"), "application/x-ftstudio-project", "Fine-Tuning Studio",
                                   "ftstudio %u"},
                                  &error));
        QVERIFY2(error.contains("recently-used.xbel line"), qPrintable(error));
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), QByteArray("<xbel version=\"1.0\"><bookmark href="));
        QVERIFY(QFile::remove(file));
    }

    void oneStudioPerProject() {
        const QString project = m_home.filePath("one.ftproj");
        ProjectInstance first, second;
        QString error;
        QVERIFY2(first.claim(project, &error), qPrintable(error));
        QVERIFY(!second.claim(project, &error));
        QVERIFY2(error.contains("open in another Fine-Tuning Studio window"), qPrintable(error));
        // Another spelling of the same file meets the same studio.
        QCOMPARE(ProjectInstance::serverName(m_home.path() + "/./one.ftproj"), ProjectInstance::serverName(project));
        QVERIFY(ProjectInstance::serverName(m_home.filePath("two.ftproj")) != ProjectInstance::serverName(project));
        QVERIFY(second.claim(m_home.filePath("two.ftproj"), &error));

        // A second launch asks from its own process; here a thread, while this one serves.
        QSignalSpy raised(&first, &ProjectInstance::raiseRequested);
        std::atomic<int> answered{-1};
        std::thread launch([&] { answered = ProjectInstance::raiseRunning(project, 5000) ? 1 : 0; });
        QTRY_COMPARE_WITH_TIMEOUT(answered.load(), 1, 10000);
        launch.join();
        QCOMPARE(raised.count(), 1);
        QVERIFY(!ProjectInstance::raiseRunning(m_home.filePath("nobody-has-this.ftproj"), 500));
    }

    void socketOfADeadStudioIsTakenOver() {
        const QString project = m_home.filePath("crashed.ftproj");
        const QString name = ProjectInstance::serverName(project);
        // What a killed studio leaves: a socket file nobody listens on.
        const QString path = QDir::tempPath() + "/" + name;
        const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        sockaddr_un addr{};
        addr.sun_family = AF_UNIX;
        qstrncpy(addr.sun_path, QFile::encodeName(path).constData(), sizeof addr.sun_path);
        QFile::remove(path);
        QCOMPARE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
        ::close(fd);
        QVERIFY(QFileInfo::exists(path));
        ProjectInstance instance;
        QString error;
        QVERIFY2(instance.claim(project, &error), qPrintable(error));
        QVERIFY(ProjectInstance::raiseRunning(project, 100) == false);  // same thread: not served, no hang
    }

    void windowRefusesAProjectOpenElsewhere() {
        const QString project = m_home.filePath("held.ftproj");
        ProjectInstance other;  // as if another studio had it open
        QVERIFY(other.claim(project));
        MainWindow window;
        window.show();
        QVERIFY(!window.openProject(project, true));
        QVERIFY(window.errorBanner()->text().contains("open in another Fine-Tuning Studio window"));
        QVERIFY(!QFileInfo::exists(project));  // not created behind the other studio's back
        QVERIFY(window.openProject(m_home.filePath("free.ftproj"), true));
        QVERIFY(QFile(desktopRecentFile()).exists());
    }

    void aboutNamesTheVersions() {
        AboutDialog about;
        about.show();
        QSignalSpy answered(&about, &AboutDialog::engineAnswered);
        QVERIFY(answered.wait(30000));
        const QString version = QString::fromLatin1(ft::version());
        QVERIFY2(about.engineText().startsWith(QString("engine version").leftJustified(24) + version + " (libtorch "),
                 qPrintable(about.engineText()));
        QVERIFY(about.engineText().contains("datasets"));
        const QString details = about.findChild<QPlainTextEdit*>("aboutDetails")->toPlainText();
        QVERIFY(details.contains(m_home.filePath("data")));
        QCOMPARE(QCoreApplication::applicationVersion().isEmpty() || QCoreApplication::applicationVersion() == version,
                 true);
        if (const QString dir = qEnvironmentVariable("FTSTUDIO_TEST_SHOTS"); !dir.isEmpty())
            about.grab().save(dir + "/about.png");
    }
};

FT_TEST_MAIN_GUI(TestGuiDesktop)

} // namespace test_gui_desktop

#include "test_gui_desktop.moc"
