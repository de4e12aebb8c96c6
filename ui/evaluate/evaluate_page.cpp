#include "evaluate/evaluate_page.h"

#include "app/session.h"
#include "data/project_store.h"
#include "engine/cli_job.h"
#include "eval/suite.h"
#include "runs/trained_adapters.h"

#include <QComboBox>
#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QTableWidget>
#include <QThread>
#include <QVBoxLayout>

#include <qcustomplot.h>

#include <algorithm>

namespace ft::ui {

namespace {

constexpr int kModelAdapterRole = Qt::UserRole;  // adapter folder, "" for the base model
constexpr int kCustomAdapterRole = Qt::UserRole + 1;  // an adapter folder added by hand, not a run of the project
constexpr int kSuitePathRole = Qt::UserRole;     // suite combo: the file

using json = nlohmann::json;

QString str(const json& j, const char* key)
{
    return j.contains(key) && j[key].is_string() ? QString::fromStdString(j[key].get<std::string>()) : QString();
}

QString metricText(const json& m)
{
    return QStringLiteral("%1  [%2, %3]")
        .arg(m.value("value", 0.0), 0, 'f', 3)
        .arg(m.value("low", 0.0), 0, 'f', 3)
        .arg(m.value("high", 0.0), 0, 'f', 3);
}

QString oneLine(QString s)
{
    s.replace(QLatin1Char('\n'), QStringLiteral(" ⏎ "));
    return s;
}

} // namespace

EvaluatePage::EvaluatePage(Session* session, QWidget* parent) : QWidget(parent), m_session(session)
{
    m_job = new CliJob(this);
    connect(m_job, &CliJob::errorLine, this, &EvaluatePage::onProgress);
    connect(m_job, &CliJob::finished, this, &EvaluatePage::onFinished);

    auto* root = new QHBoxLayout(this);
    auto* split = new QSplitter(Qt::Horizontal);
    split->setChildrenCollapsible(false);
    root->addWidget(split);
    split->addWidget(buildLeft());

    auto* right = new QWidget;
    auto* rightLay = new QVBoxLayout(right);
    rightLay->setContentsMargins(0, 0, 0, 0);
    auto* historyRow = new QHBoxLayout;
    historyRow->addWidget(new QLabel(tr("Evaluation:")));
    m_history = new QComboBox;
    m_history->setObjectName("evaluationHistory");
    m_history->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    historyRow->addWidget(m_history, 1);
    rightLay->addLayout(historyRow);
    m_title = new QLabel(tr("No evaluation yet: pick a suite and models, then press Evaluate."));
    m_title->setObjectName("evaluationTitle");
    m_title->setWordWrap(true);
    rightLay->addWidget(m_title);

    auto* vsplit = new QSplitter(Qt::Vertical);
    auto* top = new QWidget;
    auto* topLay = new QHBoxLayout(top);
    topLay->setContentsMargins(0, 0, 0, 0);
    m_metrics = new QTableWidget;
    m_metrics->setObjectName("metricsTable");
    m_metrics->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_metrics->verticalHeader()->setVisible(false);
    topLay->addWidget(m_metrics, 3);
    m_chart = new QCustomPlot;
    m_chart->setObjectName("metricsChart");
    m_chart->setMinimumSize(260, 200);
    topLay->addWidget(m_chart, 2);
    vsplit->addWidget(top);
    m_items = new QTableWidget;
    m_items->setObjectName("itemsTable");
    m_items->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_items->setWordWrap(true);
    m_items->verticalHeader()->setVisible(false);
    m_items->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    vsplit->addWidget(m_items);
    vsplit->setStretchFactor(0, 2);
    vsplit->setStretchFactor(1, 3);
    rightLay->addWidget(vsplit, 1);
    split->addWidget(right);
    split->setStretchFactor(1, 1);

    connect(m_history, &QComboBox::currentIndexChanged, this, &EvaluatePage::showHistoryEntry);
    connect(m_session, &Session::projectChanged, this, &EvaluatePage::reloadFromProject);
    connect(m_session, &Session::runsChanged, this, &EvaluatePage::refreshModels);
    reloadFromProject();
}

QWidget* EvaluatePage::buildLeft()
{
    auto* left = new QWidget;
    left->setMinimumWidth(280);
    left->setMaximumWidth(380);
    auto* lay = new QVBoxLayout(left);
    lay->setContentsMargins(0, 0, 0, 0);

    auto* suiteBox = new QGroupBox(tr("Suite"));
    auto* form = new QFormLayout(suiteBox);
    auto* suiteRow = new QHBoxLayout;
    m_suite = new QComboBox;
    m_suite->setObjectName("suite");
    m_suite->setToolTip(tr("A shipped suite, or a JSONL file (generation, multiple choice or perplexity; "
                           "ARC, HellaSwag, MMLU and TruthfulQA rows are read as they are)"));
    suiteRow->addWidget(m_suite, 1);
    auto* browse = new QPushButton(tr("File…"));
    suiteRow->addWidget(browse);
    form->addRow(tr("Suite"), suiteRow);
    m_split = new QLineEdit;
    m_split->setObjectName("split");
    m_split->setPlaceholderText(tr("all rows"));
    m_split->setToolTip(tr("Only rows of this split (e.g. eval: a dataset's held-out rows as a regression suite)"));
    form->addRow(tr("Split"), m_split);
    m_template = new QComboBox;
    m_template->setObjectName("template");
    m_template->addItems({"auto", "none", "model", "alpaca", "chatml", "plain"});
    m_template->setToolTip(tr("How prompts reach the model: auto uses the suite's format, else the model's chat "
                              "template when it has one, else the raw prompt; the rendered prompt of each item is "
                              "shown below"));
    form->addRow(tr("Prompt template"), m_template);
    m_limit = new QSpinBox;
    m_limit->setObjectName("limit");
    m_limit->setRange(0, 1000000);
    m_limit->setSpecialValueText(tr("all items"));
    form->addRow(tr("Items"), m_limit);
    lay->addWidget(suiteBox);

    auto* modelBox = new QGroupBox(tr("Models"));
    auto* modelLay = new QVBoxLayout(modelBox);
    m_models = new QListWidget;
    m_models->setObjectName("models");
    modelLay->addWidget(m_models);
    auto* addAdapter = new QPushButton(tr("Add adapter folder…"));
    modelLay->addWidget(addAdapter);
    lay->addWidget(modelBox, 1);

    auto* buttons = new QHBoxLayout;
    m_runButton = new QPushButton(tr("Evaluate"));
    m_runButton->setObjectName("evaluate");
    m_cancelButton = new QPushButton(tr("Cancel"));
    m_cancelButton->setEnabled(false);
    buttons->addWidget(m_runButton);
    buttons->addWidget(m_cancelButton);
    lay->addLayout(buttons);
    m_progress = new QProgressBar;
    m_progress->setObjectName("progress");
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(false);
    lay->addWidget(m_progress);
    m_status = new QLabel;
    m_status->setObjectName("status");
    m_status->setWordWrap(true);
    lay->addWidget(m_status);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Suite file"), QString(),
                                                          tr("Suites (*.jsonl *.json);;All files (*)"));
        if (!file.isEmpty())
            setSuite(file);
    });
    connect(addAdapter, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Adapter folder"));
        QString error;
        if (!dir.isEmpty() && !addAdapterFolder(dir, &error))
            m_status->setText(error);
    });
    connect(m_runButton, &QPushButton::clicked, this, &EvaluatePage::run);
    connect(m_cancelButton, &QPushButton::clicked, this, &EvaluatePage::cancel);
    refreshSuites();
    return left;
}

