// Helpers every test executable may use: what an action threw, and running the
// ftstudio-cli binary (named by $FTSTUDIO_CLI, which CTest sets) in a data folder
// of the test's own.
#pragma once

#include "util/error.h"

#include <QProcess>
#include <QProcessEnvironment>
#include <QString>
#include <QStringList>

#include <cstdlib>
#include <exception>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>

namespace fttest {

// The source tree ($FTSTUDIO_SOURCE_DIR, which CTest sets; "." otherwise).
inline std::string sourceDir()
{
    const char* src = std::getenv("FTSTUDIO_SOURCE_DIR");
    return src ? std::string(src) : std::string(".");
}

// A file's bytes; "" when it cannot be read.
inline std::string readTextFile(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// What ft::Error said, "" when nothing was thrown, a marker for any other exception.
inline QString errorOf(const std::function<void()>& action)
{
    try {
        action();
    } catch (const ft::Error& e) {
        return QString::fromStdString(e.what());
    } catch (const std::exception& e) {
        return QStringLiteral("<not ft::Error> ") + QString::fromStdString(e.what());
    }
    return {};
}

struct CliRun {
    int code = -1;  // -1 when the process crashed or was killed
    QString out, err;
};

// `childSetup` runs in the child before the CLI starts (e.g. resource limits).
inline CliRun runCli(const QStringList& args, const QString& dataDir, int timeoutMs = 120000,
                     const std::function<void()>& childSetup = {})
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("FTSTUDIO_DATA_DIR", dataDir);
    p.setProcessEnvironment(env);
    if (childSetup)
        p.setChildProcessModifier(childSetup);
    p.start(qEnvironmentVariable("FTSTUDIO_CLI"), args);
    if (!p.waitForStarted(30000))  // e.g. FTSTUDIO_CLI unset: the test is not registered with CLI
        return {-1, QString(), "cannot start FTSTUDIO_CLI='" + qEnvironmentVariable("FTSTUDIO_CLI") + "': " + p.errorString()};
    if (!p.waitForFinished(timeoutMs))
        p.kill();
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

} // namespace fttest
