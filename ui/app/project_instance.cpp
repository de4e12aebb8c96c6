#include "app/project_instance.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>

#include <unistd.h>

namespace ft::ui {

namespace {
constexpr char kRaise[] = "raise\n";
constexpr char kDone[] = "raised\n";

QString canonical(const QString& path) {
    const QFileInfo info(path);
    const QString c = info.canonicalFilePath();  // empty while the file does not exist yet
    return c.isEmpty() ? info.absoluteFilePath() : c;
}
} // namespace

ProjectInstance::ProjectInstance(QObject* parent) : QObject(parent) {}

ProjectInstance::~ProjectInstance() = default;

QString ProjectInstance::serverName(const QString& projectPath) {
    const QByteArray hash = QCryptographicHash::hash(canonical(projectPath).toUtf8(), QCryptographicHash::Sha1);
    return QStringLiteral("ftstudio-%1-%2").arg(getuid()).arg(QString::fromLatin1(hash.toHex().left(20)));
}

bool ProjectInstance::raiseRunning(const QString& projectPath, int timeoutMs) {
    QLocalSocket socket;
    socket.connectToServer(serverName(projectPath));
    if (!socket.waitForConnected(timeoutMs))
        return false;
    socket.write(kRaise);
    if (!socket.waitForBytesWritten(timeoutMs))
        return false;
    while (!socket.canReadLine())
        if (!socket.waitForReadyRead(timeoutMs))
            return false;
    return socket.readLine() == kDone;
}

bool ProjectInstance::claim(const QString& projectPath, QString* error) {
    const QString name = serverName(projectPath);
    if (m_server && m_server->serverName() == name)
        return true;
    // Ask first: Qt's listen() with access options replaces an existing socket file, so
    // a live holder must be found by connecting, not by a failing listen().
    {
        QLocalSocket probe;
        probe.connectToServer(name);
        if (probe.waitForConnected(500)) {
            probe.abort();
            if (error)
                *error = QStringLiteral("%1 is open in another Fine-Tuning Studio window").arg(projectPath);
            return false;
        }
    }
    QLocalServer::removeServer(name);  // a socket file a dead studio left behind
    auto* server = new QLocalServer(this);
    server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!server->listen(name)) {
        if (error)
            *error = QStringLiteral("cannot listen on %1: %2").arg(name, server->errorString());
        delete server;
        return false;
    }
    delete m_server;
    m_server = server;
    m_path = canonical(projectPath);
    connect(m_server, &QLocalServer::newConnection, this, &ProjectInstance::onConnection);
    return true;
}

void ProjectInstance::onConnection() {
    while (QLocalSocket* socket = m_server->nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QLocalSocket::readyRead, this, [this, socket] {
            if (!socket->canReadLine())
                return;
            if (socket->readLine() == kRaise) {
                emit raiseRequested();
                socket->write(kDone);
                socket->flush();
            }
            socket->disconnectFromServer();
        });
    }
}

} // namespace ft::ui