void EvaluatePage::refreshSuites()
{
    const QString current = suite();
    m_suite->clear();
    for (const std::string& name : ft::eval::shippedSuites())
        m_suite->addItem(QString::fromStdString(name), QString::fromStdString(name));
    if (!current.isEmpty())
        setSuite(current);
}

void EvaluatePage::setSuite(const QString& nameOrPath)
{
    int index = m_suite->findData(nameOrPath, kSuitePathRole);
    if (index < 0) {
        m_suite->addItem(QFileInfo(nameOrPath).fileName(), nameOrPath);
        index = m_suite->count() - 1;
    }
    m_suite->setCurrentIndex(index);
}

QString EvaluatePage::suite() const
{
    return m_suite ? m_suite->currentData(kSuitePathRole).toString() : QString();
}

QStringList EvaluatePage::modelNames() const
{
    QStringList names;
    for (int i = 0; i < m_models->count(); ++i)
        names << m_models->item(i)->text();
    return names;
}

void EvaluatePage::setModelChecked(const QString& name, bool checked)
{
    for (auto* item : m_models->findItems(name, Qt::MatchExactly))
        item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

bool EvaluatePage::addAdapterFolder(const QString& dir, QString* error)
{
    if (!QFileInfo::exists(QDir(dir).filePath("adapter_config.json"))) {
        if (error)
            *error = tr("%1 is not an adapter folder (no adapter_config.json)").arg(dir);
        return false;
    }
    const QString abs = QFileInfo(dir).absoluteFilePath();
    for (int i = 0; i < m_models->count(); ++i)
        if (m_models->item(i)->data(kModelAdapterRole).toString() == abs)
            return true;
    auto* item = new QListWidgetItem(QFileInfo(abs).fileName() == "adapter" ? QFileInfo(abs).dir().dirName()
                                                                            : QFileInfo(abs).fileName());
    item->setData(kModelAdapterRole, abs);
    item->setData(kCustomAdapterRole, true);  // kept when the list is refreshed from the project
    item->setToolTip(abs);
    item->setCheckState(Qt::Checked);
    m_models->addItem(item);
    return true;
}

void EvaluatePage::refreshModels()
{
    std::map<QString, bool> checked;  // by adapter folder
    QStringList custom;
    for (int i = 0; i < m_models->count(); ++i) {
        const auto* item = m_models->item(i);
        checked[item->data(kModelAdapterRole).toString()] = item->checkState() == Qt::Checked;
        if (item->data(kCustomAdapterRole).toBool())
            custom << item->data(kModelAdapterRole).toString();
    }
    auto state = [&](const QString& dir) {
        const auto it = checked.find(dir);
        return it == checked.end() || it->second ? Qt::Checked : Qt::Unchecked;
    };
    m_models->clear();
    auto* base = new QListWidgetItem(QStringLiteral("base"));
    base->setData(kModelAdapterRole, QString());
    base->setCheckState(state(QString()));
    base->setToolTip(tr("The model without an adapter"));
    m_models->addItem(base);
    for (const TrainedAdapter& a : trainedAdapters(*m_session)) {
        auto* item = new QListWidgetItem(a.runName);
        item->setData(kModelAdapterRole, a.dir);
        item->setToolTip(a.dir);
        item->setCheckState(state(a.dir));
        m_models->addItem(item);
    }
    for (const QString& dir : custom)
        if (addAdapterFolder(dir))
            for (int i = 0; i < m_models->count(); ++i)
                if (m_models->item(i)->data(kModelAdapterRole).toString() == dir)
                    m_models->item(i)->setCheckState(state(dir));
}

QString EvaluatePage::displayName(const QString& label) const
{
    if (label == QStringLiteral("base"))
        return label;
    const QString abs = QFileInfo(label).absoluteFilePath();
    for (int i = 0; i < m_models->count(); ++i)
        if (m_models->item(i)->data(kModelAdapterRole).toString() == abs)
            return m_models->item(i)->text();
    return QFileInfo(abs).fileName() == "adapter" ? QFileInfo(abs).dir().dirName() : QFileInfo(abs).fileName();
}

bool EvaluatePage::isRunning() const { return m_job->isRunning(); }

int EvaluatePage::historyCount() const { return int(m_entries.size()); }

void EvaluatePage::run()
{
    if (m_job->isRunning())
        return;
    if (m_session->modelDir().isEmpty()) {
        m_status->setText(tr("Choose a model on the Model page first."));
        return;
    }
    QStringList args{"eval", "--model", m_session->modelDir(), "--suite", suite(), "--template",
                     m_template->currentText(), "--limit", QString::number(m_limit->value()), "--json",
                     "--progress", "--threads", QString::number(std::max(1, QThread::idealThreadCount()))};
    if (!m_split->text().trimmed().isEmpty())
        args << "--split" << m_split->text().trimmed();
    m_runModels.clear();
    bool base = false;
    for (int i = 0; i < m_models->count(); ++i) {
        const auto* item = m_models->item(i);
        if (item->checkState() != Qt::Checked)
            continue;
        const QString dir = item->data(kModelAdapterRole).toString();
        if (dir.isEmpty())
            base = true;
        else
            args << "--adapter" << dir;
        m_runModels << (dir.isEmpty() ? QStringLiteral("base") : dir);
    }
    if (m_runModels.isEmpty()) {
        m_status->setText(tr("Tick at least one model."));
        return;
    }
    if (!base) {
        args << "--no-base";
    } else {  // the engine scores the base first
        m_runModels.removeAll(QStringLiteral("base"));
        m_runModels.prepend(QStringLiteral("base"));
    }
    if (m_session->hasProject())
        args << "--project" << m_session->projectPath();
    m_progressIndex = -1;
    m_progressModel.clear();
    m_progress->setValue(0);
    m_runButton->setEnabled(false);
    m_cancelButton->setEnabled(true);
    m_status->setText(tr("Starting the engine…"));
    m_job->start(args);
}

void EvaluatePage::cancel()
{
    if (m_job->isRunning())
        m_job->cancel();
}

void EvaluatePage::onProgress(const QString& line)
{
    const json j = json::parse(line.toStdString(), nullptr, /*allow_exceptions=*/false);
    if (!j.is_object() || !j.contains("done") || !j.contains("total"))
        return;
    const QString model = str(j, "model");
    if (model != m_progressModel) {
        m_progressModel = model;
        ++m_progressIndex;
    }
    const double done = j["done"].get<double>(), total = std::max(1.0, j["total"].get<double>());
    const int models = std::max<int>(1, int(m_runModels.size()));
    m_progress->setValue(int(1000.0 * (m_progressIndex + done / total) / models));
    m_status->setText(tr("%1: item %2 of %3 (model %4 of %5)")
                          .arg(displayName(model))
                          .arg(int(done))
                          .arg(int(total))
                          .arg(m_progressIndex + 1)
                          .arg(models));
}

void EvaluatePage::onFinished(bool ok, const QString& message)
{
    m_runButton->setEnabled(true);
    m_cancelButton->setEnabled(false);
    if (!ok) {
        m_status->setText(message == QStringLiteral("cancelled")
                              ? tr("Cancelled; the models finished before it are saved in the project.")
                              : tr("The evaluation failed: %1").arg(message));
        reloadFromProject();
        emit evaluationFinished(false, message);
        return;
    }
    m_progress->setValue(1000);
    const json all = json::parse(m_job->allOutput().toStdString(), nullptr, false);
    if (!all.is_object() || !all.contains("suites") || all["suites"].empty()) {
        m_status->setText(tr("The engine's output could not be read."));
        emit evaluationFinished(false, m_status->text());
        return;
    }
    const json& s = all["suites"][0];
    reloadFromProject();
    std::vector<json> results(s["results"].begin(), s["results"].end());
    showResults(str(s, "name"), str(s, "kind"), std::move(results));
    m_status->setText(tr("Done in %1 s.").arg(s["results"][0].value("seconds", 0.0), 0, 'f', 1));
    emit evaluationFinished(true, QString());
}

void EvaluatePage::reloadFromProject()
{
    refreshModels();
    m_entries.clear();
    std::vector<ft::data::EvaluationRecord> records;
    if (m_session->hasProject())
        m_session->run(tr("Read evaluations"), [&](ft::data::ProjectStore& s) { records = s.evaluations(); });
    std::map<QString, size_t> byBatch;
    for (const auto& e : records) {
        if (e.name != kEvaluationName)
            continue;
        const json j = json::parse(e.resultJson, nullptr, false);
        if (!j.is_object() || !j.contains("result") || !j["result"].is_object())
            continue;  // not ours to read
        const QString key = str(j, "batch") + "\n" + str(j, "suite");
        auto it = byBatch.find(key);
        if (it == byBatch.end()) {
            it = byBatch.emplace(key, m_entries.size()).first;
            m_entries.push_back({str(j, "batch"), str(j, "suite"), str(j, "kind"),
                                 QString::fromStdString(e.createdAt), {}});
        }
        json r = j["result"];
        r["model"] = j.value("model", std::string("base"));
        m_entries[it->second].results.push_back(std::move(r));
    }
    std::reverse(m_entries.begin(), m_entries.end());  // newest first
    const QSignalBlocker block(m_history);
    m_history->clear();
    for (const Entry& e : m_entries)
        m_history->addItem(tr("%1 · %2 · %n model(s)", nullptr, int(e.results.size())).arg(e.suite, e.when));
    if (!m_entries.empty()) {
        m_history->setCurrentIndex(0);
        showHistoryEntry(0);
    } else {
        showResults(QString(), QString(), {});
    }
}

void EvaluatePage::showHistoryEntry(int index)
{
    if (index < 0 || index >= int(m_entries.size()))
        return;
    const Entry& e = m_entries[size_t(index)];
    showResults(e.suite, e.kind, e.results);
}

void EvaluatePage::showResults(const QString& suiteName, const QString& kind, std::vector<json> results)
{
    m_shown = std::move(results);
    m_shownKind = kind;
    for (json& r : m_shown)
        r["model"] = displayName(str(r, "model")).toStdString();
    if (m_shown.empty())
        m_title->setText(tr("No evaluation yet: pick a suite and models, then press Evaluate."));
    else
        m_title->setText(tr("<b>%1</b> (%2): %3 items, prompt template %4%5")
                             .arg(suiteName.toHtmlEscaped(), kind)
                             .arg(m_shown[0]["items"].size())
                             .arg(str(m_shown[0], "template"))
                             .arg(m_shown[0].value("cancelled", false) ? tr(", cancelled part-way") : QString()));
    fillMetricsTable();
    fillChart();
    fillItemsTable();
}

void EvaluatePage::fillMetricsTable()
{
    m_metrics->clear();
    m_metrics->setRowCount(int(m_shown.size()));
    QStringList headers{tr("Model")};
    if (!m_shown.empty())
        for (const json& m : m_shown[0]["metrics"])
            headers << QString::fromStdString(m.value("name", std::string())) + tr(" (95% interval)");
    headers << tr("Items");
    m_metrics->setColumnCount(int(headers.size()));
    m_metrics->setHorizontalHeaderLabels(headers);
    for (int r = 0; r < int(m_shown.size()); ++r) {
        const json& res = m_shown[size_t(r)];
        m_metrics->setItem(r, 0, new QTableWidgetItem(str(res, "model")));
        int c = 1;
        for (const json& m : res["metrics"])
            m_metrics->setItem(r, c++, new QTableWidgetItem(metricText(m)));
        m_metrics->setItem(r, int(headers.size()) - 1, new QTableWidgetItem(QString::number(res["items"].size())));
    }
    m_metrics->resizeColumnsToContents();
}

// The headline metric per model, its interval as error bars.
void EvaluatePage::fillChart()
{
    m_chart->clearPlottables();
    m_chart->clearItems();
    if (m_shown.empty() || m_shown[0]["metrics"].empty()) {
        m_chart->replot();
        return;
    }
    const std::string name = m_shown[0]["metrics"][0].value("name", std::string());
    auto* bars = new QCPBars(m_chart->xAxis, m_chart->yAxis);
    bars->setName(QString::fromStdString(name));
    bars->setWidth(0.6);
    bars->setBrush(QColor(70, 130, 180, 170));
    auto* errors = new QCPErrorBars(m_chart->xAxis, m_chart->yAxis);
    errors->setDataPlottable(bars);
    QVector<double> keys, values, below, above;
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    double top = 0;
    for (size_t i = 0; i < m_shown.size(); ++i) {
        const json& m = m_shown[i]["metrics"][0];
        keys << double(i + 1);
        values << m.value("value", 0.0);
        below << m.value("value", 0.0) - m.value("low", 0.0);
        above << m.value("high", 0.0) - m.value("value", 0.0);
        top = std::max(top, m.value("high", 0.0));
        ticker->addTick(double(i + 1), str(m_shown[i], "model"));
    }
    bars->setData(keys, values);
    errors->setData(below, above);
    m_chart->xAxis->setTicker(ticker);
    m_chart->xAxis->setRange(0.3, double(m_shown.size()) + 0.7);
    const bool proportion = name != "perplexity" && name != "nll";
    m_chart->yAxis->setRange(0, proportion ? 1.0 : top * 1.1 + 1e-9);
    m_chart->yAxis->setLabel(QString::fromStdString(name) + tr(" (bars: 95% interval)"));
    m_chart->replot();
}

void EvaluatePage::fillItemsTable()
{
    m_items->clear();
    if (m_shown.empty()) {
        m_items->setRowCount(0);
        m_items->setColumnCount(0);
        return;
    }
    const bool perplexity = m_shownKind == QStringLiteral("perplexity");
    QStringList headers{tr("Item"), perplexity ? tr("Text") : tr("Prompt (as the model saw it)")};
    if (!perplexity)
        headers << tr("Expected");
    for (const json& r : m_shown)
        headers << (perplexity ? tr("%1: NLL per token").arg(str(r, "model")) : str(r, "model"));
    m_items->setColumnCount(int(headers.size()));
    m_items->setHorizontalHeaderLabels(headers);
    const json& first = m_shown[0]["items"];
    m_items->setRowCount(int(first.size()));
    const int fixed = perplexity ? 2 : 3;
    for (int row = 0; row < int(first.size()); ++row) {
        const json& it = first[size_t(row)];
        m_items->setItem(row, 0, new QTableWidgetItem(str(it, "id")));
        auto* prompt = new QTableWidgetItem(oneLine(str(it, "prompt")));
        prompt->setToolTip(str(it, "prompt"));
        m_items->setItem(row, 1, prompt);
        if (!perplexity)
            m_items->setItem(row, 2, new QTableWidgetItem(str(it, "expected")));
        for (size_t m = 0; m < m_shown.size(); ++m) {
            const json& items = m_shown[m]["items"];
            if (size_t(row) >= items.size())
                continue;
            const json& mine = items[size_t(row)];
            QTableWidgetItem* cell;
            if (perplexity) {
                const double tokens = std::max(1.0, mine.value("tokens", 1.0));
                cell = new QTableWidgetItem(QString::number(mine.value("nll", 0.0) / tokens, 'f', 3));
            } else {
                const bool passed = mine.value("passed", false);
                cell = new QTableWidgetItem((passed ? QStringLiteral("✓ ") : QStringLiteral("✗ ")) +
                                            oneLine(str(mine, "answer")));
                cell->setBackground(passed ? QColor(215, 240, 215) : QColor(245, 215, 215));
                cell->setToolTip(str(mine, "answer") +
                                 (mine.contains("detail") ? QStringLiteral("\n") + str(mine, "detail") : QString()));
            }
            m_items->setItem(row, fixed + int(m), cell);
        }
    }
    m_items->horizontalHeader()->setSectionResizeMode(QHeaderView::Interactive);
    m_items->resizeColumnsToContents();
    for (int c = 1; c < m_items->columnCount(); ++c)
        m_items->setColumnWidth(c, std::min(m_items->columnWidth(c), 320));
}

} // namespace ft::ui
