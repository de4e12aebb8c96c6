// One studio window per project file. Each running studio listens on a local socket
// named after the project it has open; launching the studio on a file that another
// studio has open asks that one to raise its window instead of opening it twice.
// Not here: which project is open (session.h) or the window itself (main_window.h).
#pragma once

#include <QObject>
#include <QString>

class QLocalServer;

namespace ft::ui {

class ProjectInstance : public QObject {
    Q_OBJECT
public:
    explicit ProjectInstance(QObject* parent = nullptr);
    ~ProjectInstance() override;

    // The socket name for a project: per user, from the file's canonical path (so two
    // spellings of one file meet), short enough for any socket path limit.
    static QString serverName(const QString& projectPath);

    // Asks the studio that has `projectPath` open to come to the front. True when one
    // answered within `timeoutMs`; false when none has it open (or it is hung).
    static bool raiseRunning(const QString& projectPath, int timeoutMs = 2000);

    // Makes this process the one that has `projectPath` open, releasing the project it
    // held before. A socket left behind by a studio that died is taken over. False with
    // `error` when another live studio holds the project.
    bool claim(const QString& projectPath, QString* error = nullptr);
    QString claimedPath() const { return m_path; }

signals:
    // Another launch asked for this project: show the window.
    void raiseRequested();

private:
    void onConnection();

    QLocalServer* m_server = nullptr;
    QString m_path;
};

} // namespace ft::ui
