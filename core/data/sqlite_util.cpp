// SQLite C API helpers for core/data: errors become ft::Error messages naming the file
// and the statement. Not here: schema or project knowledge.
#include "data/sqlite_util.h"

#include <cstring>

#include <sqlite3.h>

namespace ft::data {

namespace {

// The statement as a person can read it in an error: whitespace collapsed, shortened.
std::string abbreviated(std::string_view sql) {
    std::string out;
    for (char c : sql) {
        const bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r';
        if (space && (out.empty() || out.back() == ' '))
            continue;
        out += space ? ' ' : c;
    }
    while (!out.empty() && (out.back() == ' ' || out.back() == ';'))
        out.pop_back();
    constexpr size_t kMax = 90;
    if (out.size() > kMax)
        out = out.substr(0, kMax) + "...";
    return out;
}

} // namespace

std::string databaseFile(sqlite3* db) {
    const char* name = db ? sqlite3_db_filename(db, "main") : nullptr;
    return name ? name : "";
}

void failSqlite(sqlite3* db, int rc, std::string_view step) {
    const int code = rc & 0xff;
    std::string sqliteMessage = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    // A failed write says why in the system's words ("No space left on device", "File too large").
    if ((code == SQLITE_IOERR || code == SQLITE_FULL) && db)
        if (const int sys = sqlite3_system_errno(db); sys != 0)
            sqliteMessage += std::string(" (") + std::strerror(sys) + ")";
    const std::string file = databaseFile(db);
    std::string message;
    if (code == SQLITE_CORRUPT)
        message = "project file " + file + " is damaged (" + sqliteMessage + ", while running '" +
                  abbreviated(step) + "'); restore it from a backup";
    else if (code == SQLITE_NOTADB)
        message = file + " is not an ftstudio project (not a SQLite database)";
    else
        message = "project file " + file + ": '" + abbreviated(step) + "' failed: " + sqliteMessage;
    throw SqliteError(message, code, sqliteMessage);
}

void exec(sqlite3* db, std::string_view sql) {
    const std::string text(sql);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, text.c_str(), nullptr, nullptr, &error);
    sqlite3_free(error);  // sqlite3_errmsg(db) still holds the same message
    if (rc != SQLITE_OK)
        failSqlite(db, rc, sql);
}

int64_t queryInt(sqlite3* db, std::string_view sql) {
    Statement s(db, sql);
    if (!s.step())
        failSqlite(db, SQLITE_ERROR, sql);
    return s.int64(0);
}

Statement::Statement(sqlite3* db, std::string_view sql, bool persistent) : m_db(db), m_sql(sql) {
    const int rc = sqlite3_prepare_v3(db, m_sql.data(), int(m_sql.size()), persistent ? SQLITE_PREPARE_PERSISTENT : 0,
                                      &m_stmt, nullptr);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(m_stmt);
        m_stmt = nullptr;
        failSqlite(db, rc, m_sql);
    }
}

Statement::~Statement() { sqlite3_finalize(m_stmt); }

Statement::Statement(Statement&& other) noexcept
    : m_db(other.m_db), m_stmt(other.m_stmt), m_sql(std::move(other.m_sql)) {
    other.m_stmt = nullptr;
}

Statement& Statement::bind(int index, int value) { return bind(index, int64_t(value)); }

Statement& Statement::bind(int index, int64_t value) {
    if (const int rc = sqlite3_bind_int64(m_stmt, index, value); rc != SQLITE_OK)
        failSqlite(m_db, rc, m_sql);
    return *this;
}

Statement& Statement::bind(int index, double value) {
    if (const int rc = sqlite3_bind_double(m_stmt, index, value); rc != SQLITE_OK)
        failSqlite(m_db, rc, m_sql);
    return *this;
}

Statement& Statement::bind(int index, std::string_view value) {
    if (const int rc = sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        rc != SQLITE_OK)
        failSqlite(m_db, rc, m_sql);
    return *this;
}

Statement& Statement::bind(int index, const std::optional<double>& value) {
    return value ? bind(index, *value) : bindNull(index);
}

Statement& Statement::bindNull(int index) {
    if (const int rc = sqlite3_bind_null(m_stmt, index); rc != SQLITE_OK)
        failSqlite(m_db, rc, m_sql);
    return *this;
}

bool Statement::step() {
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    // Read the message before reset() can replace it.
    try {
        failSqlite(m_db, rc, m_sql);
    } catch (...) {
        sqlite3_reset(m_stmt);
        throw;
    }
}

void Statement::run() {
    while (step()) {
    }
}

void Statement::reset() {
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool Statement::isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }

int64_t Statement::int64(int column) const { return sqlite3_column_int64(m_stmt, column); }

double Statement::real(int column) const { return sqlite3_column_double(m_stmt, column); }

std::string Statement::text(int column) const {
    const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(m_stmt, column));
    return p ? std::string(p, size_t(sqlite3_column_bytes(m_stmt, column))) : std::string();
}

std::optional<double> Statement::optionalReal(int column) const {
    if (isNull(column))
        return std::nullopt;
    return real(column);
}

} // namespace ft::data
