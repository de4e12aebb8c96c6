#include "compare/blind_vote.h"

#include "app/session.h"
#include "data/project_store.h"
#include "eval/win_rate.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QShortcut>
#include <QSplitter>
#include <QTableWidget>
#include <QTextBrowser>
#include <QVBoxLayout>

#include <algorithm>

namespace ft::ui {

namespace {

QTextBrowser* makeView(const char* name, int pointDelta) {
    auto* v = new QTextBrowser;
    v->setObjectName(name);
    QFont f = v->font();
    f.setPointSizeF(f.pointSizeF() + pointDelta);
    v->setFont(f);
    return v;
}

QTableWidgetItem* cell(const QString& text, bool number = false) {
    auto* item = new QTableWidgetItem(text);
    item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable);
    if (number)
        item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
    return item;
}

QString percent(double x) { return QString::number(100.0 * x, 'f', 1) + "%"; }

} // namespace

BlindVotePanel::BlindVotePanel(Session* session, QWidget* parent) : QWidget(parent), m_session(session) {
    setFocusPolicy(Qt::StrongFocus);
    auto* root = new QVBoxLayout(this);
    root->setContentsMargins(0, 0, 0, 0);

    auto* top = new QHBoxLayout;
    const char* comboNames[2] = {"blindModelX", "blindModelY"};
    for (int i = 0; i < 2; ++i) {
        m_model[i] = new QComboBox;
        m_model[i]->setObjectName(comboNames[i]);
        m_model[i]->setMinimumWidth(180);
        connect(m_model[i], &QComboBox::currentIndexChanged, this, &BlindVotePanel::rebuildQueue);
    }
    m_progress = new QLabel;
    m_progress->setObjectName("blindProgress");
    top->addWidget(new QLabel(tr("Blind comparison of")));
    top->addWidget(m_model[0]);
    top->addWidget(new QLabel(tr("and")));
    top->addWidget(m_model[1]);
    top->addStretch(1);
    top->addWidget(m_progress);
    root->addLayout(top);

    m_prompt = makeView("blindPrompt", 1);
    m_prompt->setMaximumHeight(90);
    root->addWidget(m_prompt);
    auto* split = new QSplitter(Qt::Horizontal);
    const char* viewNames[2] = {"blindA", "blindB"};
    for (int side = 0; side < 2; ++side) {
        auto* box = new QWidget;
        auto* lay = new QVBoxLayout(box);
        lay->setContentsMargins(0, 0, 0, 0);
        auto* title = new QLabel(side == 0 ? "A" : "B");
        title->setStyleSheet("font-weight: bold; font-size: 14pt;");
        m_text[side] = makeView(viewNames[side], 2);
        lay->addWidget(title);
        lay->addWidget(m_text[side], 1);
        split->addWidget(box);
    }
    root->addWidget(split, 3);

    auto* buttons = new QHBoxLayout;
    const QString labels[4] = {tr("A is better   [1]"), tr("B is better   [2]"), tr("Tie   [T]"), tr("Skip   [S]")};
    const char* names[4] = {"voteA", "voteB", "voteTie", "voteSkip"};
    void (BlindVotePanel::*handlers[4])() = {&BlindVotePanel::voteA, &BlindVotePanel::voteB,
                                             &BlindVotePanel::voteTie, &BlindVotePanel::skip};
    for (int i = 0; i < 4; ++i) {
        m_buttons[i] = new QPushButton(labels[i]);
        m_buttons[i]->setObjectName(names[i]);
        m_buttons[i]->setFocusPolicy(Qt::NoFocus);
        m_buttons[i]->setMinimumHeight(32);
        connect(m_buttons[i], &QPushButton::clicked, this, handlers[i]);
        buttons->addWidget(m_buttons[i], i < 2 ? 2 : 1);
    }
    root->addLayout(buttons);
    auto* hint = new QLabel(tr("Keys: 1 or A = A better · 2 or B = B better · T = tie · S = skip. "
                               "Which model is A stays hidden; the sides are drawn at random per prompt."));
    hint->setAlignment(Qt::AlignCenter);
    hint->setStyleSheet("color: palette(dark);");
    root->addWidget(hint);
    m_status = new QLabel;
    m_status->setObjectName("blindStatus");
    root->addWidget(m_status);

    const int keys[4][2] = {{Qt::Key_1, Qt::Key_A}, {Qt::Key_2, Qt::Key_B}, {Qt::Key_T, 0}, {Qt::Key_S, 0}};
    for (int i = 0; i < 4; ++i)
        for (int k : keys[i])
            if (k) {
                auto* sc = new QShortcut(QKeySequence(k), this);
                sc->setContext(Qt::WidgetWithChildrenShortcut);
                connect(sc, &QShortcut::activated, this, handlers[i]);
            }

    auto* rateTitle = new QLabel(tr("<b>Win rates</b> — every blind vote in the project; a tie counts as half a "
                                    "win; 95% Wilson score interval"));
    root->addWidget(rateTitle);
    m_table = new QTableWidget(0, 8);
    m_table->setObjectName("winRateTable");
    m_table->setHorizontalHeaderLabels(
        {tr("Model"), tr("Against"), tr("Wins"), tr("Losses"), tr("Ties"), tr("Votes"), tr("Win rate"), tr("95% interval")});
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_table->horizontalHeader()->setSectionResizeMode(1, QHeaderView::Stretch);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setMinimumHeight(120);
    root->addWidget(m_table, 1);

    connect(m_session, &Session::votesChanged, this, &BlindVotePanel::refreshWinRates);
    connect(m_session, &Session::projectChanged, this, [this] {
        rebuildQueue();
        refreshWinRates();
    });
    refreshWinRates();
    showCurrent();
}

