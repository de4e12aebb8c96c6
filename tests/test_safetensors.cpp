// Tests of core/io: safetensors round trips, sharded checkpoints, and that every kind
// of corrupt file is rejected with an ft::Error naming the file and the tensor.
// Corrupt files are built byte by byte here, independently of the writer under test.
// Run under valgrind or -fsanitize=address to see that rejection never reads out of bounds.
#include "io/json_file.h"
#include "io/mapped_file.h"
#include "io/safetensors.h"
#include "util/error.h"

#include "test_main.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include "test_support.h"

#include <QTest>

#include <cstring>
#include <functional>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_safetensors {

using ft::io::DType;

namespace {

using fttest::errorOf;

// 8-byte little-endian length (the header's own size unless overridden) + header + data.
QByteArray rawSafetensors(const QByteArray& header, const QByteArray& data = {},
                          std::optional<quint64> length = std::nullopt) {
    const quint64 n = length.value_or(quint64(header.size()));
    QByteArray bytes;
    for (int i = 0; i < 8; ++i)
        bytes.append(char((n >> (8 * i)) & 0xff));
    return bytes + header + data;
}

// Deterministic, position-dependent bytes, so a shifted or swapped tensor shows up.
std::vector<uint8_t> patternBytes(size_t n, uint8_t seed) {
    std::vector<uint8_t> bytes(n);
    for (size_t i = 0; i < n; ++i)
        bytes[i] = uint8_t(seed * 31 + i * 7 + (i >> 8));
    return bytes;
}

} // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;

    std::string pathFor(const QString& name) const { return m_dir.filePath(name).toStdString(); }

    std::string writeRaw(const QString& name, const QByteArray& bytes) const {
        QFile f(m_dir.filePath(name));
        if (!f.open(QIODevice::WriteOnly) || f.write(bytes) != bytes.size())
            qFatal("cannot write test file");
        return f.fileName().toStdString();
    }

    QByteArray readRaw(const std::string& path) const {
        QFile f(QString::fromStdString(path));
        if (!f.open(QIODevice::ReadOnly))
            qFatal("cannot read test file");
        return f.readAll();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    void roundTripEveryDtype() {
        struct Spec {
            const char* name;
            DType dtype;
            std::vector<int64_t> shape;
        };
        const std::vector<Spec> specs = {
            {"f32", DType::F32, {2, 3}},  {"f16", DType::F16, {4}},
            {"bf16", DType::BF16, {2, 2}}, {"f64", DType::F64, {3}},
            {"i64", DType::I64, {2}},      {"i32", DType::I32, {5}},
            {"i16", DType::I16, {3}},      {"i8", DType::I8, {7}},
            {"u8", DType::U8, {3, 1}},     {"bool", DType::BOOL, {4}},
            {"scalar", DType::F32, {}},    {"empty", DType::I32, {0, 5}},
        };
        std::vector<std::vector<uint8_t>> buffers;
        std::vector<ft::io::TensorToWrite> toWrite;
        for (size_t i = 0; i < specs.size(); ++i) {
            int64_t numel = 1;
            for (int64_t d : specs[i].shape)
                numel *= d;
            buffers.push_back(patternBytes(size_t(numel) * ft::io::dtypeSize(specs[i].dtype),
                                           uint8_t(i)));
            toWrite.push_back({specs[i].name, specs[i].dtype, specs[i].shape,
                               buffers.back().data(), buffers.back().size()});
        }
        const std::string path = pathFor("all.safetensors");
        ft::io::writeSafetensors(path, toWrite);
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));

        const auto file = ft::io::SafetensorsFile::open(path);
        QCOMPARE(file.tensors().size(), specs.size());
        for (size_t i = 0; i < specs.size(); ++i) {
            // File order is the write order, since the writer lays data out contiguously
            // (the zero-size tensor shares its offset and sorts by name).
            const ft::io::TensorView* view = file.find(specs[i].name);
            QVERIFY2(view, specs[i].name);
            QCOMPARE(view->dtype, specs[i].dtype);
            QCOMPARE(view->shape, specs[i].shape);
            QCOMPARE(view->nbytes, buffers[i].size());
            QCOMPARE(view->numel() * int64_t(ft::io::dtypeSize(view->dtype)),
                     int64_t(buffers[i].size()));
            if (!buffers[i].empty()) // memcmp must not see the empty vector's null pointer
                QVERIFY(std::memcmp(view->data, buffers[i].data(), buffers[i].size()) == 0);
        }
        QCOMPARE(file.find("scalar")->numel(), int64_t(1));
        QCOMPARE(file.find("empty")->numel(), int64_t(0));
        QVERIFY(file.find("absent") == nullptr);
        QVERIFY(file.metadata().empty());
    }

    void dtypeNames() {
        for (DType d : {DType::F32, DType::F16, DType::BF16, DType::F64, DType::I64,
                        DType::I32, DType::I16, DType::I8, DType::U8, DType::BOOL})
            QCOMPARE(ft::io::dtypeFromName(ft::io::dtypeName(d)), std::optional<DType>(d));
        QCOMPARE(QString(ft::io::dtypeName(DType::BF16)), QString("BF16"));
        QVERIFY(!ft::io::dtypeFromName("F8_E4M3"));
        QVERIFY(!ft::io::dtypeFromName("f32"));
    }

    void metadataRoundTrip() {
        const std::map<std::string, std::string> metadata = {
            {"format", "pt"}, {"note", "quotes \" and \\ and ünïcode"}, {"empty", ""}};
        const float value = 1.5f;
        const std::string path = pathFor("meta.safetensors");
        ft::io::writeSafetensors(path, {{"w", DType::F32, {}, &value, sizeof value}}, metadata);
        const auto file = ft::io::SafetensorsFile::open(path);
        QVERIFY(file.metadata() == metadata);
        QCOMPARE(file.path(), path);
    }

    void headerIsEightAligned() {
        // Names of every length mod 8 exercise every amount of padding.
        for (int len = 1; len <= 9; ++len) {
            const std::string name(size_t(len), 'n');
            const uint16_t half = 0x3c00;
            const std::string path = pathFor(QString("align%1.safetensors").arg(len));
            ft::io::writeSafetensors(path, {{name, DType::F16, {1}, &half, 2}});
            const QByteArray bytes = readRaw(path);
            quint64 n = 0;
            for (int i = 0; i < 8; ++i)
                n |= quint64(uchar(bytes[i])) << (8 * i);
            QCOMPARE((8 + n) % 8, quint64(0));
            QCOMPARE(quint64(bytes.size()), 8 + n + 2);
            QVERIFY(bytes.mid(8, int(n)).trimmed().endsWith('}'));
            const auto file = ft::io::SafetensorsFile::open(path);
            QCOMPARE(reinterpret_cast<uintptr_t>(file.tensors().front().data) % 8, uintptr_t(0));
        }
    }

    void overwriteIsAtomic() {
        const std::string path = pathFor("over.safetensors");
        const int32_t a = 1, b[2] = {2, 3};
        ft::io::writeSafetensors(path, {{"a", DType::I32, {1}, &a, 4}});
        ft::io::writeSafetensors(path, {{"b", DType::I32, {2}, b, 8}});
        const auto file = ft::io::SafetensorsFile::open(path);
        QVERIFY(!file.find("a") && file.find("b"));
        // A rejected write leaves the previous file and no temporary behind.
        const QString msg = errorOf([&] {
            ft::io::writeSafetensors(path, {{"bad", DType::I32, {3}, b, 8}});
        });
        QVERIFY2(msg.contains("'bad'") && msg.contains("8 bytes") && msg.contains("12 bytes"),
                 qPrintable(msg));
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));
        QVERIFY(ft::io::SafetensorsFile::open(path).find("b"));
        const QString dup = errorOf([&] {
            ft::io::writeSafetensors(path, {{"x", DType::I32, {1}, &a, 4},
                                            {"x", DType::I32, {1}, &a, 4}});
        });
        QVERIFY2(dup.contains("'x'") && dup.contains("twice"), qPrintable(dup));
    }

    void shardedCheckpoint() {
        const QString model = m_dir.filePath("sharded");
        QVERIFY(QDir().mkpath(model));
        const float w1[4] = {1, 2, 3, 4}, w2[2] = {5, 6}, w3[3] = {7, 8, 9};
        const std::string dir = model.toStdString();
        ft::io::writeSafetensors(dir + "/model-00001-of-00002.safetensors",
                                 {{"layers.0.w", DType::F32, {2, 2}, w1, 16},
                                  {"embed", DType::F32, {2}, w2, 8}});
        ft::io::writeSafetensors(dir + "/model-00002-of-00002.safetensors",
                                 {{"layers.1.w", DType::F32, {3}, w3, 12}});
        ft::io::writeJsonFileAtomic(dir + "/model.safetensors.index.json",
                                    {{"metadata", {{"total_size", 36}}},
                                     {"weight_map",
                                      {{"layers.0.w", "model-00001-of-00002.safetensors"},
                                       {"embed", "model-00001-of-00002.safetensors"},
                                       {"layers.1.w", "model-00002-of-00002.safetensors"}}}});
        auto ckpt = ft::io::SafetensorsCheckpoint::open(dir);
        QCOMPARE(ckpt.names(), (std::vector<std::string>{"embed", "layers.0.w", "layers.1.w"}));
        QCOMPARE(ckpt.files().size(), size_t(2));
        QCOMPARE(ckpt.get("layers.1.w").shape, std::vector<int64_t>{3});
        QVERIFY(std::memcmp(ckpt.get("layers.1.w").data, w3, 12) == 0);
        QVERIFY(std::memcmp(ckpt.get("layers.0.w").data, w1, 16) == 0);
        QVERIFY(ckpt.find("nope") == nullptr);
        const QString msg = errorOf([&] { ckpt.get("nope"); });
        QVERIFY2(msg.contains("'nope'") && msg.contains(model), qPrintable(msg));

        // Moving the checkpoint keeps every view valid.
        auto moved = std::move(ckpt);
        QVERIFY(std::memcmp(moved.get("embed").data, w2, 8) == 0);
    }

    void singleFileCheckpoint() {
        const QString model = m_dir.filePath("single");
        QVERIFY(QDir().mkpath(model));
        const std::string dir = model.toStdString();
        const QString none = errorOf([&] { ft::io::SafetensorsCheckpoint::open(dir); });
        QVERIFY2(none.contains("no model.safetensors or model.safetensors.index.json in " + model),
                 qPrintable(none));
        const int8_t v[3] = {-1, 0, 1};
        ft::io::writeSafetensors(dir + "/model.safetensors", {{"v", DType::I8, {3}, v, 3}});
        QCOMPARE(ft::io::SafetensorsCheckpoint::open(dir).names(), std::vector<std::string>{"v"});
        const auto direct = ft::io::SafetensorsCheckpoint::open(dir + "/model.safetensors");
        QCOMPARE(direct.files(), std::vector<std::string>{dir + "/model.safetensors"});
    }

    void pickleOnlyFolderIsRefusedWithConversionAdvice() {
        // A folder with only PyTorch pickles: never unpickled (that can run code), and
        // the message says what to do instead of "no safetensors".
        for (const char* name : {"pytorch_model.bin", "consolidated.00.pth"}) {
            const QString model = m_dir.filePath(QString("pickle-") + name);
            QVERIFY(QDir().mkpath(model));
            QFile f(model + "/" + name);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("\x80\x02cposix\nsystem\n");  // the start of a pickle that would call os.system
            f.close();
            const QString msg = errorOf([&] { ft::io::SafetensorsCheckpoint::open(model.toStdString()); });
            QVERIFY2(msg.contains(model + " holds PyTorch pickle weights (" + name + ") and no model.safetensors"),
                     qPrintable(msg));
            QVERIFY2(msg.contains("never loads pickles") && msg.contains("safe_serialization=True"), qPrintable(msg));
        }
    }

    void shardProblems_data() {
        QTest::addColumn<QString>("problem");
        QTest::newRow("missing shard") << "missing";
        QTest::newRow("index names a tensor its shard lacks") << "absent";
        QTest::newRow("tensor in two shards") << "twice";
    }

    void shardProblems() {
        QFETCH(QString, problem);
        const QString model = m_dir.filePath("shards-" + problem);
        QVERIFY(QDir().mkpath(model));
        const std::string dir = model.toStdString();
        const float x = 1;
        const std::string shardA = dir + "/a.safetensors", shardB = dir + "/b.safetensors";
        ft::io::writeSafetensors(shardA, {{"x", DType::F32, {1}, &x, 4}});
        nlohmann::json map = {{"x", "a.safetensors"}};
        if (problem == "missing")
            map["y"] = "b.safetensors";
        if (problem == "absent")
            map["z"] = "a.safetensors";
        if (problem == "twice") {
            map["w"] = "b.safetensors"; // b also holds x, which the index puts in a
            ft::io::writeSafetensors(shardB, {{"x", DType::F32, {1}, &x, 4},
                                              {"w", DType::F32, {1}, &x, 4}});
        }
        ft::io::writeJsonFileAtomic(dir + "/model.safetensors.index.json", {{"weight_map", map}});
        const QString msg = errorOf([&] { ft::io::SafetensorsCheckpoint::open(dir); });
        QVERIFY2(!msg.isEmpty() && !msg.startsWith("<not"), qPrintable(msg));
        if (problem == "missing")
            QVERIFY2(msg.contains(QString::fromStdString(shardB)) && msg.contains("'y'"),
                     qPrintable(msg));
        if (problem == "absent")
            QVERIFY2(msg.contains(QString::fromStdString(shardA)) && msg.contains("'z'"),
                     qPrintable(msg));
        if (problem == "twice")
            QVERIFY2(msg.contains(QString::fromStdString(shardA)) &&
                         msg.contains(QString::fromStdString(shardB)) && msg.contains("'x'"),
                     qPrintable(msg));
    }

    void corruptFile_data() {
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("tensor");   // "" when the error concerns the whole file
        QTest::addColumn<QString>("fragment"); // a phrase the message must contain

        const QByteArray d8(8, '\x11');
        auto entry = [](const char* body) { return QByteArray("{\"a\":") + body + "}"; };
        QTest::newRow("shorter than 8 bytes") << QByteArray("abc") << "" << "shorter than the 8-byte";
        QTest::newRow("empty file") << QByteArray() << "" << "0 bytes";
        QTest::newRow("header length past end")
            << rawSafetensors("{}", {}, 1000) << "" << "runs past the end";
        QTest::newRow("header length absurd")
            << rawSafetensors("{}", {}, quint64(1) << 40) << "" << "implausibly large";
        QTest::newRow("header length max u64")
            << rawSafetensors("{}", {}, ~quint64(0)) << "" << "implausibly large";
        QTest::newRow("header length zero") << rawSafetensors("", d8) << "" << "not valid JSON";
        QTest::newRow("invalid JSON")
            << rawSafetensors("{\"a\": {\"dtype\": ", d8) << "" << "not valid JSON";
        QTest::newRow("invalid UTF-8")
            << rawSafetensors("{\"\xff\xfe\": 1}") << "" << "not valid JSON";
        QTest::newRow("header not an object") << rawSafetensors("[1, 2]") << "" << "expected an object";
        QTest::newRow("entry not an object") << rawSafetensors(entry("5")) << "a" << "expected an object";
        QTest::newRow("missing dtype")
            << rawSafetensors(entry("{\"shape\":[2],\"data_offsets\":[0,8]}"), d8) << "a" << "'dtype'";
        QTest::newRow("missing shape")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"data_offsets\":[0,8]}"), d8) << "a" << "'shape'";
        QTest::newRow("missing data_offsets")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[2]}"), d8) << "a" << "'data_offsets'";
        QTest::newRow("dtype not a string")
            << rawSafetensors(entry("{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}"), d8)
            << "a" << "expected a string";
        QTest::newRow("shape not an array")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":\"2\",\"data_offsets\":[0,8]}"), d8)
            << "a" << "expected an array";
        QTest::newRow("shape holds a float")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[2.5],\"data_offsets\":[0,8]}"), d8)
            << "a" << "expected integers";
        QTest::newRow("shape holds a string")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[\"2\"],\"data_offsets\":[0,8]}"), d8)
            << "a" << "expected integers";
        QTest::newRow("unknown dtype")
            << rawSafetensors(entry("{\"dtype\":\"F8_E4M3\",\"shape\":[8],\"data_offsets\":[0,8]}"), d8)
            << "a" << "supported: F32, F16, BF16";
        QTest::newRow("negative dimension")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}"), d8)
            << "a" << "negative dimension -2";
        QTest::newRow("shape product overflow")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4],"
                                    "\"data_offsets\":[0,8]}"), d8)
            << "a" << "64-bit";
        QTest::newRow("bytes overflow")
            << rawSafetensors(entry("{\"dtype\":\"F64\",\"shape\":[2305843009213693952],"
                                    "\"data_offsets\":[0,8]}"), d8)
            << "a" << "64-bit";
        QTest::newRow("dimension beyond int64")
            << rawSafetensors(entry("{\"dtype\":\"U8\",\"shape\":[18446744073709551615],"
                                    "\"data_offsets\":[0,8]}"), d8)
            << "a" << "too large";
        QTest::newRow("data_offsets of three")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8,8]}"), d8)
            << "a" << "[begin, end]";
        QTest::newRow("data_offsets negative")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[-8,0]}"), d8)
            << "a" << "non-negative";
        QTest::newRow("data_offsets strings")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[\"0\",\"8\"]}"), d8)
            << "a" << "[begin, end]";
        QTest::newRow("begin after end")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}"), d8)
            << "a" << "begin after end";
        QTest::newRow("end beyond data")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}"), d8)
            << "a" << "beyond the data section of 8 bytes";
        QTest::newRow("huge end beyond data")
            << rawSafetensors(entry("{\"dtype\":\"U8\",\"shape\":[8],"
                                    "\"data_offsets\":[18446744073709551608,18446744073709551615]}"), d8)
            << "a" << "beyond the data section";
        QTest::newRow("byte count mismatch")
            << rawSafetensors(entry("{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[0,8]}"), d8)
            << "a" << "cover 8 bytes, but shape [3] of F32 needs 12 bytes";
        QTest::newRow("overlap")
            << rawSafetensors("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                              "\"b\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[4,12]}}",
                              QByteArray(12, 'x'))
            << "b" << "overlap tensor 'a'";
        QTest::newRow("duplicate tensor name")
            << rawSafetensors("{\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[0,4]},"
                              "\"a\":{\"dtype\":\"U8\",\"shape\":[4],\"data_offsets\":[4,8]}}", d8)
            << "a" << "appears twice";
        QTest::newRow("duplicate key in entry")
            << rawSafetensors(entry("{\"dtype\":\"U8\",\"dtype\":\"U8\",\"shape\":[8],"
                                    "\"data_offsets\":[0,8]}"), d8)
            << "a" << "key 'dtype' appears twice";
        QTest::newRow("metadata not an object")
            << rawSafetensors("{\"__metadata__\":5}") << "" << "'__metadata__'";
        QTest::newRow("metadata value not a string")
            << rawSafetensors("{\"__metadata__\":{\"k\":1}}") << "" << "entry 'k' is a number";
    }

    void corruptFile() {
        QFETCH(QByteArray, bytes);
        QFETCH(QString, tensor);
        QFETCH(QString, fragment);
        const std::string path = writeRaw(QString("corrupt-%1.safetensors")
                                              .arg(QString(QTest::currentDataTag()).replace(' ', '_')),
                                          bytes);
        const QString msg = errorOf([&] { ft::io::SafetensorsFile::open(path); });
        QVERIFY2(!msg.isEmpty(), "no ft::Error thrown");
        QVERIFY2(!msg.startsWith("<not"), qPrintable(msg));
        QVERIFY2(msg.contains(QString::fromStdString(path)), qPrintable(msg));
        if (!tensor.isEmpty())
            QVERIFY2(msg.contains("tensor '" + tensor + "'"), qPrintable(msg));
        QVERIFY2(msg.contains(fragment), qPrintable(msg));
    }

    void truncatedFile() {
        std::vector<uint8_t> data = patternBytes(4000, 3);
        const std::string whole = pathFor("whole.safetensors");
        ft::io::writeSafetensors(whole, {{"big", DType::F32, {1000}, data.data(), data.size()}});
        const QByteArray bytes = readRaw(whole);
        for (int keep : {int(bytes.size()) / 2, 40, 12, 7}) {
            const std::string path = writeRaw(QString("cut%1.safetensors").arg(keep), bytes.left(keep));
            const QString msg = errorOf([&] { ft::io::SafetensorsFile::open(path); });
            QVERIFY2(msg.contains(QString::fromStdString(path)), qPrintable(msg));
            QVERIFY2(!msg.startsWith("<not"), qPrintable(msg));
            if (keep == bytes.size() / 2)
                QVERIFY2(msg.contains("tensor 'big'") && msg.contains("truncated"), qPrintable(msg));
        }
    }

    void mappedFileErrors() {
        const std::string missing = pathFor("does-not-exist.safetensors");
        QString msg = errorOf([&] { ft::io::MappedFile::open(missing); });
        QVERIFY2(msg.contains(QString::fromStdString(missing)) && msg.contains("No such file"),
                 qPrintable(msg));
        msg = errorOf([&] { ft::io::MappedFile::open(m_dir.path().toStdString()); });
        QVERIFY2(msg.contains(m_dir.path()) && msg.contains("directory"), qPrintable(msg));
        const std::string empty = writeRaw("empty.bin", {});
        const auto file = ft::io::MappedFile::open(empty);
        QCOMPARE(file.size(), size_t(0));
        QVERIFY(file.data() == nullptr);
        msg = errorOf([&] { ft::io::SafetensorsCheckpoint::open(missing); });
        QVERIFY2(msg.contains(QString::fromStdString(missing)), qPrintable(msg));
    }

    void jsonFiles() {
        const std::string path = pathFor("config.json");
        const nlohmann::json j = {{"hidden_size", 64}, {"name", "tiny"}, {"list", {1, 2, 3}}};
        ft::io::writeJsonFileAtomic(path, j);
        QVERIFY(ft::io::readJsonFile(path) == j);
        QVERIFY(!QFile::exists(QString::fromStdString(path + ".tmp")));

        // The ']' on line 3 is the first byte nlohmann cannot accept: column 8.
        const std::string bad = writeRaw("bad.json", "{\n  \"a\": 1,\n  \"b\": ]\n}\n");
        QString msg = errorOf([&] { ft::io::readJsonFile(bad); });
        QVERIFY2(msg.contains(QString::fromStdString(bad)) && msg.contains("line 3, column 8"),
                 qPrintable(msg));
        const std::string cut = writeRaw("cut.json", "{\n  \"a\": [1,\n");
        msg = errorOf([&] { ft::io::readJsonFile(cut); });
        QVERIFY2(msg.contains(QString::fromStdString(cut)) && msg.contains("line 3, column 1"),
                 qPrintable(msg));
        const std::string empty = writeRaw("empty.json", {});
        msg = errorOf([&] { ft::io::readJsonFile(empty); });
        QVERIFY2(msg.contains(QString::fromStdString(empty)) && msg.contains("empty"), qPrintable(msg));
        msg = errorOf([&] { ft::io::readJsonFile(pathFor("missing.json")); });
        QVERIFY2(msg.contains("missing.json"), qPrintable(msg));
    }
};

FT_TEST_MAIN(TestSafetensors)

} // namespace test_safetensors

#include "test_safetensors.moc"
