// LabelPage: the labelling flow. Which rows are shown (the filter's snapshot of row ids),
// how a decision becomes one row edit, how Ctrl+Z (or any undo of the project) takes a
// decision back, the counters, and the judge and generation runs.
#include "label/label_page.h"

#include "app/session.h"
#include "data/project_store.h"
#include "engine/cli_job.h"
#include "util/random.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QTextBrowser>

#include <algorithm>

namespace ft::ui {

using ft::data::LabelSource;
using ft::data::Row;

namespace {

bool matches(LabelPage::Filter f, LabelSource s) {
    switch (f) {
    case LabelPage::Filter::Unlabelled: return s == LabelSource::None;
    case LabelPage::Filter::AiToReview: return s == LabelSource::AI;
    case LabelPage::Filter::All: return true;
    }
    return true;
}

bool sameLabel(const Row& x, const Row& y) {
    return x.fields == y.fields && x.tags == y.tags && x.labelSource == y.labelSource &&
           x.annotator == y.annotator && x.confidence == y.confidence && x.labeledAt == y.labeledAt;
}

QString sourceText(const Row& r) {
    if (r.labelSource == LabelSource::None)
        return QObject::tr("not labelled yet");
    QString text = QObject::tr("labelled: %1").arg(ft::data::labelSourceName(r.labelSource));
    QStringList extra;
    if (!r.annotator.empty())
        extra << QString::fromStdString(r.annotator);
    if (r.confidence)
        extra << QObject::tr("confidence %1").arg(*r.confidence, 0, 'f', 2);
    return extra.isEmpty() ? text : text + " (" + extra.join(", ") + ")";
}

} // namespace

bool LabelPage::sideSwapped(qint64 rowId) { return ft::util::splitMix64(kOrderSeed ^ quint64(rowId)) & 1; }

// Stops a generation quietly (the row is about to change anyway).
void LabelPage::stopGeneration() {
    if (!m_generator->isRunning())
        return;
    const QSignalBlocker block(m_generator);
    m_generator->cancel();
    setBusy(m_judge->isRunning());
}

void LabelPage::reload() {
    const qint64 keepRow = currentRowId();
    stopGeneration();
    m_datasetId = m_dataset->currentData().toLongLong();
    m_queue.clear();
    m_sources.clear();
    m_pos = 0;
    if (m_datasetId > 0) {
        const Filter f = filter();
        m_session->run(tr("Read the rows"), [&](ft::data::ProjectStore& s) {
            ft::data::RowQuery q;
            q.datasetId = m_datasetId;
            q.limit = 500;
            for (;;) {
                const std::vector<Row> rows = s.query(q);
                for (const Row& r : rows) {
                    m_sources[r.id] = r.labelSource;
                    if (matches(f, r.labelSource))
                        m_queue.push_back(r.id);
                }
                if (rows.size() < size_t(q.limit))
                    break;
                q.afterId = rows.back().id;
            }
        });
        const auto it = std::find(m_queue.begin(), m_queue.end(), keepRow);
        m_pos = it == m_queue.end() ? 0 : size_t(it - m_queue.begin());
    }
    showCurrent();
    updateCounters();
}

void LabelPage::showCurrent() {
    stopGeneration();
    m_generated = false;
    m_prompt->setToolTip(QString());
    m_current.reset();
    while (m_pos < m_queue.size() && !m_current) {
        const qint64 id = m_queue[m_pos];
        m_session->run(tr("Read row %1").arg(id), [&](ft::data::ProjectStore& s) { m_current = s.row(id); });
        if (!m_current)
            m_queue.erase(m_queue.begin() + qsizetype(m_pos));  // deleted meanwhile
    }
    if (!m_current) {
        showDone();
        return;
    }
    const Row& r = *m_current;
    const nlohmann::json& chosen = r.fields["chosen"];
    const nlohmann::json& rejected = r.fields["rejected"];
    const auto shown = m_shownA.find(r.id);
    if (shown != m_shownA.end() && shown->second == chosen) {
        m_aIsChosen = true;
    } else if (shown != m_shownA.end() && shown->second == rejected) {
        m_aIsChosen = false;
    } else {
        m_aIsChosen = !sideSwapped(r.id);
        m_shownA[r.id] = m_aIsChosen ? chosen : rejected;
    }
    m_prompt->setPlainText(fieldText(r.fields["prompt"]));
    m_response[0]->setPlainText(fieldText(m_aIsChosen ? chosen : rejected));
    m_response[1]->setPlainText(fieldText(m_aIsChosen ? rejected : chosen));
    m_responseTitle[0]->setText(tr("A"));
    m_responseTitle[1]->setText(tr("B"));
    m_position->setText(tr("Row %1 of %2 in this view · row id %3 · %4")
                            .arg(m_pos + 1)
                            .arg(m_queue.size())
                            .arg(r.id)
                            .arg(sourceText(r)));
    for (auto* b : m_decisionButtons)
        b->setEnabled(true);
}

void LabelPage::showDone() {
    m_prompt->setPlainText(m_datasetId > 0 ? tr("Nothing left to label in this view. Choose another filter, "
                                                "pre-label with the judge, or Ctrl+Z to go back.")
                                           : tr("The project has no preference dataset. Create or import one "
                                                "on the Data page."));
    for (auto* view : m_response)
        view->clear();
    m_responseTitle[0]->setText(tr("A"));
    m_responseTitle[1]->setText(tr("B"));
    m_position->setText(m_datasetId > 0 ? tr("%1 rows in this view, all seen").arg(m_queue.size()) : QString());
    for (int i = 0; i < 4; ++i)
        m_decisionButtons[i]->setEnabled(false);
}

void LabelPage::chooseA() { decide(Choice::A); }
void LabelPage::chooseB() { decide(Choice::B); }
void LabelPage::chooseTie() { decide(Choice::Tie); }

void LabelPage::skip() {
    if (!m_current)
        return;
    setStatus(tr("Skipped row %1 (nothing stored).").arg(m_current->id));
    ++m_pos;
    showCurrent();
}

void LabelPage::decide(Choice choice) {
    if (!m_current)
        return setStatus(tr("No row to label here."));
    if (m_generator->isRunning())
        return setStatus(tr("The responses are still being generated: wait, or press Cancel."));
    if (m_judge->isRunning())
        return setStatus(tr("The judge is labelling this dataset and will write every row; wait or cancel it."));
    const qint64 id = m_current->id;
    std::optional<Row> fresh;
    m_session->run(tr("Read row %1").arg(id), [&](ft::data::ProjectStore& s) { fresh = s.row(id); });
    if (!fresh)
        return reload();
    const Row& before = *fresh;
    nlohmann::json a, b;
    if (m_generated) {
        a = m_generator->text(0).trimmed().toStdString();
        b = m_generator->text(1).trimmed().toStdString();
        if (a.get_ref<const std::string&>().empty() || b.get_ref<const std::string&>().empty() || a == b)
            return setStatus(tr("The generated responses are empty or identical; generate again "
                                "(other seeds or temperatures) or skip."));
    } else {
        a = m_aIsChosen ? before.fields["chosen"] : before.fields["rejected"];
        b = m_aIsChosen ? before.fields["rejected"] : before.fields["chosen"];
    }
    Row after = before;
    const bool aWins = choice != Choice::B;  // a tie keeps A as chosen
    if (choice != Choice::Tie || m_generated) {
        after.fields["chosen"] = aWins ? a : b;
        after.fields["rejected"] = aWins ? b : a;
    }
    auto tie = std::find(after.tags.begin(), after.tags.end(), std::string("tie"));
    if (choice == Choice::Tie && tie == after.tags.end())
        after.tags.push_back("tie");
    else if (choice != Choice::Tie && tie != after.tags.end())
        after.tags.erase(tie);
    after.labelSource = LabelSource::Human;
    after.annotator = m_annotator->text().trimmed().toStdString();
    after.labeledAt = ft::data::nowIso8601();
    after.confidence = choice == Choice::Tie ? 0.5 : 1.0;

    Decision d;
    d.rowId = id;
    d.before = before;
    d.reviewedAi = before.labelSource == LabelSource::AI && !m_generated;  // a new pair is not the judge's
    d.agreed = d.reviewedAi && choice != Choice::Tie && after.fields["chosen"] == before.fields["chosen"];
    m_ownChange = true;
    const bool ok = m_session->run(tr("Label row %1").arg(id), [&](ft::data::ProjectStore& s) {
        s.updateRow(after);
        d.after = s.row(id).value_or(after);
    });
    if (ok)
        m_session->notifyRowsChanged(m_datasetId);
    m_ownChange = false;
    if (!ok)
        return setStatus(tr("Row %1 was not saved (see the message above).").arg(id));
    m_shownA[id] = a;  // coming back to this row shows the same text as A
    m_sources[id] = LabelSource::Human;
    m_reviewed += d.reviewedAi ? 1 : 0;
    m_agreed += d.agreed ? 1 : 0;
    m_decisions.push_back(std::move(d));
    const QString what = choice == Choice::A ? tr("A better") : choice == Choice::B ? tr("B better") : tr("tie");
    setStatus(tr("Row %1: %2 — saved.").arg(id).arg(what));
    ++m_pos;
    showCurrent();
    updateCounters();
}

void LabelPage::undoLastDecision() {
    if (m_decisions.empty())
        return setStatus(tr("No decision of this page to undo."));
    if (m_judge->isRunning())
        return setStatus(tr("The judge is writing this dataset; undo when it has finished."));
    const qint64 id = m_decisions.back().rowId;
    const QString expected = QStringLiteral("edit row %1").arg(id);
    if (m_session->undoLabel() != expected)
        return setStatus(tr("The project's last change is \"%1\", not the decision on row %2; use Edit > Undo.")
                             .arg(m_session->undoLabel(), QString::number(id)));
    m_ownChange = true;
    m_session->undo();
    m_ownChange = false;
    std::optional<Row> now;
    m_session->run(tr("Read row %1").arg(id), [&](ft::data::ProjectStore& s) { now = s.row(id); });
    if (now && sameLabel(*now, m_decisions.back().after))
        return setStatus(tr("Undo of row %1 failed.").arg(id));
    popDecision(true);
    setStatus(tr("Undid the decision on row %1.").arg(id));
}

// Drops the last decision (its edit is gone from the store) and takes its counts back.
void LabelPage::popDecision(bool goBack) {
    const Decision d = m_decisions.back();
    m_decisions.pop_back();
    m_reviewed -= d.reviewedAi ? 1 : 0;
    m_agreed -= d.agreed ? 1 : 0;
    std::optional<Row> now;
    m_session->run(tr("Read row %1").arg(d.rowId), [&](ft::data::ProjectStore& s) { now = s.row(d.rowId); });
    if (now)
        m_sources[d.rowId] = now->labelSource;
    else
        m_sources.erase(d.rowId);
    if (goBack && now)
        goBackTo(d.rowId);
    updateCounters();
}

void LabelPage::goBackTo(qint64 rowId) {
    const auto it = std::find(m_queue.begin(), m_queue.end(), rowId);
    if (it != m_queue.end())
        m_pos = size_t(it - m_queue.begin());
    else
        m_queue.insert(m_queue.begin() + qsizetype(std::min(m_pos, m_queue.size())), rowId);
    showCurrent();
}

// Another page (or Edit > Undo) changed rows: decisions whose edit is gone are popped
// (going back to the row when it is as before the decision); the counts are re-read.
void LabelPage::onRowsChanged(qint64 datasetId) {
    if (m_ownChange || m_datasetId <= 0 || (datasetId != -1 && datasetId != m_datasetId))
        return;
    bool wentBack = false;
    while (!m_decisions.empty()) {
        const Decision& d = m_decisions.back();
        std::optional<Row> now;
        m_session->run(tr("Read row %1").arg(d.rowId), [&](ft::data::ProjectStore& s) { now = s.row(d.rowId); });
        if (now && sameLabel(*now, d.after))
            break;
        const bool undone = now && sameLabel(*now, d.before);
        if (undone)
            setStatus(tr("The decision on row %1 was undone.").arg(d.rowId));
        popDecision(undone);
        wentBack = wentBack || undone;
    }
    m_session->run(tr("Read the rows"), [&](ft::data::ProjectStore& s) {
        std::map<qint64, LabelSource> sources;
        ft::data::RowQuery q;
        q.datasetId = m_datasetId;
        q.limit = 500;
        for (;;) {
            const std::vector<Row> rows = s.query(q);
            for (const Row& r : rows)
                sources[r.id] = r.labelSource;
            if (rows.size() < size_t(q.limit))
                break;
            q.afterId = rows.back().id;
        }
        m_sources = std::move(sources);
    });
    if (!wentBack && !m_generator->isRunning() && !m_generated)
        showCurrent();  // the current row may have been edited
    updateCounters();
}

void LabelPage::updateCounters() {
    int human = 0, ai = 0;
    for (const auto& [id, source] : m_sources) {
        human += source == LabelSource::Human ? 1 : 0;
        ai += source == LabelSource::AI ? 1 : 0;
    }
    QString text = tr("Labelled by people: %1 / %2  ·  AI labels to review: %3  ·  Agreement with AI: ")
                       .arg(human)
                       .arg(m_sources.size())
                       .arg(ai);
    if (m_reviewed == 0)
        text += tr("—");
    else
        text += tr("%1 / %2 (%3%)").arg(m_agreed).arg(m_reviewed).arg(qRound(100.0 * m_agreed / m_reviewed));
    m_progress->setText(text);
}

void LabelPage::generateResponses() {
    if (!m_current)
        return setStatus(tr("No prompt to generate for."));
    if (m_judge->isRunning())
        return setStatus(tr("The judge is running; wait for it or cancel it."));
    const QString prompt = fieldText(m_current->fields["prompt"]);
    m_generated = false;
    setBusy(true);
    setStatus(tr("Generating A, then B, for row %1…").arg(m_current->id));
    m_generator->start(m_session->modelDir(), prompt, sideSettings(0), sideSettings(1));
    for (int side = 0; side < 2; ++side) {
        const GenerationSettings s = sideSettings(side);
        m_responseTitle[side]->setText(tr("%1   <span style='font-size:10pt; font-weight:normal'>generated: %2, "
                                          "temperature %3, seed %4</span>")
                                           .arg(side == 0 ? "A" : "B", m_adapter[side]->currentText())
                                           .arg(s.temperature)
                                           .arg(s.seed));
    }
}

void LabelPage::preLabelWithJudge() {
    if (m_datasetId <= 0 || !m_session->hasProject())
        return setStatus(tr("Choose a preference dataset first."));
    if (m_judge->isRunning())
        return;
    const QString name = m_dataset->currentText();
    if (name.contains('#'))
        return setStatus(tr("The judge cannot name a dataset with '#' in its name (%1); rename it first.").arg(name));
    stopGeneration();
    QStringList args{QStringLiteral("judge"), QStringLiteral("--in"), m_session->projectPath() + '#' + name,
                     QStringLiteral("--threshold"), QString::number(m_threshold->value())};
    if (!m_session->modelDir().isEmpty())
        args << QStringLiteral("--model") << m_session->modelDir();
    setBusy(true);
    for (int i = 0; i < 4; ++i)
        m_decisionButtons[i]->setEnabled(false);
    const auto human = std::count_if(m_sources.begin(), m_sources.end(),
                                     [](const auto& s) { return s.second == LabelSource::Human; });
    setStatus(tr("The judge is reading the pairs of '%1' in both orders…").arg(name) +
              (human > 0 ? tr(" The %1 labelled by people are left as they are.").arg(human) : QString()));
    m_judge->start(args);
}

void LabelPage::onJudgeFinished(bool ok, const QString& message) {
    setBusy(false);
    if (!ok) {
        setStatus(tr("Judge: %1").arg(message));
        showCurrent();
        return;
    }
    setStatus(tr("Judge: %1. Review its labels below.").arg(lastLine(m_judge->allOutput())));
    m_session->notifyRowsChanged(m_datasetId);
    setFilter(Filter::AiToReview);
}

} // namespace ft::ui
