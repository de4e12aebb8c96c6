// Runs the Compare page's generations: each (prompt, model) task through
// `ftstudio-cli generate`, one process at a time (a queue), streaming the text of the
// running task. Not here: the table, storing results (the page does both).
#pragma once

#include "label/pair_generator.h"

#include <QObject>
#include <QString>

#include <optional>
#include <vector>

namespace ft::ui {

class CliJob;

// A model in the comparison: the base model, or the base model with an adapter.
struct CompareModel {
    QString name;        // what the table and the votes call it: "base", a run's name, a folder's name
    QString adapterDir;  // "" for the base model
    std::optional<qint64> runId;  // the run that trained the adapter, when known
};

struct CompareTask {
    QString prompt;
    CompareModel model;
};

class CompareRunner : public QObject {
    Q_OBJECT
public:
    explicit CompareRunner(QObject* parent = nullptr);

    // Queues the tasks (a queue already running is cancelled first). adapterDir of the
    // settings is ignored: each task's model gives it.
    void start(const QString& modelDir, std::vector<CompareTask> tasks, const GenerationSettings& settings);
    void cancel();
    bool isRunning() const { return m_running; }
    int total() const { return int(m_tasks.size()); }
    int done() const { return m_done; }

signals:
    void taskStarted(const ft::ui::CompareTask& task);
    void taskText(const ft::ui::CompareTask& task, const QString& text);  // the whole text so far
    // With a prompt template: the prompt exactly as the model saw it.
    void taskPrompt(const ft::ui::CompareTask& task, const QString& rendered);
    void taskFinished(const ft::ui::CompareTask& task, const QString& output, bool ok, const QString& message);
    void allFinished(bool completed);  // false when cancelled

private:
    void startNext();
    void onFinished(bool ok, const QString& message);

    CliJob* m_job = nullptr;
    QString m_modelDir, m_echo;
    GenerationSettings m_settings;
    std::vector<CompareTask> m_tasks;
    size_t m_next = 0;  // index of the task after the running one
    int m_done = 0;
    bool m_running = false;
};

} // namespace ft::ui
