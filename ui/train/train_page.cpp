#include "train/train_page.h"

#include "app/session.h"
#include "data/project_store.h"
#include "train/memory_preview.h"
#include "train/run_banner.h"
#include "train/run_recorder.h"
#include "train/schema_provider.h"
#include "train/train_charts.h"
#include "train/train_setup.h"

#include <QDir>
#include <QFontDatabase>
#include <QFileInfo>
#include <QFile>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QMap>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>
#include <memory>
#include <optional>

namespace ft::ui {

namespace {

QString formatDuration(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("–");
    const qint64 s = qint64(std::llround(seconds));
    if (s >= 3600)
        return QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QChar('0')).arg(s % 60, 2, 10, QChar('0'));
    return QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QChar('0'));
}

constexpr int kMaxLogBlocks = 5000;
constexpr int kMaxSamples = 500;

} // namespace

TrainPage::TrainPage(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    m_engine = new EngineProcess(this);
    m_recorder = new RunRecorder(session, this);

    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    auto* split = new QSplitter(Qt::Horizontal, this);
    split->setObjectName(QStringLiteral("trainSplitter"));
    split->setChildrenCollapsible(false);
    layout->addWidget(split);

    m_setup = new TrainSetup(session, split);
    m_setup->setMinimumWidth(380);
    connect(m_setup, &TrainSetup::rowsRequested, this, &TrainPage::rowsRequested);
    split->addWidget(m_setup);

    auto* right = new QWidget(split);
    auto* rightLayout = new QVBoxLayout(right);
    rightLayout->setContentsMargins(6, 0, 0, 0);
    rightLayout->setSpacing(6);
    auto* bar = new QHBoxLayout;
    auto button = [&](const QString& text, const QString& name, const QString& tip) {
        auto* b = new QPushButton(text, right);
        b->setObjectName(name);
        b->setToolTip(tip);
        bar->addWidget(b);
        return b;
    };
    m_start = button(QStringLiteral("Start"), QStringLiteral("startButton"), QStringLiteral("Start a new run"));
    m_pause = button(QStringLiteral("Pause"), QStringLiteral("pauseButton"),
                     QStringLiteral("Pause after the current step"));
    m_resume = button(QStringLiteral("Resume"), QStringLiteral("resumeButton"),
                      QStringLiteral("Continue a paused run, or a stopped/failed one from its last checkpoint"));
    m_stop = button(QStringLiteral("Stop"), QStringLiteral("stopButton"),
                    QStringLiteral("Finish the step, save a checkpoint and end the run"));
    m_export = button(QStringLiteral("Export…"), QStringLiteral("exportRunButton"),
                      QStringLiteral("The finished run for llama.cpp or Ollama: a GGUF file, the LoRA alone, or an Ollama folder"));
    m_export->hide();
    m_start->setDefault(true);
    m_status = new QLabel(QStringLiteral("Idle"), right);
    m_status->setObjectName(QStringLiteral("statusLabel"));
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // a long line must not widen the page
    bar->addSpacing(12);
    bar->addWidget(m_status, 1);
    rightLayout->addLayout(bar);

    m_banner = new RunBanner(right);
    rightLayout->addWidget(m_banner);

    auto* vsplit = new QSplitter(Qt::Vertical, right);
    vsplit->setChildrenCollapsible(false);
    m_charts = new TrainCharts(vsplit);
    m_charts->setObjectName(QStringLiteral("trainCharts"));
    vsplit->addWidget(m_charts);
    auto* tabs = new QTabWidget(vsplit);
    tabs->setObjectName(QStringLiteral("trainTabs"));
    m_log = new QPlainTextEdit(tabs);
    m_log->setObjectName(QStringLiteral("logPane"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(kMaxLogBlocks);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_log->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    tabs->addTab(m_log, QStringLiteral("Log"));
    m_samples = new QTreeWidget(tabs);
    m_samples->setObjectName(QStringLiteral("samplesList"));
    m_samples->setHeaderLabels({QStringLiteral("Step"), QStringLiteral("Prompt"), QStringLiteral("Generated")});
    m_samples->setRootIsDecorated(false);
    m_samples->setWordWrap(true);
    m_samples->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_samples->setColumnWidth(1, 220);
    tabs->addTab(m_samples, QStringLiteral("Samples"));
    vsplit->addWidget(tabs);
    vsplit->setStretchFactor(0, 3);
    vsplit->setStretchFactor(1, 1);
    rightLayout->addWidget(vsplit, 1);
    split->addWidget(right);
    split->setStretchFactor(0, 0);
    split->setStretchFactor(1, 1);
    split->setSizes({420, 860});

    connect(m_start, &QPushButton::clicked, this, &TrainPage::start);
    connect(m_pause, &QPushButton::clicked, this, &TrainPage::pause);
    connect(m_resume, &QPushButton::clicked, this, &TrainPage::resume);
    connect(m_stop, &QPushButton::clicked, this, &TrainPage::stop);
    connect(m_export, &QPushButton::clicked, this, [this] {
        QFile file(m_configPath);
        if (file.open(QIODevice::ReadOnly))
            emit deployRequested(QJsonDocument::fromJson(file.readAll()).object());
    });
    connect(m_banner, &RunBanner::resumeRequested, this, &TrainPage::resume);
    connect(m_engine, &EngineProcess::event, this, &TrainPage::onEvent);
    connect(m_engine, &EngineProcess::ended, this, &TrainPage::onEnded);
    connect(m_engine, &EngineProcess::stateChanged, this, [this](EngineProcess::State s) {
        if (s == EngineProcess::State::Paused)
            m_status->setText(QStringLiteral("Paused — ") + m_status->text().section(QStringLiteral(" — "), -1));
        else if (s == EngineProcess::State::Stopping)
            m_status->setText(QStringLiteral("Stopping: saving a checkpoint…"));
        updateButtons();
        emit runStateChanged();
    });
    connect(m_engine, &EngineProcess::logLine, m_log, &QPlainTextEdit::appendPlainText);
    connect(m_setup, &TrainSetup::changed, this, &TrainPage::updateButtons);
    m_setup->setSchema(runConfigSchema());
    updateButtons();
}

TrainPage::~TrainPage() {
    // EngineProcess's destructor asks a run still going to stop and save (SIGTERM).
    if (isRunning())
        m_recorder->setStatus(QStringLiteral("stopped"));
    m_recorder->flush();
}

bool TrainPage::isSchemaLoaded() const { return m_setup->hasSchema(); }
bool TrainPage::isRunning() const { return m_engine->isActive(); }
qint64 TrainPage::currentRunId() const { return m_recorder->runId(); }
void TrainPage::loadConfig(const QJsonObject& config) { m_setup->loadConfig(config); }

void TrainPage::updateButtons() {
    const EngineProcess::State s = m_engine->state();
    const bool active = isRunning();
    m_start->setEnabled(!active && m_setup->hasSchema());
    m_pause->setEnabled(s == EngineProcess::State::Running && !m_severalProcesses);
    m_pause->setToolTip(m_severalProcesses && active
                            ? QStringLiteral("Not with several processes (the others would time out waiting); Stop "
                                             "saves a checkpoint that Resume continues")
                            : QStringLiteral("Pause after the current step"));
    m_resume->setEnabled(s == EngineProcess::State::Paused || (!active && m_resumable));
    m_stop->setEnabled(s == EngineProcess::State::Running || s == EngineProcess::State::Paused);
    m_banner->setResumeEnabled(!active && m_resumable);
}

void TrainPage::start() {
    if (isRunning() || !m_setup->hasSchema())
        return;
    m_export->hide();
    m_setup->makeOutputUnique();
    const QStringList problems = m_setup->validate();
    if (!problems.isEmpty()) {
        m_setup->showProblems(problems);
        return;
    }
    const QJsonObject config = m_setup->runConfig();
    const QString outputDir = config.value(QStringLiteral("output_dir")).toString();
    const QString path = outputDir + QStringLiteral(".config.json");
    QString error;
    if (!writeRunConfigFile(path, config, &error)) {
        m_setup->showProblems({error});
        return;
    }
    m_setup->showProblems({});
    m_recorder->createRun(m_setup->runName(), config, outputDir);
    m_configPath = path;
    m_resumable = false;
    m_charts->clear();
    m_log->clear();
    m_samples->clear();
    launch(false);
}

void TrainPage::launch(bool resume) {
    hideBanner();
    m_recorder->setStatus(QStringLiteral("running"));
    m_setup->setLocked(true);
    m_status->setText(resume ? QStringLiteral("Resuming from the last checkpoint…") : QStringLiteral("Starting…"));
    m_log->appendPlainText(QStringLiteral("— %1 %2").arg(resume ? QStringLiteral("resume") : QStringLiteral("start"), m_configPath));
    QFile file(m_configPath);
    const QJsonObject config = file.open(QIODevice::ReadOnly) ? QJsonDocument::fromJson(file.readAll()).object() : QJsonObject();
    m_severalProcesses =
        config.value(QStringLiteral("distributed")).toObject().value(QStringLiteral("processes")).toInteger(1) > 1;
    m_engine->start(m_configPath, resume);
    updateButtons();
    emit runStateChanged();
}

void TrainPage::pause() { m_engine->pause(); }
void TrainPage::stop() { m_engine->stop(); }

void TrainPage::resume() {
    if (m_engine->state() == EngineProcess::State::Paused) {
        m_engine->resume();
        return;
    }
    if (isRunning() || !m_resumable || !QFileInfo::exists(m_configPath))
        return;
    launch(true);
}

bool TrainPage::resumeRun(qint64 runId) {
    if (isRunning())
        return false;
    std::optional<ft::data::RunRecord> run;
    m_session->run(QStringLiteral("Find the run"), [&](ft::data::ProjectStore& s) {
        for (const auto& r : s.runs())
            if (r.id == runId)
                run = r;
    });
    if (!run) {
        m_banner->showFailure(QStringLiteral("Cannot resume."), QStringLiteral("The project has no run %1.").arg(runId),
                              {}, false);
        return false;
    }
    const QJsonObject config = QJsonDocument::fromJson(QByteArray::fromStdString(run->configJson)).object();
    const QString outputDir = QString::fromStdString(run->outputDir);
    const QString path = outputDir + QStringLiteral(".config.json");
    QString error;
    if (config.isEmpty() || !writeRunConfigFile(path, config, &error)) {
        m_banner->showFailure(QStringLiteral("Cannot resume."),
                              error.isEmpty() ? QStringLiteral("Run %1 has no config to resume from.").arg(runId) : error,
                              {}, false);
        return false;
    }
    m_setup->loadConfig(config);
    m_recorder->attach(runId);
    m_configPath = path;
    m_resumable = true;
    m_charts->clear();
    m_log->clear();
    m_samples->clear();
    loadStoredMetrics(runId);
    launch(true);
    return true;
}

void TrainPage::loadStoredMetrics(qint64 runId) {
    QMap<qint64, QJsonObject> steps, evals;
    m_session->run(QStringLiteral("Read the run's metrics"), [&](ft::data::ProjectStore& s) {
        for (const char* name : {"loss", "lr", "grad_norm", "tokens_per_second"})
            for (const auto& [step, value] : s.metric(runId, name))
                steps[step].insert(QLatin1String(name), value);
        for (const auto& [step, value] : s.metric(runId, "rss_bytes")) {
            QJsonObject mem = steps[step].value(QStringLiteral("memory")).toObject();
            mem.insert(QStringLiteral("rss_bytes"), value);
            steps[step].insert(QStringLiteral("memory"), mem);
        }
        for (const auto& [step, value] : s.metric(runId, "eval_loss"))
            evals[step].insert(QStringLiteral("loss"), value);
    });
    for (auto it = steps.begin(); it != steps.end(); ++it) {
        QJsonObject e = it.value();
        e.insert(QStringLiteral("event"), QStringLiteral("step"));
        e.insert(QStringLiteral("step"), it.key());
        m_charts->addEvent(e);
    }
    for (auto it = evals.begin(); it != evals.end(); ++it) {
        QJsonObject e = it.value();
        e.insert(QStringLiteral("event"), QStringLiteral("eval"));
        e.insert(QStringLiteral("step"), it.key());
        m_charts->addEvent(e);
    }
}

void TrainPage::onEvent(const QJsonObject& e) {
    m_charts->addEvent(e);
    m_recorder->addEvent(e);
    const QString type = e.value(QStringLiteral("event")).toString();
    if (type == QLatin1String("started")) {
        m_totalSteps = e.value(QStringLiteral("total_steps")).toInteger();
        m_setup->showEngineFigures(e);
        const qint64 from = e.value(QStringLiteral("start_step")).toInteger();
        m_status->setText(from > 0 ? QStringLiteral("Resumed at step %1 of %2").arg(from).arg(m_totalSteps)
                                   : QStringLiteral("Started: %1 steps").arg(m_totalSteps));
    } else if (type == QLatin1String("step")) {
        const qint64 step = e.value(QStringLiteral("step")).toInteger();
        const qint64 total = e.contains(QStringLiteral("total_steps")) ? e.value(QStringLiteral("total_steps")).toInteger()
                                                                       : m_totalSteps;
        QStringList parts{QStringLiteral("Step %1 / %2").arg(step).arg(total),
                          QStringLiteral("epoch %1").arg(e.value(QStringLiteral("epoch")).toDouble(), 0, 'f', 2)};
        const QJsonValue loss = e.value(QStringLiteral("loss"));
        parts << QStringLiteral("loss %1").arg(loss.isDouble() ? QString::number(loss.toDouble(), 'f', 4)
                                                               : QStringLiteral("NaN"));
        parts << QStringLiteral("%1 tokens/s").arg(formatCount(qint64(e.value(QStringLiteral("tokens_per_second")).toDouble())));
        parts << QStringLiteral("ETA %1").arg(formatDuration(e.value(QStringLiteral("eta_s")).toDouble(-1)));
        const qint64 rss = e.value(QStringLiteral("memory")).toObject().value(QStringLiteral("rss_bytes")).toInteger();
        if (rss > 0)
            parts << QStringLiteral("RSS %1").arg(formatBytes(rss));
        const QString prefix = m_engine->state() == EngineProcess::State::Paused ? QStringLiteral("Paused — ") : QString();
        m_status->setText(prefix + parts.join(QStringLiteral(" · ")));
    } else if (type == QLatin1String("sample")) {
        auto* item = new QTreeWidgetItem({QString::number(e.value(QStringLiteral("step")).toInteger()),
                                          e.value(QStringLiteral("prompt")).toString(),
                                          e.value(QStringLiteral("text")).toString()});
        item->setToolTip(1, item->text(1));
        item->setToolTip(2, item->text(2));
        m_samples->insertTopLevelItem(0, item);
        while (m_samples->topLevelItemCount() > kMaxSamples)
            delete m_samples->takeTopLevelItem(m_samples->topLevelItemCount() - 1);
    }
}

void TrainPage::onEnded(EngineProcess::State state, const QString& message) {
    const QString status = state == EngineProcess::State::Finished  ? QStringLiteral("finished")
                           : state == EngineProcess::State::Stopped ? QStringLiteral("stopped")
                                                                    : QStringLiteral("failed");
    m_recorder->setStatus(status);
    m_resumable = state != EngineProcess::State::Finished && QFileInfo::exists(m_configPath);
    const QString last = m_status->text().startsWith(QLatin1String("Step")) ? m_status->text() : QString();
    if (state == EngineProcess::State::Failed) {
        QStringList lines = m_engine->lastLogLines();
        if (lines.size() > 12)
            lines = lines.mid(lines.size() - 12);
        showBanner(QStringLiteral("The run failed."), message, lines);
        m_status->setText(QStringLiteral("Failed") + (last.isEmpty() ? QString() : QStringLiteral(" — ") + last));
    } else if (state == EngineProcess::State::Stopped) {
        m_status->setText(QStringLiteral("Stopped (checkpoint saved; Resume continues)") +
                          (last.isEmpty() ? QString() : QStringLiteral(" — ") + last));
    } else {
        m_status->setText(QStringLiteral("Finished") + (last.isEmpty() ? QString() : QStringLiteral(" — ") + last));
    }
    const QString outputDir = m_configPath.chopped(QStringLiteral(".config.json").size());
    m_export->setVisible(state == EngineProcess::State::Finished && m_configPath.endsWith(QLatin1String(".config.json")) &&
                         QFileInfo::exists(outputDir + QStringLiteral("/adapter/adapter_config.json")));
    m_log->appendPlainText(QStringLiteral("— run %1%2").arg(status, message.isEmpty() ? QString() : QStringLiteral(": ") + message));
    m_setup->setLocked(false);
    m_setup->newRunName();
    updateButtons();
    emit runStateChanged();
}

void TrainPage::showBanner(const QString& title, const QString& message, const QStringList& logLines) {
    m_banner->showFailure(title, message, logLines, m_resumable);
    updateButtons();
}

void TrainPage::hideBanner() { m_banner->hide(); }

} // namespace ft::ui
