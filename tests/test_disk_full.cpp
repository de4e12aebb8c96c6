// The disk filling up while the engine writes: each command runs under a file-size limit
// (RLIMIT_FSIZE, SIGXFSZ ignored, so a write past it fails with EFBIG as it would with
// ENOSPC) that lets the small files through and stops the large one. A checkpoint that
// cannot be written ends the run with a clear error, the previous checkpoint stays as it
// was and a resume from it finishes with the weights of an uninterrupted run; an export
// that cannot be written says so and leaves no partial file; an import the project file
// cannot take leaves the project as it was (integrity check ok, no row added).
#include "data/project_store.h"
#include "small_base.h"
#include "test_support.h"
#include "util/paths.h"

#include "test_main.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <csignal>
#include <sys/resource.h>

namespace test_disk_full {

using nlohmann::json;

namespace {

using Run = fttest::CliRun;

// The CLI with files limited to `maxFileBytes` (0: no limit).
Run cliWithFileLimit(const QStringList& args, qint64 maxFileBytes, const QString& dataDir)
{
    std::function<void()> limit;
    if (maxFileBytes > 0)
        limit = [maxFileBytes] {
            ::signal(SIGXFSZ, SIG_IGN);  // a write past the limit fails (EFBIG) instead of killing
            const rlimit r{rlim_t(maxFileBytes), rlim_t(maxFileBytes)};
            ::setrlimit(RLIMIT_FSIZE, &r);
        };
    return fttest::runCli(args, dataDir, 300000, limit);
}

// Every file under `dir` with its bytes.
std::map<QString, QByteArray> snapshot(const QString& dir)
{
    std::map<QString, QByteArray> files;
    for (QDirIterator it(dir, QDir::Files, QDirIterator::Subdirectories); it.hasNext();) {
        const QString path = it.next();
        QFile f(path);
        if (f.open(QIODevice::ReadOnly))
            files[QDir(dir).relativeFilePath(path)] = f.readAll();
    }
    return files;
}

QString integrityOf(const QString& project)
{
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(project.toUtf8().constData(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK)
        return "cannot open";
    QString result;
    sqlite3_exec(
        db, "PRAGMA integrity_check",
        [](void* out, int, char** values, char**) {
            *static_cast<QString*>(out) += QString::fromUtf8(values[0] ? values[0] : "");
            return 0;
        },
        &result, nullptr);
    sqlite3_close(db);
    return result;
}

} // namespace

class TestDiskFull : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_base;

    QString writeConfig(const QString& name, int64_t steps)
    {
        const json j{{"model", m_base},
                     {"output_dir", m_dir.filePath(name).toStdString()},
                     {"technique", {{"name", "lora"}, {"r", 4}}},
                     {"data", {{"train", ft::datasetsDir() + "/sft/instructions.jsonl"}}},
                     {"training", {{"max_seq_len", 64}, {"batch_size", 4}, {"max_steps", steps}, {"threads", 1},
                                   {"optimizer", {{"lr", 3e-3}}}, {"schedule", {{"name", "constant"}}},
                                   {"seed", 5}}},
                     {"eval", {{"every_steps", 0}, {"max_batches", 1}}},
                     {"checkpoint", {{"every_steps", 3}}}};
        const QString path = m_dir.filePath(name + ".json");
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(QByteArray::fromStdString(j.dump(2)));
        return path;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_base = fttest::smallBaseModel();
    }

    void checkpointThatDoesNotFit()
    {
        const QString data = m_dir.filePath("data");
        // The reference: 12 steps without interruption.
        const Run whole = cliWithFileLimit({"train", "--config", writeConfig("whole", 12), "--quiet"}, 0, data);
        QVERIFY2(whole.code == 0, qPrintable(whole.err));
        // 6 steps: checkpoint-6 on disk.
        const QString config = writeConfig("full", 6);
        const Run first = cliWithFileLimit({"train", "--config", config, "--quiet"}, 0, data);
        QVERIFY2(first.code == 0, qPrintable(first.err));
        const QString checkpoint = m_dir.filePath("full/checkpoint-6");
        const auto before = snapshot(checkpoint);
        QVERIFY(!before.empty());
        qint64 largest = 0;
        QString largestName;
        for (const auto& [name, bytes] : before)
            if (bytes.size() > largest)
                largest = bytes.size(), largestName = name;
        // Resumed to 12 steps with files limited below the largest checkpoint file: the
        // checkpoint at step 9 cannot be written.
        writeConfig("full", 12);
        const Run full = cliWithFileLimit({"train", "--config", config, "--resume", "--quiet"}, largest - 1, data);
        qInfo("checkpoint file %s is %lld bytes; with files limited to %lld: exit %d, %s", qPrintable(largestName),
              largest, largest - 1, full.code, qPrintable(full.err.trimmed().split('\n').last()));
        QVERIFY2(full.code == 1, qPrintable(full.out + full.err + QString::number(full.code)));
        QVERIFY2(full.err.contains("File too large") || full.err.contains("No space left"), qPrintable(full.err));
        QVERIFY2(full.err.contains(m_dir.filePath("full")), qPrintable(full.err));  // names where
        // The previous checkpoint is as it was, no half-written one is taken for a checkpoint.
        QVERIFY(snapshot(checkpoint) == before);
        QVERIFY(!QFileInfo::exists(m_dir.filePath("full/checkpoint-9")));
        // With room again, the resume from step 6 ends where the uninterrupted run did.
        const Run again = cliWithFileLimit({"train", "--config", config, "--resume", "--quiet"}, 0, data);
        QVERIFY2(again.code == 0, qPrintable(again.err));
        QVERIFY(snapshot(m_dir.filePath("full/adapter")) == snapshot(m_dir.filePath("whole/adapter")));
    }

