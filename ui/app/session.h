// The studio's shared state: the open project (ft::data::ProjectStore) and the current
// base model folder, with signals every page listens to. All store calls go through
// run(), which turns an ft::Error into errorOccurred() with a message a person can act
// on, so no page ever lets an exception reach the event loop.
// Not here: widgets (pages), processes (engine/).
#pragma once

#include <QObject>
#include <QString>

#include <functional>
#include <memory>

namespace ft::data {
class ProjectStore;
}

namespace ft::ui {

class Session : public QObject {
    Q_OBJECT
public:
    explicit Session(QObject* parent = nullptr);
    ~Session() override;

    // Opens an existing project, or creates it when `createIfMissing` and the file is
    // absent. On failure the previous project stays open and `error` says why.
    bool openProject(const QString& path, bool createIfMissing, QString* error);
    void closeProject();
    bool hasProject() const { return m_store != nullptr; }
    ft::data::ProjectStore* store() const { return m_store.get(); }
    QString projectPath() const { return m_projectPath; }

    QString modelDir() const { return m_modelDir; }
    void setModelDir(const QString& dir);

    // Runs `body` against the store; an exception becomes errorOccurred("<what>: <message>")
    // and false. Without a project it reports that and returns false.
    bool run(const QString& what, const std::function<void(ft::data::ProjectStore&)>& body);

    bool canUndo() const;
    bool canRedo() const;
    QString undoLabel() const;
    QString redoLabel() const;

public slots:
    void undo();  // row edits only; emits rowsChanged(-1) and historyChanged()
    void redo();
    // Pages call these after they changed the store, so the other pages refresh.
    void notifyDatasetsChanged();
    void notifyRowsChanged(qint64 datasetId);  // also emits historyChanged()
    void notifyRunsChanged();
    void notifyVotesChanged();

signals:
    void projectChanged();                 // opened, closed or replaced
    void modelChanged(const QString& dir);
    void datasetsChanged();
    void rowsChanged(qint64 datasetId);    // -1: any dataset may have changed
    void historyChanged();
    void runsChanged();
    void votesChanged();
    void errorOccurred(const QString& message);

private:
    std::unique_ptr<ft::data::ProjectStore> m_store;
    QString m_projectPath;
    QString m_modelDir;
};

} // namespace ft::ui
