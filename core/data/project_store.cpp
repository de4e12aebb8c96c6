// ProjectStore: creating and opening project files (refusing what is not a healthy,
// readable project without changing it), transactions and datasets. Rows, search and
// paging live in project_store_rows.cpp, undo/redo in project_store_history.cpp, run
// records in project_store_runs.cpp.
#include "data/project_store.h"

#include "data/project_store_state.h"
#include "data/schema.h"

#include <sqlite3.h>

#include <cstdio>
#include <filesystem>

namespace ft::data {

namespace {

namespace fs = std::filesystem;

// quick_check reads every page; past this size it would make opening a project slow,
// so bigger files rely on SQLite reporting damage when a page is used (failSqlite
// turns SQLITE_CORRUPT into a "damaged" message there too).
constexpr uintmax_t kQuickCheckMaxBytes = uintmax_t(512) << 20;
constexpr int kBusyTimeoutMs = 5000;

struct Connection {
    sqlite3* db = nullptr;
    ~Connection() { sqlite3_close_v2(db); }
    sqlite3* release() { return std::exchange(db, nullptr); }
};

void openConnection(Connection& c, const std::string& uri, int flags, const std::string& verb,
                    const std::string& path) {
    const int rc = sqlite3_open_v2(uri.c_str(), &c.db, flags | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI, nullptr);
    if (rc != SQLITE_OK)
        fail("cannot " + verb + " project file " + path + ": " +
             (c.db ? sqlite3_errmsg(c.db) : sqlite3_errstr(rc)));
    sqlite3_extended_result_codes(c.db, 1);
}

// A file: URI for the path (SQLITE_OPEN_URI is on, so '?', '#' and '%' must be escaped).
std::string fileUri(const std::string& path, const char* query) {
    std::string uri = "file:";
    for (char ch : path) {
        if (ch == '?' || ch == '#' || ch == '%') {
            char buf[4];
            std::snprintf(buf, sizeof buf, "%%%02X", unsigned(static_cast<unsigned char>(ch)));
            uri += buf;
        } else {
            uri += ch;
        }
    }
    return uri + "?" + query;
}

// The connection open() inspects a file with. Even a read-only connection to a
// WAL-mode file creates -wal and -shm beside it and leaves them there, so a file with
// no -wal (nothing pending: the usual case) is read as immutable, which creates
// nothing. With a -wal present its content matters, so it is read normally.
std::string inspectionUri(const std::string& path) {
    std::error_code ec;
    return fs::exists(path + "-wal", ec) ? fileUri(path, "mode=ro") : fileUri(path, "mode=ro&immutable=1");
}

std::string hex32(int64_t v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "0x%08x", unsigned(uint32_t(v)));
    return buf;
}

// "*** in database main ***\nPage 110: btreeInitPage() returns error code 11" -> one line.
std::string tidyCheckReport(std::string report) {
    const std::string banner = "*** in database main ***";
    if (report.rfind(banner, 0) == 0)
        report.erase(0, banner.size());
    for (char& ch : report)
        if (ch == '\n')
            ch = ' ';
    const size_t first = report.find_first_not_of(' ');
    return first == std::string::npos ? report : report.substr(first);
}

// Everything open() refuses is found here, on a read-only connection, so a refused
// file is never written to.
void inspect(sqlite3* db, const std::string& path) {
    try {
        const int64_t appId = queryInt(db, "PRAGMA application_id");
        const int64_t version = queryInt(db, "PRAGMA user_version");
        if (appId != schema::kApplicationId) {
            if (queryInt(db, "SELECT count(*) FROM sqlite_master") == 0)
                fail(path + " is not an ftstudio project (an empty SQLite database)");
            fail(path + " is a SQLite database but not an ftstudio project (application_id " + hex32(appId) +
                 ", expected " + hex32(schema::kApplicationId) + ")");
        }
        if (version > ProjectStore::kSchemaVersion)
            fail("project file " + path + " was written by a newer ftstudio (schema v" + std::to_string(version) +
                 "; this build reads up to v" + std::to_string(ProjectStore::kSchemaVersion) + ")");
        if (version < 1)
            fail("project file " + path + " has no schema version; it was not completed by ftstudio");
        std::error_code ec;
        if (fs::file_size(path, ec) <= kQuickCheckMaxBytes && !ec) {
            Statement check(db, "PRAGMA quick_check(1)");
            const std::string verdict = check.step() ? check.text(0) : "no answer";
            if (verdict != "ok")
                fail("project file " + path + " is damaged (" + tidyCheckReport(verdict) +
                     "); restore it from a backup");
        }
    } catch (const SqliteError& e) {
        if (e.code() == SQLITE_NOTADB)
            fail(path + " is not an ftstudio project (not a SQLite database)");
        if (e.code() == SQLITE_CORRUPT)
            fail("project file " + path + " is damaged (" + e.sqliteMessage() + "); restore it from a backup");
        throw;
    }
}

void configure(sqlite3* db) {
    sqlite3_busy_timeout(db, kBusyTimeoutMs);
    exec(db, "PRAGMA foreign_keys = ON");
    // WAL: readers (the GUI) never block the writer (an import) and a crash mid-write
    // leaves the last committed state.
    exec(db, "PRAGMA journal_mode = WAL");
    exec(db, "PRAGMA cache_size = -32768");  // KiB: keeps index pages of big imports in memory
}

} // namespace

