// LabelPage: construction, layout, shortcuts and the dataset/adapter lists. The labelling
// flow (rows, decisions, undo, counters, judge, generation) is in label_flow.cpp.
#include "label/label_page.h"

#include "app/session.h"
#include "data/project_store.h"
#include "engine/cli_job.h"
#include "runs/trained_adapters.h"

#include <QComboBox>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileInfo>
#include <QFrame>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QTextBrowser>
#include <QVBoxLayout>

namespace ft::ui {

namespace {

const char* const kAnnotatorKey = "label/annotator";

QTextBrowser* makeTextView(const QString& name, int pointDelta) {
    auto* view = new QTextBrowser;
    view->setObjectName(name);
    view->setOpenLinks(false);
    QFont f = view->font();
    f.setPointSizeF(f.pointSizeF() + pointDelta);
    view->setFont(f);
    return view;
}

} // namespace

LabelPage::LabelPage(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    setFocusPolicy(Qt::StrongFocus);  // so the keys work after a click on the page
    m_generator = new PairGenerator(this);
    m_judge = new CliJob(this);
    buildUi();

    auto addKey = [this](const QKeySequence& keys, void (LabelPage::*slot)()) {
        auto* sc = new QShortcut(keys, this);
        sc->setContext(Qt::WidgetWithChildrenShortcut);
        connect(sc, &QShortcut::activated, this, slot);
        // A window-wide shortcut on the same keys (Edit > Undo) makes Qt call it ambiguous.
        connect(sc, &QShortcut::activatedAmbiguously, this, slot);
    };
    addKey(QKeySequence(Qt::Key_1), &LabelPage::chooseA);
    addKey(QKeySequence(Qt::Key_2), &LabelPage::chooseB);
    addKey(QKeySequence(Qt::Key_T), &LabelPage::chooseTie);
    addKey(QKeySequence(Qt::Key_S), &LabelPage::skip);
    addKey(QKeySequence::Undo, &LabelPage::undoLastDecision);

    connect(m_dataset, &QComboBox::currentIndexChanged, this, [this] {
        m_decisions.clear();
        m_reviewed = m_agreed = 0;
        reload();
    });
    connect(m_filter, &QComboBox::currentIndexChanged, this, &LabelPage::reload);
    connect(m_annotator, &QLineEdit::textChanged, this,
            [](const QString& text) { QSettings().setValue(kAnnotatorKey, text.trimmed()); });
    connect(m_generator, &PairGenerator::textChanged, this, [this](int side, const QString& text) {
        m_response[side]->setPlainText(text);
        m_response[side]->moveCursor(QTextCursor::End);
    });
    connect(m_generator, &PairGenerator::promptRendered, this, [this](const QString& rendered) {
        m_prompt->setToolTip(tr("The prompt as the model saw it (template %1):\n%2")
                                 .arg(m_template->currentText(), rendered));
    });
    connect(m_generator, &PairGenerator::finished, this, [this](bool ok, const QString& message) {
        setBusy(false);
        if (ok) {
            m_generated = true;
            setStatus(tr("New pair ready: decide with 1 / 2 / T; it replaces this row's chosen and rejected "
                         "only when you decide."));
        } else {
            setStatus(tr("Generation stopped: %1").arg(message));
            showCurrent();
        }
    });
    connect(m_judge, &CliJob::errorLine, this, [this](const QString& line) {
        if (!line.trimmed().isEmpty())
            setStatus(tr("Judge: %1").arg(line.trimmed()));
    });
    connect(m_judge, &CliJob::finished, this, &LabelPage::onJudgeFinished);

    connect(m_session, &Session::projectChanged, this, [this] {
        cancelWork();
        m_decisions.clear();
        m_shownA.clear();
        m_reviewed = m_agreed = 0;
        m_datasetId = -1;  // forces a reload
        refreshDatasets();
        refreshAdapters();
    });
    connect(m_session, &Session::datasetsChanged, this, &LabelPage::refreshDatasets);
    connect(m_session, &Session::runsChanged, this, &LabelPage::refreshAdapters);
    connect(m_session, &Session::rowsChanged, this, &LabelPage::onRowsChanged);
    refreshDatasets();
    refreshAdapters();
}

LabelPage::~LabelPage() = default;

void LabelPage::buildUi() {
    auto* root = new QVBoxLayout(this);
    root->setSpacing(8);

    auto* top = new QHBoxLayout;
    m_dataset = new QComboBox;
    m_dataset->setObjectName("datasetCombo");
    m_dataset->setMinimumWidth(200);
    m_dataset->setToolTip(tr("Preference datasets of the project"));
    m_filter = new QComboBox;
    m_filter->setObjectName("filterCombo");
    m_filter->addItems({tr("Unlabelled"), tr("AI-labelled to review"), tr("All rows")});
    m_annotator = new QLineEdit(QSettings().value(kAnnotatorKey).toString());
    m_annotator->setObjectName("annotator");
    m_annotator->setPlaceholderText(tr("your name (optional)"));
    m_annotator->setMaximumWidth(200);
    m_progress = new QLabel;
    m_progress->setObjectName("progressLabel");
    top->addWidget(new QLabel(tr("Dataset")));
    top->addWidget(m_dataset);
    top->addSpacing(12);
    top->addWidget(new QLabel(tr("Show")));
    top->addWidget(m_filter);
    top->addSpacing(12);
    top->addWidget(new QLabel(tr("Annotator")));
    top->addWidget(m_annotator);
    top->addStretch(1);
    root->addLayout(top);

    auto* info = new QHBoxLayout;
    m_position = new QLabel;
    m_position->setObjectName("positionLabel");
    m_position->setStyleSheet("color: palette(dark);");
    m_progress->setStyleSheet("font-weight: bold;");
    info->addWidget(m_position, 1);
    info->addWidget(m_progress);
    root->addLayout(info);
    m_prompt = makeTextView("promptView", 1);
    m_prompt->setMaximumHeight(120);
    root->addWidget(m_prompt);

    auto* split = new QSplitter(Qt::Horizontal);
    split->setChildrenCollapsible(false);
    const char* names[2] = {"responseA", "responseB"};
    for (int side = 0; side < 2; ++side) {
        auto* box = new QFrame;
        auto* lay = new QVBoxLayout(box);
        lay->setContentsMargins(0, 0, 0, 0);
        m_responseTitle[side] = new QLabel;
        m_responseTitle[side]->setStyleSheet("font-weight: bold; font-size: 14pt;");
        m_response[side] = makeTextView(names[side], 2);
        lay->addWidget(m_responseTitle[side]);
        lay->addWidget(m_response[side], 1);
        split->addWidget(box);
    }
    root->addWidget(split, 1);

    auto* decide = new QHBoxLayout;
    const QString labels[5] = {tr("A is better   [1]"), tr("B is better   [2]"), tr("Tie   [T]"), tr("Skip   [S]"),
                               tr("Undo   [Ctrl+Z]")};
    const char* buttonNames[5] = {"chooseAButton", "chooseBButton", "tieButton", "skipButton", "undoButton"};
    void (LabelPage::*handlers[5])() = {&LabelPage::chooseA, &LabelPage::chooseB, &LabelPage::chooseTie,
                                     &LabelPage::skip, &LabelPage::undoLastDecision};
    for (int i = 0; i < 5; ++i) {
        auto* b = new QPushButton(labels[i]);
        b->setObjectName(buttonNames[i]);
        b->setFocusPolicy(Qt::NoFocus);  // keep the focus (and so the keys) on the page
        b->setMinimumHeight(34);
        connect(b, &QPushButton::clicked, this, handlers[i]);
        m_decisionButtons[i] = b;
        decide->addWidget(b, i < 2 ? 2 : 1);
        if (i == 1 || i == 3)
            decide->addSpacing(16);
    }
    root->addLayout(decide);
    auto* hint = new QLabel(tr("Keys: 1 = A better · 2 = B better · T = tie · S = skip · Ctrl+Z = undo"));
    hint->setObjectName("keyHint");
    hint->setAlignment(Qt::AlignCenter);
    hint->setStyleSheet("color: palette(dark);");
    root->addWidget(hint);

    root->addWidget(buildGenerationBox());

    m_status = new QLabel;
    m_status->setObjectName("statusLabel");
    m_status->setWordWrap(true);
    root->addWidget(m_status);
}

QWidget* LabelPage::buildGenerationBox() {
    auto* box = new QGroupBox(tr("New responses and AI pre-labels"));
    auto* grid = new QGridLayout(box);
    grid->setVerticalSpacing(4);
    const double temperatures[2] = {0.7, 1.0};
    for (int side = 0; side < 2; ++side) {
        const int col = side * 7;
        grid->addWidget(new QLabel(side == 0 ? tr("<b>A</b>") : tr("<b>B</b>")), 0, col);
        m_adapter[side] = new QComboBox;
        m_adapter[side]->setObjectName(side == 0 ? "adapterA" : "adapterB");
        m_adapter[side]->setMinimumWidth(160);
        m_temperature[side] = new QDoubleSpinBox;
        m_temperature[side]->setObjectName(side == 0 ? "temperatureA" : "temperatureB");
        m_temperature[side]->setRange(0.0, 2.0);
        m_temperature[side]->setSingleStep(0.1);
        m_temperature[side]->setValue(temperatures[side]);
        m_seed[side] = new QSpinBox;
        m_seed[side]->setObjectName(side == 0 ? "seedA" : "seedB");
        m_seed[side]->setRange(0, 1'000'000);
        m_seed[side]->setValue(side + 1);
        grid->addWidget(m_adapter[side], 0, col + 1);
        grid->addWidget(new QLabel(tr("temperature")), 0, col + 2);
        grid->addWidget(m_temperature[side], 0, col + 3);
        grid->addWidget(new QLabel(tr("seed")), 0, col + 4);
        grid->addWidget(m_seed[side], 0, col + 5);
        grid->setColumnMinimumWidth(col + 6, 16);
    }
    m_maxTokens = new QSpinBox;
    m_maxTokens->setObjectName("maxNewTokens");
    m_maxTokens->setRange(1, 4096);
    m_maxTokens->setValue(128);
    grid->addWidget(new QLabel(tr("max new tokens")), 0, 14);
    grid->addWidget(m_maxTokens, 0, 15);
    m_template = new QComboBox;
    m_template->setObjectName("promptTemplate");
    m_template->addItems({"none", "model", "alpaca", "chatml", "plain"});
    m_template->setToolTip(tr("How the prompt reaches the model: none = the raw text; model = the model's chat "
                              "template; alpaca, chatml, plain = the training formats"));
    grid->addWidget(new QLabel(tr("template")), 0, 16);
    grid->addWidget(m_template, 0, 17);
    grid->setColumnStretch(18, 1);

    auto* buttons = new QHBoxLayout;
    m_generateButton = new QPushButton(tr("Generate responses"));
    m_generateButton->setObjectName("generateButton");
    m_generateButton->setToolTip(tr("Generate A and B for this prompt with the current model and the settings "
                                    "above; the pair is stored only when you decide"));
    m_judgeButton = new QPushButton(tr("Pre-label with judge"));
    m_judgeButton->setObjectName("judgeButton");
    m_judgeButton->setToolTip(tr("RLAIF: the current model judges every pair of this dataset (both orders) "
                                 "and labels those it prefers with at least the threshold's probability; then "
                                 "review its labels here. Pairs labelled by people are left as they are; one Undo takes the whole judgement back."));
    m_threshold = new QDoubleSpinBox;
    m_threshold->setObjectName("judgeThreshold");
    m_threshold->setRange(0.5, 1.0);
    m_threshold->setSingleStep(0.05);
    m_threshold->setValue(0.6);
    m_threshold->setToolTip(tr("The judge labels a pair only when it prefers one side with at least this "
                               "probability; the others are left for a person"));
    m_busy = new QProgressBar;
    m_busy->setObjectName("busyIndicator");
    m_busy->setRange(0, 0);
    m_busy->setMaximumWidth(160);
    m_busy->setVisible(false);
    m_cancelButton = new QPushButton(tr("Cancel"));
    m_cancelButton->setObjectName("cancelButton");
    m_cancelButton->setEnabled(false);
    for (auto* b : {m_generateButton, m_judgeButton, m_cancelButton})
        b->setFocusPolicy(Qt::NoFocus);
    connect(m_generateButton, &QPushButton::clicked, this, &LabelPage::generateResponses);
    connect(m_judgeButton, &QPushButton::clicked, this, &LabelPage::preLabelWithJudge);
    connect(m_cancelButton, &QPushButton::clicked, this, &LabelPage::cancelWork);
    buttons->addWidget(m_generateButton);
    buttons->addWidget(m_judgeButton);
    buttons->addWidget(new QLabel(tr("threshold")));
    buttons->addWidget(m_threshold);
    buttons->addWidget(m_busy);
    buttons->addWidget(m_cancelButton);
    buttons->addStretch(1);
    grid->addLayout(buttons, 1, 0, 1, 17);
    return box;
}

void LabelPage::refreshDatasets() {
    const qint64 keep = m_dataset->currentData().toLongLong();
    {
        const QSignalBlocker block(m_dataset);
        m_dataset->clear();
        int firstWithWork = -1;  // with nothing chosen yet, open a dataset that has pairs to label
        if (m_session->hasProject())
            m_session->run(tr("List datasets"), [this, &firstWithWork](ft::data::ProjectStore& s) {
                for (const auto& d : s.datasets())
                    if (d.kind == ft::data::DatasetKind::Preference) {
                        m_dataset->addItem(QString::fromStdString(d.name), QVariant::fromValue<qint64>(d.id));
                        ft::data::RowQuery q;
                        q.datasetId = d.id;
                        q.label = ft::data::LabelState::Unlabelled;
                        if (firstWithWork < 0 && s.count(q) > 0)
                            firstWithWork = m_dataset->count() - 1;
                    }
            });
        const int at = m_dataset->findData(QVariant::fromValue<qint64>(keep));
        m_dataset->setCurrentIndex(at >= 0 ? at : std::max(firstWithWork, 0));
    }
    if (m_dataset->currentData().toLongLong() != m_datasetId || m_dataset->count() == 0)
        reload();
}

void LabelPage::refreshAdapters() {
    const std::vector<TrainedAdapter> adapters = trainedAdapters(*m_session);
    for (QComboBox* combo : m_adapter) {
        const QString keep = combo->currentData().toString();
        combo->clear();
        combo->addItem(tr("base model"), QString());
        for (const TrainedAdapter& a : adapters)
            combo->addItem(a.runName, a.dir);
        combo->setCurrentIndex(std::max(0, combo->findData(keep)));
    }
}

bool LabelPage::selectDataset(const QString& name) {
    const int at = m_dataset->findText(name);
    if (at < 0)
        return false;
    m_dataset->setCurrentIndex(at);
    return true;
}

void LabelPage::setFilter(Filter f) {
    if (m_filter->currentIndex() == int(f))
        reload();
    else
        m_filter->setCurrentIndex(int(f));
}

LabelPage::Filter LabelPage::filter() const { return Filter(m_filter->currentIndex()); }

GenerationSettings LabelPage::sideSettings(int side) const {
    GenerationSettings s;
    s.adapterDir = m_adapter[side]->currentData().toString();
    s.temperature = m_temperature[side]->value();
    s.seed = m_seed[side]->value();
    s.maxNewTokens = m_maxTokens->value();
    s.templateName = m_template->currentText();
    return s;
}

void LabelPage::setStatus(const QString& text) { m_status->setText(text); }

void LabelPage::setBusy(bool busy) {
    m_busy->setVisible(busy);
    m_cancelButton->setEnabled(busy);
    m_generateButton->setEnabled(!busy);
    m_judgeButton->setEnabled(!busy);
}

void LabelPage::cancelWork() {
    if (m_judge->isRunning())
        m_judge->cancel();
    if (m_generator->isRunning())
        m_generator->cancel();
}

} // namespace ft::ui
