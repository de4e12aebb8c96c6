// Small RAII helpers over the SQLite C API for core/data: a prepared Statement with
// bind/step/column, exec() of a script, and SQLite failures turned into ft::Error
// messages that name the database file and the SQL step that failed.
// Not here: the schema (schema.h) or anything that knows what a project holds.
#pragma once

#include "util/error.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

namespace ft::data {

// An ft::Error that remembers SQLite's result code, so callers can tell a bad search
// query (SQLITE_ERROR) or a damaged file (SQLITE_CORRUPT, SQLITE_NOTADB) apart.
class SqliteError : public ft::Error {
public:
    SqliteError(const std::string& message, int code, std::string sqliteMessage)
        : ft::Error(message), m_code(code), m_sqliteMessage(std::move(sqliteMessage)) {}
    int code() const { return m_code; }                  // primary result code (rc & 0xff)
    const std::string& sqliteMessage() const { return m_sqliteMessage; }  // sqlite3_errmsg alone

private:
    int m_code;
    std::string m_sqliteMessage;
};

// The file behind the connection's main database ("" for in-memory).
std::string databaseFile(sqlite3* db);

// Throws SqliteError: "project file F: <step> failed: <sqlite message>". A damaged
// file gets a sentence saying so instead of SQLite's terse wording.
[[noreturn]] void failSqlite(sqlite3* db, int rc, std::string_view step);

// Runs one or more SQL statements that return no rows we need.
void exec(sqlite3* db, std::string_view sql);

// One int64 from a single-value query such as "PRAGMA user_version".
int64_t queryInt(sqlite3* db, std::string_view sql);

class Statement {
public:
    // persistent: a statement kept for the connection's lifetime (a cache entry).
    Statement(sqlite3* db, std::string_view sql, bool persistent = false);
    ~Statement();
    Statement(Statement&& other) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;
    Statement& operator=(const Statement&) = delete;

    // Parameters count from 1, as in SQLite. Text is copied (SQLITE_TRANSIENT).
    Statement& bind(int index, int value);
    Statement& bind(int index, int64_t value);
    Statement& bind(int index, double value);
    Statement& bind(int index, std::string_view value);
    Statement& bind(int index, const std::string& value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const char* value) { return bind(index, std::string_view(value)); }
    Statement& bind(int index, const std::optional<double>& value);
    Statement& bindNull(int index);

    bool step();  // true: a row is ready; false: done. Throws SqliteError.
    void run();   // step() for statements that return no row
    void reset(); // rewinds and clears the bindings, ready for reuse

    bool isNull(int column) const;
    int64_t int64(int column) const;
    double real(int column) const;
    std::string text(int column) const;
    std::optional<double> optionalReal(int column) const;

    sqlite3_stmt* handle() const { return m_stmt; }
    const std::string& sql() const { return m_sql; }

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
    std::string m_sql;
};

// Resets a (cached) statement when the scope ends, however it ends, so a half-stepped
// statement never keeps a read transaction open.
class StatementReset {
public:
    explicit StatementReset(Statement& s) : m_statement(s) {}
    ~StatementReset() { m_statement.reset(); }
    StatementReset(const StatementReset&) = delete;
    StatementReset& operator=(const StatementReset&) = delete;

private:
    Statement& m_statement;
};

} // namespace ft::data
