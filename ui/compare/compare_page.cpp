// ComparePage: construction, layout, the prompt and model lists. Running, the results
// table, storing and reloading outputs, and importing prompts are in compare_results.cpp.
#include "compare/compare_page.h"

#include "app/session.h"
#include "data/project_store.h"
#include "runs/trained_adapters.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QSpinBox>
#include <QSplitter>
#include <QStackedWidget>
#include <QTableWidget>
#include <QVBoxLayout>

namespace ft::ui {

namespace {
constexpr int kAdapterRole = Qt::UserRole;
constexpr int kRunRole = Qt::UserRole + 1;     // run id, -1 when none
constexpr int kCustomRole = Qt::UserRole + 2;  // added by hand (kept when the runs change)
} // namespace

ComparePage::ComparePage(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    m_runner = new CompareRunner(this);
    auto* root = new QHBoxLayout(this);
    auto* split = new QSplitter(Qt::Horizontal);
    split->setChildrenCollapsible(false);
    root->addWidget(split);
    split->addWidget(buildLeft());

    auto* right = new QWidget;
    auto* rightLay = new QVBoxLayout(right);
    rightLay->setContentsMargins(0, 0, 0, 0);
    m_blindMode = new QCheckBox(tr("Blind A/B mode: hide which model wrote which answer, and vote"));
    m_blindMode->setObjectName("blindMode");
    rightLay->addWidget(m_blindMode);
    m_stack = new QStackedWidget;
    m_table = new QTableWidget;
    m_table->setObjectName("outputTable");
    m_table->setWordWrap(true);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setVerticalScrollMode(QAbstractItemView::ScrollPerPixel);
    m_table->verticalHeader()->setVisible(false);
    QFont f = m_table->font();
    f.setPointSizeF(f.pointSizeF() + 1);
    m_table->setFont(f);
    m_blind = new BlindVotePanel(m_session);
    m_stack->addWidget(m_table);
    m_stack->addWidget(m_blind);
    rightLay->addWidget(m_stack, 1);
    split->addWidget(right);
    split->setStretchFactor(1, 1);
    split->setSizes({330, 950});

    connect(m_blindMode, &QCheckBox::toggled, this, &ComparePage::setBlindMode);
    connect(m_runner, &CompareRunner::taskStarted, this, [this](const CompareTask& t) {
        setCell(t.prompt, t.model.name, tr("generating…"));
        m_status->setText(tr("Generating %1 of %2: %3").arg(m_runner->done() + 1).arg(m_runner->total()).arg(t.model.name));
    });
    connect(m_runner, &CompareRunner::taskText, this,
            [this](const CompareTask& t, const QString& text) { setCell(t.prompt, t.model.name, text); });
    connect(m_runner, &CompareRunner::taskFinished, this, &ComparePage::onTaskFinished);
    connect(m_runner, &CompareRunner::taskPrompt, this, [this](const CompareTask& task, const QString& rendered) {
        m_rendered[task.prompt][task.model.name] = rendered;
    });
    connect(m_runner, &CompareRunner::allFinished, this, [this](bool completed) {
        m_runButton->setEnabled(true);
        m_stopButton->setEnabled(false);
        m_status->setText(completed ? tr("Done: %1 outputs, saved in the project.").arg(m_runner->done())
                                    : tr("Stopped after %1 of %2.").arg(m_runner->done()).arg(m_runner->total()));
        if (!completed)
            rebuildTable();  // clear "generating…" cells
        m_table->resizeRowsToContents();
        refreshBlind();
    });
    connect(m_session, &Session::projectChanged, this, &ComparePage::reloadFromProject);
    connect(m_session, &Session::runsChanged, this, [this] {
        refreshModels();
        rebuildTable();
    });
    connect(m_session, &Session::datasetsChanged, this, &ComparePage::refreshDatasets);
    reloadFromProject();
}

ComparePage::~ComparePage() = default;

QWidget* ComparePage::buildLeft() {
    auto* left = new QWidget;
    left->setMinimumWidth(300);
    left->setMaximumWidth(420);
    auto* lay = new QVBoxLayout(left);
    lay->setContentsMargins(0, 0, 0, 0);

    auto* promptBox = new QGroupBox(tr("Prompts"));
    auto* pl = new QVBoxLayout(promptBox);
    m_prompts = new QListWidget;
    m_prompts->setObjectName("promptList");
    m_prompts->setWordWrap(true);
    m_prompts->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_prompts->setToolTip(tr("Double-click a prompt to edit it"));
    pl->addWidget(m_prompts, 1);
    auto* pb = new QHBoxLayout;
    auto* add = new QPushButton(tr("Add"));
    auto* remove = new QPushButton(tr("Remove"));
    add->setObjectName("addPromptButton");
    remove->setObjectName("removePromptButton");
    pb->addWidget(add);
    pb->addWidget(remove);
    pl->addLayout(pb);
    auto* ib = new QHBoxLayout;
    m_importDataset = new QComboBox;
    m_importDataset->setObjectName("importDataset");
    m_importDataset->setPlaceholderText(tr("import from dataset…"));
    m_importCount = new QSpinBox;
    m_importCount->setRange(1, 1000);
    m_importCount->setValue(10);
    m_importCount->setToolTip(tr("How many prompts to import (the eval split first, when the dataset has one)"));
    auto* import = new QPushButton(tr("Import"));
    import->setObjectName("importPromptsButton");
    ib->addWidget(m_importDataset, 1);
    ib->addWidget(m_importCount);
    ib->addWidget(import);
    pl->addLayout(ib);
    lay->addWidget(promptBox, 3);
    connect(add, &QPushButton::clicked, this, [this] {
        auto* item = new QListWidgetItem(tr("New prompt"));
        item->setFlags(item->flags() | Qt::ItemIsEditable);
        m_prompts->addItem(item);
        m_prompts->editItem(item);
        rebuildTable();
    });
    connect(remove, &QPushButton::clicked, this, [this] {
        qDeleteAll(m_prompts->selectedItems());
        rebuildTable();
        refreshBlind();
    });
    connect(import, &QPushButton::clicked, this, &ComparePage::importPrompts);
    connect(m_prompts, &QListWidget::itemChanged, this, [this] {
        rebuildTable();
        refreshBlind();
    });

    auto* modelBox = new QGroupBox(tr("Models"));
    auto* ml = new QVBoxLayout(modelBox);
    m_models = new QListWidget;
    m_models->setObjectName("modelList");
    m_models->setToolTip(tr("The base model, and adapters of finished runs; tick the ones to run"));
    ml->addWidget(m_models, 1);
    auto* addFolder = new QPushButton(tr("Add adapter folder…"));
    addFolder->setObjectName("addAdapterButton");
    ml->addWidget(addFolder);
    lay->addWidget(modelBox, 2);
    connect(addFolder, &QPushButton::clicked, this, [this] {
        const QString dir = QFileDialog::getExistingDirectory(this, tr("Adapter folder (adapter_config.json)"));
        QString error;
        if (!dir.isEmpty() && !addAdapterFolder(dir, &error))
            m_status->setText(error);
    });
    connect(m_models, &QListWidget::itemChanged, this, [this] { rebuildTable(); });

    auto* genBox = new QGroupBox(tr("Generation"));
    auto* form = new QFormLayout(genBox);
    m_maxTokens = new QSpinBox;
    m_maxTokens->setObjectName("maxNewTokens");
    m_maxTokens->setRange(1, 4096);
    m_maxTokens->setValue(64);
    m_temperature = new QDoubleSpinBox;
    m_temperature->setObjectName("temperature");
    m_temperature->setRange(0.0, 2.0);
    m_temperature->setSingleStep(0.1);
    m_temperature->setToolTip(tr("0 = greedy (the same output every time)"));
    m_seed = new QSpinBox;
    m_seed->setObjectName("seed");
    m_seed->setRange(0, 1'000'000);
    form->addRow(tr("Max new tokens"), m_maxTokens);
    form->addRow(tr("Temperature"), m_temperature);
    form->addRow(tr("Seed"), m_seed);
    m_template = new QComboBox;
    m_template->setObjectName("promptTemplate");
    m_template->addItems({"none", "model", "alpaca", "chatml", "plain"});
    m_template->setToolTip(tr("How prompts reach the models: none = the raw text; model = the model's chat template; "
                              "alpaca, chatml, plain = the training formats (use the one the adapters were trained "
                              "with). Hover an output to see the prompt as the model saw it."));
    form->addRow(tr("Prompt template"), m_template);
    lay->addWidget(genBox);

    auto* rb = new QHBoxLayout;
    m_runButton = new QPushButton(tr("Run"));
    m_runButton->setObjectName("runButton");
    m_runButton->setToolTip(tr("Every prompt through every ticked model, one after the other"));
    m_stopButton = new QPushButton(tr("Stop"));
    m_stopButton->setObjectName("stopButton");
    m_stopButton->setEnabled(false);
    rb->addWidget(m_runButton, 2);
    rb->addWidget(m_stopButton, 1);
    lay->addLayout(rb);
    m_status = new QLabel;
    m_status->setObjectName("compareStatus");
    m_status->setWordWrap(true);
    lay->addWidget(m_status);
    connect(m_runButton, &QPushButton::clicked, this, &ComparePage::runAll);
    connect(m_stopButton, &QPushButton::clicked, this, &ComparePage::stop);
    return left;
}

QStringList ComparePage::prompts() const {
    QStringList out;
    for (int i = 0; i < m_prompts->count(); ++i) {
        const QString p = m_prompts->item(i)->text().trimmed();
        if (!p.isEmpty() && !out.contains(p))
            out << p;
    }
    return out;
}

void ComparePage::addPrompt(const QString& prompt) {
    const QString p = prompt.trimmed();
    if (p.isEmpty() || !m_prompts->findItems(p, Qt::MatchExactly).isEmpty())
        return;
    auto* item = new QListWidgetItem(p);
    item->setFlags(item->flags() | Qt::ItemIsEditable);
    const QSignalBlocker block(m_prompts);
    m_prompts->addItem(item);
}

QStringList ComparePage::modelNames() const {
    QStringList out;
    for (int i = 0; i < m_models->count(); ++i)
        out << m_models->item(i)->text();
    return out;
}

QStringList ComparePage::checkedModels() const {
    QStringList out;
    for (int i = 0; i < m_models->count(); ++i)
        if (m_models->item(i)->checkState() == Qt::Checked)
            out << m_models->item(i)->text();
    return out;
}

void ComparePage::setModelChecked(const QString& name, bool checked) {
    for (auto* item : m_models->findItems(name, Qt::MatchExactly))
        item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
}

CompareModel ComparePage::modelOf(const QString& name) const {
    CompareModel m;
    m.name = name;
    for (auto* item : m_models->findItems(name, Qt::MatchExactly)) {
        m.adapterDir = item->data(kAdapterRole).toString();
        const qint64 run = item->data(kRunRole).toLongLong();
        if (run > 0)
            m.runId = run;
    }
    return m;
}

QString ComparePage::uniqueModelName(const QString& wanted) const {
    QString name = wanted.isEmpty() ? QStringLiteral("adapter") : wanted;
    for (int n = 2; !m_models->findItems(name, Qt::MatchExactly).isEmpty(); ++n)
        name = QStringLiteral("%1 (%2)").arg(wanted).arg(n);
    return name;
}

QListWidgetItem* ComparePage::addModelItem(const CompareModel& m, bool checked) {
    auto* item = new QListWidgetItem(m.name);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsUserCheckable);
    item->setCheckState(checked ? Qt::Checked : Qt::Unchecked);
    item->setData(kAdapterRole, m.adapterDir);
    item->setData(kRunRole, m.runId ? *m.runId : qint64(-1));
    item->setToolTip(m.adapterDir.isEmpty() ? tr("the base model alone") : m.adapterDir);
    const QSignalBlocker block(m_models);
    m_models->addItem(item);
    return item;
}

