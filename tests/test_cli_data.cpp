// ftstudio-cli project|data as a user meets them: help, usage errors (exit 2),
// failures (one line, exit 1), an all-or-nothing import that names the bad line,
// export round trip, search, split, dedupe, the benchmark on a small size, and a
// SIGKILL in the middle of a large import leaving the project intact and unchanged
// (checked with the SQLite C API, independent of the store's code).
// Not here: import layouts and store internals (their own unit tests).
#include "test_main.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QTemporaryDir>
#include <QThread>
#include "test_support.h"

#include <QtTest>

#include <sqlite3.h>

#include <map>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_cli_data {

namespace {

using Run = fttest::CliRun;

void writeFile(const QString& path, const QByteArray& text)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
    QCOMPARE(f.write(text), qint64(text.size()));
}

QByteArray readFile(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

// Every table's row count, read with the SQLite C API, plus PRAGMA integrity_check.
struct DbSnapshot {
    QString integrity;
    std::map<std::string, long long> counts;
};

DbSnapshot snapshot(const QString& path)
{
    DbSnapshot s;
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
        s.integrity = QString("cannot open: ") + sqlite3_errmsg(db);
        sqlite3_close(db);
        return s;
    }
    auto each = [&](const std::string& sql, auto&& onRow) {
        sqlite3_stmt* st = nullptr;
        if (sqlite3_prepare_v2(db, sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
            s.integrity += QString(" [%1: %2]").arg(sql.c_str(), sqlite3_errmsg(db));
            return;
        }
        while (sqlite3_step(st) == SQLITE_ROW)
            onRow(st);
        sqlite3_finalize(st);
    };
    each("PRAGMA integrity_check", [&](sqlite3_stmt* st) {
        s.integrity += reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
    });
    std::vector<std::string> tables;
    each("SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name",
         [&](sqlite3_stmt* st) { tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))); });
    for (const std::string& t : tables)
        each("SELECT count(*) FROM \"" + t + "\"", [&](sqlite3_stmt* st) { s.counts[t] = sqlite3_column_int64(st, 0); });
    sqlite3_close(db);
    return s;
}

} // namespace