    void exportThatDoesNotFit()
    {
        const QString data = m_dir.filePath("data");
        const QString project = m_dir.filePath("export.ftproj");
        QCOMPARE(cliWithFileLimit({"project", "create", "--file", project}, 0, data).code, 0);
        QCOMPARE(cliWithFileLimit({"data", "import", "--project", project, "--dataset", "sft", "--file",
                                   QString::fromStdString(ft::datasetsDir() + "/sft/instructions.jsonl")},
                                  0, data)
                     .code,
                 0);
        QDir().mkpath(m_dir.filePath("export-only"));
        const QString out = m_dir.filePath("export-only/sft.jsonl");
        const Run fits = cliWithFileLimit({"data", "export", "--project", project, "--dataset", "sft", "--file", out}, 0,
                                          data);
        QVERIFY2(fits.code == 0, qPrintable(fits.err));
        const qint64 size = QFileInfo(out).size();
        QVERIFY(QFile::remove(out));
        // Above the 32 KB the project's shared-memory file needs, below the export's size.
        const qint64 limit = size - 4096;
        QVERIFY(limit > 40000);
        const Run full = cliWithFileLimit({"data", "export", "--project", project, "--dataset", "sft", "--file", out},
                                          limit, data);
        qInfo("export of %lld bytes with files limited to %lld: exit %d, %s", size, limit, full.code,
              qPrintable(full.err.trimmed()));
        QCOMPARE(full.code, 1);
        QVERIFY2(full.err.contains(out), qPrintable(full.err));
        QVERIFY2(full.err.contains("File too large") || full.err.contains("disk full") ||
                     full.err.contains("No space left"),
                 qPrintable(full.err));
        QVERIFY(snapshot(m_dir.filePath("export-only")).empty());  // no partial file, no temporary left
        QCOMPARE(integrityOf(project), QString("ok"));
    }

    void importThatDoesNotFit()
    {
        const QString data = m_dir.filePath("data");
        const QString project = m_dir.filePath("import.ftproj");
        QCOMPARE(cliWithFileLimit({"project", "create", "--file", project}, 0, data).code, 0);
        const QString sft = QString::fromStdString(ft::datasetsDir() + "/sft/instructions.jsonl");
        QCOMPARE(cliWithFileLimit({"data", "import", "--project", project, "--dataset", "first", "--file", sft}, 0, data)
                     .code,
                 0);
        const qint64 size = QFileInfo(project).size();
        int64_t rowsBefore = 0;
        {
            auto store = ft::data::ProjectStore::open(project.toStdString());
            rowsBefore = store->count(ft::data::RowQuery{.datasetId = store->requireDataset("first").id});
        }
        // A much larger import: the project file may grow only a little.
        QString big = m_dir.filePath("big.jsonl");
        {
            QFile f(big);
            QVERIFY(f.open(QIODevice::WriteOnly));
            for (int i = 0; i < 20000; ++i)
                f.write(QByteArray::fromStdString(
                    json{{"instruction", "Write the number " + std::to_string(i) + " in words, please."},
                         {"output", std::string(200, char('a' + i % 26))}}
                        .dump() +
                    "\n"));
        }
        const Run full = cliWithFileLimit({"data", "import", "--project", project, "--dataset", "second", "--file", big},
                                          size + 64 * 1024, data);
        qInfo("import into a %lld-byte project limited to %lld bytes: exit %d, %s", size, size + 64 * 1024, full.code,
              qPrintable(full.err.trimmed().split('\n').last()));
        QCOMPARE(full.code, 1);
        QVERIFY2(full.err.contains(project) &&
                     (full.err.contains("File too large") || full.err.contains("disk I/O error")),
                 qPrintable(full.err));
        QCOMPARE(integrityOf(project), QString("ok"));
        auto store = ft::data::ProjectStore::open(project.toStdString());
        QVERIFY(!store->dataset("second"));  // all or nothing: not even the dataset
        QCOMPARE(store->count(ft::data::RowQuery{.datasetId = store->requireDataset("first").id}), rowsBefore);
    }
};

FT_TEST_MAIN(TestDiskFull)

} // namespace test_disk_full

#include "test_disk_full.moc"