void BlindVotePanel::setContent(const QStringList& prompts, const Outputs& outputs, const QStringList& models) {
    m_prompts = prompts;
    m_outputs = outputs;
    for (int i = 0; i < 2; ++i) {
        const QString keep = m_model[i]->currentText();
        const QSignalBlocker block(m_model[i]);
        m_model[i]->clear();
        m_model[i]->addItems(models);
        const int at = m_model[i]->findText(keep);
        m_model[i]->setCurrentIndex(at >= 0 ? at : std::min(i, int(models.size()) - 1));
    }
    rebuildQueue();
}

bool BlindVotePanel::setPair(const QString& x, const QString& y) {
    const int ix = m_model[0]->findText(x), iy = m_model[1]->findText(y);
    if (ix < 0 || iy < 0)
        return false;
    {
        const QSignalBlocker bx(m_model[0]), by(m_model[1]);
        m_model[0]->setCurrentIndex(ix);
        m_model[1]->setCurrentIndex(iy);
    }
    rebuildQueue();
    return true;
}

QString BlindVotePanel::currentPrompt() const { return m_pos < size_t(m_queue.size()) ? m_queue[m_pos] : QString(); }

int BlindVotePanel::remaining() const { return int(m_queue.size()) - int(std::min(m_pos, size_t(m_queue.size()))); }

// Prompts both models answered that have no vote yet for this pair, in prompt order.
void BlindVotePanel::rebuildQueue() {
    m_queue.clear();
    m_pos = 0;
    const QString x = m_model[0]->currentText(), y = m_model[1]->currentText();
    if (!x.isEmpty() && !y.isEmpty() && x != y) {
        std::set<QString> voted;
        const std::string a = std::min(x, y).toStdString(), b = std::max(x, y).toStdString();
        if (m_session->hasProject())
            m_session->run(tr("Read votes"), [&](ft::data::ProjectStore& s) {
                for (const auto& v : s.votes())
                    if (v.modelA == a && v.modelB == b)
                        voted.insert(QString::fromStdString(v.prompt));
            });
        for (const QString& p : m_prompts) {
            const auto it = m_outputs.find(p);
            if (it == m_outputs.end() || voted.count(p))
                continue;
            const auto ox = it->second.find(x), oy = it->second.find(y);
            if (ox != it->second.end() && oy != it->second.end() && !ox->second.isEmpty() && !oy->second.isEmpty())
                m_queue << p;
        }
    }
    showCurrent();
}