ProjectStore::ProjectStore(sqlite3* db, std::string path)
    : m_db(db), m_path(std::move(path)), m_state(std::make_unique<State>(db)) {}

ProjectStore::~ProjectStore() {
    m_state.reset();  // statements first: a connection with live statements does not close
    sqlite3_close_v2(m_db);
}

std::unique_ptr<ProjectStore> ProjectStore::create(const std::string& path) {
    std::error_code ec;
    if (fs::exists(path, ec))
        fail("cannot create project file " + path + ": it already exists");
    // Built under a temporary name and renamed into place: a crash never leaves a
    // half-made project under the real name.
    const std::string tmp = path + ".creating";
    for (const char* suffix : {"", "-wal", "-shm"})
        fs::remove(tmp + suffix, ec);
    {
        Connection c;
        openConnection(c, fileUri(tmp, "mode=rwc"), SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, "create",
                       path);
        try {
            configure(c.db);
            schema::migrate(c.db, path);
        } catch (...) {
            sqlite3_close_v2(c.release());
            fs::remove(tmp, ec);
            throw;
        }
    }  // closing the last connection checkpoints the WAL into the file
    fs::rename(tmp, path, ec);
    if (ec)
        fail("cannot create project file " + path + ": renaming " + tmp + " failed: " + ec.message());
    return open(path);
}

std::unique_ptr<ProjectStore> ProjectStore::open(const std::string& path) {
    std::error_code ec;
    const fs::file_status st = fs::status(path, ec);
    if (!fs::exists(st))
        fail("project file " + path + " does not exist");
    if (fs::is_directory(st))
        fail(path + " is a folder, not a project file");
    {
        Connection check;
        openConnection(check, inspectionUri(path), SQLITE_OPEN_READONLY, "open", path);
        inspect(check.db, path);
    }
    Connection c;
    openConnection(c, fileUri(path, "mode=rw"), SQLITE_OPEN_READWRITE, "open", path);
    if (sqlite3_db_readonly(c.db, "main") == 1)
        fail("project file " + path + " is read-only; ftstudio needs to write to it (check its permissions)");
    configure(c.db);
    schema::migrate(c.db, path);
    return std::unique_ptr<ProjectStore>(new ProjectStore(c.release(), path));
}

int ProjectStore::schemaVersion() const { return int(queryInt(m_db, "PRAGMA user_version")); }

void ProjectStore::transaction(const std::function<void()>& body) {
    const std::string savepoint = "nested_" + std::to_string(m_transactionDepth);
    // IMMEDIATE takes the write lock up front: two writers wait (busy timeout) instead
    // of failing with SQLITE_BUSY when a read upgrades to a write.
    exec(m_db, m_transactionDepth == 0 ? "BEGIN IMMEDIATE" : "SAVEPOINT " + savepoint);
    const State::OpenStep saved = m_state->open;
    ++m_transactionDepth;
    try {
        body();
    } catch (...) {
        --m_transactionDepth;
        if (!sqlite3_get_autocommit(m_db)) {  // SQLite may already have rolled back (disk full)
            if (m_transactionDepth == 0)
                sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
            else
                sqlite3_exec(m_db, ("ROLLBACK TO " + savepoint + "; RELEASE " + savepoint).c_str(), nullptr,
                             nullptr, nullptr);
        }
        if (m_transactionDepth == 0)
            m_state->forgetOpenStep();
        else
            m_state->open = saved;
        throw;
    }
    --m_transactionDepth;
    if (m_transactionDepth > 0) {
        exec(m_db, "RELEASE " + savepoint);
        return;
    }
    m_state->forgetOpenStep();
    try {
        exec(m_db, "COMMIT");
    } catch (...) {
        if (!sqlite3_get_autocommit(m_db))
            sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
        throw;
    }
}

// ---- datasets ----

namespace {

void checkDatasetName(const std::string& name) {
    if (name.find_first_not_of(" \t\r\n") == std::string::npos)
        fail("a dataset name cannot be empty");
    // '#' separates the project file and the dataset in "project.db#dataset".
    if (name.find('#') != std::string::npos)
        fail("dataset name '" + name + "' contains '#', which separates project and dataset in project.db#name");
}

DatasetInfo readDataset(const Statement& s, const std::string& file) {
    DatasetInfo d;
    d.id = s.int64(0);
    d.name = s.text(1);
    const std::string kind = s.text(2);
    const auto k = datasetKindFromName(kind);
    if (!k)
        fail("project file " + file + ": dataset '" + d.name + "' has unknown kind '" + kind + "'");
    d.kind = *k;
    d.description = s.text(3);
    d.createdAt = s.text(4);
    d.rowCount = s.int64(5);
    return d;
}

constexpr const char* kDatasetSelect =
    "SELECT id, name, kind, description, created_at, (SELECT count(*) FROM rows WHERE dataset_id = d.id) "
    "FROM datasets d ";

} // namespace

