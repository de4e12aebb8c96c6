#include "app/session.h"

#include "data/project_store.h"

#include <QDir>
#include <QFileInfo>

#include <exception>

namespace ft::ui {

Session::Session(QObject* parent) : QObject(parent) {}
Session::~Session() = default;

bool Session::openProject(const QString& path, bool createIfMissing, QString* error) {
    try {
        std::unique_ptr<ft::data::ProjectStore> store;
        const std::string p = QFileInfo(path).absoluteFilePath().toStdString();
        if (QFileInfo::exists(path)) {
            store = ft::data::ProjectStore::open(p);
        } else if (createIfMissing) {
            QDir().mkpath(QFileInfo(path).absolutePath());
            store = ft::data::ProjectStore::create(p);
        } else {
            if (error)
                *error = QStringLiteral("'%1' does not exist").arg(path);
            return false;
        }
        m_store = std::move(store);
        m_projectPath = QFileInfo(path).absoluteFilePath();
    } catch (const std::exception& e) {
        if (error)
            *error = QString::fromStdString(e.what());
        return false;
    }
    emit projectChanged();
    emit datasetsChanged();
    emit runsChanged();
    emit votesChanged();
    emit historyChanged();
    return true;
}

void Session::closeProject() {
    m_store.reset();
    m_projectPath.clear();
    emit projectChanged();
    emit datasetsChanged();
    emit runsChanged();
    emit historyChanged();
}

void Session::setModelDir(const QString& dir) {
    if (dir == m_modelDir)
        return;
    m_modelDir = dir;
    emit modelChanged(dir);
}

bool Session::run(const QString& what, const std::function<void(ft::data::ProjectStore&)>& body) {
    if (!m_store) {
        emit errorOccurred(what + QStringLiteral(": no project is open (File > Open Project)"));
        return false;
    }
    try {
        body(*m_store);
        return true;
    } catch (const std::exception& e) {
        emit errorOccurred(what + QStringLiteral(": ") + QString::fromStdString(e.what()));
        return false;
    }
}

bool Session::canUndo() const { return m_store && m_store->canUndo(); }
bool Session::canRedo() const { return m_store && m_store->canRedo(); }
QString Session::undoLabel() const { return m_store ? QString::fromStdString(m_store->undoLabel()) : QString(); }
QString Session::redoLabel() const { return m_store ? QString::fromStdString(m_store->redoLabel()) : QString(); }

void Session::undo() {
    if (canUndo() && run(QStringLiteral("Undo"), [](ft::data::ProjectStore& s) { s.undo(); }))
        notifyRowsChanged(-1);
}

void Session::redo() {
    if (canRedo() && run(QStringLiteral("Redo"), [](ft::data::ProjectStore& s) { s.redo(); }))
        notifyRowsChanged(-1);
}

void Session::notifyDatasetsChanged() { emit datasetsChanged(); }
void Session::notifyRowsChanged(qint64 datasetId) {
    emit rowsChanged(datasetId);
    emit historyChanged();
}
void Session::notifyRunsChanged() { emit runsChanged(); }
void Session::notifyVotesChanged() { emit votesChanged(); }

} // namespace ft::ui
