// A project: one SQLite file holding datasets and their rows, preference labels,
// runs and their metrics, evaluations and votes. Qt-free (SQLite C API) so the
// engine and the GUI share it. Versioned schema with migrations; foreign keys on;
// WAL; every public mutating call is one transaction (all or nothing) and is
// recorded in a persistent undo/redo history when it edits rows.
// Not here: file formats (importer.h/exporter.h), dataset utilities (dataset_tools.h).
#pragma once

#include "data/records.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct sqlite3;

namespace ft::data {

class Statement;  // sqlite_util.h

struct DatasetInfo {
    int64_t id = 0;
    std::string name;  // unique within the project
    DatasetKind kind = DatasetKind::Instruction;
    std::string description;
    int64_t rowCount = 0;
    std::string createdAt;
};

enum class LabelState { Any, Labelled, Unlabelled };
enum class SortKey { Id, UpdatedAt };

struct RowQuery {
    int64_t datasetId = 0;
    std::string search;                 // FTS5 query over searchableText(); empty = all
    std::optional<std::string> tag;     // rows carrying this tag
    std::optional<Split> split;
    LabelState label = LabelState::Any;
    SortKey sort = SortKey::Id;
    bool descending = false;
    int64_t offset = 0;                 // OFFSET paging (simple, for small offsets)
    std::optional<int64_t> afterId;     // keyset paging for SortKey::Id: rows with id > afterId (or < when descending)
    int64_t limit = 100;
};

struct RunRecord {
    int64_t id = 0;
    std::string name;
    std::string configJson;
    std::string status;  // "created", "running", "finished", "failed", "stopped"
    std::string outputDir;
    std::string createdAt;
};

struct VoteRecord {
    int64_t id = 0;
    std::string prompt;
    std::string modelA;
    std::string modelB;
    std::string winner;  // "a", "b", "tie"
    std::string createdAt;
};

struct EvaluationRecord {
    int64_t id = 0;
    std::optional<int64_t> runId;  // none for an evaluation of the base model
    std::string name;              // e.g. "perplexity", "rlvr-exact-match"
    std::string resultJson;
    std::string createdAt;
};

class ProjectStore {
public:
    static constexpr int kSchemaVersion = 2;  // see schema.h for what each version added

    // Creates a new project file (error if it exists).
    static std::unique_ptr<ProjectStore> create(const std::string& path);
    // Opens an existing project, upgrading an older schema; refuses a newer one, a
    // file that is not a project and a corrupt one with an ft::Error naming the file,
    // changing nothing.
    static std::unique_ptr<ProjectStore> open(const std::string& path);
    ~ProjectStore();
    ProjectStore(const ProjectStore&) = delete;
    ProjectStore& operator=(const ProjectStore&) = delete;

    const std::string& path() const { return m_path; }
    int schemaVersion() const;

    // Datasets
    int64_t createDataset(const std::string& name, DatasetKind kind, const std::string& description = "");
    std::vector<DatasetInfo> datasets() const;
    std::optional<DatasetInfo> dataset(const std::string& name) const;
    std::optional<DatasetInfo> dataset(int64_t id) const;
    DatasetInfo requireDataset(const std::string& name) const;  // ft::Error listing the names there are
    void renameDataset(int64_t id, const std::string& newName);
    void deleteDataset(int64_t id);  // with its rows and their edit history; not undoable

    // Rows. Fields are validated for the dataset's kind (ft::Error naming the field);
    // confidence must lie in 0..1, blank tags are refused and repeated ones dropped.
    // The store sets updatedAt; row.id and row.datasetId are ignored by the inserts.
    int64_t insertRow(int64_t datasetId, const Row& row);
    std::vector<int64_t> insertRows(int64_t datasetId, const std::vector<Row>& rows);  // one transaction, one undo step
    void updateRow(const Row& row);                  // by row.id; a row never changes dataset
    void deleteRows(const std::vector<int64_t>& ids);  // one undo step
    std::optional<Row> row(int64_t id) const;
    std::vector<Row> query(const RowQuery& q) const;
    int64_t count(const RowQuery& q) const;          // ignores offset/limit/afterId
    std::vector<std::string> tags(int64_t datasetId) const;
    // SQLite's EXPLAIN QUERY PLAN of query(q), one step a line: for tests and the
    // benchmark, to see that a filter or a keyset page uses an index.
    std::string queryPlan(const RowQuery& q) const;

    // Undo/redo of row edits, inserts and deletes; persists across reopen. The last 100
    // steps are kept. Undoing a step of N rows costs about as much as writing N rows.
    bool canUndo() const;
    bool canRedo() const;
    std::string undoLabel() const;  // "insert 3 rows", "edit row 42", ...; "" when none
    std::string redoLabel() const;
    void undo();
    void redo();

    // Runs, metrics, evaluations and votes (the engine and the GUI write these).
    int64_t createRun(const std::string& name, const std::string& configJson, const std::string& outputDir);
    void setRunStatus(int64_t runId, const std::string& status);
    std::vector<RunRecord> runs() const;
    void addMetric(int64_t runId, int64_t step, const std::string& name, double value);
    std::vector<std::pair<int64_t, double>> metric(int64_t runId, const std::string& name) const;
    int64_t addVote(const std::string& prompt, const std::string& modelA, const std::string& modelB,
                    const std::string& winner /* "a", "b", "tie" */);
    std::vector<VoteRecord> votes() const;
    int64_t addEvaluation(std::optional<int64_t> runId, const std::string& name, const std::string& resultJson);
    std::vector<EvaluationRecord> evaluations() const;

    // Runs `body` in one transaction; an exception rolls it back and propagates. A nested
    // call is a savepoint inside the outer transaction (its exception undoes only its
    // part). All row edits of one outermost transaction form one undo step.
    void transaction(const std::function<void()>& body);

    sqlite3* handle() const { return m_db; }  // for tests and tools in core/data

private:
    struct State;  // prepared statements and the open undo step (project_store_state.h)
    enum class ChangeVerb { Insert = 0, Edit = 1, Delete = 2 };

    ProjectStore(sqlite3* db, std::string path);
    DatasetKind requireKind(int64_t datasetId) const;
    // Row records with their full-text and tag index entries; no validation, no history.
    int64_t writeRow(DatasetKind kind, int64_t datasetId, const Row& row, int64_t explicitId);
    void overwriteRow(DatasetKind kind, const Row& before, const Row& after);
    void eraseRow(DatasetKind kind, const Row& row);
    // query(), count() and queryPlan() share one SQL builder; `prefix` is e.g. "EXPLAIN QUERY PLAN ".
    Statement& prepareQuery(const RowQuery& q, bool countOnly, const std::string& prefix) const;
    // Edit history (project_store_history.cpp).
    void noteChange(ChangeVerb verb, int64_t rowId, int64_t datasetId, const Row* imageBefore);
    void labelOpenStep();
    void applyStep(bool undo);

    sqlite3* m_db = nullptr;
    std::string m_path;
    int m_transactionDepth = 0;
    std::unique_ptr<State> m_state;
};

} // namespace ft::data
