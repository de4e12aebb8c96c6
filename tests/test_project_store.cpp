// Tests of core/data's project store: creating and opening project files (and refusing,
// unchanged, what is not a healthy project), the upgrade of a genuine v1 file built
// here from the v1 SQL, per-kind row validation, row editing, full-text search,
// filters and paging, stable ids, persistent undo/redo, transactions, run records.
// Not here: import/export formats (test_importer) or dataset tools.
#include "data/project_store.h"
#include "data/schema.h"
#include "util/error.h"

#include "test_main.h"

#include <QFile>
#include <QTemporaryDir>
#include "test_support.h"

#include <QTest>

#include <sqlite3.h>

#include <functional>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_project_store {

using namespace ft::data;
using nlohmann::json;

namespace {

using fttest::errorOf;

QByteArray fileBytes(const std::string& path) {
    QFile f(QString::fromStdString(path));
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray("<unreadable>");
}

void writeBytes(const std::string& path, const QByteArray& bytes) {
    QFile f(QString::fromStdString(path));
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(bytes), bytes.size());
}

// Raw SQL on a file, bypassing the store (to build foreign, old or tampered files).
void rawSql(const std::string& path, const std::string& sql) {
    sqlite3* db = nullptr;
    QCOMPARE(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    char* error = nullptr;
    const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
    const QString message = error ? QString(error) : QString();
    sqlite3_free(error);
    sqlite3_close(db);
    QVERIFY2(rc == SQLITE_OK, qPrintable(message));
}

int64_t scalar(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    const int64_t v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

std::string textOf(sqlite3* db, const std::string& sql) {
    sqlite3_stmt* s = nullptr;
    sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr);
    std::string v = "<no row>";
    if (sqlite3_step(s) == SQLITE_ROW)
        v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

Row instructionRow(const std::string& instruction, const std::string& output, std::vector<std::string> tags = {}) {
    Row r;
    r.fields = {{"instruction", instruction}, {"output", output}};
    r.tags = std::move(tags);
    return r;
}

std::vector<int64_t> idsOf(const std::vector<Row>& rows) {
    std::vector<int64_t> ids;
    for (const Row& r : rows)
        ids.push_back(r.id);
    return ids;
}

} // namespace

class TestProjectStore : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    int m_counter = 0;
    std::unique_ptr<ProjectStore> m_kinds;  // one dataset per kind, named after it, for the validation rows

    std::string freshPath() { return m_dir.filePath(QString("p%1.ftproj").arg(++m_counter)).toStdString(); }

    // Store + one dataset of `kind`.
    std::unique_ptr<ProjectStore> storeWith(DatasetKind kind, int64_t& datasetId, std::string* path = nullptr) {
        const std::string p = freshPath();
        auto store = ProjectStore::create(p);
        datasetId = store->createDataset("d", kind);
        if (path)
            *path = p;
        return store;
    }

    // A refused open must throw `expected` (a substring) and leave the file's bytes as
    // they were, with no -wal or -shm file left beside it.
    void expectRefused(const std::string& path, const QString& expected) {
        const QByteArray before = fileBytes(path);
        const QString error = errorOf([&] { ProjectStore::open(path); });
        QVERIFY2(error.contains(expected), qPrintable(error));
        QVERIFY2(error.contains(QString::fromStdString(path)), qPrintable(error));
        QCOMPARE(fileBytes(path), before);
        QVERIFY(!QFile::exists(QString::fromStdString(path + "-wal")));
        QVERIFY(!QFile::exists(QString::fromStdString(path + "-shm")));
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_kinds = ProjectStore::create(freshPath());
        for (const char* kind : {"instruction", "chat", "preference", "unpaired", "verifiable", "text"})
            m_kinds->createDataset(kind, *datasetKindFromName(kind));
    }

    void cleanupTestCase() { m_kinds.reset(); }

    void createAndOpen() {
        const std::string path = freshPath();
        {
            auto store = ProjectStore::create(path);
            QCOMPARE(store->schemaVersion(), ProjectStore::kSchemaVersion);
            store->createDataset("alpaca", DatasetKind::Instruction, "sample");
            QVERIFY(errorOf([&] { store->createDataset("alpaca", DatasetKind::Chat); }).contains("already has"));
            QVERIFY(errorOf([&] { store->createDataset(" ", DatasetKind::Chat); }).contains("cannot be empty"));
        }
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".creating")));
        QVERIFY(errorOf([&] { ProjectStore::create(path); }).contains("already exists"));
        QVERIFY(errorOf([&] { ProjectStore::open(path + ".missing"); }).contains("does not exist"));
        auto store = ProjectStore::open(path);
        const auto all = store->datasets();
        QCOMPARE(all.size(), size_t(1));
        QCOMPARE(all[0].name, std::string("alpaca"));
        QCOMPARE(all[0].kind, DatasetKind::Instruction);
        QCOMPARE(all[0].description, std::string("sample"));
        QCOMPARE(scalar(store->handle(), "PRAGMA foreign_keys"), int64_t(1));
        QCOMPARE(scalar(store->handle(), "PRAGMA application_id"), int64_t(schema::kApplicationId));
        const QString missing = errorOf([&] { store->requireDataset("nope"); });
        QVERIFY2(missing.contains("no dataset named 'nope'") && missing.contains("alpaca"), qPrintable(missing));
        store->renameDataset(all[0].id, "renamed");
        QVERIFY(store->dataset("renamed").has_value());
    }

    void refusesWhatIsNotAProject() {
        const std::string text = freshPath();
        writeBytes(text, QByteArray("instruction,output\nhello,world\n").repeated(20));
        expectRefused(text, "is not an ftstudio project (not a SQLite database)");

        const std::string foreign = freshPath();
        rawSql(foreign, "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT); INSERT INTO notes(body) VALUES('x');");
        expectRefused(foreign, "is a SQLite database but not an ftstudio project (application_id 0x00000000");

        const std::string empty = freshPath();
        writeBytes(empty, QByteArray());
        expectRefused(empty, "is not an ftstudio project (an empty SQLite database)");
    }

    void refusesNewerSchema() {
        const std::string path = freshPath();
        ProjectStore::create(path);
        rawSql(path, "PRAGMA user_version = 3");
        expectRefused(path, QString::fromStdString("project file " + path +
                                                   " was written by a newer ftstudio (schema v3; this build reads up "
                                                   "to v" + std::to_string(ProjectStore::kSchemaVersion) + ")"));
    }

    void refusesCorruptFile() {
        const std::string path = freshPath();
        {
            auto store = ProjectStore::create(path);
            const int64_t ds = store->createDataset("d", DatasetKind::Text);
            std::vector<Row> rows(3000);
            for (size_t i = 0; i < rows.size(); ++i)
                rows[i].fields = {{"text", "row number " + std::to_string(i) + " with some words to fill pages"}};
            store->insertRows(ds, rows);
        }
        QByteArray bytes = fileBytes(path);
        QVERIFY(bytes.size() > 64 * 4096);
        const qsizetype middle = (bytes.size() / 2) / 4096 * 4096;
        for (qsizetype i = 0; i < 3 * 4096; ++i)
            bytes[middle + i] = char((i * 131 + 17) & 0xff);
        writeBytes(path, bytes);
        expectRefused(path, "is damaged");
    }

    void upgradesVersion1File() {
        const std::string path = freshPath();
        const json fields = {{"instruction", "Name a cat"}, {"output", "Tom"}};
        rawSql(path, schema::v1Sql());
        rawSql(path, "INSERT INTO datasets(name, kind, created_at) VALUES ('legacy', 'instruction', "
                     "'2025-01-01T00:00:00.000Z');"
                     "INSERT INTO rows(dataset_id, fields_json, tags_json, updated_at) VALUES (1, '" +
                         fields.dump() + "', '[\"pets\"]', '2025-01-01T00:00:00.000Z');"
                         "INSERT INTO row_tags(dataset_id, tag, row_id) VALUES (1, 'pets', 1);"
                         "INSERT INTO rows_fts(rowid, text) VALUES (1, '" +
                         searchableText(DatasetKind::Instruction, fields) + "');");
        auto store = ProjectStore::open(path);
        QCOMPARE(store->schemaVersion(), ProjectStore::kSchemaVersion);
        const DatasetInfo legacy = store->requireDataset("legacy");
        QCOMPARE(legacy.rowCount, int64_t(1));
        const Row old = *store->row(1);
        QVERIFY(old.fields == fields);
        QCOMPARE(old.tags, std::vector<std::string>{"pets"});
        RowQuery q;
        q.datasetId = legacy.id;
        q.search = "cat";
        QCOMPARE(store->count(q), int64_t(1));
        q.search.clear();
        q.tag = "pets";
        QCOMPARE(store->count(q), int64_t(1));
        // The v2 parts work on the upgraded file.
        QVERIFY(!store->canUndo());
        const int64_t id = store->insertRow(legacy.id, instructionRow("Name a dog", "Rex"));
        QVERIFY(id > 1);
        store->undo();
        QVERIFY(!store->row(id));
        store->createRun("r", "{}", "/tmp/out");
        QCOMPARE(store->runs().size(), size_t(1));
    }

    void validation_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("fields");
        QTest::addColumn<QString>("reason");
        auto add = [](const char* name, const char* kind, const char* fields, const char* reason) {
            QTest::newRow(name) << kind << fields << reason;
        };
        add("not an object", "instruction", R"([])", "the row's fields must be a JSON object (found array)");
        add("instruction missing", "instruction", R"({"output":"b"})", "field 'instruction' is missing");
        add("output missing", "instruction", R"({"instruction":"a"})", "field 'output' is missing");
        add("output blank", "instruction", R"({"instruction":"a","output":" \n"})", "field 'output' is empty");
        add("instruction number", "instruction", R"({"instruction":5,"output":"b"})",
            "field 'instruction' must be a string (found number)");
        add("system not text", "instruction", R"({"system":true,"instruction":"a","output":"b"})",
            "field 'system' must be a string (found boolean)");
        add("unknown key", "instruction", R"({"instruction":"a","ouput":"b"})",
            "field 'ouput' is not a field of instruction rows (expected system, instruction, input, output)");
        add("messages missing", "chat", R"({})", "field 'messages' is missing");
        add("messages not list", "chat", R"({"messages":"hi"})",
            "field 'messages' must be a list of messages (found string)");
        add("no messages", "chat", R"({"messages":[]})", "field 'messages' has no messages");
        add("message not object", "chat", R"({"messages":["hi"]})",
            "field 'messages[0]' must be an object with role and content (found string)");
        add("bad role", "chat",
            R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"},{"role":"bot","content":"c"}]})",
            "field 'messages[2].role' must be one of system, user, assistant, tool");
        add("role missing", "chat", R"({"messages":[{"content":"a"}]})", "field 'messages[0].role' is missing");
        add("content missing", "chat", R"({"messages":[{"role":"user"}]})", "field 'messages[0].content' is missing");
        add("content empty", "chat", R"({"messages":[{"role":"user","content":"a"},{"role":"assistant","content":""}]})",
            "field 'messages[1].content' is empty");
        add("message extra key", "chat", R"({"messages":[{"role":"user","content":"a","name":"x"}]})",
            "field 'messages[0].name' is not allowed (a message has role and content; an assistant message may add reasoning_content and tool_calls, a tool message tool_call_id and name)");
        add("rejected missing", "preference", R"({"prompt":"p","chosen":"a"})", "field 'rejected' is missing");
        add("chosen number", "preference", R"({"prompt":"p","chosen":1,"rejected":"b"})",
            "field 'chosen' must be a string or a list of messages (found number)");
        add("rejected empty", "preference", R"({"prompt":"p","chosen":"a","rejected":""})",
            "field 'rejected' is empty");
        add("chosen message role", "preference",
            R"({"prompt":"p","chosen":[{"role":"robot","content":"a"}],"rejected":"b"})",
            "field 'chosen[0].role' must be one of system, user, assistant, tool");
        add("identical pair", "preference", R"({"prompt":"p","chosen":"same","rejected":"same"})",
            "fields 'chosen' and 'rejected' are identical");
        add("desirable missing", "unpaired", R"({"prompt":"p","completion":"c"})", "field 'desirable' is missing");
        add("desirable text", "unpaired", R"({"prompt":"p","completion":"c","desirable":"yes"})",
            "field 'desirable' must be true or false (found string)");
        add("completion empty", "unpaired", R"({"prompt":"p","completion":" ","desirable":true})",
            "field 'completion' is empty");
        add("reference missing", "verifiable", R"({"prompt":"p","verifier":"exact"})", "field 'reference' is missing");
        add("verifier empty", "verifiable", R"({"prompt":"p","reference":"4","verifier":""})",
            "field 'verifier' is empty");
        add("settings not object", "verifiable", R"({"prompt":"p","reference":"4","verifier":"numeric","verifier_settings":0.1})",
            "field 'verifier_settings' must be an object (found number)");
        add("text missing", "text", R"({})", "field 'text' is missing");
        add("text null", "text", R"({"text":null})", "field 'text' must be a string (found null)");
        add("text blank", "text", R"({"text":"\t"})", "field 'text' is empty");
    }

    void validation() {
        QFETCH(QString, kind);
        QFETCH(QString, fields);
        QFETCH(QString, reason);
        const DatasetKind k = *datasetKindFromName(kind.toStdString());
        QCOMPARE(QString::fromStdString(validateFields(k, json::parse(fields.toStdString()))), reason);
        // The store refuses the row with the same reason and keeps nothing.
        const int64_t ds = m_kinds->requireDataset(kind.toStdString()).id;
        Row row;
        row.fields = json::parse(fields.toStdString());
        const QString error = errorOf([&] { m_kinds->insertRow(ds, row); });
        QVERIFY2(error.endsWith(reason), qPrintable(error));
        QCOMPARE(m_kinds->dataset(ds)->rowCount, int64_t(0));
    }

    void validationAccepts_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("fields");
        QTest::newRow("instruction") << "instruction" << R"({"system":"","instruction":"a","input":"","output":"b"})";
        QTest::newRow("chat") << "chat" << R"({"messages":[{"role":"system","content":"s"},{"role":"user","content":"u"}]})";
        QTest::newRow("preference text") << "preference" << R"({"prompt":"p","chosen":"a","rejected":"b"})";
        QTest::newRow("preference messages")
            << "preference"
            << R"({"prompt":[{"role":"user","content":"p"}],"chosen":[{"role":"assistant","content":"a"}],"rejected":[{"role":"assistant","content":"b"}]})";
        QTest::newRow("unpaired") << "unpaired" << R"({"prompt":"p","completion":"c","desirable":false})";
        QTest::newRow("verifiable") << "verifiable" << R"({"prompt":"p","reference":"4","verifier":"numeric","verifier_settings":{"tolerance":0.01}})";
        QTest::newRow("text") << "text" << R"({"text":"t"})";
    }

    void validationAccepts() {
        QFETCH(QString, kind);
        QFETCH(QString, fields);
        const auto k = datasetKindFromName(kind.toStdString());
        QVERIFY(k.has_value());
        QCOMPARE(QString::fromStdString(validateFields(*k, json::parse(fields.toStdString()))), QString());
        QCOMPARE(QString(datasetKindName(*k)), kind);
        Row row;
        row.fields = json::parse(fields.toStdString());
        const int64_t ds = m_kinds->requireDataset(kind.toStdString()).id;
        QVERIFY(m_kinds->row(m_kinds->insertRow(ds, row))->fields == row.fields);
    }

    void insertUpdateDelete() {
        int64_t ds = 0;
        auto store = storeWith(DatasetKind::Preference, ds);
        Row row;
        row.fields = {{"prompt", "2+2?"}, {"chosen", "4"}, {"rejected", "5"}};
        row.tags = {"math", "easy", "math"};
        row.notes = "checked";
        row.split = Split::Eval;
        row.labelSource = LabelSource::Human;
        row.annotator = "ana";
        row.confidence = 0.75;
        row.labeledAt = "2026-01-02T03:04:05.000Z";
        const int64_t id = store->insertRow(ds, row);
        Row stored = *store->row(id);
        QVERIFY(!stored.updatedAt.empty());
        Row expected = row;
        expected.id = id;
        expected.datasetId = ds;
        expected.tags = {"math", "easy"};  // repeats dropped
        expected.updatedAt = stored.updatedAt;
        QVERIFY(stored == expected);
        QCOMPARE(store->tags(ds), (std::vector<std::string>{"easy", "math"}));

        stored.fields["chosen"] = "four";
        stored.tags = {"math"};
        store->updateRow(stored);
        QVERIFY(store->row(id)->fields["chosen"] == "four");
        QCOMPARE(store->tags(ds), std::vector<std::string>{"math"});
        Row bad = stored;
        bad.fields.erase("prompt");
        QVERIFY(errorOf([&] { store->updateRow(bad); }).contains("field 'prompt' is missing"));
        bad = stored;
        bad.confidence = 1.5;
        QVERIFY(errorOf([&] { store->updateRow(bad); }).contains("confidence must be between 0 and 1"));
        bad = stored;
        bad.tags = {" "};
        QVERIFY(errorOf([&] { store->updateRow(bad); }).contains("a tag cannot be empty"));
        QVERIFY(store->row(id)->fields["chosen"] == "four");
        bad = stored;
        bad.id = 999;
        QVERIFY(errorOf([&] { store->updateRow(bad); }).contains("has no row 999"));

        store->deleteRows({id});
        QVERIFY(!store->row(id));
        QCOMPARE(store->dataset(ds)->rowCount, int64_t(0));
        QVERIFY(store->tags(ds).empty());
        QVERIFY(errorOf([&] { store->deleteRows({id}); }).contains("has no row"));
        QVERIFY(errorOf([&] { store->insertRow(ds + 10, row); }).contains("no dataset with id"));
    }

    void fullTextSearch() {
        int64_t ds = 0;
        auto store = storeWith(DatasetKind::Chat, ds);
        auto chat = [](const std::string& user, const std::string& assistant) {
            Row r;
            r.fields = {{"messages", {{{"role", "user"}, {"content", user}}, {{"role", "assistant"}, {"content", assistant}}}}};
            return r;
        };
        const auto ids = store->insertRows(ds, {chat("Tell me about cats", "Cats purr."),
                                                chat("What is a catalog?", "A list of items."),
                                                chat("Describe the black cat", "It sat on the mat."),
                                                chat("Café opening hours", "Nine to five.")});
        RowQuery q;
        q.datasetId = ds;
        auto found = [&](const std::string& search) {
            q.search = search;
            return idsOf(store->query(q));
        };
        QCOMPARE(found("cats"), std::vector<int64_t>{ids[0]});
        QCOMPARE(found("cat*"), (std::vector<int64_t>{ids[0], ids[1], ids[2]}));
        QCOMPARE(found("\"black cat\""), std::vector<int64_t>{ids[2]});
        QCOMPARE(found("\"cat black\""), std::vector<int64_t>{});
        QCOMPARE(found("cafe"), std::vector<int64_t>{ids[3]});  // diacritics folded
        QCOMPARE(found("user"), std::vector<int64_t>{});        // roles are not text
        QCOMPARE(found("mat OR purr"), (std::vector<int64_t>{ids[0], ids[2]}));
        q.search = "cat AND";
        const QString error = errorOf([&] { store->query(q); });
        QVERIFY2(error.startsWith("invalid search query 'cat AND'"), qPrintable(error));
        QVERIFY(errorOf([&] { store->count(q); }).startsWith("invalid search query"));

        // Edits and deletes leave no stale index entries (the contentless index is given the old text).
        Row edited = *store->row(ids[2]);
        edited.fields["messages"][1]["content"] = "It slept on the sofa.";
        store->updateRow(edited);
        QCOMPARE(found("mat"), std::vector<int64_t>{});
        QCOMPARE(found("sofa"), std::vector<int64_t>{ids[2]});
        store->deleteRows({ids[0]});
        auto rawMatches = [&](const char* word) {
            return scalar(store->handle(), std::string("SELECT count(*) FROM rows_fts WHERE rows_fts MATCH '") + word + "'");
        };
        QCOMPARE(rawMatches("purr"), int64_t(0));
        QCOMPARE(rawMatches("mat"), int64_t(0));
        QCOMPARE(rawMatches("sofa"), int64_t(1));
        store->undo();  // the delete
        QCOMPARE(found("purr"), std::vector<int64_t>{ids[0]});
        store->deleteDataset(ds);
        QCOMPARE(scalar(store->handle(), "SELECT count(*) FROM rows_fts WHERE rows_fts MATCH 'cat*'"), int64_t(0));
        QVERIFY(!store->canUndo());
    }

    void filtersAndPaging() {
        int64_t ds = 0;
        auto store = storeWith(DatasetKind::Instruction, ds);
        const int64_t other = store->createDataset("other", DatasetKind::Instruction);
        std::vector<Row> rows;
        for (int i = 0; i < 600; ++i) {
            Row r = instructionRow("question " + std::to_string(i) + (i % 2 ? " odd" : " even"), "answer");
            if (i % 3 == 0)
                r.tags.push_back("three");
            if (i % 5 == 0)
                r.tags.push_back("five");
            r.split = i % 10 == 1 ? Split::Eval : i % 10 == 2 ? Split::Test : Split::Train;
            r.labelSource = i % 4 == 0 ? LabelSource::Human : LabelSource::None;
            rows.push_back(r);
        }
        store->insertRows(other, {rows[0], rows[3]});  // same tags in another dataset must not leak in
        auto ids = store->insertRows(ds, rows);
        std::vector<int64_t> gone;
        for (size_t i = 0; i < ids.size(); i += 7)
            gone.push_back(ids[i]);
        store->deleteRows(gone);
        for (size_t i = 1; i < ids.size(); i += 50)
            if (auto r = store->row(ids[i])) {
                r->notes = "touched";
                store->updateRow(*r);  // later updated_at
            }

        std::vector<RowQuery> shapes;
        for (int sort = 0; sort < 2; ++sort)
            for (int desc = 0; desc < 2; ++desc)
                for (int filter = 0; filter < 6; ++filter) {
                    RowQuery& q = shapes.emplace_back();
                    q.datasetId = ds;
                    q.sort = sort ? SortKey::UpdatedAt : SortKey::Id;
                    q.descending = desc;
                    if (filter == 1) q.tag = "three";
                    if (filter == 2) q.split = Split::Eval;
                    if (filter == 3) q.label = LabelState::Labelled;
                    if (filter == 4) { q.label = LabelState::Unlabelled; q.tag = "five"; }
                    if (filter == 5) { q.search = "odd"; q.tag = "three"; }
                }
        for (RowQuery q : shapes) {
            q.limit = -1;
            const std::vector<Row> all = store->query(q);
            QCOMPARE(store->count(q), int64_t(all.size()));
            QVERIFY(!all.empty());
            for (const Row& r : all) {
                QCOMPARE(r.datasetId, ds);
                if (q.tag) QVERIFY(std::find(r.tags.begin(), r.tags.end(), *q.tag) != r.tags.end());
                if (q.split) QCOMPARE(r.split, *q.split);
                if (q.label == LabelState::Labelled) QVERIFY(r.labelSource != LabelSource::None);
                if (q.label == LabelState::Unlabelled) QCOMPARE(r.labelSource, LabelSource::None);
            }
            std::vector<int64_t> keyset, offset;
            q.limit = 37;
            for (;;) {
                const auto page = store->query(q);
                for (const Row& r : page) keyset.push_back(r.id);
                if (page.size() < size_t(q.limit)) break;
                q.afterId = page.back().id;
            }
            q.afterId.reset();
            for (q.offset = 0;; q.offset += q.limit) {
                const auto page = store->query(q);
                for (const Row& r : page) offset.push_back(r.id);
                if (page.size() < size_t(q.limit)) break;
            }
            QCOMPARE(keyset, idsOf(all));
            QCOMPARE(offset, idsOf(all));
        }

        // A keyset page comes straight out of an index: no scan, no sort step.
        RowQuery page;
        page.datasetId = ds;
        page.afterId = ids[300];
        const QString plan = QString::fromStdString(store->queryPlan(page));
        QVERIFY2(plan.contains("USING INDEX rows_by_dataset (dataset_id=? AND rowid>?)"), qPrintable(plan));
        QVERIFY2(!plan.contains("TEMP B-TREE"), qPrintable(plan));
        page.sort = SortKey::UpdatedAt;
        const QString byTime = QString::fromStdString(store->queryPlan(page));
        QVERIFY2(byTime.contains("USING INDEX rows_by_updated") && !byTime.contains("TEMP B-TREE"), qPrintable(byTime));
        page.sort = SortKey::Id;
        page.tag = "three";
        const QString byTag = QString::fromStdString(store->queryPlan(page));
        QVERIFY2(byTag.contains("SEARCH t USING PRIMARY KEY") && !byTag.contains("TEMP B-TREE"), qPrintable(byTag));
        page.tag.reset();
        page.label = LabelState::Labelled;
        const QString labelled = QString::fromStdString(store->queryPlan(page));
        QVERIFY2(labelled.contains("USING INDEX rows_labelled") && !labelled.contains("TEMP B-TREE"), qPrintable(labelled));
        page.label = LabelState::Any;
        page.search = "odd";
        const QString searched = QString::fromStdString(store->queryPlan(page));
        QVERIFY2(searched.contains("SCAN f VIRTUAL TABLE") && !searched.contains("TEMP B-TREE"), qPrintable(searched));
    }

    void idsAreStable() {
        int64_t ds = 0;
        auto store = storeWith(DatasetKind::Text, ds);
        std::vector<Row> rows(5);
        for (size_t i = 0; i < rows.size(); ++i)
            rows[i].fields = {{"text", "t" + std::to_string(i)}};
        const auto ids = store->insertRows(ds, rows);
        store->deleteRows({ids[3], ids[4]});
        QVERIFY(store->row(ids[1])->fields["text"] == "t1");
        const int64_t next = store->insertRow(ds, rows[0]);
        QVERIFY(next > ids[4]);  // a deleted id is never handed out again
        store->deleteRows({ids[0], ids[1], ids[2], next});
        QVERIFY(store->insertRow(ds, rows[0]) > next);
    }

    void undoRedoPersists() {
        int64_t ds = 0;
        std::string path;
        auto store = storeWith(DatasetKind::Instruction, ds, &path);
        QVERIFY(!store->canUndo() && !store->canRedo());
        const auto ids = store->insertRows(ds, {instructionRow("a", "1"), instructionRow("b", "2", {"x"}),
                                                instructionRow("c", "3")});
        QCOMPARE(store->undoLabel(), std::string("insert 3 rows"));
        Row edited = *store->row(ids[1]);
        const Row original = edited;
        edited.fields["output"] = "two";
        edited.tags = {"y"};
        store->updateRow(edited);
        QCOMPARE(store->undoLabel(), "edit row " + std::to_string(ids[1]));
        store->deleteRows({ids[0], ids[2]});
        QCOMPARE(store->undoLabel(), std::string("delete 2 rows"));

        store.reset();
        store = ProjectStore::open(path);  // the history lives in the file
        store->undo();                     // the delete
        QVERIFY(store->row(ids[0]) && store->row(ids[2]));
        QCOMPARE(store->redoLabel(), std::string("delete 2 rows"));
        store->undo();  // the edit
        QVERIFY(*store->row(ids[1]) == original);
        RowQuery tagged;
        tagged.datasetId = ds;
        tagged.tag = "x";
        QCOMPARE(store->count(tagged), int64_t(1));
        store.reset();
        store = ProjectStore::open(path);
        QVERIFY(store->canRedo());
        store->redo();  // the edit again
        QVERIFY(store->row(ids[1])->fields["output"] == "two");
        QCOMPARE(store->count(tagged), int64_t(0));
        store->undo();
        store->undo();  // the insert
        QCOMPARE(store->dataset(ds)->rowCount, int64_t(0));
        QVERIFY(!store->canUndo());
        QVERIFY(errorOf([&] { store->undo(); }).contains("nothing to undo"));
        store->redo();  // rows come back under their own ids
        RowQuery everything;
        everything.datasetId = ds;
        QCOMPARE(idsOf(store->query(everything)), ids);
        QVERIFY(*store->row(ids[1]) == original);
        // A new edit after undo drops the redo tail.
        store->insertRow(ds, instructionRow("d", "4"));
        QVERIFY(!store->canRedo());
        store->undo();
        store->undo();
        QVERIFY(store->canRedo());
        QCOMPARE(textOf(store->handle(), "PRAGMA integrity_check"), std::string("ok"));
        QCOMPARE(textOf(store->handle(), "PRAGMA foreign_key_check"), std::string("<no row>"));
    }

    void transactionsRollBack() {
        int64_t ds = 0;
        auto store = storeWith(DatasetKind::Instruction, ds);
        store->insertRow(ds, instructionRow("kept", "1"));
        const std::string label = store->undoLabel();
        const QString error = errorOf([&] {
            store->transaction([&] {
                store->insertRows(ds, {instructionRow("a", "1"), instructionRow("b", "2")});
                throw std::runtime_error("cancelled");
            });
        });
        QVERIFY(error.contains("cancelled"));
        QCOMPARE(store->dataset(ds)->rowCount, int64_t(1));
        QCOMPARE(store->undoLabel(), label);
        // A bad row in the middle of a batch keeps the whole batch out.
        QVERIFY(errorOf([&] {
                    store->insertRows(ds, {instructionRow("a", "1"), instructionRow("b", ""), instructionRow("c", "3")});
                }).contains("row 2 of 3"));
        QCOMPARE(store->dataset(ds)->rowCount, int64_t(1));
        // A nested failure undoes only its own part; one outer transaction is one undo step.
        store->transaction([&] {
            store->insertRow(ds, instructionRow("outer", "1"));
            QVERIFY(!errorOf([&] {
                         store->transaction([&] {
                             store->insertRow(ds, instructionRow("inner", "2"));
                             ft::fail("inner failed");
                         });
                     }).isEmpty());
            store->insertRow(ds, instructionRow("outer2", "3"));
        });
        QCOMPARE(store->dataset(ds)->rowCount, int64_t(3));
        QCOMPARE(store->undoLabel(), std::string("insert 2 rows"));
        store->undo();
        QCOMPARE(store->dataset(ds)->rowCount, int64_t(1));
    }

    void runsMetricsVotes() {
        const std::string path = freshPath();
        int64_t run = 0;
        {
            auto store = ProjectStore::create(path);
            run = store->createRun("lora-sft", R"({"technique":"lora"})", "/out/run1");
            store->setRunStatus(run, "running");
            for (int step = 1; step <= 3; ++step)
                store->addMetric(run, step, "loss", 3.0 / step);
            store->addMetric(run, 2, "loss", 1.25);  // a resumed run logs step 2 again
            store->addMetric(run, 1, "lr", 1e-4);
            QVERIFY(errorOf([&] { store->setRunStatus(run, "exploded"); }).contains("unknown run status"));
            QVERIFY(errorOf([&] { store->createRun("x", "{bad", ""); }).contains("not valid JSON"));
            QVERIFY(errorOf([&] { store->addMetric(run + 5, 1, "loss", 1); }).contains("no run with id"));
            store->addVote("Say hi", "base", "lora-sft", "b");
            QVERIFY(errorOf([&] { store->addVote("p", "a", "b", "both"); }).contains("must be a, b or tie"));
            store->addEvaluation(run, "perplexity", R"({"value":12.5})");
            store->addEvaluation(std::nullopt, "perplexity", R"({"value":20})");
        }
        auto store = ProjectStore::open(path);
        const auto runs = store->runs();
        QCOMPARE(runs.size(), size_t(1));
        QCOMPARE(runs[0].status, std::string("running"));
        QCOMPARE(runs[0].outputDir, std::string("/out/run1"));
        QCOMPARE(runs[0].configJson, std::string(R"({"technique":"lora"})"));
        const auto loss = store->metric(run, "loss");
        QCOMPARE(loss, (std::vector<std::pair<int64_t, double>>{{1, 3.0}, {2, 1.25}, {3, 1.0}}));
        QCOMPARE(store->metric(run, "lr").size(), size_t(1));
        const auto votes = store->votes();
        QCOMPARE(votes.size(), size_t(1));
        QCOMPARE(votes[0].winner, std::string("b"));
        QCOMPARE(votes[0].modelB, std::string("lora-sft"));
        const auto evals = store->evaluations();
        QCOMPARE(evals.size(), size_t(2));
        QCOMPARE(evals[0].runId, std::optional<int64_t>(run));
        QVERIFY(!evals[1].runId);
    }
};

FT_TEST_MAIN(TestProjectStore)

} // namespace test_project_store

#include "test_project_store.moc"
