// ftstudio: the desktop studio. `ftstudio [FILE.ftproj]` or --project FILE opens that
// project (raising the studio that already has it open instead, if one does), --model DIR
// uses that base model, --screenshots DIR saves a PNG of every page and exits.
#include "app/first_start.h"
#include "app/main_window.h"
#include "app/project_instance.h"
#include "util/version.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QTimer>
#include <QUrl>

#include <cstdio>

int main(int argc, char** argv)
{
    // --help and --version need no display: answer them before the GUI application exists.
    for (int i = 1; i < argc; ++i) {
        const QByteArray a(argv[i]);
        if (a == "--help" || a == "-h" || a == "--help-all" || a == "--version" || a == "-v")
            qputenv("QT_QPA_PLATFORM", "offscreen");
    }
    if (qEnvironmentVariableIsEmpty("DISPLAY") && qEnvironmentVariableIsEmpty("WAYLAND_DISPLAY") &&
        qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) {
        std::fprintf(stderr, "ftstudio: no display (DISPLAY and WAYLAND_DISPLAY are unset); run it in a desktop "
                             "session, use ftstudio-cli for headless work, or set QT_QPA_PLATFORM=offscreen\n");
        return 1;
    }
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("ftstudio"));
    QApplication::setApplicationName(QStringLiteral("Fine-Tuning Studio"));
    QApplication::setApplicationVersion(QString::fromLatin1(ft::version()));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/ftstudio/ftstudio.png")));
    QApplication::setDesktopFileName(QStringLiteral("ftstudio"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Fine-Tuning Studio: fine-tune language models on a workstation."));
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption project(QStringLiteral("project"), QStringLiteral("Open this project file."), QStringLiteral("FILE"));
    QCommandLineOption model(QStringLiteral("model"), QStringLiteral("Use this Hugging Face model folder."), QStringLiteral("DIR"));
    QCommandLineOption shots(QStringLiteral("screenshots"),
                             QStringLiteral("Save a screenshot of every page into DIR, then exit."), QStringLiteral("DIR"));
    parser.addOption(project);
    parser.addOption(model);
    parser.addOption(shots);
    parser.addPositionalArgument(QStringLiteral("file"), QStringLiteral("A project file (.ftproj) to open."),
                                 QStringLiteral("[FILE]"));
    parser.process(app);
    QString projectPath = parser.value(project);
    const QStringList files = parser.positionalArguments();
    if (files.size() > 1 || (!files.isEmpty() && !projectPath.isEmpty())) {
        std::fprintf(stderr, "ftstudio: give one project file\n");
        return 2;
    }
    if (!files.isEmpty()) {
        // The desktop passes files as paths (%f) or, from some launchers, file:// URLs.
        const QUrl url(files.first());
        projectPath = url.isLocalFile() ? url.toLocalFile() : files.first();
    }
    // Already open in a running studio: bring that window up instead of a second one.
    if (!projectPath.isEmpty() && parser.value(shots).isEmpty() && ft::ui::ProjectInstance::raiseRunning(projectPath)) {
        std::printf("ftstudio: %s is open in a running studio; raised its window\n", qPrintable(projectPath));
        return 0;
    }

    ft::ui::MainWindow window;
    window.show();
    ft::ui::StartOptions options;
    options.projectPath = projectPath;
    options.modelDir = parser.value(model);
    options.screenshotDir = parser.value(shots);
    QTimer::singleShot(0, &window, [&window, options] { window.startUp(options); });
    return app.exec();
}
