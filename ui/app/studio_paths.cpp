#include "app/studio_paths.h"

#include "util/paths.h"

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
    try {
        return QString::fromStdString(ft::userDataDir());
    } catch (const std::exception&) {  // HOME unset: Qt's fallback home (the root folder)
        return QDir::homePath() + "/.local/share/ftstudio";
    }
}

QString defaultBaseModelDir() { return dataDir() + "/models/ftstudio-tiny-base"; }
QString defaultProjectPath() {
    const QString legacy = dataDir() + "/projects/default.db";
    if (QFileInfo::exists(legacy))
        return legacy;
    return dataDir() + "/projects/default." + kProjectSuffix;
}

QString projectFileFilter() { return QStringLiteral("Projects (*.ftproj *.db);;All files (*)"); }

bool isProjectFileName(const QString& path) {
    return path.endsWith(QStringLiteral(".ftproj")) || path.endsWith(QStringLiteral(".db"));
}
QString runsDir() { return dataDir() + "/runs"; }

QString samplesDir() {
    QStringList candidates;
    if (QString s = envPath("FTSTUDIO_SOURCE_DIR"); !s.isEmpty())
        candidates << s + "/datasets";
    try {
        candidates << QString::fromStdString(ft::datasetsDir());
    } catch (const std::exception&) {
    }
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