int64_t ProjectStore::createDataset(const std::string& name, DatasetKind kind, const std::string& description) {
    checkDatasetName(name);
    int64_t id = 0;
    transaction([&] {
        if (dataset(name))
            fail("project " + m_path + " already has a dataset named '" + name + "'");
        Statement& s = m_state->statement(
            "INSERT INTO datasets(name, kind, description, created_at) VALUES (?1, ?2, ?3, ?4)");
        StatementReset r(s);
        s.bind(1, name).bind(2, datasetKindName(kind)).bind(3, description).bind(4, nowIso8601()).run();
        id = sqlite3_last_insert_rowid(m_db);
    });
    return id;
}

std::vector<DatasetInfo> ProjectStore::datasets() const {
    Statement& s = m_state->statement(std::string(kDatasetSelect) + "ORDER BY id");
    StatementReset r(s);
    std::vector<DatasetInfo> out;
    while (s.step())
        out.push_back(readDataset(s, m_path));
    return out;
}

std::optional<DatasetInfo> ProjectStore::dataset(const std::string& name) const {
    Statement& s = m_state->statement(std::string(kDatasetSelect) + "WHERE name = ?1");
    StatementReset r(s);
    s.bind(1, name);
    if (!s.step())
        return std::nullopt;
    return readDataset(s, m_path);
}

std::optional<DatasetInfo> ProjectStore::dataset(int64_t id) const {
    Statement& s = m_state->statement(std::string(kDatasetSelect) + "WHERE id = ?1");
    StatementReset r(s);
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readDataset(s, m_path);
}

DatasetInfo ProjectStore::requireDataset(const std::string& name) const {
    if (auto d = dataset(name))
        return *d;
    std::string names;
    for (const DatasetInfo& d : datasets())
        names += (names.empty() ? "" : ", ") + d.name;
    fail("project " + m_path + " has no dataset named '" + name + "' " +
         (names.empty() ? "(it has no datasets yet)" : "(datasets: " + names + ")"));
}

DatasetKind ProjectStore::requireKind(int64_t datasetId) const {
    Statement& s = m_state->statement("SELECT kind FROM datasets WHERE id = ?1");
    StatementReset r(s);
    s.bind(1, datasetId);
    if (!s.step())
        fail("project " + m_path + " has no dataset with id " + std::to_string(datasetId));
    const std::string kind = s.text(0);
    if (auto k = datasetKindFromName(kind))
        return *k;
    fail("project file " + m_path + ": dataset " + std::to_string(datasetId) + " has unknown kind '" + kind + "'");
}

void ProjectStore::renameDataset(int64_t id, const std::string& newName) {
    checkDatasetName(newName);
    transaction([&] {
        requireKind(id);
        if (auto other = dataset(newName); other && other->id != id)
            fail("project " + m_path + " already has a dataset named '" + newName + "'");
        Statement& s = m_state->statement("UPDATE datasets SET name = ?2 WHERE id = ?1");
        StatementReset r(s);
        s.bind(1, id).bind(2, newName).run();
    });
}

void ProjectStore::deleteDataset(int64_t id) {
    transaction([&] {
        const DatasetKind kind = requireKind(id);
        // The contentless full-text index forgets a row only when given its text again.
        Statement rows(m_db, "SELECT id, fields_json FROM rows WHERE dataset_id = ?1");
        rows.bind(1, id);
        Statement& ftsDelete =
            m_state->statement("INSERT INTO rows_fts(rows_fts, rowid, text) VALUES ('delete', ?1, ?2)");
        while (rows.step()) {
            StatementReset r(ftsDelete);
            const nlohmann::json fields = nlohmann::json::parse(rows.text(1), nullptr, /*allow_exceptions=*/false);
            ftsDelete.bind(1, rows.int64(0)).bind(2, searchableText(kind, fields)).run();
        }
        // Its rows leave the edit history too: undo cannot bring back a deleted dataset.
        Statement(m_db, "DELETE FROM undo_changes WHERE dataset_id = ?1").bind(1, id).run();
        exec(m_db, "DELETE FROM undo_steps WHERE NOT EXISTS "
                   "(SELECT 1 FROM undo_changes c WHERE c.step_id = undo_steps.id)");
        if (m_state->open.id && queryInt(m_db, "SELECT count(*) FROM undo_steps WHERE id = " +
                                                     std::to_string(m_state->open.id)) == 0)
            m_state->forgetOpenStep();
        Statement(m_db, "DELETE FROM datasets WHERE id = ?1").bind(1, id).run();
    });
}

} // namespace ft::data