class TestCliData : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    QString path(const QString& name) const { return m_dir.filePath(name); }

    Run cli(const QStringList& args, int timeoutMs = 120000)
    {
        return fttest::runCli(args, m_dir.filePath("data"), timeoutMs);
    }

    static void expectError(const Run& r, int code, const QString& mention)
    {
        QVERIFY2(r.code == code, qPrintable(QString("exit %1, stderr: %2").arg(r.code).arg(r.err)));
        QVERIFY2(r.err.contains(mention), qPrintable(r.err));
        QVERIFY2(!r.err.contains("terminate called") && !r.err.contains("what():"), qPrintable(r.err));
    }

    static void expectOk(const Run& r)
    {
        QVERIFY2(r.code == 0, qPrintable(QString("exit %1\nstdout: %2\nstderr: %3").arg(r.code).arg(r.out, r.err)));
    }

    QJsonObject projectInfo(const QString& project)
    {
        const Run r = cli({"project", "info", "--file", project, "--json"});
        return r.code == 0 ? QJsonDocument::fromJson(r.out.toUtf8()).object() : QJsonObject();
    }

    int jsonLines(const QString& text) { return int(text.split('\n', Qt::SkipEmptyParts).size()); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(!qEnvironmentVariable("FTSTUDIO_CLI").isEmpty(), "FTSTUDIO_CLI must name the binary (CTest sets it)");
        QVERIFY(m_dir.isValid());
    }

    void helpEverywhere_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::newRow("project") << QStringList{"project", "--help"};
        QTest::newRow("data") << QStringList{"data", "--help"};
        for (const char* c : {"create", "info", "undo", "redo"})
            QTest::newRow(qPrintable(QString("project ") + c)) << QStringList{"project", c, "--help"};
        for (const char* c : {"import", "export", "list", "sample", "stats", "dedupe", "split", "bench"})
            QTest::newRow(qPrintable(QString("data ") + c)) << QStringList{"data", c, "--help"};
    }
    void helpEverywhere()
    {
        QFETCH(QStringList, args);
        const Run r = cli(args);
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains("usage: ftstudio-cli"), qPrintable(r.out));
    }

    void usageErrorsExitTwo_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mention");
        const QString p = path("usage.db");
        QTest::newRow("project alone") << QStringList{"project"} << "create";
        QTest::newRow("data alone") << QStringList{"data"} << "import";
        QTest::newRow("unknown data command") << QStringList{"data", "frob"} << "unknown data command 'frob'";
        QTest::newRow("unknown project command") << QStringList{"project", "drop"} << "unknown project command 'drop'";
        QTest::newRow("missing file") << QStringList{"project", "create"} << "--file is required";
        QTest::newRow("missing dataset") << QStringList{"data", "import", "--project", p, "--file", "x.jsonl"}
                                         << "--dataset is required";
        QTest::newRow("unknown option") << QStringList{"data", "list", "--project", p, "--bogus"}
                                        << "unknown option '--bogus'";
        QTest::newRow("bad format") << QStringList{"data", "import", "--project", p, "--dataset", "d", "--file", "x",
                                                   "--format", "xml"}
                                    << "invalid format 'xml'";
        QTest::newRow("bad layout") << QStringList{"data", "import", "--project", p, "--dataset", "d", "--file", "x",
                                                   "--layout", "yaml"}
                                    << "invalid layout 'yaml'";
        QTest::newRow("bad map") << QStringList{"data", "import", "--project", p, "--dataset", "d", "--file", "x",
                                                "--map", "instruction"}
                                 << "FIELD=COLUMN";
        QTest::newRow("bad split") << QStringList{"data", "export", "--project", p, "--dataset", "d", "--file", "x",
                                                  "--split", "dev"}
                                   << "invalid split 'dev'";
        QTest::newRow("bad fractions") << QStringList{"data", "split", "--project", p, "--dataset", "d", "--eval",
                                                      "0.8", "--test", "0.5"}
                                       << "sum to at most 1";
        QTest::newRow("bad limit") << QStringList{"data", "list", "--project", p, "--dataset", "d", "--limit", "ten"}
                                   << "expects an integer";
    }
    void usageErrorsExitTwo()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, mention);
        expectError(cli(args), 2, mention);
    }

    void failuresExitOne()
    {
        const QString missing = path("missing.db");
        expectError(cli({"project", "info", "--file", missing}), 1, "missing.db");
        expectError(cli({"data", "list", "--project", missing}), 1, "project create");
        writeFile(path("not-a-project.db"), "hello, I am text\n");
        expectError(cli({"project", "info", "--file", path("not-a-project.db")}), 1, "not-a-project.db");

        const QString p = path("fail.db");
        expectOk(cli({"project", "create", "--file", p}));
        expectError(cli({"project", "create", "--file", p}), 1, "fail.db");
        expectError(cli({"data", "import", "--project", p, "--dataset", "d", "--file", path("nope.jsonl")}), 1,
                    "nope.jsonl");
        writeFile(path("one.jsonl"), "{\"instruction\": \"a\", \"output\": \"b\"}\n");
        expectOk(cli({"data", "import", "--project", p, "--dataset", "alpha", "--file", path("one.jsonl")}));
        const Run unknown = cli({"data", "list", "--project", p, "--dataset", "gamma"});
        expectError(unknown, 1, "gamma");
        QVERIFY2(unknown.err.contains("alpha"), qPrintable(unknown.err));
        expectError(cli({"data", "stats", "--project", p, "--dataset", "alpha", "--model", "/nonexistent/model"}), 1,
                    "/nonexistent/model");
    }

    void projectCreateAndInfo()
    {
        const QString p = path("info.db");
        const Run made = cli({"project", "create", "--file", p});
        expectOk(made);
        QVERIFY(QFile::exists(p));
        const QJsonObject info = projectInfo(p);
        QVERIFY(info["schema_version"].toInt() >= 1);
        QCOMPARE(info["datasets"].toArray().size(), qsizetype(0));
        QCOMPARE(info["runs"].toInt(), 0);
        const Run text = cli({"project", "info", "--file", p});
        expectOk(text);
        QVERIFY2(text.out.contains("schema version") && text.out.contains("runs"), qPrintable(text.out));
    }

    void importIsAllOrNothing()
    {
        const QString p = path("import.db"), file = path("bad.jsonl");
        expectOk(cli({"project", "create", "--file", p}));
        writeFile(file, "{\"instruction\": \"Say hi\", \"output\": \"Hi!\"}\n"
                        "{\"instruction\": \"Add 2 and 2\", \"output\": \"4\"}\n"
                        "{\"instruction\": \"broken\", \"output\": \n"
                        "{\"instruction\": \"Name a colour\", \"output\": \"Blue\"}\n");
        const Run strict = cli({"data", "import", "--project", p, "--dataset", "d", "--file", file});
        expectError(strict, 1, "bad.jsonl:3: ");
        QVERIFY2(strict.err.contains("--import-valid"), qPrintable(strict.err));
        QVERIFY2(strict.out.contains("rejected  1"), qPrintable(strict.out));
        const QJsonArray none = projectInfo(p)["datasets"].toArray();
        QVERIFY(none.isEmpty() || none[0].toObject()["rows"].toInt() == 0);

        const Run lenient =
            cli({"data", "import", "--project", p, "--dataset", "d", "--file", file, "--import-valid", "--tag", "seed"});
        expectOk(lenient);
        QVERIFY2(lenient.err.contains("bad.jsonl:3: "), qPrintable(lenient.err));
        QVERIFY2(lenient.out.contains("accepted  3") && lenient.out.contains("rejected  1"), qPrintable(lenient.out));
        const QJsonArray datasets = projectInfo(p)["datasets"].toArray();
        QCOMPARE(datasets.size(), qsizetype(1));
        QCOMPARE(datasets[0].toObject()["kind"].toString(), QString("instruction"));
        QCOMPARE(datasets[0].toObject()["rows"].toInt(), 3);
    }

    void exportRoundTripSearchSplitDedupe()
    {
        const QString p = path("curate.db");
        expectOk(cli({"project", "create", "--file", p}));
        writeFile(path("rows.jsonl"), "{\"instruction\": \"Say hi\", \"output\": \"Hi!\", \"tags\": [\"greet\"]}\n"
                                      "{\"instruction\": \"Say hi\", \"output\": \"Hi!\", \"tags\": [\"greet\"]}\n"
                                      "{\"instruction\": \"say HI.\", \"output\": \"hi\", \"tags\": [\"greet\"]}\n"
                                      "{\"instruction\": \"Add 2 and 2\", \"output\": \"4\", \"tags\": [\"math\"]}\n"
                                      "{\"instruction\": \"Multiply 3 by 5\", \"output\": \"15\", \"tags\": [\"math\"]}\n"
                                      "{\"instruction\": \"Name a colour\", \"output\": \"Blue\"}\n");
        expectOk(cli({"data", "import", "--project", p, "--dataset", "d", "--file", path("rows.jsonl")}));

        const Run found = cli({"data", "list", "--project", p, "--dataset", "d", "--search", "multiply", "--json"});
        expectOk(found);
        QCOMPARE(jsonLines(found.out), 1);
        QCOMPARE(QJsonDocument::fromJson(found.out.toUtf8()).object()["fields"].toObject()["output"].toString(),
                 QString("15"));
        const Run tagged = cli({"data", "list", "--project", p, "--dataset", "d", "--tag", "math", "--json"});
        QCOMPARE(jsonLines(tagged.out), 2);

        const Run split = cli({"data", "split", "--project", p, "--dataset", "d", "--eval", "0.5", "--seed", "4"});
        expectOk(split);
        QVERIFY2(split.out.contains("train 3, eval 3, test 0"), qPrintable(split.out));
        QCOMPARE(cli({"data", "split", "--project", p, "--dataset", "d", "--eval", "0.5", "--seed", "4"}).out.contains(
                     "(0 rows changed"),
                 true);
        QCOMPARE(jsonLines(cli({"data", "list", "--project", p, "--dataset", "d", "--split", "eval", "--json"}).out), 3);

        // Round trip: export, import the export, export again: the same bytes.
        expectOk(cli({"data", "export", "--project", p, "--dataset", "d", "--file", path("out1.jsonl")}));
        expectOk(cli({"data", "import", "--project", p, "--dataset", "copy", "--file", path("out1.jsonl")}));
        expectOk(cli({"data", "export", "--project", p, "--dataset", "copy", "--file", path("out2.jsonl")}));
        QCOMPARE(readFile(path("out1.jsonl")).count('\n'), 6);
        QCOMPARE(readFile(path("out2.jsonl")), readFile(path("out1.jsonl")));
        const Run evalOnly = cli({"data", "export", "--project", p, "--dataset", "d", "--split", "eval", "--file",
                                  path("eval.jsonl"), "--layout", "alpaca"});
        expectOk(evalOnly);
        QCOMPARE(readFile(path("eval.jsonl")).count('\n'), 3);

        const Run exact = cli({"data", "dedupe", "--project", p, "--dataset", "d"});
        expectOk(exact);
        QVERIFY2(exact.out.contains("1 duplicate rows in 1 groups"), qPrintable(exact.out));
        const Run near = cli({"data", "dedupe", "--project", p, "--dataset", "d", "--near", "--apply"});
        expectOk(near);
        QVERIFY2(near.out.contains("deleted 2 rows"), qPrintable(near.out));
        const Run stats = cli({"data", "stats", "--project", p, "--dataset", "d", "--json"});
        expectOk(stats);
        const QJsonObject s = QJsonDocument::fromJson(stats.out.toUtf8()).object();
        QCOMPARE(s["rows"].toInt(), 4);
        QCOMPARE(s["tags"].toObject()["math"].toInt(), 2);
        QCOMPARE(s["splits"].toObject()["train"].toInt() + s["splits"].toObject()["eval"].toInt(), 4);

        // project undo / redo walk the same history as the studio's Edit menu.
        auto rows = [&](const QString& dataset) {
            return jsonLines(cli({"data", "list", "--project", p, "--dataset", dataset, "--json"}).out);
        };
        const Run listed = cli({"project", "undo", "--file", p, "--list"});
        expectOk(listed);
        QVERIFY2(listed.out.contains("undo  delete 2 rows") && listed.out.contains("redo  (nothing)"),
                 qPrintable(listed.out));
        QCOMPARE(rows("d"), 4);
        const Run undone = cli({"project", "undo", "--file", p});
        expectOk(undone);
        QVERIFY2(undone.out.contains("undid: delete 2 rows"), qPrintable(undone.out));
        QCOMPARE(rows("d"), 6);
        QVERIFY2(cli({"data", "list", "--project", p, "--dataset", "d", "--search", "say", "--json"}).out.count('\n') == 3,
                 "the deleted duplicates are back");
        expectOk(cli({"project", "redo", "--file", p}));
        QCOMPARE(rows("d"), 4);
        expectOk(cli({"project", "undo", "--file", p}));
        // Two more steps back: the import of "copy", then the split (rows keep their count).
        const Run two = cli({"project", "undo", "--file", p, "--steps", "2"});
        expectOk(two);
        QVERIFY2(two.out.count("undid: ") == 2, qPrintable(two.out));
        QCOMPARE(rows("copy"), 0);
        QCOMPARE(rows("d"), 6);
        const Run redone = cli({"project", "redo", "--file", p, "--steps", "2"});
        expectOk(redone);
        QCOMPARE(rows("copy"), 6);
        expectError(cli({"project", "redo", "--file", p, "--steps", "2"}), 1, "nothing to redo after 1 step(s)");
        expectError(cli({"project", "undo", "--file", p, "--steps", "0"}), 2, "--steps must be at least 1");
        expectError(cli({"project", "undo", "--file", path("no-such.db")}), 1, "no-such.db");
    }

    void benchSmall()
    {
        const Run r = cli({"data", "bench", "--rows", "3000", "--project", path("bench.db")}, 300000);
        expectOk(r);
        for (const char* word : {"rows/s", "database", "search", "keyset", "offset"})
            QVERIFY2(r.out.contains(word), qPrintable(r.out));
        QVERIFY2(!r.out.contains("pages differ"), qPrintable(r.out));
    }

    // A kill -9 in the middle of an import: the transaction never commits, so the
    // project must pass integrity_check and hold exactly what it held before.
    void sigkillDuringImportLeavesProjectUnchanged()
    {
        const QString p = path("kill.db"), big = path("big.jsonl");
        expectOk(cli({"project", "create", "--file", p}));
        writeFile(path("seed.jsonl"), "{\"instruction\": \"keep me\", \"output\": \"1\"}\n"
                                      "{\"instruction\": \"keep me too\", \"output\": \"2\"}\n");
        expectOk(cli({"data", "import", "--project", p, "--dataset", "big", "--file", path("seed.jsonl")}));
        {
            QFile f(big);
            QVERIFY(f.open(QIODevice::WriteOnly));
            for (int i = 0; i < 300000; ++i)
                f.write(QString("{\"instruction\": \"question number %1 about topic %2\", \"output\": \"answer %1 "
                                "is a fairly short reply with a few words\"}\n")
                            .arg(i)
                            .arg(i % 97)
                            .toUtf8());
        }
        const DbSnapshot before = snapshot(p);
        QCOMPARE(before.integrity, QString("ok"));

        QProcess import;
        import.start(qEnvironmentVariable("FTSTUDIO_CLI"),
                     {"data", "import", "--project", p, "--dataset", "big", "--file", big});
        QVERIFY(import.waitForStarted());
        // Kill once the import's transaction is writing pages (the write-ahead log
        // grows), at least 0.5 s in; after 20 s kill regardless.
        const QString wal = p + "-wal";
        QElapsedTimer clock;
        clock.start();
        bool walGrew = false;
        while (clock.elapsed() < 20000 && import.state() == QProcess::Running) {
            walGrew = QFileInfo(wal).exists() && QFileInfo(wal).size() > 0;
            if (walGrew && clock.elapsed() >= 500)
                break;
            QThread::msleep(10);
        }
        QVERIFY2(import.state() == QProcess::Running,
                 qPrintable("the import finished before it could be killed; stdout: " +
                            QString::fromUtf8(import.readAllStandardOutput())));
        qInfo("killing the import after %lld ms (write-ahead log %lld bytes%s)", (long long)clock.elapsed(),
              (long long)QFileInfo(wal).size(), walGrew ? "" : ", had not grown yet");
        import.kill();  // SIGKILL on Unix
        QVERIFY(import.waitForFinished(10000));
        QCOMPARE(import.exitStatus(), QProcess::CrashExit);

        const DbSnapshot after = snapshot(p);
        QCOMPARE(after.integrity, QString("ok"));
        QVERIFY(!after.counts.empty());
        for (const auto& [table, n] : before.counts)
            QVERIFY2(after.counts.count(table) && after.counts.at(table) == n,
                     qPrintable(QString("table %1: %2 rows before, %3 after")
                                    .arg(table.c_str())
                                    .arg(n)
                                    .arg(after.counts.count(table) ? after.counts.at(table) : -1)));
        QCOMPARE(after.counts.size(), before.counts.size());

        // Still a working project: the store opens it and a new import succeeds.
        QCOMPARE(projectInfo(p)["datasets"].toArray()[0].toObject()["rows"].toInt(), 2);
        expectOk(cli({"data", "import", "--project", p, "--dataset", "big", "--file", path("seed.jsonl")}));
        QCOMPARE(projectInfo(p)["rows"].toInt(), 4);
    }
};

FT_TEST_MAIN_GUILESS(TestCliData)

} // namespace test_cli_data

#include "test_cli_data.moc"
