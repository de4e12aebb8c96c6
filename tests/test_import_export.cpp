// Tests of core/data import and export: every layout detected and imported from JSON
// Lines and JSON arrays, CSV with quoted multi-line fields and a column mapping, TSV,
// plain text; one case per rejection reason (file, line, reason); all-or-nothing versus
// import-valid; failed imports leaving the project unchanged; and import -> export ->
// import round trips for every kind, format and layout that can hold the data.
// Input files are written byte by byte here, independently of the exporter.
#include "data/exporter.h"
#include "data/importer.h"
#include "data/project_store.h"
#include "util/error.h"

#include "test_main.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include "test_support.h"

#include <QTest>

#include <functional>
#include <memory>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_import_export {

using namespace ft::data;

namespace {

using fttest::errorOf;

std::vector<Row> allRows(const ProjectStore& store, const std::string& dataset) {
    RowQuery q;
    q.datasetId = store.requireDataset(dataset).id;
    q.limit = 1000000;
    return store.query(q);
}

QString str(const std::string& s) { return QString::fromStdString(s); }

// The first rejection of a report as "file:line: reason", for failure messages.
QByteArray firstRejection(const ImportReport& r) {
    return r.rejections.empty() ? QByteArray() : QByteArray::fromStdString(r.rejections.front().message());
}

// "" when equal, else where the first difference is.
QString rowDifference(const std::vector<Row>& a, const std::vector<Row>& b, bool metadata) {
    if (a.size() != b.size())
        return QString("row counts differ: %1 vs %2").arg(a.size()).arg(b.size());
    for (size_t i = 0; i < a.size(); ++i) {
        const Row& x = a[i];
        const Row& y = b[i];
        const auto at = [&](const char* what, const std::string& l, const std::string& r) {
            return QString("row %1: %2 differ:\n  %3\n  %4").arg(i).arg(what, str(l), str(r));
        };
        if (x.fields != y.fields)
            return at("fields", x.fields.dump(), y.fields.dump());
        if (!metadata)
            continue;
        if (x.tags != y.tags)
            return at("tags", nlohmann::json(x.tags).dump(), nlohmann::json(y.tags).dump());
        if (x.notes != y.notes)
            return at("notes", x.notes, y.notes);
        if (x.split != y.split)
            return at("split", splitName(x.split), splitName(y.split));
        if (x.labelSource != y.labelSource || x.annotator != y.annotator || x.confidence != y.confidence ||
            x.labeledAt != y.labeledAt)
            return at("labels", labelSourceName(x.labelSource) + x.annotator + x.labeledAt,
                      labelSourceName(y.labelSource) + y.annotator + y.labeledAt);
    }
    return {};
}

// Native JSONL rows per kind, chosen to be hard to carry: commas, quotes, tabs, newlines,
// non-ASCII, leading spaces, a tag with a comma, strings that look like JSON lists.
// (Quotes are written \u0022: moc cannot parse a raw string holding a backslash-quote.)
QByteArray nativeSource(DatasetKind kind) {
    switch (kind) {
    case DatasetKind::Instruction:
        return R"({"instruction":"Say \u0022hi\u0022, politely","output":"Hi,\nthere\tfriend","tags":["greet","a,b"],"notes":"n1","split":"train"}
{"system":"Be terse.","instruction":"  Übersetze: cat","input":"[1, 2]","output":"Katze","split":"eval"}
{"instruction":"plain","output":"x","notes":"line1\nline2","split":"test","tags":["t"]}
)";
    case DatasetKind::Chat:
        return R"({"messages":[{"role":"system","content":"sys, \u0022quoted\u0022"},{"role":"user","content":"hi\nthere"},{"role":"assistant","content":"héllo"}],"tags":["c"]}
{"messages":[{"role":"user","content":"one"},{"role":"assistant","content":"two"}],"split":"eval","notes":"x"}
)";
    case DatasetKind::Preference:
        return R"({"prompt":"Pick, one","chosen":"good \u0022a\u0022","rejected":"bad\nb","label_source":"human","annotator":"ann","confidence":0.75,"labeled_at":"2026-01-02T03:04:05.006Z","tags":["p"]}
{"prompt":[{"role":"user","content":"q?"}],"chosen":[{"role":"assistant","content":"yes"}],"rejected":[{"role":"assistant","content":"no"}],"split":"test"}
{"prompt":"[INST] look like a list","chosen":"[1, 2]","rejected":"[3]","label_source":"none"}
)";
    case DatasetKind::Unpaired:
        return R"({"prompt":"p1","completion":"c, 1","desirable":true,"tags":["k"]}
{"prompt":"p2","completion":"c\t2","desirable":false,"split":"eval"}
)";
    case DatasetKind::Verifiable:
        return R"({"prompt":"2+2?","reference":"4","verifier":"numeric","verifier_settings":{"tolerance":0.01},"tags":["math"]}
{"prompt":"Say \u0022ok\u0022","reference":"ok, fine","verifier":"exact_match","notes":"n"}
)";
    case DatasetKind::Text:
        return R"({"text":"First document,\nwith two lines.","tags":["doc"]}
{"text":"  Zweites Dokument: \u0022Anführung\u0022\tTab","split":"eval"}
{"text":"third"}
)";
    }
    return {};
}

} // namespace