bool ComparePage::addAdapterFolder(const QString& dir, QString* error) {
    const QString abs = QFileInfo(dir).absoluteFilePath();
    if (!QFileInfo::exists(QDir(abs).filePath("adapter_config.json"))) {
        if (error)
            *error = tr("'%1' is not an adapter folder: it has no adapter_config.json").arg(abs);
        return false;
    }
    for (int i = 0; i < m_models->count(); ++i)
        if (m_models->item(i)->data(kAdapterRole).toString() == abs) {
            m_models->item(i)->setCheckState(Qt::Checked);
            return true;
        }
    QDir d(abs);
    QString name = d.dirName();
    if (name == "adapter" && d.cdUp())
        name = d.dirName();
    addModelItem({uniqueModelName(name), abs, std::nullopt}, true)->setData(kCustomRole, true);
    rebuildTable();
    refreshBlind();
    return true;
}

// The base model, every finished run whose adapter folder exists, and the folders added by hand.
void ComparePage::refreshModels() {
    std::map<QString, bool> checked;
    std::vector<CompareModel> custom;
    for (int i = 0; i < m_models->count(); ++i) {
        const auto* item = m_models->item(i);
        checked[item->text()] = item->checkState() == Qt::Checked;
        if (item->data(kCustomRole).toBool())
            custom.push_back(modelOf(item->text()));
    }
    auto isChecked = [&](const QString& name) {
        const auto it = checked.find(name);
        return it == checked.end() || it->second;
    };
    m_models->clear();
    addModelItem({QStringLiteral("base"), QString(), std::nullopt}, isChecked("base"));
    for (const TrainedAdapter& a : trainedAdapters(*m_session)) {
        const QString name = uniqueModelName(a.runName);
        addModelItem({name, a.dir, a.runId}, isChecked(name));
    }
    for (const CompareModel& m : custom) {
        bool present = false;
        for (int i = 0; i < m_models->count(); ++i)
            present = present || m_models->item(i)->data(kAdapterRole).toString() == m.adapterDir;
        if (!present)
            addModelItem({uniqueModelName(m.name), m.adapterDir, std::nullopt}, isChecked(m.name))
                ->setData(kCustomRole, true);
    }
}

void ComparePage::setBlindMode(bool on) {
    if (m_blindMode->isChecked() != on) {
        m_blindMode->setChecked(on);  // comes back here through toggled()
        return;
    }
    m_stack->setCurrentIndex(on ? 1 : 0);
    if (on) {
        refreshBlind();
        m_blind->setFocus();
    }
}

bool ComparePage::recordBlindVote(const QString& prompt, const QString& shownA, const QString& shownB,
                                  const QString& choice) {
    return m_blind->recordVote(prompt, shownA, shownB, choice);
}

} // namespace ft::ui
