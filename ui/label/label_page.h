// The Label page: A/B preference labelling of a preference dataset. One prompt with its
// two responses side by side; the row's chosen/rejected are shown as A/B in an order
// drawn per row from a fixed seed (so position does not bias the labeller) and kept for
// the session. Keys: 1 = A better, 2 = B better, T = tie, S = skip, Ctrl+Z = undo the
// last decision. Each decision is written to the project at once; the responses can also
// be generated on the spot, and a judge model can pre-label the pairs (RLAIF) for review.
// Not here: the generation process (pair_generator.h), the store (data/project_store.h).
//
// What a decision writes (one updateRow, one undo step):
//   A or B better  chosen = the preferred text, rejected = the other; labelSource human,
//                  annotator, labeledAt now, confidence 1.0, tag "tie" removed.
//   tie            chosen/rejected kept (a generated pair: A chosen, B rejected);
//                  labelSource human, confidence 0.5, tag "tie". DPO-style training sees
//                  such a row as a weak pair (cDPO/label smoothing can use the 0.5);
//                  filter tag "tie" out to leave ties out of training.
//   skip           nothing; the next row is shown.
// Agreement with the judge: a row that was labelled AI before the person's decision
// counts as reviewed; it agrees when the person kept the judge's chosen (a tie never
// agrees). The counts cover this session's decisions (undo takes them back).
#pragma once

#include "data/records.h"
#include "label/pair_generator.h"

#include <QWidget>

#include <map>
#include <optional>
#include <vector>

class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTextBrowser;

namespace ft::ui {

class CliJob;
class Session;

class LabelPage : public QWidget {
    Q_OBJECT
public:
    enum class Filter { Unlabelled = 0, AiToReview = 1, All = 2 };
    static constexpr quint64 kOrderSeed = 20240607;  // the A/B order of every row derives from it

    explicit LabelPage(Session* session, QWidget* parent = nullptr);
    ~LabelPage() override;

    qint64 currentRowId() const { return m_current ? m_current->id : 0; }
    qint64 datasetId() const { return m_datasetId; }
    bool aShowsChosen() const { return m_aIsChosen; }  // the stored chosen is on side A
    int reviewedAiRows() const { return m_reviewed; }
    int agreementsWithAi() const { return m_agreed; }
    void setFilter(Filter f);
    Filter filter() const;
    bool selectDataset(const QString& name);
    // Whether a row shows its chosen on the right (side B) the first time: from kOrderSeed and its id.
    static bool sideSwapped(qint64 rowId);

public slots:
    void chooseA();
    void chooseB();
    void chooseTie();
    void skip();
    void undoLastDecision();
    void generateResponses();
    void preLabelWithJudge();
    void cancelWork();
    void reload();  // re-reads the dataset's rows for the filter, keeping the current row when it still matches

private:
    enum class Choice { A, B, Tie };
    struct Decision {
        qint64 rowId = 0;
        ft::data::Row before, after;  // the row around the edit (after as stored)
        bool reviewedAi = false, agreed = false;
    };

    void buildUi();
    QWidget* buildGenerationBox();
    void refreshDatasets();
    void refreshAdapters();
    void decide(Choice choice);
    void showCurrent();
    void showDone();
    void updateCounters();
    void setStatus(const QString& text);
    void setBusy(bool busy);
    void stopGeneration();
    void goBackTo(qint64 rowId);
    void popDecision(bool goBack);
    void onRowsChanged(qint64 datasetId);
    void onJudgeFinished(bool ok, const QString& message);
    GenerationSettings sideSettings(int side) const;

    Session* m_session = nullptr;
    PairGenerator* m_generator = nullptr;
    CliJob* m_judge = nullptr;

    QComboBox* m_dataset = nullptr;
    QComboBox* m_filter = nullptr;
    QLineEdit* m_annotator = nullptr;
    QLabel* m_progress = nullptr;
    QLabel* m_position = nullptr;
    QLabel* m_status = nullptr;
    QTextBrowser* m_prompt = nullptr;
    QTextBrowser* m_response[2] = {nullptr, nullptr};
    QLabel* m_responseTitle[2] = {nullptr, nullptr};
    QPushButton* m_decisionButtons[5] = {};  // A, B, tie, skip, undo
    QComboBox* m_adapter[2] = {nullptr, nullptr};
    QDoubleSpinBox* m_temperature[2] = {nullptr, nullptr};
    QSpinBox* m_seed[2] = {nullptr, nullptr};
    QSpinBox* m_maxTokens = nullptr;
    QComboBox* m_template = nullptr;
    QDoubleSpinBox* m_threshold = nullptr;
    QPushButton* m_generateButton = nullptr;
    QPushButton* m_judgeButton = nullptr;
    QPushButton* m_cancelButton = nullptr;
    QProgressBar* m_busy = nullptr;

    qint64 m_datasetId = 0;
    std::vector<qint64> m_queue;  // ids of the rows matching the filter when it was read
    size_t m_pos = 0;
    std::optional<ft::data::Row> m_current;
    bool m_aIsChosen = true;
    std::map<qint64, nlohmann::json> m_shownA;  // what each row showed as A, so sides stay put
    std::map<qint64, ft::data::LabelSource> m_sources;  // every row of the dataset
    bool m_generated = false;  // A/B hold a complete generated pair for the current row
    std::vector<Decision> m_decisions;
    int m_reviewed = 0, m_agreed = 0;
    bool m_ownChange = false;  // rowsChanged caused by this page
};

} // namespace ft::ui
