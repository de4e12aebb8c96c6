// The project file format: the SQL of each schema version and the migration runner
// that upgrades an older project, one transaction per step v(n) -> v(n+1).
// A project file is recognised by `PRAGMA application_id` (kApplicationId) and its
// format version is `PRAGMA user_version`; both live in the SQLite header, so they can
// be read without touching a table.
//
// Version history (never edit a released step; add a new one and bump
// ProjectStore::kSchemaVersion):
//   v1  datasets, rows, row_tags, the rows_fts full-text index, filter indexes
//   v2  edit history (undo_steps, undo_changes), runs, run_metrics, evaluations, votes
//
// Not here: opening files or checking them (project_store.cpp), queries on the tables.
#pragma once

#include <cstdint>
#include <string>

struct sqlite3;

namespace ft::data::schema {

// "FTST" in ASCII (0x46545354): marks a SQLite file as an ftstudio project.
constexpr int32_t kApplicationId = 0x46545354;

// The newest version this build reads and writes (== ProjectStore::kSchemaVersion).
int latestVersion();

// The complete SQL script of schema version 1, exactly as that version created it
// (including the application_id and user_version pragmas). Tests build genuine v1
// files with it to check the upgrade path.
const char* v1Sql();

// Brings the database from its current user_version (0 = empty new file) to
// latestVersion(). Each step runs in its own transaction, so a failure leaves the file
// at the last completed version. Throws ft::Error naming `file` and the step.
void migrate(sqlite3* db, const std::string& file);

} // namespace ft::data::schema
