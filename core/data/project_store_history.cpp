// ProjectStore edit history: the persistent undo/redo stack of row changes.
//
// An undo step groups the row changes of one outermost transaction. Each change keeps
// the image of its row that is NOT live now (NULL = the row is absent at that point):
// before the step is undone that is the row before the change, after it is the row
// after the change. Undo and redo are therefore the same swap — read the live row,
// put the stored image in its place, keep what was read — applied to a step's changes
// newest first (undo) or oldest first (redo). An insert stores only NULL, so a big
// import costs one small history record per row.
// Steps with undone = 1 are the redo stack; a new edit deletes them.
// Not here: validation (project_store_rows.cpp); datasets and runs are not undoable.
#include "data/project_store.h"

#include "data/project_store_state.h"

#include <sqlite3.h>

#include <unordered_map>

namespace ft::data {

namespace {

// Older steps are forgotten; their stored images can be large (deleted rows).
constexpr int kMaxUndoSteps = 100;
constexpr int kChangeBatch = 4096;

} // namespace

void ProjectStore::noteChange(ChangeVerb verb, int64_t rowId, int64_t datasetId, const Row* imageBefore) {
    State& st = *m_state;
    if (st.open.id == 0) {
        exec(m_db, "DELETE FROM undo_steps WHERE undone = 1");
        Statement& s = st.statement("INSERT INTO undo_steps(label, created_at) VALUES ('', ?1)");
        {
            StatementReset r(s);
            s.bind(1, nowIso8601()).run();
        }
        st.open.id = sqlite3_last_insert_rowid(m_db);
        exec(m_db, "DELETE FROM undo_steps WHERE id <= (SELECT id FROM undo_steps ORDER BY id DESC LIMIT 1 OFFSET " +
                       std::to_string(kMaxUndoSteps) + ")");
    }
    Statement& s = st.statement(
        "INSERT INTO undo_changes(step_id, row_id, dataset_id, image_json) VALUES (?1, ?2, ?3, ?4)");
    StatementReset r(s);
    s.bind(1, st.open.id).bind(2, rowId).bind(3, datasetId);
    if (imageBefore)
        s.bind(4, rowImage(*imageBefore).dump());
    s.run();
    st.open.verbCounts[int(verb)] += 1;
    st.open.verbLastRow[int(verb)] = rowId;
}

// "insert 3 rows", "edit row 42", "insert row 7, edit 2 rows" ...
void ProjectStore::labelOpenStep() {
    State& st = *m_state;
    if (st.open.id == 0)
        return;
    static const char* const kVerbs[] = {"insert", "edit", "delete"};
    std::string label;
    for (int v = 0; v < 3; ++v) {
        const int64_t n = st.open.verbCounts[v];
        if (n == 0)
            continue;
        label += (label.empty() ? "" : ", ") + std::string(kVerbs[v]) + " " +
                 (n == 1 ? "row " + std::to_string(st.open.verbLastRow[v]) : std::to_string(n) + " rows");
    }
    Statement& s = st.statement("UPDATE undo_steps SET label = ?2 WHERE id = ?1");
    StatementReset r(s);
    s.bind(1, st.open.id).bind(2, label).run();
}

bool ProjectStore::canUndo() const { return queryInt(m_db, "SELECT EXISTS (SELECT 1 FROM undo_steps WHERE undone = 0)"); }

bool ProjectStore::canRedo() const { return queryInt(m_db, "SELECT EXISTS (SELECT 1 FROM undo_steps WHERE undone = 1)"); }

std::string ProjectStore::undoLabel() const {
    Statement& s = m_state->statement("SELECT label FROM undo_steps WHERE undone = 0 ORDER BY id DESC LIMIT 1");
    StatementReset r(s);
    return s.step() ? s.text(0) : std::string();
}

std::string ProjectStore::redoLabel() const {
    Statement& s = m_state->statement("SELECT label FROM undo_steps WHERE undone = 1 ORDER BY id LIMIT 1");
    StatementReset r(s);
    return s.step() ? s.text(0) : std::string();
}

void ProjectStore::undo() { applyStep(/*undo=*/true); }

void ProjectStore::redo() { applyStep(/*undo=*/false); }

void ProjectStore::applyStep(bool undo) {
    transaction([&] {
        State& st = *m_state;
        // Whatever step this transaction was filling is closed: after an undo, the next
        // edit starts a new step (and drops the redo stack).
        st.forgetOpenStep();
        int64_t stepId = 0;
        {
            Statement& s = st.statement(undo ? "SELECT id FROM undo_steps WHERE undone = 0 ORDER BY id DESC LIMIT 1"
                                             : "SELECT id FROM undo_steps WHERE undone = 1 ORDER BY id LIMIT 1");
            StatementReset r(s);
            if (!s.step())
                fail(undo ? "nothing to undo" : "nothing to redo");
            stepId = s.int64(0);
        }
        struct Change {
            int64_t id, rowId, datasetId;
            std::optional<std::string> image;
        };
        std::unordered_map<int64_t, DatasetKind> kinds;
        Statement& batch = st.statement(
            undo ? "SELECT id, row_id, dataset_id, image_json FROM undo_changes WHERE step_id = ?1 AND id < ?2 "
                   "ORDER BY id DESC LIMIT ?3"
                 : "SELECT id, row_id, dataset_id, image_json FROM undo_changes WHERE step_id = ?1 AND id > ?2 "
                   "ORDER BY id LIMIT ?3");
        Statement& store = st.statement("UPDATE undo_changes SET image_json = ?2 WHERE id = ?1");
        int64_t cursor = undo ? INT64_MAX : 0;
        for (;;) {
            // Read a batch, then write: never modify undo_changes under an open cursor on it.
            std::vector<Change> changes;
            {
                StatementReset r(batch);
                batch.bind(1, stepId).bind(2, cursor).bind(3, kChangeBatch);
                while (batch.step())
                    changes.push_back({batch.int64(0), batch.int64(1), batch.int64(2),
                                       batch.isNull(3) ? std::nullopt : std::optional(batch.text(3))});
            }
            if (changes.empty())
                break;
            for (const Change& c : changes) {
                auto kind = kinds.find(c.datasetId);
                if (kind == kinds.end())
                    kind = kinds.emplace(c.datasetId, requireKind(c.datasetId)).first;
                const std::optional<Row> live = row(c.rowId);
                if (c.image) {
                    nlohmann::json image = nlohmann::json::parse(*c.image, nullptr, /*allow_exceptions=*/false);
                    if (image.is_discarded())
                        fail("project file " + m_path + ": the edit history of row " + std::to_string(c.rowId) +
                             " is unreadable");
                    Row stored;
                    try {
                        stored = rowFromImage(image, c.rowId);
                    } catch (const nlohmann::json::exception& e) {
                        fail("project file " + m_path + ": the edit history of row " + std::to_string(c.rowId) +
                             " is unreadable (" + e.what() + ")");
                    }
                    if (live)
                        overwriteRow(kind->second, *live, stored);
                    else
                        writeRow(kind->second, c.datasetId, stored, c.rowId);
                } else if (live) {
                    eraseRow(kind->second, *live);
                }
                StatementReset r(store);
                store.bind(1, c.id);
                if (live)
                    store.bind(2, rowImage(*live).dump());
                store.run();
                cursor = c.id;
            }
        }
        Statement& mark = st.statement("UPDATE undo_steps SET undone = ?2 WHERE id = ?1");
        StatementReset r(mark);
        mark.bind(1, stepId).bind(2, undo ? 1 : 0).run();
    });
}

} // namespace ft::data
