// The SQL of every project schema version and the runner that applies the steps.
// A new file and an old file take the same path (v0 -> v1 -> v2 ...), so an upgraded
// project is the same as a fresh one. Not here: file checks (project_store.cpp).
#include "data/schema.h"

#include "data/project_store.h"
#include "data/sqlite_util.h"

#include <sqlite3.h>

#include <iterator>

namespace ft::data::schema {

namespace {

// Version 1. Row ids come from AUTOINCREMENT so a deleted row's id is never reused
// (undo and exported files refer to them). rows_fts is contentless: the store writes
// each row's searchableText() itself and deletes an entry by recomputing that text,
// so the text is not stored twice. row_tags is the tag index (tags_json keeps a row's
// own order); its (dataset_id, tag, row_id) key serves tag filters in id order.
// Each row is in one of the two partial label-state indexes, never both. The CHECKs
// use OR rather than IN (...): SQLite builds a temporary b-tree for an IN
// list on every row inserted, which cost a third of a bulk insert's time.
constexpr const char* kV1Sql = R"sql(
CREATE TABLE datasets (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL UNIQUE,
    kind        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL
);
CREATE TABLE rows (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    dataset_id   INTEGER NOT NULL REFERENCES datasets(id) ON DELETE CASCADE,
    fields_json  TEXT NOT NULL,
    tags_json    TEXT NOT NULL DEFAULT '[]',
    notes        TEXT NOT NULL DEFAULT '',
    split        TEXT NOT NULL DEFAULT 'train' CHECK (split = 'train' OR split = 'eval' OR split = 'test'),
    label_source TEXT NOT NULL DEFAULT 'none'
                 CHECK (label_source = 'none' OR label_source = 'human' OR label_source = 'ai' OR
                        label_source = 'imported'),
    annotator    TEXT NOT NULL DEFAULT '',
    confidence   REAL,
    labeled_at   TEXT NOT NULL DEFAULT '',
    updated_at   TEXT NOT NULL
);
CREATE INDEX rows_by_dataset ON rows(dataset_id);
CREATE INDEX rows_by_split ON rows(dataset_id, split);
CREATE INDEX rows_unlabelled ON rows(dataset_id) WHERE label_source = 'none';
CREATE INDEX rows_labelled ON rows(dataset_id) WHERE label_source <> 'none';
CREATE INDEX rows_by_updated ON rows(dataset_id, updated_at);
CREATE TABLE row_tags (
    dataset_id INTEGER NOT NULL,
    tag        TEXT NOT NULL,
    row_id     INTEGER NOT NULL REFERENCES rows(id) ON DELETE CASCADE,
    PRIMARY KEY (dataset_id, tag, row_id)
) WITHOUT ROWID;
CREATE INDEX row_tags_by_row ON row_tags(row_id);
CREATE VIRTUAL TABLE rows_fts USING fts5(text, content='', tokenize='unicode61 remove_diacritics 2');
PRAGMA application_id = 1179931476;
PRAGMA user_version = 1;
)sql";

// Version 2: the persistent edit history and everything about training runs.
// An undo step groups row-level changes; each change keeps the image of its row that
// is NOT live now (NULL = the row is absent), so undo and redo are the same swap.
// Steps with undone = 1 form the redo stack; a new edit deletes them.
constexpr const char* kV2Sql = R"sql(
CREATE TABLE undo_steps (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    label      TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX undo_steps_by_state ON undo_steps(undone);
CREATE TABLE undo_changes (
    id         INTEGER PRIMARY KEY,
    step_id    INTEGER NOT NULL REFERENCES undo_steps(id) ON DELETE CASCADE,
    row_id     INTEGER NOT NULL,
    dataset_id INTEGER NOT NULL,
    image_json TEXT
);
CREATE INDEX undo_changes_by_step ON undo_changes(step_id);
CREATE TABLE runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    config_json TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'created'
                CHECK (status IN ('created', 'running', 'finished', 'failed', 'stopped')),
    output_dir  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE run_metrics (
    run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
    name   TEXT NOT NULL,
    step   INTEGER NOT NULL,
    value  REAL NOT NULL,
    PRIMARY KEY (run_id, name, step)
) WITHOUT ROWID;
CREATE TABLE evaluations (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER REFERENCES runs(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    result_json TEXT NOT NULL,
    created_at  TEXT NOT NULL
);
CREATE INDEX evaluations_by_run ON evaluations(run_id);
CREATE TABLE votes (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    prompt     TEXT NOT NULL,
    model_a    TEXT NOT NULL,
    model_b    TEXT NOT NULL,
    winner     TEXT NOT NULL CHECK (winner IN ('a', 'b', 'tie')),
    created_at TEXT NOT NULL
);
)sql";

struct Step {
    int toVersion;
    const char* sql;  // runs inside the step's transaction; ends by setting user_version
};

constexpr Step kSteps[] = {
    {1, kV1Sql},
    {2, kV2Sql},
};
static_assert(std::size(kSteps) == size_t(ProjectStore::kSchemaVersion),
              "every schema version needs a migration step");

} // namespace

int latestVersion() { return ProjectStore::kSchemaVersion; }

const char* v1Sql() { return kV1Sql; }

void migrate(sqlite3* db, const std::string& file) {
    int version = int(queryInt(db, "PRAGMA user_version"));
    if (version > latestVersion())  // open() refuses these first; this guards every other caller
        fail("project file " + file + " was written by a newer ftstudio (schema v" + std::to_string(version) +
             "; this build reads up to v" + std::to_string(latestVersion()) + ")");
    for (const Step& step : kSteps) {
        if (step.toVersion <= version)
            continue;
        try {
            exec(db, "BEGIN IMMEDIATE");
            exec(db, step.sql);
            exec(db, "PRAGMA user_version = " + std::to_string(step.toVersion));
            exec(db, "COMMIT");
        } catch (const ft::Error& e) {
            if (!sqlite3_get_autocommit(db))
                sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
            fail("upgrading project file " + file + " from schema v" + std::to_string(version) + " to v" +
                 std::to_string(step.toVersion) + " failed (the file stays at v" + std::to_string(version) +
                 "): " + e.what());
        }
        version = step.toVersion;
    }
}

} // namespace ft::data::schema
