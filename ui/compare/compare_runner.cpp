#include "compare/compare_runner.h"

#include "engine/cli_job.h"

namespace ft::ui {

CompareRunner::CompareRunner(QObject* parent) : QObject(parent), m_job(new CliJob(this)) {
    connect(m_job, &CliJob::outputText, this, [this] {
        if (m_running)
            emit taskText(m_tasks[m_next - 1], generatedPart(m_job->allOutput(), m_echo, false));
    });
    connect(m_job, &CliJob::finished, this, &CompareRunner::onFinished);
    connect(m_job, &CliJob::errorLine, this, [this](const QString& line) {
        if (const QString rendered = renderedPromptOf(line); m_running && !rendered.isEmpty())
            emit taskPrompt(m_tasks[m_next - 1], rendered);
    });
}

void CompareRunner::start(const QString& modelDir, std::vector<CompareTask> tasks, const GenerationSettings& settings) {
    cancel();
    m_modelDir = modelDir;
    m_tasks = std::move(tasks);
    m_settings = settings;
    m_next = 0;
    m_done = 0;
    startNext();
}

void CompareRunner::cancel() {
    if (!m_running)
        return;
    m_running = false;  // the job's finished("cancelled") is then ignored
    m_job->cancel();
    emit allFinished(false);
}

void CompareRunner::startNext() {
    if (m_next >= m_tasks.size()) {
        m_running = false;
        emit allFinished(true);
        return;
    }
    const CompareTask& task = m_tasks[m_next++];
    GenerationSettings s = m_settings;
    s.adapterDir = task.model.adapterDir;
    m_echo = promptEcho(task.prompt, s);
    m_running = true;
    emit taskStarted(task);
    m_job->start(generateArguments(m_modelDir, task.prompt, s));
}

void CompareRunner::onFinished(bool ok, const QString& message) {
    if (!m_running)
        return;
    const CompareTask task = m_tasks[m_next - 1];
    ++m_done;
    emit taskFinished(task, generatedPart(m_job->allOutput(), m_echo, true), ok, message);
    if (m_running)  // a slot may have cancelled
        startNext();
}

} // namespace ft::ui
