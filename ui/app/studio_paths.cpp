#include "app/studio_paths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace ft::ui {

namespace {
QString envPath(const char* name) {
    return qEnvironmentVariableIsSet(name) ? qEnvironmentVariable(name) : QString();
}
} // namespace

QString dataDir() {
    if (QString d = envPath("FTSTUDIO_DATA_DIR"); !d.isEmpty())
        return d;
    QString xdg = envPath("XDG_DATA_HOME");
    if (xdg.isEmpty())
        xdg = QDir::homePath() + "/.local/share";
    return xdg + "/ftstudio";
}

QString defaultBaseModelDir() { return dataDir() + "/models/ftstudio-tiny-base"; }
QString defaultProjectPath() { return dataDir() + "/projects/default.db"; }
QString runsDir() { return dataDir() + "/runs"; }

QString samplesDir() {
    QStringList candidates;
    if (QString s = envPath("FTSTUDIO_SOURCE_DIR"); !s.isEmpty())
        candidates << s + "/datasets";
#ifdef FTSTUDIO_SOURCE_DATASETS
    candidates << QStringLiteral(FTSTUDIO_SOURCE_DATASETS);
#endif
    candidates << QCoreApplication::applicationDirPath() + "/../share/ftstudio/datasets";
    for (const QString& c : candidates)
        if (QFileInfo(c + "/sft").isDir())
            return QDir(c).absolutePath();
    return {};
}

QString cliPath() {
    if (QString c = envPath("FTSTUDIO_CLI"); !c.isEmpty())
        return c;
    QString beside = QCoreApplication::applicationDirPath() + "/ftstudio-cli";
    if (QFileInfo(beside).isExecutable())
        return beside;
    QString onPath = QStandardPaths::findExecutable("ftstudio-cli");
    return onPath.isEmpty() ? beside : onPath;
}

bool isBaseModelFolder(const QString& dir) {
    QDir d(dir);
    return d.exists("config.json") &&
           (d.exists("model.safetensors") || d.exists("model.safetensors.index.json"));
}

} // namespace ft::ui