void BlindVotePanel::showCurrent() {
    const QString x = m_model[0]->currentText(), y = m_model[1]->currentText();
    const QString prompt = currentPrompt();
    const bool any = !prompt.isEmpty();
    for (auto* b : m_buttons)
        b->setEnabled(any);
    if (!any) {
        m_shown[0] = m_shown[1] = QString();
        m_text[0]->clear();
        m_text[1]->clear();
        m_prompt->setPlainText(x.isEmpty() || x == y
                                   ? tr("Choose two different models to compare.")
                                   : tr("Nothing left to vote on for these two models. Run more prompts through "
                                        "both (switch blind mode off and press Run), or choose another pair."));
        m_progress->clear();
        return;
    }
    const QString key = prompt + QChar(0x1f) + std::min(x, y) + QChar(0x1f) + std::max(x, y);
    auto it = m_swapped.find(key);
    if (it == m_swapped.end())
        it = m_swapped.emplace(key, (m_rng() & 1) != 0).first;
    m_shown[0] = it->second ? y : x;
    m_shown[1] = it->second ? x : y;
    m_prompt->setPlainText(prompt);
    m_text[0]->setPlainText(m_outputs[prompt][m_shown[0]]);
    m_text[1]->setPlainText(m_outputs[prompt][m_shown[1]]);
    m_progress->setText(tr("Prompt %1 of %2 left to vote on").arg(m_pos + 1).arg(m_queue.size()));
}

void BlindVotePanel::voteA() { vote(QStringLiteral("A")); }
void BlindVotePanel::voteB() { vote(QStringLiteral("B")); }
void BlindVotePanel::voteTie() { vote(QStringLiteral("tie")); }

void BlindVotePanel::skip() {
    if (currentPrompt().isEmpty())
        return;
    ++m_pos;
    showCurrent();
}

void BlindVotePanel::vote(const QString& choice) {
    const QString prompt = currentPrompt();
    if (prompt.isEmpty())
        return;
    if (!recordVote(prompt, m_shown[0], m_shown[1], choice))
        return;
    ++m_pos;
    showCurrent();
}

bool BlindVotePanel::recordVote(const QString& prompt, const QString& shownA, const QString& shownB,
                                const QString& choice) {
    const QString c = choice.toLower();
    if (shownA.isEmpty() || shownB.isEmpty() || shownA == shownB || (c != "a" && c != "b" && c != "tie")) {
        m_status->setText(tr("Not recorded: a vote needs two different models and A, B or tie (got %1, %2, %3).")
                              .arg(shownA, shownB, choice));
        return false;
    }
    const QString first = std::min(shownA, shownB), second = std::max(shownA, shownB);
    QString winner = QStringLiteral("tie");
    if (c != "tie") {
        const QString winnerName = c == "a" ? shownA : shownB;
        winner = winnerName == first ? QStringLiteral("a") : QStringLiteral("b");
    }
    const bool ok = m_session->run(tr("Record the vote"), [&](ft::data::ProjectStore& s) {
        s.addVote(prompt.toStdString(), first.toStdString(), second.toStdString(), winner.toStdString());
    });
    if (!ok)
        return false;
    // The names stay hidden after the vote too: knowing them would colour the next votes.
    m_status->setText(c == "tie" ? tr("Vote recorded: a tie.") : tr("Vote recorded: %1 better.").arg(c.toUpper()));
    m_session->notifyVotesChanged();
    return true;
}

void BlindVotePanel::refreshWinRates() {
    std::vector<ft::data::VoteRecord> votes;
    if (m_session->hasProject())
        m_session->run(tr("Read votes"), [&](ft::data::ProjectStore& s) { votes = s.votes(); });
    std::vector<ft::eval::WinRate> rates;
    try {
        rates = ft::eval::winRates(votes);
        for (auto& r : ft::eval::pairWinRates(votes))
            rates.push_back(std::move(r));
    } catch (const std::exception& e) {
        m_status->setText(tr("Win rates: %1").arg(QString::fromStdString(e.what())));
    }
    m_table->setRowCount(int(rates.size()));
    for (int i = 0; i < int(rates.size()); ++i) {
        const auto& r = rates[size_t(i)];
        m_table->setItem(i, 0, cell(QString::fromStdString(r.model)));
        m_table->setItem(i, 1, cell(r.opponent.empty() ? tr("all") : QString::fromStdString(r.opponent)));
        m_table->setItem(i, 2, cell(QString::number(r.wins), true));
        m_table->setItem(i, 3, cell(QString::number(r.losses), true));
        m_table->setItem(i, 4, cell(QString::number(r.ties), true));
        m_table->setItem(i, 5, cell(QString::number(r.n), true));
        m_table->setItem(i, 6, cell(percent(r.rate), true));
        m_table->setItem(i, 7, cell(percent(r.low) + " – " + percent(r.high), true));
    }
}

} // namespace ft::ui
