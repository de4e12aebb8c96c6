#include "runs/runs_page.h"

#include "runs/deploy_dialog.h"

#include "app/session.h"
#include "data/project_store.h"
#include "data/run_records.h"
#include "engine/cli_job.h"

#include <QDateTime>
#include <QDesktopServices>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonDocument>
#include <QLabel>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QTableWidget>
#include <QUrl>
#include <QVBoxLayout>
#include <qcustomplot.h>

namespace ft::ui {

namespace {
enum Column { ColId, ColName, ColStatus, ColTechnique, ColObjective, ColCreated, ColDuration, ColLoss, ColEval, ColCount };

QString durationText(const QString& from, const QString& to) {
    const QDateTime a = QDateTime::fromString(from, Qt::ISODateWithMs);
    const QDateTime b = QDateTime::fromString(to, Qt::ISODateWithMs);
    if (!a.isValid() || !b.isValid())
        return {};
    const qint64 s = a.secsTo(b);
    return s >= 3600 ? QStringLiteral("%1 h %2 min").arg(s / 3600).arg(s % 3600 / 60)
         : s >= 60   ? QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60)
                     : QStringLiteral("%1 s").arg(s);
}

bool copyFolder(const QString& from, const QString& to, QString* error) {
    QDir src(from);
    if (!QDir().mkpath(to)) {
        *error = QStringLiteral("cannot create %1").arg(to);
        return false;
    }
    for (const QFileInfo& f : src.entryInfoList(QDir::Files | QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QString target = to + "/" + f.fileName();
        if (f.isDir() ? !copyFolder(f.filePath(), target, error) : !QFile::copy(f.filePath(), target)) {
            if (error->isEmpty())
                *error = QStringLiteral("cannot copy %1 to %2").arg(f.filePath(), target);
            return false;
        }
    }
    return true;
}
} // namespace

RunsPage::RunsPage(Session* session, QWidget* parent) : QWidget(parent), m_session(session), m_job(new CliJob(this)) {
    auto* layout = new QVBoxLayout(this);
    auto* buttons = new QHBoxLayout;
    m_resume = new QPushButton(QStringLiteral("Resume"), this);
    m_resume->setToolTip(QStringLiteral("Continue the run from its last complete checkpoint"));
    m_duplicate = new QPushButton(QStringLiteral("Duplicate as New Run"), this);
    m_duplicate->setToolTip(QStringLiteral("Open this run's settings on the Train page, with a new output folder"));
    m_open = new QPushButton(QStringLiteral("Open Folder"), this);
    m_exportAdapter = new QPushButton(QStringLiteral("Export Adapter…"), this);
    m_exportAdapter->setToolTip(QStringLiteral("Copy the adapter folder (PEFT layout: adapter_config.json + adapter_model.safetensors)"));
    m_exportMerged = new QPushButton(QStringLiteral("Export Merged Model…"), this);
    m_exportMerged->setToolTip(QStringLiteral("Fold the adapter into the base model and write a Hugging Face model folder"));
    m_exportDeploy = new QPushButton(QStringLiteral("Export for llama.cpp / Ollama"), this);
    m_exportDeploy->setObjectName(QStringLiteral("exportDeployButton"));
    m_exportDeploy->setToolTip(QStringLiteral("A GGUF file (merged, quantized), the LoRA alone as GGUF, or an Ollama folder"));
    auto* deployMenu = new QMenu(m_exportDeploy);
    deployMenu->addAction(QStringLiteral("GGUF File…"), this, [this] { exportDeploy(int(DeployDialog::Target::Gguf)); });
    deployMenu->addAction(QStringLiteral("GGUF LoRA Adapter…"), this,
                          [this] { exportDeploy(int(DeployDialog::Target::GgufLora)); });
    deployMenu->addAction(QStringLiteral("Ollama…"), this, [this] { exportDeploy(int(DeployDialog::Target::Ollama)); });
    m_exportDeploy->setMenu(deployMenu);
    m_delete = new QPushButton(QStringLiteral("Remove from Project"), this);
    m_delete->setToolTip(QStringLiteral("Forget this run and its metrics; its folder stays on disk"));
    for (QPushButton* b : {m_resume, m_duplicate, m_open, m_exportAdapter, m_exportMerged, m_exportDeploy, m_delete})
        buttons->addWidget(b);
    buttons->addStretch();
    layout->addLayout(buttons);
    m_state = new QLabel(this);
    m_state->setObjectName(QStringLiteral("runsState"));
    layout->addWidget(m_state);

    auto* split = new QSplitter(Qt::Vertical, this);
    m_table = new QTableWidget(0, ColCount, split);
    m_table->setObjectName(QStringLiteral("runTable"));
    m_table->setHorizontalHeaderLabels({QStringLiteral("Id"), QStringLiteral("Name"), QStringLiteral("Status"),
                                        QStringLiteral("Technique"), QStringLiteral("Objective"), QStringLiteral("Created"),
                                        QStringLiteral("Duration"), QStringLiteral("Last loss"), QStringLiteral("Last eval loss")});
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->verticalHeader()->hide();
    m_table->horizontalHeader()->setSectionResizeMode(ColName, QHeaderView::Stretch);
    auto* detail = new QSplitter(Qt::Horizontal, split);
    m_config = new QPlainTextEdit(detail);
    m_config->setObjectName(QStringLiteral("runConfig"));
    m_config->setReadOnly(true);
    m_config->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_plot = new QCustomPlot(detail);
    m_plot->setObjectName(QStringLiteral("runPlot"));
    // Noisy curves of thousands of steps: segments, not one self-crossing polyline (see TrainCharts::makePlot).
    m_plot->setPlottingHint(QCP::phFastPolylines, true);
    m_plot->xAxis->setLabel(QStringLiteral("step"));
    m_plot->yAxis->setLabel(QStringLiteral("loss"));
    m_plot->legend->setVisible(true);
    m_plot->setMinimumHeight(220);
    detail->addWidget(m_config);
    detail->addWidget(m_plot);
    detail->setStretchFactor(1, 2);
    split->addWidget(m_table);
    split->addWidget(detail);
    layout->addWidget(split, 1);

    connect(m_table, &QTableWidget::itemSelectionChanged, this, &RunsPage::showSelected);
    connect(m_session, &Session::runsChanged, this, &RunsPage::refresh);
    connect(m_session, &Session::projectChanged, this, &RunsPage::refresh);
    connect(m_resume, &QPushButton::clicked, this, [this] {
        if (selectedRunId() > 0)
            emit resumeRequested(selectedRunId());
    });
    connect(m_duplicate, &QPushButton::clicked, this, [this] {
        QJsonObject config = QJsonDocument::fromJson(m_config->toPlainText().toUtf8()).object();
        config.remove(QStringLiteral("output_dir"));  // a new run gets a new folder
        config.remove(QStringLiteral("resume"));
        emit duplicateRequested(config);
    });
    connect(m_open, &QPushButton::clicked, this, [this] {
        QDesktopServices::openUrl(QUrl::fromLocalFile(selectedOutputDir()));
    });
    connect(m_exportAdapter, &QPushButton::clicked, this, &RunsPage::exportAdapter);
    connect(m_exportMerged, &QPushButton::clicked, this, &RunsPage::exportMerged);
    connect(m_delete, &QPushButton::clicked, this, &RunsPage::deleteRun);
    connect(m_job, &CliJob::errorLine, this, [this](const QString& line) { m_state->setText(line); });
    connect(m_job, &CliJob::finished, this, [this](bool ok, const QString& message) {
        m_exportMerged->setEnabled(true);
        if (ok)
            m_state->setText(QStringLiteral("Merged model written: ") + m_job->arguments().last());
        else
            m_session->errorOccurred(QStringLiteral("Export of the merged model failed: ") + message);
    });
    showSelected();
}

qint64 RunsPage::selectedRunId() const {
    const auto rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? 0 : m_table->item(rows.first().row(), ColId)->text().toLongLong();
}

void RunsPage::selectRun(qint64 runId) {
    for (int r = 0; r < m_table->rowCount(); ++r)
        if (m_table->item(r, ColId)->text().toLongLong() == runId)
            m_table->selectRow(r);
}

QString RunsPage::selectedOutputDir() const {
    const auto rows = m_table->selectionModel()->selectedRows();
    return rows.isEmpty() ? QString() : m_table->item(rows.first().row(), ColName)->data(Qt::UserRole).toString();
}

void RunsPage::refresh() {
    const qint64 keep = selectedRunId();
    m_table->setRowCount(0);
    std::vector<ft::data::RunRecord> runs;
    if (!m_session->hasProject() || !m_session->run(QStringLiteral("Listing runs"), [&](ft::data::ProjectStore& s) { runs = s.runs(); }))
        return showSelected();
    for (const auto& run : runs) {
        const QJsonObject config = QJsonDocument::fromJson(QByteArray::fromStdString(run.configJson)).object();
        std::vector<std::pair<int64_t, double>> loss, evalLoss;
        std::string updatedAt;
        m_session->run(QStringLiteral("Reading metrics"), [&](ft::data::ProjectStore& s) {
            loss = s.metric(run.id, "loss");
            evalLoss = s.metric(run.id, "eval_loss");
            updatedAt = ft::data::runUpdatedAt(s, run.id);
        });
        const int r = m_table->rowCount();
        m_table->insertRow(r);
        auto set = [&](int col, const QString& text) {
            auto* item = new QTableWidgetItem(text);
            item->setToolTip(text);
            m_table->setItem(r, col, item);
        };
        set(ColId, QString::number(run.id));
        m_table->item(r, ColId)->setData(Qt::UserRole, QByteArray::fromStdString(run.configJson));  // for showSelected()
        set(ColName, QString::fromStdString(run.name));
        m_table->item(r, ColName)->setData(Qt::UserRole, QString::fromStdString(run.outputDir));
        set(ColStatus, QString::fromStdString(run.status));
        set(ColTechnique, config.value("technique").toObject().value("name").toString(QStringLiteral("lora")));
        set(ColObjective, config.value("objective").toObject().value("name").toString(QStringLiteral("sft")));
        set(ColCreated, QDateTime::fromString(QString::fromStdString(run.createdAt), Qt::ISODateWithMs).toLocalTime().toString(QStringLiteral("yyyy-MM-dd HH:mm")));
        set(ColDuration, run.status == "created" || run.status == "running" ? QString() : durationText(QString::fromStdString(run.createdAt), QString::fromStdString(updatedAt)));
        set(ColLoss, loss.empty() ? QString() : QString::number(loss.back().second, 'f', 4));
        set(ColEval, evalLoss.empty() ? QString() : QString::number(evalLoss.back().second, 'f', 4));
        if (run.status == "failed")
            m_table->item(r, ColStatus)->setForeground(QColor(0xa0, 0x20, 0x20));
    }
    m_table->resizeColumnsToContents();
    m_table->horizontalHeader()->setSectionResizeMode(ColName, QHeaderView::Stretch);
    if (keep > 0)
        selectRun(keep);
    showSelected();
}

void RunsPage::showSelected() {
    const qint64 id = selectedRunId();
    const QString dir = selectedOutputDir();
    const bool hasAdapter = !dir.isEmpty() && QFileInfo::exists(dir + "/adapter/adapter_config.json");
    m_resume->setEnabled(id > 0);
    m_duplicate->setEnabled(id > 0);
    m_open->setEnabled(!dir.isEmpty() && QFileInfo(dir).isDir());
    m_exportAdapter->setEnabled(hasAdapter);
    m_exportMerged->setEnabled(hasAdapter && !m_job->isRunning());
    m_exportDeploy->setEnabled(hasAdapter);
    m_delete->setEnabled(id > 0);
    m_plot->clearGraphs();
    m_config->clear();
    m_plot->legend->setVisible(false);
    if (id <= 0) {
        m_plot->replot();
        return;
    }
    const auto rows = m_table->selectionModel()->selectedRows();
    const QByteArray config = m_table->item(rows.first().row(), ColId)->data(Qt::UserRole).toByteArray();
    m_config->setPlainText(QString::fromUtf8(QJsonDocument::fromJson(config).toJson(QJsonDocument::Indented)));
    const QList<QPair<QString, QColor>> series{{QStringLiteral("loss"), QColor(0x1f, 0x77, 0xb4)},
                                               {QStringLiteral("eval_loss"), QColor(0xd6, 0x27, 0x28)}};
    for (const auto& [name, color] : series) {
        std::vector<std::pair<int64_t, double>> points;
        m_session->run(QStringLiteral("Reading metrics"), [&](ft::data::ProjectStore& s) { points = s.metric(id, name.toStdString()); });
        QCPGraph* g = m_plot->addGraph();
        g->setName(name);
        g->setPen(QPen(color, 1.6));
        if (name == QLatin1String("eval_loss"))
            g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
        for (const auto& [step, value] : points)
            g->addData(static_cast<double>(step), value);
    }
    m_plot->rescaleAxes();
    m_plot->legend->setVisible(true);
    m_plot->replot();
}

void RunsPage::exportAdapter() {
    const QString dir = selectedOutputDir() + "/adapter";
    const QString target = QFileDialog::getExistingDirectory(this, QStringLiteral("Export the adapter into (an empty folder)"));
    if (target.isEmpty())
        return;
    QString error;
    if (!QDir(target).isEmpty())
        m_session->errorOccurred(QStringLiteral("Export refused: %1 is not empty (nothing was overwritten)").arg(target));
    else if (!copyFolder(dir, target, &error))
        m_session->errorOccurred(QStringLiteral("Export of the adapter failed: ") + error);
    else
        m_state->setText(QStringLiteral("Adapter exported to ") + target);
}

void RunsPage::exportMerged() {
    const QString target = QFileDialog::getSaveFileName(this, QStringLiteral("Merged model folder (a new folder)"));
    if (target.isEmpty())
        return;
    m_exportMerged->setEnabled(false);
    m_state->setText(QStringLiteral("Merging…"));
    m_job->start({QStringLiteral("adapter"), QStringLiteral("export"), QStringLiteral("--adapter"),
                  selectedOutputDir() + "/adapter", QStringLiteral("--out"), target});
}

void RunsPage::exportDeploy(int target) {
    const auto rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return;
    QJsonObject config =
        QJsonDocument::fromJson(m_table->item(rows.first().row(), ColId)->data(Qt::UserRole).toByteArray()).object();
    config.insert("output_dir", selectedOutputDir());  // the run's folder as the project records it
    auto* dialog = DeployDialog::forRunConfig(m_session, config, DeployDialog::Target(target), this);
    connect(dialog, &DeployDialog::taskFinished, this, [this](bool ok) {
        if (ok)
            m_state->setText(QStringLiteral("Export written; the dialog shows the command to run it."));
    });
    dialog->open();
}

void RunsPage::deleteRun() {
    const qint64 id = selectedRunId();
    if (id <= 0)
        return;
    if (QMessageBox::question(this, QStringLiteral("Remove run"),
                              QStringLiteral("Remove run %1 and its metrics from the project? Its folder %2 stays on disk.")
                                  .arg(id).arg(selectedOutputDir())) != QMessageBox::Yes)
        return;
    if (m_session->run(QStringLiteral("Removing the run"), [id](ft::data::ProjectStore& s) { ft::data::deleteRun(s, id); }))
        m_session->notifyRunsChanged();
}

} // namespace ft::ui