class TestImportExport : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    int m_counter = 0;

    std::string write(const QString& name, const QByteArray& bytes) {
        const QString path = m_dir.filePath(name);
        QFile f(path);
        if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate))
            qFatal("cannot write %s", qPrintable(path));
        f.write(bytes);
        return path.toStdString();
    }
    std::unique_ptr<ProjectStore> m_shared;
    std::string nextName() { return "ds" + std::to_string(++m_counter); }

    std::unique_ptr<ProjectStore> newStore() {
        return ProjectStore::create(m_dir.filePath(QString("p%1.db").arg(++m_counter)).toStdString());
    }

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_shared = newStore();
    }

    void layoutDetected_data() {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<int>("layout");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QByteArray>("firstFields");
        struct Case {
            const char* name;
            Layout layout;
            DatasetKind kind;
            QByteArray record;  // one JSON object, possibly spanning lines
            QByteArray fields;  // expected fields of the row it becomes
        };
        const Case cases[] = {
            {"alpaca", Layout::Alpaca, DatasetKind::Instruction,
             R"({"instruction": "Add", "input": "", "output": "3", "text": "formatted"})",
             R"({"instruction": "Add", "output": "3"})"},
            {"sharegpt", Layout::ShareGpt, DatasetKind::Chat,
             R"({"conversations": [{"from": "human", "value": "hi"},
                 {"from": "gpt", "value": "hello"}], "system": "be kind"})",
             R"({"messages": [{"role": "system", "content": "be kind"}, {"role": "user", "content": "hi"},
                 {"role": "assistant", "content": "hello"}]})"},
            {"openai", Layout::OpenAiMessages, DatasetKind::Chat,
             R"({"messages": [{"role": "user", "content": "hi", "name": "x"}, {"role": "assistant", "content": "yo"}]})",
             R"({"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo"}]})"},
            {"trl-strings", Layout::TrlPreference, DatasetKind::Preference,
             R"({"prompt": "Q", "chosen": "good", "rejected": "bad"})",
             R"({"prompt": "Q", "chosen": "good", "rejected": "bad"})"},
            {"trl-conversational", Layout::TrlPreference, DatasetKind::Preference,
             R"({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}],
                 "rejected": [{"role": "assistant", "content": "bad"}]})",
             R"({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}],
                 "rejected": [{"role": "assistant", "content": "bad"}]})"},
            {"trl-implicit-prompt", Layout::TrlPreference, DatasetKind::Preference,
             R"({"chosen": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "good"}],
                 "rejected": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "bad"}]})",
             R"({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "good"}],
                 "rejected": [{"role": "assistant", "content": "bad"}]})"},
            {"kto", Layout::Kto, DatasetKind::Unpaired, R"({"prompt": "P", "completion": "C", "label": false})",
             R"({"prompt": "P", "completion": "C", "desirable": false})"},
            {"verifiable", Layout::Verifiable, DatasetKind::Verifiable, R"({"prompt": "2+2", "answer": 4})",
             R"({"prompt": "2+2", "reference": "4", "verifier": "exact_match"})"},
            {"text", Layout::PlainText, DatasetKind::Text, R"({"text": "a document", "meta": 1})",
             R"({"text": "a document"})"},
        };
        for (const Case& c : cases) {
            QByteArray line = c.record;
            line.replace('\n', ' ');
            QTest::addRow("%s-jsonl", c.name) << "in.jsonl" << line + "\n\n" + line + "\n" << int(c.layout)
                                              << int(c.kind) << c.fields;
            QTest::addRow("%s-array", c.name) << "in.json" << "[\n  " + c.record + ",\n  " + c.record + "\n]\n"
                                              << int(c.layout) << int(c.kind) << c.fields;
        }
    }
    void layoutDetected() {
        QFETCH(QString, fileName);
        QFETCH(QByteArray, content);
        QFETCH(int, layout);
        QFETCH(int, kind);
        QFETCH(QByteArray, firstFields);
        ProjectStore* store = m_shared.get();  // one project for all rows: creating one costs ~0.1 s
        const std::string d = nextName();
        const std::string path = write(fileName, content);
        const ImportReport r = importFile(*store, d, path, {});
        QVERIFY2(r.rejections.empty(), firstRejection(r).constData());
        QCOMPARE(int(r.layout), layout);
        QCOMPARE(int(r.kind), kind);
        QVERIFY(r.committed && r.createdDataset);
        QCOMPARE(r.accepted, int64_t(2));
        QCOMPARE(int(store->requireDataset(d).kind), kind);
        const auto rows = allRows(*store, d);
        QCOMPARE(rows.size(), size_t(2));
        QCOMPARE(str(rows[0].fields.dump()), str(nlohmann::json::parse(firstFields).dump()));
        QCOMPARE(rows[0].split, Split::Train);
    }

    void csvQuotedMultilineWithMapping() {
        // Record 2 spans lines 3-6; record 3 (line 7) has an empty answer and is rejected.
        const std::string path = write("qa.csv", "question,answer,tags,split\r\n"
                                                 "What is 1+1?,2,\"math, easy\",train\r\n"
                                                 "\"Quote \"\"this\"\"\nacross\",\"multi\n\nline\",,validation\r\n"
                                                 "Empty?,,,\r\n"
                                                 "last,ok,,test");
        ImportOptions options;
        options.mapping.fieldToColumn = {{"instruction", "question"}, {"output", "answer"}};
        options.allOrNothing = false;
        options.tags = {"imported"};
        auto store = newStore();
        const ImportReport r = importFile(*store, "qa", path, options);
        QCOMPARE(r.format, SourceFormat::Csv);
        QCOMPARE(r.layout, Layout::Alpaca);
        QCOMPARE(r.accepted, int64_t(3));
        QCOMPARE(r.rejected, int64_t(1));
        QCOMPARE(r.rejections[0].line, int64_t(7));
        QCOMPARE(str(r.rejections[0].reason), QString("field 'output' is empty"));
        const auto rows = allRows(*store, "qa");
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(str(rows[0].fields.dump()), QString(R"({"instruction":"What is 1+1?","output":"2"})"));
        QCOMPARE(rows[0].tags, (std::vector<std::string>{"math", "easy", "imported"}));
        QCOMPARE(str(rows[1].fields["instruction"].get<std::string>()), QString("Quote \"this\"\nacross"));
        QCOMPARE(str(rows[1].fields["output"].get<std::string>()), QString("multi\n\nline"));
        QCOMPARE(rows[1].split, Split::Eval);
        QCOMPARE(rows[2].split, Split::Test);
    }

    void tsvKto() {
        const std::string path =
            write("k.tsv", "prompt\tcompletion\tlabel\nP1\t\"tab\there\"\ttrue\nP2\tplain, text\tNo\nP3\tx\tmaybe\n");
        ImportOptions options;
        options.allOrNothing = false;
        auto store = newStore();
        const ImportReport r = importFile(*store, "k", path, options);
        QCOMPARE(r.format, SourceFormat::Tsv);
        QCOMPARE(r.layout, Layout::Kto);
        QCOMPARE(r.accepted, int64_t(2));
        QCOMPARE(r.rejections.size(), size_t(1));
        QCOMPARE(r.rejections[0].line, int64_t(4));
        QVERIFY(str(r.rejections[0].reason).contains("must be true or false"));
        const auto rows = allRows(*store, "k");
        QCOMPARE(str(rows[0].fields.dump()), QString(R"({"completion":"tab\there","desirable":true,"prompt":"P1"})"));
        QCOMPARE(rows[1].fields["desirable"].get<bool>(), false);
    }

    void plainTextDocuments() {
        const std::string path = write("corpus.txt", "\n\nFirst doc\r\nsecond line\r\n\r\n\r\n  Indented doc\n \t\nLast");
        auto store = newStore();
        const ImportReport r = importFile(*store, "t", path, {});
        QCOMPARE(r.format, SourceFormat::Text);
        QCOMPARE(r.layout, Layout::PlainText);
        QCOMPARE(r.kind, DatasetKind::Text);
        const auto rows = allRows(*store, "t");
        QCOMPARE(rows.size(), size_t(3));
        QCOMPARE(str(rows[0].fields["text"].get<std::string>()), QString("First doc\nsecond line"));
        QCOMPARE(str(rows[1].fields["text"].get<std::string>()), QString("  Indented doc"));
        QCOMPARE(str(rows[2].fields["text"].get<std::string>()), QString("Last"));
        // parseFile reports where each document starts.
        const ImportPlan plan = parseFile(path, {});
        QCOMPARE(plan.rowLines, (std::vector<int64_t>{3, 7, 9}));
    }

    void byteOrderMarkIsSkipped() {
        // Spreadsheet programs and Windows editors start UTF-8 files with a BOM: it must
        // not become part of the first column's name or the first JSON value.
        auto store = newStore();
        const std::string csv = write("bom.csv", "\xef\xbb\xbfinstruction,output\r\nAdd 2 and 3.,5\r\n");
        ImportReport r = importFile(*store, "c", csv, {});
        QCOMPARE(r.layout, Layout::Alpaca);
        QCOMPARE(allRows(*store, "c").size(), size_t(1));
        QCOMPARE(str(allRows(*store, "c")[0].fields["instruction"].get<std::string>()), QString("Add 2 and 3."));
        const std::string jsonl = write("bom.jsonl", "\xef\xbb\xbf{\"instruction\": \"i\", \"output\": \"o\"}\n");
        r = importFile(*store, "j", jsonl, {});
        QCOMPARE(allRows(*store, "j").size(), size_t(1));
    }

    void rejection_data() {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<int>("line");
        QTest::addColumn<QString>("reason");
        QTest::addColumn<int>("accepted");
        const QByteArray ok = R"({"instruction": "i", "output": "o"})";
        QTest::newRow("bad JSON line") << "a.jsonl" << ok + "\n" + R"({"instruction": "i", "output": })" + "\n" + ok
                                       << 2 << "bad JSON: syntax error" << 2;
        QTest::newRow("bad JSON array element")
            << "a.json" << "[\n" + ok + ",\n{\"instruction\": \"i\",\n \"output\": tru},\n" + ok + "\n]" << 3
            << "bad JSON: syntax error" << 2;
        // Valid JSON that no double holds (found by fuzzing: it escaped as a crash).
        QTest::newRow("number out of range") << "a.jsonl" << ok + "\n" + R"({"instruction": "i", "output": "o", "x": 1e99999})"
                                             << 2 << "bad JSON: number overflow parsing '1e99999'" << 1;
        QTest::newRow("not an object") << "a.jsonl" << ok + "\n[1, 2]\n" << 2 << "not a JSON object but an array" << 1;
        QTest::newRow("missing field") << "a.jsonl" << ok + "\n\n" + R"({"instruction": "i"})" << 3
                                       << "field 'output' is missing" << 1;
        QTest::newRow("wrong type") << "a.jsonl" << ok + "\n" + R"({"instruction": "i", "output": 5})" << 2
                                    << "field 'output' must be a string (found number)" << 1;
        QTest::newRow("empty text") << "a.jsonl" << ok + "\n" + R"({"instruction": "i", "output": " \n "})" << 2
                                    << "field 'output' is empty" << 1;
        QTest::newRow("invalid UTF-8") << "a.jsonl" << ok + "\n" + "{\"instruction\": \"caf\xe9\", \"output\": \"o\"}"
                                       << 2 << "invalid UTF-8 at byte 21 of the record" << 1;
        QTest::newRow("over-long row") << "a.jsonl" << ok + "\n{\"instruction\": \"" + QByteArray(300, 'x') + "\", \"output\": \"o\"}"
                                       << 2 << "bytes, over the limit of 200 bytes" << 1;
        QTest::newRow("unknown role") << "a.jsonl"
                                      << QByteArray(R"({"messages": [{"role": "user", "content": "x"}]})"
                                                    "\n"
                                                    R"({"messages": [{"role": "user", "content": "x"}, {"role": "robot", "content": "y"}]})")
                                      << 2 << "unknown role 'robot' in messages[1]" << 1;
        QTest::newRow("CSV column count") << "a.csv" << QByteArray("instruction,output\ni,o\ni,o,extra\n") << 3
                                          << "CSV record has 3 columns, the header has 2" << 1;
        QTest::newRow("CSV unterminated quote") << "a.csv" << QByteArray("instruction,output\ni,o\n\"i\nstill,o\n") << 3
                                                << "CSV: unterminated quoted field: the quote opened on line 3" << 1;
        QTest::newRow("bad split") << "a.jsonl" << ok + "\n" + R"({"instruction": "i", "output": "o", "split": "x"})"
                                   << 2 << "field 'split' must be one of train, eval, test" << 1;
    }
    void rejection() {
        QFETCH(QString, fileName);
        QFETCH(QByteArray, content);
        QFETCH(int, line);
        QFETCH(QString, reason);
        QFETCH(int, accepted);
        const std::string path = write(fileName, content);
        ImportOptions options;
        options.maxRowBytes = 200;
        ProjectStore* store = m_shared.get();  // one project for all rows: creating one costs ~0.1 s
        const std::string d = nextName();
        const ImportReport r = importFile(*store, d, path, options);
        QCOMPARE(r.rejections.size(), size_t(1));
        const RejectedRecord& rej = r.rejections[0];
        QCOMPARE(str(rej.file), str(path));
        QCOMPARE(rej.line, int64_t(line));
        QVERIFY2(str(rej.reason).startsWith(reason) || str(rej.reason).contains(reason), qPrintable(str(rej.reason)));
        QVERIFY(str(rej.message()).startsWith(str(path) + ":" + QString::number(line) + ": "));
        QCOMPARE(r.accepted, int64_t(accepted));
        // All-or-nothing is the default: nothing was written, not even the dataset.
        QVERIFY(!r.committed);
        QVERIFY(!store->dataset(d));
        // parseFile finds the same without a database.
        const ImportPlan plan = parseFile(path, options);
        QCOMPARE(plan.rows.size(), size_t(accepted));
        QCOMPARE(plan.rejections.size(), size_t(1));
        QCOMPARE(str(plan.rejections[0].reason), str(rej.reason));
    }

    void fileError_data() {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QByteArray>("content");  // "<none>": the file is not created
        QTest::addColumn<QString>("mention");
        QTest::newRow("missing file") << "nope.jsonl" << QByteArray("<none>") << "nope.jsonl";
        QTest::newRow("empty file") << "empty.jsonl" << QByteArray("") << "is empty";
        QTest::newRow("blank file") << "blank.csv" << QByteArray(" \n\n") << "is empty";
        QTest::newRow("empty array") << "e.json" << QByteArray("[ ]") << "contains no records";
        QTest::newRow("header only") << "h.csv" << QByteArray("instruction,output\n") << "contains no records";
        QTest::newRow("ambiguous") << "amb.jsonl"
                                   << QByteArray(R"({"prompt": "p", "chosen": "a", "rejected": "b", "completion": "c", "label": true})")
                                   << "fits several layouts: trl (chosen+rejected), kto (prompt+completion+label)";
        QTest::newRow("unknown keys") << "u.jsonl" << QByteArray(R"({"question": "q", "reply": "r"})")
                                      << "cannot tell the layout";
        QTest::newRow("duplicate header") << "d.csv" << QByteArray("text,text\na,b\n") << "names column 'text' twice";
        QTest::newRow("unknown format") << "o.dat" << QByteArray("hello") << "cannot tell the format";
    }
    void fileError() {
        QFETCH(QString, fileName);
        QFETCH(QByteArray, content);
        QFETCH(QString, mention);
        const std::string path =
            content == "<none>" ? m_dir.filePath(fileName).toStdString() : write(fileName, content);
        ProjectStore* store = m_shared.get();  // one project for all rows: creating one costs ~0.1 s
        const std::string d = nextName();
        const size_t datasetsBefore = store->datasets().size();
        const QString error = errorOf([&] { importFile(*store, d, path, {}); });
        QVERIFY2(error.contains(fileName) && error.contains(mention), qPrintable(error));
        QCOMPARE(store->datasets().size(), datasetsBefore);
    }

    void mappingAndKindErrors() {
        auto store = newStore();
        const std::string csv = write("m.csv", "q,a\nx,y\n");
        ImportOptions options;
        options.mapping.fieldToColumn = {{"instruction", "question"}, {"output", "a"}};
        QString error = errorOf([&] { importFile(*store, "d", csv, options); });
        QVERIFY2(error.contains("has no column 'question' (mapped to 'instruction')"), qPrintable(error));
        // A chat file into an instruction dataset.
        importFile(*store, "inst", write("i.jsonl", R"({"instruction": "i", "output": "o"})"), {});
        error = errorOf([&] {
            importFile(*store, "inst", write("c.jsonl", R"({"messages": [{"role": "user", "content": "x"}]})"), {});
        });
        QVERIFY2(error.contains("holds openai records (chat rows), but dataset 'inst' holds instruction rows"),
                 qPrintable(error));
        QCOMPARE(store->requireDataset("inst").rowCount, int64_t(1));
    }

    void explicitLayoutAndKind() {
        auto store = newStore();
        // Keys of two layouts: the named layout decides.
        const std::string both = write("both.jsonl", R"({"prompt": "p", "chosen": "a", "rejected": "b", "completion": "c", "label": true})");
        ImportOptions options;
        options.layout = Layout::Kto;
        ImportReport r = importFile(*store, "kto", both, options);
        QVERIFY(r.committed);
        QCOMPARE(store->requireDataset("kto").kind, DatasetKind::Unpaired);
        // A kind narrows detection: an Alpaca file with a formatted "text" column as text rows.
        const std::string alpaca = write("alpaca.jsonl", R"({"instruction": "i", "output": "o", "text": "Q: i A: o"})");
        options = {};
        options.kind = DatasetKind::Text;
        r = importFile(*store, "texts", alpaca, options);
        QCOMPARE(r.layout, Layout::PlainText);
        QCOMPARE(str(allRows(*store, "texts")[0].fields.dump()), QString(R"({"text":"Q: i A: o"})"));
        // ... and an existing dataset's kind does the same.
        r = importFile(*store, "texts", alpaca, {});
        QCOMPARE(store->requireDataset("texts").rowCount, int64_t(2));
        // A layout that cannot hold the kind asked for is an error.
        options.layout = Layout::Alpaca;
        const QString error = errorOf([&] { importFile(*store, "other", alpaca, options); });
        QVERIFY2(error.contains("holds alpaca records (instruction rows), but text rows were asked for"), qPrintable(error));
        // The native layout needs a kind for a new dataset.
        options = {};
        options.layout = Layout::Native;
        QVERIFY(errorOf([&] { importFile(*store, "n", alpaca, options); }).contains("needs a dataset kind"));
    }

    void allOrNothingVersusImportValid() {
        auto store = newStore();
        importFile(*store, "d", write("seed.jsonl", R"({"text": "seed"})"), {});
        const std::string path = write("mixed.jsonl", "{\"text\": \"a\"}\n{\"text\": 1}\n{\"text\": \"b\"}\nnot json\n"
                                                      "{\"text\": \"c\"}\n");
        const std::string undoBefore = store->undoLabel();
        ImportOptions options;
        ImportReport r = importFile(*store, "d", path, options);
        QVERIFY(!r.committed);
        QCOMPARE(r.accepted, int64_t(3));
        QCOMPARE(r.rejected, int64_t(2));
        QCOMPARE(r.rejections[0].line, int64_t(2));
        QCOMPARE(r.rejections[1].line, int64_t(4));
        QCOMPARE(store->requireDataset("d").rowCount, int64_t(1));
        QCOMPARE(store->undoLabel(), undoBefore);

        options.allOrNothing = false;
        r = importFile(*store, "d", path, options);
        QVERIFY(r.committed);
        QCOMPARE(r.accepted, int64_t(3));
        QCOMPARE(r.rejected, int64_t(2));
        QCOMPARE(store->requireDataset("d").rowCount, int64_t(4));
        // One import is one undo step.
        store->undo();
        QCOMPARE(store->requireDataset("d").rowCount, int64_t(1));
    }

    void failedLargeImportLeavesProjectUnchanged() {
        // More rows than one insert batch (4096 in importer.cpp), so rows were already
        // written when the bad last record rolls everything back.
        auto store = newStore();
        importFile(*store, "d", write("seed.jsonl", R"({"instruction": "i", "output": "o"})"), {});
        QByteArray big;
        const int n = 4200;
        for (int i = 0; i < n; ++i)
            big += "{\"instruction\": \"q" + QByteArray::number(i) + "\", \"output\": \"a\"}\n";
        big += "{\"instruction\": \"broken\"}\n";
        const std::string path = write("big.jsonl", big);
        const ImportReport r = importFile(*store, "d", path, {});
        QVERIFY(!r.committed);
        QCOMPARE(r.accepted, int64_t(n));
        QCOMPARE(r.rejections.size(), size_t(1));
        QCOMPARE(r.rejections[0].line, int64_t(n + 1));
        QCOMPARE(store->requireDataset("d").rowCount, int64_t(1));
        // A new dataset from a failing file is not left behind empty either.
        importFile(*store, "fresh", write("bad.jsonl", "{\"instruction\": \"i\", \"output\": \"o\"}\n[]\n"), {});
        QVERIFY(!store->dataset("fresh"));
        QCOMPARE(store->datasets().size(), size_t(1));
    }

    void roundTrip_data() {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("layout");
        for (DatasetKind k : {DatasetKind::Instruction, DatasetKind::Chat, DatasetKind::Preference, DatasetKind::Unpaired,
                              DatasetKind::Verifiable, DatasetKind::Text}) {
            std::vector<Layout> layouts{Layout::Native, publicLayoutFor(k)};
            if (k == DatasetKind::Chat)
                layouts.push_back(Layout::ShareGpt);
            std::vector<SourceFormat> formats{SourceFormat::Jsonl, SourceFormat::JsonArray, SourceFormat::Csv,
                                              SourceFormat::Tsv};
            if (k == DatasetKind::Text)
                formats.push_back(SourceFormat::Text);
            for (SourceFormat f : formats)
                for (Layout l : layouts)
                    QTest::addRow("%s-%s-%s", datasetKindName(k), sourceFormatName(f), layoutName(l))
                        << int(k) << int(f) << int(l);
        }
    }
    void roundTrip() {
        QFETCH(int, kind);
        QFETCH(int, format);
        QFETCH(int, layout);
        const auto k = DatasetKind(kind);
        const auto f = SourceFormat(format);
        const auto l = Layout(layout);
        const char* ext = f == SourceFormat::Text ? "txt" : f == SourceFormat::JsonArray ? "json" : sourceFormatName(f);
        ProjectStore* store = m_shared.get();
        const std::string a = nextName(), b = nextName();
        ImportOptions native;
        native.layout = Layout::Native;
        native.kind = k;
        const ImportReport first = importFile(*store, a, write("src.jsonl", nativeSource(k)), native);
        QVERIFY2(first.committed, firstRejection(first).constData());

        ExportOptions out;
        out.format = f;
        out.layout = l;
        if (f != SourceFormat::Text)
            out.includeMetadata = true;  // public layouts carry metadata when asked
        const std::string exported = m_dir.filePath(QString("out.%1").arg(ext)).toStdString();
        const int64_t written = exportDataset(*store, a, exported, out);
        QCOMPARE(written, store->requireDataset(a).rowCount);

        ImportOptions back;  // every export is read back with the layout detected
        const ImportReport second = importFile(*store, b, exported, back);
        QVERIFY2(second.committed, firstRejection(second).constData());
        QCOMPARE(second.kind, k);
        const QString diff = rowDifference(allRows(*store, a), allRows(*store, b), f != SourceFormat::Text);
        QVERIFY2(diff.isEmpty(), qPrintable(diff));

        // Exporting the re-imported rows gives the same bytes.
        const std::string again = m_dir.filePath(QString("again.%1").arg(ext)).toStdString();
        exportDataset(*store, b, again, out);
        QFile x(QString::fromStdString(exported)), y(QString::fromStdString(again));
        QVERIFY(x.open(QIODevice::ReadOnly) && y.open(QIODevice::ReadOnly));
        QCOMPARE(y.readAll(), x.readAll());
    }

    void exportSplitAndAutoLayout() {
        auto store = newStore();
        ImportOptions native;
        native.layout = Layout::Native;
        native.kind = DatasetKind::Instruction;
        importFile(*store, "a", write("s.jsonl", nativeSource(DatasetKind::Instruction)), native);
        ExportOptions out;
        out.split = Split::Eval;
        out.layout = Layout::Alpaca;  // public layout: no metadata unless asked
        const std::string path = m_dir.filePath("eval.jsonl").toStdString();
        QCOMPARE(exportDataset(*store, "a", path, out), int64_t(1));
        QFile file(QString::fromStdString(path));
        QVERIFY(file.open(QIODevice::ReadOnly));
        QCOMPARE(file.readAll(),
                 QByteArray(R"({"system":"Be terse.","instruction":"  Übersetze: cat","input":"[1, 2]","output":"Katze"})"
                            "\n"));
        // Re-imported without a split column, rows take the default split.
        ImportOptions back;
        back.defaultSplit = Split::Test;
        importFile(*store, "b", path, back);
        QCOMPARE(allRows(*store, "b")[0].split, Split::Test);
    }

    void exportErrors() {
        auto store = newStore();
        importFile(*store, "inst", write("i.jsonl", R"({"instruction": "i", "output": "o"})"), {});
        importFile(*store, "txt", write("t.jsonl", "{\"text\": \"para one\\n\\npara two\"}"), {});
        const std::string target = write("keep.txt", "previous content");
        ExportOptions out;
        out.format = SourceFormat::Text;
        QString error = errorOf([&] { exportDataset(*store, "inst", target, out); });
        QVERIFY2(error.contains("the text format holds only text datasets"), qPrintable(error));
        error = errorOf([&] { exportDataset(*store, "txt", target, out); });
        QVERIFY2(error.contains("has a blank line"), qPrintable(error));
        out.format = SourceFormat::Jsonl;
        out.layout = Layout::ShareGpt;
        error = errorOf([&] { exportDataset(*store, "inst", target, out); });
        QVERIFY2(error.contains("sharegpt layout cannot hold"), qPrintable(error));
        error = errorOf([&] { exportDataset(*store, "nope", target, {}); });
        QVERIFY2(error.contains("nope"), qPrintable(error));
        // The failed exports left the old file alone and no temporary files behind.
        QFile keep(QString::fromStdString(target));
        QVERIFY(keep.open(QIODevice::ReadOnly));
        QCOMPARE(keep.readAll(), QByteArray("previous content"));
        QCOMPARE(QDir(m_dir.path()).entryList({"*.tmp*"}).size(), 0);
    }
};

FT_TEST_MAIN(TestImportExport)

} // namespace test_import_export

#include "test_import_export.moc"
