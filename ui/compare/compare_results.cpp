// ComparePage: running the prompts through the models, the side-by-side table, storing
// each output as a "compare" evaluation and reading them back, importing prompts.
#include "compare/compare_page.h"

#include "app/session.h"
#include "data/project_store.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QTableWidget>

namespace ft::ui {

namespace {

using ft::data::DatasetKind;

// The prompt a row asks, by dataset kind; "" when it has none.
QString promptOf(DatasetKind kind, const nlohmann::json& f) {
    auto text = [&](const char* key) { return f.contains(key) ? fieldText(f[key]).trimmed() : QString(); };
    switch (kind) {
    case DatasetKind::Instruction: {
        const QString input = text("input");
        return input.isEmpty() ? text("instruction") : text("instruction") + "\n\n" + input;
    }
    case DatasetKind::Chat:
        for (const auto& m : f.value("messages", nlohmann::json::array()))
            if (m.value("role", std::string()) == "user")
                return fieldText(m.value("content", nlohmann::json())).trimmed();
        return {};
    case DatasetKind::Text: return text("text").left(400);
    default: return text("prompt");  // preference, unpaired, verifiable
    }
}

} // namespace

void ComparePage::refreshDatasets() {
    const QString keep = m_importDataset->currentText();
    m_importDataset->clear();
    if (m_session->hasProject())
        m_session->run(tr("List datasets"), [this](ft::data::ProjectStore& s) {
            for (const auto& d : s.datasets())
                m_importDataset->addItem(QString::fromStdString(d.name), QVariant::fromValue<qint64>(d.id));
        });
    m_importDataset->setCurrentIndex(std::max(0, m_importDataset->findText(keep)));
}

void ComparePage::importPrompts() {
    const qint64 id = m_importDataset->currentData().toLongLong();
    if (id <= 0)
        return m_status->setText(tr("Choose a dataset to import prompts from."));
    int added = 0;
    m_session->run(tr("Import prompts"), [&](ft::data::ProjectStore& s) {
        const auto info = s.dataset(id);
        if (!info)
            return;
        ft::data::RowQuery q;
        q.datasetId = id;
        q.limit = m_importCount->value();
        q.split = ft::data::Split::Eval;  // held-out prompts are the fair ones to compare on
        if (s.count(q) == 0)
            q.split.reset();
        for (const auto& row : s.query(q)) {
            const int before = m_prompts->count();
            addPrompt(promptOf(info->kind, row.fields));
            added += m_prompts->count() - before;
        }
    });
    m_status->setText(tr("Imported %1 prompts from '%2'.").arg(added).arg(m_importDataset->currentText()));
    rebuildTable();
    refreshBlind();
}

void ComparePage::runAll() {
    const QStringList ps = prompts();
    const QStringList models = checkedModels();
    if (ps.isEmpty() || models.isEmpty())
        return m_status->setText(tr("Add at least one prompt and tick at least one model."));
    std::vector<CompareTask> tasks;
    for (const QString& p : ps)
        for (const QString& m : models)
            tasks.push_back({p, modelOf(m)});
    GenerationSettings settings;
    settings.maxNewTokens = m_maxTokens->value();
    settings.temperature = m_temperature->value();
    settings.seed = m_seed->value();
    settings.templateName = m_template->currentText();
    rebuildTable();
    for (const auto& t : tasks)
        setCell(t.prompt, t.model.name, tr("queued"));
    m_runButton->setEnabled(false);
    m_stopButton->setEnabled(true);
    m_runner->start(m_session->modelDir(), std::move(tasks), settings);
}

void ComparePage::stop() { m_runner->cancel(); }

void ComparePage::onTaskFinished(const CompareTask& task, const QString& output, bool ok, const QString& message) {
    if (!ok) {
        setCell(task.prompt, task.model.name, tr("⚠ not generated: %1").arg(message));
        return;
    }
    m_outputs[task.prompt][task.model.name] = output;
    setCell(task.prompt, task.model.name, output);
    const nlohmann::json result = {
        {"prompt", task.prompt.toStdString()},
        {"model", task.model.name.toStdString()},
        {"adapter", task.model.adapterDir.toStdString()},
        {"model_dir", m_session->modelDir().toStdString()},
        {"settings",
         {{"max_new_tokens", m_maxTokens->value()},
          {"temperature", m_temperature->value()},
          {"seed", m_seed->value()},
          {"template", m_template->currentText().toStdString()}}},
        {"rendered_prompt", renderedPrompt(task.prompt, task.model.name).toStdString()},
        {"output", output.toStdString()}};
    m_session->run(tr("Save the output"), [&](ft::data::ProjectStore& s) {
        s.addEvaluation(task.model.runId, kEvaluationName, result.dump());
    });
}

void ComparePage::reloadFromProject() {
    m_runner->cancel();
    m_outputs.clear();
    m_rendered.clear();
    {
        const QSignalBlocker block(m_prompts);
        m_prompts->clear();
    }
    refreshModels();
    refreshDatasets();
    std::vector<ft::data::EvaluationRecord> evaluations;
    if (m_session->hasProject())
        m_session->run(tr("Read compare results"), [&](ft::data::ProjectStore& s) { evaluations = s.evaluations(); });
    for (const auto& e : evaluations) {
        if (e.name != kEvaluationName)
            continue;
        const auto j = nlohmann::json::parse(e.resultJson, nullptr, /*allow_exceptions=*/false);
        if (!j.is_object() || !j.contains("prompt") || !j.contains("model") || !j.contains("output"))
            continue;  // not ours to read; leave it alone
        const QString prompt = QString::fromStdString(j.value("prompt", std::string()));
        const QString model = QString::fromStdString(j.value("model", std::string()));
        const QString adapter = QString::fromStdString(j.value("adapter", std::string()));
        addPrompt(prompt);
        m_outputs[prompt][model] = QString::fromStdString(j.value("output", std::string()));
        if (const std::string r = j.value("rendered_prompt", std::string()); !r.empty())
            m_rendered[prompt][model] = QString::fromStdString(r);
        if (m_models->findItems(model, Qt::MatchExactly).isEmpty() && !adapter.isEmpty())
            addModelItem({model, adapter, e.runId}, false)->setData(Qt::UserRole + 2, true);
    }
    rebuildTable();
    refreshBlind();
    m_status->setText(m_outputs.empty() ? tr("Add prompts, tick models, press Run.")
                                        : tr("%1 prompts with saved outputs.").arg(m_outputs.size()));
}

// Rows = prompts, first column the prompt, then one column per ticked model.
void ComparePage::rebuildTable() {
    const QStringList ps = prompts();
    m_columns = checkedModels();
    m_table->clear();
    m_table->setRowCount(int(ps.size()));
    m_table->setColumnCount(int(m_columns.size()) + 1);
    m_table->setHorizontalHeaderLabels(QStringList{tr("Prompt")} + m_columns);
    auto* header = m_table->horizontalHeader();
    header->setSectionResizeMode(QHeaderView::Stretch);
    header->setSectionResizeMode(0, QHeaderView::Interactive);
    m_table->setColumnWidth(0, 200);
    for (int r = 0; r < ps.size(); ++r) {
        auto* item = new QTableWidgetItem(ps[r]);
        QFont f = item->font();
        f.setBold(true);
        item->setFont(f);
        m_table->setItem(r, 0, item);
        for (int c = 0; c < m_columns.size(); ++c) {
            const auto it = m_outputs.find(ps[r]);
            QString text;
            if (it != m_outputs.end() && it->second.count(m_columns[c]))
                text = it->second.at(m_columns[c]);
            m_table->setItem(r, c + 1, new QTableWidgetItem(text));
        }
    }
    m_table->resizeRowsToContents();
}

void ComparePage::setCell(const QString& prompt, const QString& model, const QString& text) {
    const int c = int(m_columns.indexOf(model));
    if (c < 0)
        return;
    for (int r = 0; r < m_table->rowCount(); ++r)
        if (m_table->item(r, 0) && m_table->item(r, 0)->text() == prompt) {
            if (auto* item = m_table->item(r, c + 1)) {
                item->setText(text);
                const QString rendered = renderedPrompt(prompt, model);
                item->setToolTip(rendered.isEmpty() ? QString()
                                                    : tr("The prompt as %1 saw it:\n%2").arg(model, rendered));
            }
            return;
        }
}

QString ComparePage::renderedPrompt(const QString& prompt, const QString& model) const {
    const auto it = m_rendered.find(prompt);
    if (it == m_rendered.end())
        return {};
    const auto m = it->second.find(model);
    return m == it->second.end() ? QString() : m->second;
}

QString ComparePage::output(const QString& prompt, const QString& model) const {
    const auto it = m_outputs.find(prompt);
    if (it == m_outputs.end())
        return {};
    const auto jt = it->second.find(model);
    return jt == it->second.end() ? QString() : jt->second;
}

void ComparePage::refreshBlind() { m_blind->setContent(prompts(), m_outputs, modelNames()); }

} // namespace ft::ui
