// The dataset curation utilities (core/data/dataset_tools.h) on a real project
// store: exact and near duplicates and their undoable removal, seeded and
// stratified splits, token-length statistics (with a whitespace tokenizer whose
// counts are known by hand), sampling, and project.db#dataset references.
// Not here: the store itself, import/export (their own tests).
#include "data/dataset_tools.h"
#include "data/project_store.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>

#include <numeric>

#include <set>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_dataset_tools {

using namespace ft::data;

namespace {

// One token per whitespace-separated word; BOS = 1, EOS = 2.
class WordTokenizer : public ft::tok::Tokenizer {
public:
    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override
    {
        std::vector<int> ids;
        if (addBos)
            ids.push_back(1);
        bool inWord = false;
        for (char c : text) {
            const bool space = c == ' ' || c == '\n' || c == '\t';
            if (!space && !inWord)
                ids.push_back(3);
            inWord = !space;
        }
        if (addEos)
            ids.push_back(2);
        return ids;
    }
    std::string decode(const std::vector<int>&, bool) const override { return {}; }
    int vocabSize() const override { return 4; }
    int bosId() const override { return 1; }
    int eosId() const override { return 2; }
    int padId() const override { return 0; }
    int unkId() const override { return 0; }
    std::string idToPiece(int) const override { return "w"; }
    std::optional<int> pieceToId(std::string_view) const override { return std::nullopt; }
};

Row instructionRow(const std::string& instruction, const std::string& output, std::vector<std::string> tags = {})
{
    Row r;
    r.fields = {{"instruction", instruction}, {"output", output}};
    r.tags = std::move(tags);
    return r;
}

Row textRow(const std::string& text)
{
    Row r;
    r.fields = {{"text", text}};
    return r;
}

std::string words(int n, int salt = 0)
{
    std::string s;
    for (int i = 0; i < n; ++i)
        s += (i ? " w" : "w") + std::to_string(i * 7 + salt);
    return s;
}

template <typename T>
QString fail(const T& body)
{
    try {
        body();
    } catch (const ft::Error& e) {
        return QString::fromStdString(e.what());
    }
    return {};
}

} // namespace

class TestDatasetTools : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_counter = 0;

    std::unique_ptr<ProjectStore> newProject()
    {
        return ProjectStore::create(m_dir.filePath(QString("p%1.db").arg(++m_counter)).toStdString());
    }

