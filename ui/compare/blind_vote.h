// Blind A/B voting on the Compare page: for each prompt that two chosen models both
// answered, the two outputs are shown as "A" and "B" in an order drawn from a seeded
// generator (names hidden); a vote is stored with ProjectStore::addVote under the real
// names in canonical (sorted) order, winner mapped to that order, and the win-rate
// table (ft::eval::winRates, ties half, 95% Wilson interval) follows every vote.
// Prompts already voted on for the pair are not asked again.
// Not here: generating the outputs (compare_runner.h), the model and prompt lists.
#pragma once

#include <QString>
#include <QStringList>
#include <QWidget>

#include <map>
#include <random>
#include <set>

class QComboBox;
class QLabel;
class QPushButton;
class QTableWidget;
class QTextBrowser;

namespace ft::ui {

class Session;

class BlindVotePanel : public QWidget {
    Q_OBJECT
public:
    using Outputs = std::map<QString, std::map<QString, QString>>;  // prompt -> model name -> output
    static constexpr quint64 kSideSeed = 20240607;

    explicit BlindVotePanel(Session* session, QWidget* parent = nullptr);

    // What there is to vote on: prompts in order, their outputs, the model names offered.
    void setContent(const QStringList& prompts, const Outputs& outputs, const QStringList& models);
    bool setPair(const QString& x, const QString& y);  // the two models to compare
    QString currentPrompt() const;
    QString shownA() const { return m_shown[0]; }  // real names behind A and B ("" when nothing shown)
    QString shownB() const { return m_shown[1]; }
    int remaining() const;  // prompts left to vote on for the pair, the shown one included

    // Stores a vote about the models shown as A and B; choice "A", "B" or "tie" (any case).
    // The vote names the models in sorted order: modelA < modelB, winner "a", "b" or "tie".
    bool recordVote(const QString& prompt, const QString& shownA, const QString& shownB, const QString& choice);
    void refreshWinRates();

public slots:
    void voteA();
    void voteB();
    void voteTie();
    void skip();

private:
    void rebuildQueue();
    void showCurrent();
    void vote(const QString& choice);

    Session* m_session = nullptr;
    QComboBox* m_model[2] = {nullptr, nullptr};
    QLabel* m_progress = nullptr;
    QLabel* m_status = nullptr;
    QTextBrowser* m_prompt = nullptr;
    QTextBrowser* m_text[2] = {nullptr, nullptr};
    QPushButton* m_buttons[4] = {};
    QTableWidget* m_table = nullptr;

    QStringList m_prompts;
    Outputs m_outputs;
    QStringList m_queue;  // prompts left to vote on for the pair
    size_t m_pos = 0;
    QString m_shown[2];
    std::mt19937_64 m_rng{kSideSeed};
    std::map<QString, bool> m_swapped;  // prompt + pair -> sides drawn for it (kept while it is shown again)
};

} // namespace ft::ui
