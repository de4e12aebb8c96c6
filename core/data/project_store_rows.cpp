// ProjectStore rows: validated inserts, edits and deletes (each recorded in the edit
// history), reading rows back, and the query builder behind search, filters, sort
// and paging. Not here: undo/redo itself (project_store_history.cpp).
#include "data/project_store.h"

#include "data/project_store_state.h"

#include <sqlite3.h>

#include <algorithm>
#include <unordered_set>
#include <variant>

namespace ft::data {

namespace {

// Tags are an unordered set to the user: blank ones are refused, repeats dropped
// (first kept), so the tag index never holds a row twice under one tag.
std::vector<std::string> cleanTags(const std::vector<std::string>& tags, std::string& why) {
    std::vector<std::string> out;
    std::unordered_set<std::string> seen;
    for (const std::string& tag : tags) {
        if (tag.find_first_not_of(" \t\r\n") == std::string::npos) {
            why = "a tag cannot be empty";
            return {};
        }
        if (seen.insert(tag).second)
            out.push_back(tag);
    }
    return out;
}

// The row as the store keeps it, or the reason it cannot be kept.
Row prepared(DatasetKind kind, const Row& row, const std::string& updatedAt, std::string& why) {
    why = validateFields(kind, row.fields);
    if (!why.empty())
        return {};
    if (row.confidence && !(*row.confidence >= 0.0 && *row.confidence <= 1.0)) {
        why = "confidence must be between 0 and 1 (got " + std::to_string(*row.confidence) + ")";
        return {};
    }
    Row out = row;
    out.tags = cleanTags(row.tags, why);
    out.updatedAt = updatedAt;
    return out;
}

using Binding = std::variant<int64_t, std::string>;

struct QuerySql {
    std::string sql;
    std::vector<Binding> bindings;
};

// One SQL text per shape of query, so the cached statements stay few. The driving
// table is chosen so the page comes out of an index in key order (no sort step):
// the FTS index by rowid for a search, row_tags (dataset, tag, row_id) for a tag,
// otherwise rows by (dataset_id, id) or (dataset_id, updated_at, id).
QuerySql buildQuery(const RowQuery& q, bool countOnly, const std::optional<std::string>& afterUpdatedAt) {
    QuerySql out;
    auto param = [&out](Binding b) {
        out.bindings.push_back(std::move(b));
        return "?" + std::to_string(out.bindings.size());
    };
    std::string from, key;
    std::vector<std::string> where;
    const bool tagDrives = !q.tag || q.search.empty();
    if (!q.search.empty()) {
        from = "rows_fts f CROSS JOIN rows r ON r.id = f.rowid";
        key = "f.rowid";
        where.push_back("rows_fts MATCH " + param(q.search));
        where.push_back("r.dataset_id = " + param(q.datasetId));
    } else if (q.tag) {
        from = "row_tags t CROSS JOIN rows r ON r.id = t.row_id";
        key = "t.row_id";
        where.push_back("t.dataset_id = " + param(q.datasetId));
        where.push_back("t.tag = " + param(*q.tag));
    } else {
        from = "rows r";
        key = "r.id";
        where.push_back("r.dataset_id = " + param(q.datasetId));
    }
    if (q.tag && !tagDrives)
        where.push_back("r.id IN (SELECT row_id FROM row_tags WHERE dataset_id = " + param(q.datasetId) +
                        " AND tag = " + param(*q.tag) + ")");
    if (q.split)
        where.push_back("r.split = " + param(std::string(splitName(*q.split))));
    if (q.label == LabelState::Labelled)
        where.push_back("r.label_source <> 'none'");  // literal: lets SQLite use the partial index
    else if (q.label == LabelState::Unlabelled)
        where.push_back("r.label_source = 'none'");
    const char* cmp = q.descending ? " < " : " > ";
    if (!countOnly && q.afterId) {
        if (q.sort == SortKey::Id)
            where.push_back(key + cmp + param(*q.afterId));
        else
            where.push_back("(r.updated_at, r.id)" + std::string(cmp) + "(" + param(afterUpdatedAt.value_or("")) +
                            ", " + param(*q.afterId) + ")");
    }
    std::string whereSql;
    for (const std::string& w : where)
        whereSql += (whereSql.empty() ? " WHERE " : " AND ") + w;
    if (countOnly) {
        out.sql = "SELECT count(*) FROM " + from + whereSql;
        return out;
    }
    std::string columns;
    for (std::string c : {"id", "dataset_id", "fields_json", "tags_json", "notes", "split", "label_source",
                          "annotator", "confidence", "labeled_at", "updated_at"})
        columns += (columns.empty() ? "r." : ", r.") + c;
    const char* dir = q.descending ? " DESC" : "";
    const std::string order =
        q.sort == SortKey::Id ? key + dir : "r.updated_at" + std::string(dir) + ", r.id" + dir;
    out.sql = "SELECT " + columns + " FROM " + from + whereSql + " ORDER BY " + order + " LIMIT " +
              param(q.limit < 0 ? int64_t(-1) : q.limit) + " OFFSET " + param(std::max<int64_t>(q.offset, 0));
    return out;
}

} // namespace

// ---- row records (no validation, no history: callers do both) ----

int64_t ProjectStore::writeRow(DatasetKind kind, int64_t datasetId, const Row& row, int64_t explicitId) {
    Statement& s = m_state->statement(
        "INSERT INTO rows(id, dataset_id, fields_json, tags_json, notes, split, label_source, annotator, "
        "confidence, labeled_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
    {
        StatementReset r(s);
        if (explicitId > 0)
            s.bind(1, explicitId);  // undo/redo puts a row back under its own id
        s.bind(2, datasetId)
            .bind(3, row.fields.dump())
            .bind(4, nlohmann::json(row.tags).dump())
            .bind(5, row.notes)
            .bind(6, splitName(row.split))
            .bind(7, labelSourceName(row.labelSource))
            .bind(8, row.annotator)
            .bind(9, row.confidence)
            .bind(10, row.labeledAt)
            .bind(11, row.updatedAt)
            .run();
    }
    const int64_t id = sqlite3_last_insert_rowid(m_db);
    Statement& fts = m_state->statement("INSERT INTO rows_fts(rowid, text) VALUES (?1, ?2)");
    {
        StatementReset r(fts);
        fts.bind(1, id).bind(2, searchableText(kind, row.fields)).run();
    }
    Statement& tag = m_state->statement("INSERT INTO row_tags(dataset_id, tag, row_id) VALUES (?1, ?2, ?3)");
    for (const std::string& t : row.tags) {
        StatementReset r(tag);
        tag.bind(1, datasetId).bind(2, t).bind(3, id).run();
    }
    return id;
}

void ProjectStore::eraseRow(DatasetKind kind, const Row& row) {
    Statement& fts = m_state->statement("INSERT INTO rows_fts(rows_fts, rowid, text) VALUES ('delete', ?1, ?2)");
    {
        StatementReset r(fts);
        fts.bind(1, row.id).bind(2, searchableText(kind, row.fields)).run();
    }
    Statement& s = m_state->statement("DELETE FROM rows WHERE id = ?1");  // row_tags follow by cascade
    StatementReset r(s);
    s.bind(1, row.id).run();
}

void ProjectStore::overwriteRow(DatasetKind kind, const Row& before, const Row& after) {
    eraseRow(kind, before);
    writeRow(kind, before.datasetId, after, before.id);
}

// ---- public row API ----

int64_t ProjectStore::insertRow(int64_t datasetId, const Row& row) {
    return insertRows(datasetId, {row}).front();
}

std::vector<int64_t> ProjectStore::insertRows(int64_t datasetId, const std::vector<Row>& rows) {
    std::vector<int64_t> ids;
    ids.reserve(rows.size());
    transaction([&] {
        const DatasetKind kind = requireKind(datasetId);
        const std::string now = nowIso8601();
        std::string why;
        for (size_t i = 0; i < rows.size(); ++i) {
            const Row row = prepared(kind, rows[i], now, why);
            if (!why.empty())
                fail("cannot add " +
                     (rows.size() == 1 ? std::string("the row") : "row " + std::to_string(i + 1) + " of " +
                                                                      std::to_string(rows.size())) +
                     " to " + datasetKindName(kind) + " dataset '" + dataset(datasetId)->name + "': " + why);
            const int64_t id = writeRow(kind, datasetId, row, 0);
            noteChange(ChangeVerb::Insert, id, datasetId, nullptr);
            ids.push_back(id);
        }
        labelOpenStep();
    });
    return ids;
}

void ProjectStore::updateRow(const Row& row) {
    transaction([&] {
        const std::optional<Row> before = this->row(row.id);
        if (!before)
            fail("project " + m_path + " has no row " + std::to_string(row.id));
        if (row.datasetId != 0 && row.datasetId != before->datasetId)
            fail("row " + std::to_string(row.id) + " belongs to dataset " + std::to_string(before->datasetId) +
                 "; rows cannot move between datasets");
        const DatasetKind kind = requireKind(before->datasetId);
        std::string why;
        Row after = prepared(kind, row, nowIso8601(), why);
        if (!why.empty())
            fail("cannot save row " + std::to_string(row.id) + ": " + why);
        after.id = before->id;
        after.datasetId = before->datasetId;
        noteChange(ChangeVerb::Edit, row.id, before->datasetId, &*before);
        overwriteRow(kind, *before, after);
        labelOpenStep();
    });
}

void ProjectStore::deleteRows(const std::vector<int64_t>& ids) {
    transaction([&] {
        std::unordered_set<int64_t> done;
        for (int64_t id : ids) {
            if (!done.insert(id).second)
                continue;
            const std::optional<Row> before = row(id);
            if (!before)
                fail("project " + m_path + " has no row " + std::to_string(id));
            noteChange(ChangeVerb::Delete, id, before->datasetId, &*before);
            eraseRow(requireKind(before->datasetId), *before);
        }
        labelOpenStep();
    });
}

std::optional<Row> ProjectStore::row(int64_t id) const {
    Statement& s = m_state->statement(std::string("SELECT ") + kRowColumns + " FROM rows WHERE id = ?1");
    StatementReset r(s);
    s.bind(1, id);
    if (!s.step())
        return std::nullopt;
    return readRow(s, m_path);
}

Statement& ProjectStore::prepareQuery(const RowQuery& q, bool countOnly, const std::string& prefix) const {
    std::optional<std::string> afterUpdatedAt;
    if (!countOnly && q.afterId && q.sort == SortKey::UpdatedAt) {
        const std::optional<Row> anchor = row(*q.afterId);
        if (!anchor)
            fail("cannot page after row " + std::to_string(*q.afterId) + ": it no longer exists");
        afterUpdatedAt = anchor->updatedAt;
    }
    const QuerySql built = buildQuery(q, countOnly, afterUpdatedAt);
    Statement& s = m_state->statement(prefix + built.sql);
    s.reset();
    for (size_t i = 0; i < built.bindings.size(); ++i)
        std::visit([&](const auto& v) { s.bind(int(i + 1), v); }, built.bindings[i]);
    return s;
}

namespace {

// A malformed FTS5 expression surfaces as SQLITE_ERROR from the first step.
template <typename Body>
auto withSearchErrors(const RowQuery& q, Body body) {
    try {
        return body();
    } catch (const SqliteError& e) {
        if (q.search.empty() || e.code() != SQLITE_ERROR)
            throw;
        fail("invalid search query '" + q.search + "': " + e.sqliteMessage() +
             " (use words, prefix* and \"exact phrases\"; quote words that contain punctuation)");
    }
}

} // namespace

std::vector<Row> ProjectStore::query(const RowQuery& q) const {
    return withSearchErrors(q, [&] {
        Statement& s = prepareQuery(q, /*countOnly=*/false, "");
        StatementReset r(s);
        std::vector<Row> out;
        while (s.step())
            out.push_back(readRow(s, m_path));
        return out;
    });
}

int64_t ProjectStore::count(const RowQuery& q) const {
    return withSearchErrors(q, [&] {
        Statement& s = prepareQuery(q, /*countOnly=*/true, "");
        StatementReset r(s);
        return s.step() ? s.int64(0) : int64_t(0);
    });
}

std::string ProjectStore::queryPlan(const RowQuery& q) const {
    return withSearchErrors(q, [&] {
        Statement& s = prepareQuery(q, /*countOnly=*/false, "EXPLAIN QUERY PLAN ");
        StatementReset r(s);
        std::string plan;
        while (s.step())
            plan += s.text(3) + "\n";
        return plan;
    });
}

std::vector<std::string> ProjectStore::tags(int64_t datasetId) const {
    Statement& s = m_state->statement("SELECT DISTINCT tag FROM row_tags WHERE dataset_id = ?1 ORDER BY tag");
    StatementReset r(s);
    s.bind(1, datasetId);
    std::vector<std::string> out;
    while (s.step())
        out.push_back(s.text(0));
    return out;
}

// ---- row <-> columns and history images ----

Row readRow(const Statement& s, const std::string& file) {
    Row row;
    row.id = s.int64(0);
    row.datasetId = s.int64(1);
    auto parse = [&](int column, const char* what) {
        nlohmann::json j = nlohmann::json::parse(s.text(column), nullptr, /*allow_exceptions=*/false);
        if (j.is_discarded())
            fail("project file " + file + ": row " + std::to_string(row.id) + " has unreadable " + what);
        return j;
    };
    row.fields = parse(2, "fields");
    const nlohmann::json tags = parse(3, "tags");
    for (const auto& t : tags)
        if (t.is_string())
            row.tags.push_back(t.get<std::string>());
    row.notes = s.text(4);
    row.split = splitFromName(s.text(5)).value_or(Split::Train);
    row.labelSource = labelSourceFromName(s.text(6)).value_or(LabelSource::None);
    row.annotator = s.text(7);
    row.confidence = s.optionalReal(8);
    row.labeledAt = s.text(9);
    row.updatedAt = s.text(10);
    return row;
}

nlohmann::json rowImage(const Row& row) {
    return {{"dataset_id", row.datasetId},
            {"fields", row.fields},
            {"tags", row.tags},
            {"notes", row.notes},
            {"split", splitName(row.split)},
            {"label_source", labelSourceName(row.labelSource)},
            {"annotator", row.annotator},
            {"confidence", row.confidence ? nlohmann::json(*row.confidence) : nlohmann::json()},
            {"labeled_at", row.labeledAt},
            {"updated_at", row.updatedAt}};
}

Row rowFromImage(const nlohmann::json& image, int64_t id) {
    Row row;
    row.id = id;
    row.datasetId = image.at("dataset_id").get<int64_t>();
    row.fields = image.at("fields");
    row.tags = image.at("tags").get<std::vector<std::string>>();
    row.notes = image.at("notes").get<std::string>();
    row.split = splitFromName(image.at("split").get<std::string>()).value_or(Split::Train);
    row.labelSource = labelSourceFromName(image.at("label_source").get<std::string>()).value_or(LabelSource::None);
    row.annotator = image.at("annotator").get<std::string>();
    if (const auto& c = image.at("confidence"); c.is_number())
        row.confidence = c.get<double>();
    row.labeledAt = image.at("labeled_at").get<std::string>();
    row.updatedAt = image.at("updated_at").get<std::string>();
    return row;
}

} // namespace ft::data