private Q_SLOTS:
    void normalization()
    {
        QCOMPARE(normalizeString("  Hello,   WORLD!\n"), std::string("hello world"));
        QCOMPARE(normalizeString("\xE2\x80\x9CQuoted\xE2\x80\x9D \xE2\x80\x94 it's"), std::string("quoted its"));
        QCOMPARE(normalizeString("caf\xC3\xA9\xC2\xA0\xC3\xA9t\xC3\xA9"), std::string("caf\xC3\xA9 \xC3\xA9t\xC3\xA9"));
        QCOMPARE(normalizedText(instructionRow("Say hi", "Hi!")), std::string("say hi | hi"));
        // Field boundaries count: moving a word across fields is not the same row.
        QVERIFY(normalizedText(instructionRow("a b", "c")) != normalizedText(instructionRow("a", "b c")));
    }

    void exactAndNearDuplicates()
    {
        auto store = newProject();
        const int64_t ds = store->createDataset("d", DatasetKind::Instruction);
        const auto ids = store->insertRows(ds, {instructionRow("Say hi", "Hi!"), instructionRow("Say hi", "Hi!"),
                                                instructionRow("Something else", "Yes"),
                                                instructionRow("say HI", "hi"), instructionRow("Say  hi.", "Hi")});
        const DuplicateGroups exact = findDuplicates(*store, ds, /*near=*/false);
        QCOMPARE(exact.size(), size_t(1));
        QCOMPARE(exact[0], (std::vector<int64_t>{ids[0], ids[1]}));
        const DuplicateGroups near = findDuplicates(*store, ds, /*near=*/true);
        QCOMPARE(near.size(), size_t(1));
        QCOMPARE(near[0], (std::vector<int64_t>{ids[0], ids[1], ids[3], ids[4]}));
    }

    void nearDuplicatesBySimilarity()
    {
        auto store = newProject();
        const int64_t ds = store->createDataset("t", DatasetKind::Text);
        const std::string base = words(40);
        const auto ids = store->insertRows(ds, {textRow(base), textRow(words(60, 3)), textRow(base + " extra"),
                                                textRow(words(40, 1))});
        QVERIFY(findDuplicates(*store, ds, true, 0.0).empty());  // no identical normalized text
        const DuplicateGroups similar = findDuplicates(*store, ds, true, 0.8);
        QCOMPARE(similar.size(), size_t(1));
        QCOMPARE(similar[0], (std::vector<int64_t>{ids[0], ids[2]}));
        QCOMPARE(findDuplicates(*store, ds, true, 0.8), similar);  // deterministic
    }

    void removalKeepsLowestAndIsUndoable()
    {
        auto store = newProject();
        const int64_t ds = store->createDataset("d", DatasetKind::Instruction);
        const auto ids = store->insertRows(ds, {instructionRow("x", "1"), instructionRow("y", "2"),
                                                instructionRow("x", "1"), instructionRow("x", "1")});
        const auto before = allRows(*store, ds);
        const int64_t removed = removeDuplicates(*store, findDuplicates(*store, ds, false));
        QCOMPARE(removed, int64_t(2));
        RowQuery all;
        all.datasetId = ds;
        QCOMPARE(store->count(all), int64_t(2));
        QVERIFY(store->row(ids[0]).has_value());
        QVERIFY(!store->row(ids[2]).has_value() && !store->row(ids[3]).has_value());
        QVERIFY(store->canUndo());
        store->undo();
        QCOMPARE(store->count(all), int64_t(4));
        const auto after = allRows(*store, ds);
        QCOMPARE(after.size(), before.size());
        for (size_t i = 0; i < after.size(); ++i) {
            QCOMPARE(after[i].id, before[i].id);
            QCOMPARE(after[i].fields, before[i].fields);
        }
        QCOMPARE(removeDuplicates(*store, {}), int64_t(0));
    }

    void splitProportionsAndDeterminism()
    {
        auto store = newProject();
        const int64_t ds = store->createDataset("d", DatasetKind::Instruction);
        std::vector<Row> rows;
        for (int i = 0; i < 1000; ++i)
            rows.push_back(instructionRow("q" + std::to_string(i), "a"));
        store->insertRows(ds, rows);
        const SplitCounts c = assignSplits(*store, ds, 0.1, 0.2, /*seed=*/7, false);
        QCOMPARE(c.train, int64_t(700));
        QCOMPARE(c.eval, int64_t(100));
        QCOMPARE(c.test, int64_t(200));
        RowQuery evalRows;
        evalRows.datasetId = ds;
        evalRows.split = Split::Eval;
        QCOMPARE(store->count(evalRows), int64_t(100));
        const auto first = allRows(*store, ds);
        QCOMPARE(assignSplits(*store, ds, 0.1, 0.2, 7, false).changed, int64_t(0));  // same seed, same split
        const SplitCounts other = assignSplits(*store, ds, 0.1, 0.2, 8, false);
        QVERIFY(other.changed > 0);
        QCOMPARE(other.eval, int64_t(100));
        assignSplits(*store, ds, 0.1, 0.2, 7, false);
        const auto again = allRows(*store, ds);
        for (size_t i = 0; i < first.size(); ++i)
            QCOMPARE(again[i].split, first[i].split);

        QVERIFY(fail([&] { assignSplits(*store, ds, 0.7, 0.4, 1, false); }).contains("sum to at most 1"));
        QVERIFY(!fail([&] { assignSplits(*store, ds, -0.1, 0.0, 1, false); }).isEmpty());
    }

    void stratifiedSplitKeepsProportionsPerTag()
    {
        auto store = newProject();
        const int64_t ds = store->createDataset("d", DatasetKind::Instruction);
        std::vector<Row> rows;
        // Interleaved so an unstratified split would not follow group boundaries by accident.
        for (int i = 0; i < 1000; ++i)
            rows.push_back(instructionRow("q" + std::to_string(i), "a", {i % 5 == 0 ? "rare" : "common"}));
        for (int i = 0; i < 50; ++i)
            rows.push_back(instructionRow("untagged" + std::to_string(i), "a"));
        store->insertRows(ds, rows);
        const SplitCounts c = assignSplits(*store, ds, 0.1, 0.1, 3, /*stratifyByTag=*/true);
        QCOMPARE(c.eval, int64_t(105));
        QCOMPARE(c.test, int64_t(105));
        auto countOf = [&](const std::string& tag, Split s) {
            RowQuery q;
            q.datasetId = ds;
            q.tag = tag;
            q.split = s;
            return store->count(q);
        };
        for (auto [tag, size] : {std::pair<std::string, int64_t>{"rare", 200}, {"common", 800}})
            for (Split s : {Split::Eval, Split::Test}) {
                const int64_t n = countOf(tag, s);
                QVERIFY2(std::abs(n - size / 10) <= 1, qPrintable(QString("%1 %2: %3").arg(tag.c_str()).arg(splitName(s)).arg(n)));
            }
    }

    void tokenLengthsPerKind()
    {
        const WordTokenizer t;
        QCOMPARE(rowTokenLength(DatasetKind::Text, {{"text", "a b c"}}, t), int64_t(5));
        QCOMPARE(rowTokenLength(DatasetKind::Instruction, {{"instruction", "do this"}, {"input", ""}, {"output", "ok"}}, t),
                 int64_t(5));
        const nlohmann::json chat = {{"messages",
                                      {{{"role", "user"}, {"content", "hi there"}}, {{"role", "assistant"}, {"content", "yo"}}}}};
        QCOMPARE(rowTokenLength(DatasetKind::Chat, chat, t), int64_t(5));
        // prompt with BOS (3) + the longer response with EOS (4)
        QCOMPARE(rowTokenLength(DatasetKind::Preference, {{"prompt", "p q"}, {"chosen", "a b c"}, {"rejected", "a"}}, t),
                 int64_t(7));
        const nlohmann::json conversational = {{"prompt", {{{"role", "user"}, {"content", "p q"}}}},
                                               {"chosen", {{{"role", "assistant"}, {"content", "a"}}}},
                                               {"rejected", {{{"role", "assistant"}, {"content", "a b c d"}}}}};
        QCOMPARE(rowTokenLength(DatasetKind::Preference, conversational, t), int64_t(8));
        QCOMPARE(rowTokenLength(DatasetKind::Unpaired, {{"prompt", "p"}, {"completion", "c d"}, {"desirable", true}}, t),
                 int64_t(5));
        QCOMPARE(rowTokenLength(DatasetKind::Verifiable, {{"prompt", "2+2"}, {"reference", "4"}, {"verifier", "exact_match"}}, t),
                 int64_t(4));
    }

    void tokenLengthStatistics()
    {
        auto store = newProject();
        const int64_t ds = store->createDataset("t", DatasetKind::Text);
        std::vector<Row> rows;
        for (int n = 1; n <= 20; ++n)  // lengths 3..22 with BOS and EOS
            rows.push_back(textRow(words(n)));
        const auto ids = store->insertRows(ds, rows);
        const TokenLengthStats s = tokenLengths(*store, ds, WordTokenizer(), /*maxLength=*/20);
        QCOMPARE(s.count, int64_t(20));
        QCOMPARE(s.min, int64_t(3));
        QCOMPARE(s.max, int64_t(22));
        QCOMPARE(s.median, int64_t(12));  // nearest rank: the 10th of 20
        QCOMPARE(s.p95, int64_t(21));     // the 19th of 20
        QCOMPARE(s.mean, 12.5);
        QCOMPARE(s.overMaxIds, (std::vector<int64_t>{ids[18], ids[19]}));
        // Lengths 3..22 fit 23 bins of width 1 (0..22): 0, 1 and 2 empty, then one row each.
        QCOMPARE(s.binWidth, int64_t(1));
        QCOMPARE(s.histogram.size(), size_t(23));
        QCOMPARE(s.histogram[2], int64_t(0));
        QCOMPARE(s.histogram[3], int64_t(1));
        QCOMPARE(std::accumulate(s.histogram.begin(), s.histogram.end(), int64_t(0)), int64_t(20));
        {
            // 100 rows of 3..102 tokens: more than 40 bins of 1 or 2, so width 5, 21 bins.
            const int64_t wide = store->createDataset("wide", DatasetKind::Text);
            std::vector<Row> many;
            for (int n = 1; n <= 100; ++n)
                many.push_back(textRow(words(n)));
            store->insertRows(wide, many);
            const TokenLengthStats w = tokenLengths(*store, wide, WordTokenizer(), 0);
            QCOMPARE(w.binWidth, int64_t(5));
            QCOMPARE(w.histogram.size(), size_t(21));
            QCOMPARE(w.histogram[0], int64_t(2));   // 3 and 4 tokens
            QCOMPARE(w.histogram[20], int64_t(3));  // 100, 101, 102
        }
        const int64_t empty = store->createDataset("empty", DatasetKind::Text);
        QCOMPARE(tokenLengths(*store, empty, WordTokenizer(), 10).count, int64_t(0));
    }

    void sampling()
    {
        auto store = newProject();
        const int64_t ds = store->createDataset("t", DatasetKind::Text);
        std::vector<Row> rows;
        for (int i = 0; i < 100; ++i)
            rows.push_back(textRow("row " + std::to_string(i)));
        store->insertRows(ds, rows);
        const auto a = sampleRows(*store, ds, 10, 5), b = sampleRows(*store, ds, 10, 5), c = sampleRows(*store, ds, 10, 6);
        QCOMPARE(a.size(), size_t(10));
        std::set<int64_t> distinct;
        for (size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].id, b[i].id);
            if (i)
                QVERIFY(a[i - 1].id < a[i].id);
            distinct.insert(a[i].id);
        }
        QCOMPARE(distinct.size(), size_t(10));
        bool differs = false;
        for (size_t i = 0; i < a.size(); ++i)
            differs |= a[i].id != c[i].id;
        QVERIFY(differs);
        QCOMPARE(sampleRows(*store, ds, 1000, 1).size(), size_t(100));
    }

    void datasetReferences()
    {
        const DatasetRef ref = parseDatasetRef("some/dir/project.db#train-set");
        QCOMPARE(ref.projectPath, std::string("some/dir/project.db"));
        QCOMPARE(ref.datasetName, std::string("train-set"));
        QCOMPARE(parseDatasetRef("odd#dir/p.db#x").projectPath, std::string("odd#dir/p.db"));
        for (const char* bad : {"project.db", "#name", "project.db#"})
            QVERIFY2(fail([&] { parseDatasetRef(bad); }).contains("path/to/project.db#dataset-name"), bad);

        const std::string path = m_dir.filePath("refs.db").toStdString();
        {
            auto store = ProjectStore::create(path);
            const int64_t alpha = store->createDataset("alpha", DatasetKind::Instruction);
            store->createDataset("beta", DatasetKind::Text);
            Row evalRow = instructionRow("e", "1");
            evalRow.split = Split::Eval;
            store->insertRows(alpha, {instructionRow("t", "1"), evalRow, instructionRow("u", "2")});
        }
        const ResolvedDataset all = resolveDataset(parseDatasetRef(path + "#alpha"));
        QCOMPARE(all.info.kind, DatasetKind::Instruction);
        QCOMPARE(all.rows.size(), size_t(3));
        QVERIFY(all.rows[0].id < all.rows[1].id);
        QCOMPARE(resolveDataset({path, "alpha"}, Split::Eval).rows.size(), size_t(1));

        const QString missing = fail([&] { resolveDataset({m_dir.filePath("nope.db").toStdString(), "alpha"}); });
        QVERIFY2(missing.contains("nope.db") && missing.contains("does not exist"), qPrintable(missing));
        const QString unknown = fail([&] { resolveDataset({path, "gamma"}); });
        QVERIFY2(unknown.contains("refs.db") && unknown.contains("'gamma'") && unknown.contains("alpha") &&
                     unknown.contains("beta"),
                 qPrintable(unknown));
    }
};

FT_TEST_MAIN(TestDatasetTools)

} // namespace test_dataset_tools

#include "test_dataset_tools.moc"
