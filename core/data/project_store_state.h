// Internals shared by the ProjectStore source files (project_store*.cpp): the cache of
// prepared statements, the undo step the current transaction writes to, and the
// conversions of a Row to and from its SQL columns and its JSON image in the history.
// Not a public header: nothing outside core/data/project_store*.cpp includes it.
#pragma once

#include "data/project_store.h"
#include "data/sqlite_util.h"

#include <memory>
#include <string>
#include <unordered_map>

namespace ft::data {

struct ProjectStore::State {
    explicit State(sqlite3* connection) : db(connection) {}

    // Prepared on first use and reused: a million-row insert must not re-parse SQL.
    Statement& statement(const std::string& sql) {
        auto it = statements.find(sql);
        if (it == statements.end())
            it = statements.emplace(sql, std::make_unique<Statement>(db, sql, /*persistent=*/true)).first;
        return *it->second;
    }

    sqlite3* db;
    std::unordered_map<std::string, std::unique_ptr<Statement>> statements;

    // The undo step the current outermost transaction adds its row changes to (id 0 =
    // none yet) and, per verb, how many rows it touched and the last one (its label).
    // transaction() saves a copy at each savepoint and puts it back when the savepoint
    // rolls back, so the label never counts rows that were rolled back.
    struct OpenStep {
        int64_t id = 0;
        int64_t verbCounts[3] = {0, 0, 0};
        int64_t verbLastRow[3] = {0, 0, 0};
    };
    OpenStep open;

    void forgetOpenStep() { open = OpenStep{}; }
};

// The columns readRow() expects, in this order, starting at column 0.
inline constexpr const char* kRowColumns =
    "id, dataset_id, fields_json, tags_json, notes, split, label_source, annotator, confidence, labeled_at, "
    "updated_at";

// The row at the statement's current result (columns as kRowColumns). `file` names the
// project in the error when a stored value is unreadable.
Row readRow(const Statement& s, const std::string& file);

// A row as stored in the edit history, and back (the id is kept in its own column).
nlohmann::json rowImage(const Row& row);
Row rowFromImage(const nlohmann::json& image, int64_t id);

} // namespace ft::data
