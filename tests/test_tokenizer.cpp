// Tests of the sentencepiece tokenizer (through the dlmopen bridge) and of
// loadTokenizer: exact round trips, Llama special ids, BOS/EOS defaults from
// tokenizer_config.json, split digits, byte fallback, and error messages that name
// the file. The executable also links libtorch and uses it, because the point of the
// bridge is that sentencepiece and libtorch's protobuf live in one process.
// Needs only the bridge: FTSTUDIO_SPM_BRIDGE, or the build path compiled into ftcore.
// Not here: tokenizer.json and chat templates.
#include "tokenizer/sentencepiece_tokenizer.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

// Narrow ATen headers: <torch/torch.h> would triple this file's compile time.
#include "qtest_printers.h"
#include "test_main.h"

#include <ATen/core/Tensor.h>
#include <ATen/ops/ones.h>

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_tokenizer {

using ft::tok::SentencePieceTokenizer;
using ft::tok::SpmTrainOptions;

namespace {

// A few KB of English with digits and some non-ASCII, so that common words become
// pieces while rarer characters (and everything unseen) go through byte fallback.
std::string makeCorpus()
{
    const char* sentences[] = {
        "The quick brown fox jumps over the lazy dog.",
        "Fine-tuning adapts a pretrained language model to a new task.",
        "Low-rank adapters add two small matrices to each projection.",
        "The learning rate was 0.0002 and the batch size was 16.",
        "In 2023 the model saw 1234567 tokens in 89 steps.",
        "She ordered a café au lait and a croissant, naïve as ever.",
        "  Indented line with two leading spaces.",
        "Trailing spaces matter too.   ",
        "def train(model, data):\n    return model.fit(data)",
        "Numbers like 42, 3.14159 and 1000000 appear in text.",
        "日本語のテキストも少しだけ含まれています。",
        "Emoji such as 🙂 and 🚀 appear in chat data.",
        "Zürich, São Paulo and Kraków are cities.",
        "Question: what is 17 times 23? Answer: 391.",
    };
    std::string corpus;
    std::mt19937 rng(7);
    for (int i = 0; i < 60; ++i) {
        corpus += sentences[rng() % std::size(sentences)];
        corpus += ' ';
        corpus += sentences[rng() % std::size(sentences)];
        corpus += '\n';
    }
    return corpus;
}

// The corpus cut at a line end, so that no UTF-8 sequence is split.
std::string corpusPrefix(size_t maxBytes)
{
    const std::string corpus = makeCorpus();
    return corpus.substr(0, corpus.rfind('\n', maxBytes) + 1);
}

// The id lists one after another.
std::vector<int> join(const std::vector<std::vector<int>>& parts)
{
    std::vector<int> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

void writeFile(const QString& path, const QByteArray& bytes)
{
    QFile file(path);
    QVERIFY2(file.open(QIODevice::WriteOnly), qPrintable(path));
    file.write(bytes);
}

// Runs fn, expecting ft::Error whose message contains every needle.
template <typename Fn>
void expectError(Fn&& fn, const QStringList& needles)
{
    try {
        fn();
    } catch (const ft::Error& e) {
        const QString message = QString::fromStdString(e.what());
        for (const QString& needle : needles)
            QVERIFY2(message.contains(needle),
                     qPrintable("'" + needle + "' not in: " + message));
        return;
    } catch (const std::exception& e) {
        QFAIL(qPrintable(QString("expected ft::Error, got: ") + e.what()));
    }
    QFAIL("expected ft::Error, nothing was thrown");
}

} // namespace

class TestTokenizer : public QObject {
    Q_OBJECT

private:
    // Trains the shared tokenizer on first use, so any single test can run alone.
    const SentencePieceTokenizer& tok();
    QString trainInto(const QString& name);

    QTemporaryDir m_dir;
    QString m_corpusPath;
    QString m_modelPath;
    std::unique_ptr<SentencePieceTokenizer> m_tok;

private Q_SLOTS:
    void bridgeLoadErrors(); // first: it needs the bridge not yet loaded
    void libtorchInSameProcess();
    void roundTrip_data();
    void roundTrip();
    void byteFallbackLeavesNoUnknown();
    void malformedUtf8BecomesReplacement();
    void bosEosFlags();
    void llamaSpecials();
    void pieceIdConsistency();
    void splitDigits_data();
    void splitDigits();
    void decodeSpecial();
    void decodeOutOfRange();
    void concurrentEncode();
    void trainingIsDeterministic();
    void trainingErrors();
    void loaderHonoursConfig_data();
    void loaderHonoursConfig();
    void loaderErrors_data();
    void loaderErrors();
    void specialAndAddedTokensInText();
    void nonLegacyPrefixOnlyAtTextStart();
};

QString TestTokenizer::trainInto(const QString& name)
{
    SpmTrainOptions options;
    options.inputFile = m_corpusPath.toStdString();
    options.modelPrefix = m_dir.filePath(name).toStdString();
    options.vocabSize = 400;
    options.quiet = true;
    ft::tok::trainSentencePiece(options);
    return m_dir.filePath(name + ".model");
}

const SentencePieceTokenizer& TestTokenizer::tok()
{
    if (!m_tok) {
        if (m_corpusPath.isEmpty()) {
            m_corpusPath = m_dir.filePath("corpus.txt");
            writeFile(m_corpusPath, QByteArray::fromStdString(makeCorpus()));
        }
        m_modelPath = trainInto("tok");
        m_tok = SentencePieceTokenizer::load(m_modelPath.toStdString());
    }
    return *m_tok;
}

void TestTokenizer::bridgeLoadErrors()
{
    if (m_tok)
        QSKIP("the bridge is already loaded in this process");
    const QByteArray saved = qgetenv("FTSTUDIO_SPM_BRIDGE");
    const QString notElf = m_dir.filePath("not-a-library.so");
    writeFile(notElf, "plain text");
    for (const QString& path : {QStringLiteral("/nonexistent/libftspm_bridge.so"), notElf}) {
        qputenv("FTSTUDIO_SPM_BRIDGE", path.toUtf8());
        expectError([] { ft::tok::sentencePieceBridgePath(); }, {path, "FTSTUDIO_SPM_BRIDGE"});
    }
    // A failed attempt is retried on the next call, which now succeeds.
    if (saved.isNull())
        qunsetenv("FTSTUDIO_SPM_BRIDGE");
    else
        qputenv("FTSTUDIO_SPM_BRIDGE", saved);
    QVERIFY(!ft::tok::sentencePieceBridgePath().empty());
}

void TestTokenizer::libtorchInSameProcess()
{
    // libtorch (and its libprotobuf 3.21) is loaded and used in the process that also
    // runs sentencepiece's protobuf-lite 3.14 through the bridge.
    QCOMPARE(at::ones({2}).sum().item<float>(), 2.0f);
    const auto ids = tok().encode("torch and tokens", true, false);
    QCOMPARE(tok().decode(ids), std::string("torch and tokens"));
}

void TestTokenizer::roundTrip_data()
{
    QTest::addColumn<std::string>("text");
    QTest::newRow("empty") << std::string();
    QTest::newRow("one space") << std::string(" ");
    QTest::newRow("plain") << std::string("The quick brown fox.");
    QTest::newRow("leading space") << std::string(" leading");
    QTest::newRow("leading spaces") << std::string("   three leading");
    QTest::newRow("trailing spaces") << std::string("trailing  ");
    QTest::newRow("double spaces") << std::string("double  spaces  inside");
    QTest::newRow("newlines") << std::string("line one\nline two\n\nline four\n");
    QTest::newRow("leading newline") << std::string("\nstarts with a newline");
    QTest::newRow("crlf and tabs") << std::string("a\r\nb\tc\t\td");
    QTest::newRow("code") << std::string("def f(x):\n    return x * 2\n");
    QTest::newRow("digits") << std::string("0123456789 3.14159 1,000,000");
    QTest::newRow("latin accents") << std::string("café naïve Zürich São Kraków");
    QTest::newRow("emoji") << std::string("emoji 🙂🚀 and 🧪 unseen");
    QTest::newRow("cjk") << std::string("日本語 中文 한국어");
    QTest::newRow("unseen symbols") << std::string("☃ Ω ∑ ∞ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u00a0nbsp");
    QTest::newRow("special look-alikes") << std::string("<s> literal </s> <unk> <0x41>");
    QTest::newRow("control chars") << std::string("bell\a \x01\x1f" " end");
    QTest::newRow("long") << corpusPrefix(1500);
}

void TestTokenizer::roundTrip()
{
    QFETCH(std::string, text);
    for (const bool bos : {false, true}) {
        for (const bool eos : {false, true}) {
            const auto ids = tok().encode(text, bos, eos);
            QCOMPARE(tok().decode(ids), text);
        }
    }
}

void TestTokenizer::byteFallbackLeavesNoUnknown()
{
    const auto ids = tok().encode("unseen: ☃ 𝔘 🧪 ق", false, false);
    bool sawByte = false;
    for (int id : ids) {
        QVERIFY(id != tok().unkId());
        sawByte = sawByte || tok().isByte(id);
    }
    QVERIFY(sawByte);
}

void TestTokenizer::malformedUtf8BecomesReplacement()
{
    // As sentencepiece (and Python strings) do: each bad byte becomes U+FFFD.
    const auto ids = tok().encode("bad \xff\xfe end \xc3", false, false);
    QCOMPARE(tok().decode(ids), std::string("bad \xef\xbf\xbd\xef\xbf\xbd end \xef\xbf\xbd"));
}

void TestTokenizer::bosEosFlags()
{
    const std::string text = "Hello world";
    const auto plain = tok().encode(text, false, false);
    QVERIFY(!plain.empty());
    QVERIFY(plain.front() != 1 && plain.back() != 2);

    auto expected = plain;
    expected.insert(expected.begin(), 1);
    QCOMPARE(tok().encode(text, true, false), expected);
    expected.push_back(2);
    QCOMPARE(tok().encode(text, true, true), expected);
    expected.erase(expected.begin());
    QCOMPARE(tok().encode(text, false, true), expected);

    // Hugging Face LlamaTokenizer defaults: BOS yes, EOS no.
    QVERIFY(tok().addsBosByDefault());
    QVERIFY(!tok().addsEosByDefault());
    QCOMPARE(tok().encodeForModel(text), tok().encode(text, true, false));
    // Legacy sentencepiece behaviour: the dummy prefix makes "Hello" start with ▁.
    QVERIFY(tok().idToPiece(plain.front()).rfind("\xe2\x96\x81", 0) == 0);
}

void TestTokenizer::llamaSpecials()
{
    QCOMPARE(tok().unkId(), 0);
    QCOMPARE(tok().bosId(), 1);
    QCOMPARE(tok().eosId(), 2);
    QCOMPARE(tok().padId(), -1);
    QCOMPARE(tok().vocabSize(), 400);
    QCOMPARE(tok().idToPiece(0), std::string("<unk>"));
    QCOMPARE(tok().idToPiece(1), std::string("<s>"));
    QCOMPARE(tok().idToPiece(2), std::string("</s>"));
    QCOMPARE(tok().pieceToId("<unk>"), std::optional<int>(0));
    QCOMPARE(tok().pieceToId("<s>"), std::optional<int>(1));
    QCOMPARE(tok().pieceToId("</s>"), std::optional<int>(2));
    QCOMPARE(tok().pieceToId("<pad>"), std::optional<int>());
    QCOMPARE(tok().pieceToId("surely-not-a-piece"), std::optional<int>());
    QVERIFY(tok().isUnknown(0) && !tok().isControl(0));
    QVERIFY(tok().isControl(1) && tok().isControl(2));
    const auto byteA = tok().pieceToId("<0x41>");
    QVERIFY(byteA.has_value());
    QVERIFY(tok().isByte(*byteA));
}

void TestTokenizer::pieceIdConsistency()
{
    for (int id = 0; id < tok().vocabSize(); ++id) {
        const std::string piece = tok().idToPiece(id);
        QVERIFY2(!piece.empty(), qPrintable(QString::number(id)));
        QCOMPARE(tok().pieceToId(piece), std::optional<int>(id));
    }
}

void TestTokenizer::splitDigits_data()
{
    QTest::addColumn<std::string>("text");
    QTest::newRow("frequent") << std::string("1234567");
    QTest::newRow("all digits") << std::string("0123456789");
    QTest::newRow("in words") << std::string("step 2023 of 89 steps");
    QTest::newRow("decimal") << std::string("3.14159");
}

void TestTokenizer::splitDigits()
{
    QFETCH(std::string, text);
    int digits = 0;
    for (int id : tok().encode(text, false, false)) {
        const std::string piece = tok().idToPiece(id);
        const bool hasDigit = piece.find_first_of("0123456789") != std::string::npos;
        if (hasDigit) {
            QVERIFY2(piece.size() == 1, piece.c_str());
            ++digits;
        }
    }
    QCOMPARE(digits, static_cast<int>(std::count_if(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })));
}

void TestTokenizer::decodeSpecial()
{
    const auto ids = tok().encode("Hello world", true, true);
    QCOMPARE(tok().decode(ids, /*skipSpecial=*/true), std::string("Hello world"));
    QCOMPARE(tok().decode(ids, /*skipSpecial=*/false), std::string("<s>Hello world</s>"));
    QCOMPARE(tok().decode({1, 2}, true), std::string());
    QCOMPARE(tok().decode({1, 2}, false), std::string("<s></s>"));
    // Two documents joined: each one's dummy-prefix space survives after the first.
    auto joined = tok().encode("one", true, true);
    const auto second = tok().encode("two", true, true);
    joined.insert(joined.end(), second.begin(), second.end());
    QCOMPARE(tok().decode(joined, true), std::string("one two"));
    // sentencepiece renders <unk> as its surface " ⁇ " either way (it is not control).
    QCOMPARE(tok().decode({0}, true), std::string(" \xe2\x81\x87 "));
}

void TestTokenizer::decodeOutOfRange()
{
    const std::string path = tok().modelPath();
    expectError([this] { tok().decode({1, 5, 400}); }, {"400", QString::fromStdString(path)});
    expectError([this] { tok().decode({-3}); }, {"-3"});
    expectError([this] { tok().idToPiece(400); }, {"400", QString::fromStdString(path)});
}

void TestTokenizer::concurrentEncode()
{
    // encode/decode are const and may run on worker threads (data loaders).
    const std::string text = corpusPrefix(800);
    const auto expected = tok().encode(text, true, false);
    std::atomic<int> mismatches = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 20; ++i)
                if (tok().encode(text, true, false) != expected || tok().decode(expected) != text)
                    ++mismatches;
        });
    for (auto& thread : threads)
        thread.join();
    QCOMPARE(mismatches.load(), 0);
}

void TestTokenizer::trainingIsDeterministic()
{
    tok();
    const QString again = trainInto("tok-again");
    // The .model files differ only in the recorded model_prefix; compare the pieces.
    auto other = SentencePieceTokenizer::load(again.toStdString());
    QCOMPARE(other->vocabSize(), tok().vocabSize());
    for (int id = 0; id < tok().vocabSize(); ++id)
        QCOMPARE(other->idToPiece(id), tok().idToPiece(id));
    // No temporary files are left behind.
    for (const auto& entry : std::filesystem::directory_iterator(m_dir.path().toStdString()))
        QVERIFY2(entry.path().string().find(".partial") == std::string::npos,
                 entry.path().c_str());
}

void TestTokenizer::trainingErrors()
{
    tok();
    SpmTrainOptions options;
    options.inputFile = m_corpusPath.toStdString();
    options.modelPrefix = m_dir.filePath("too-big").toStdString();
    options.vocabSize = 100000;
    options.quiet = true;
    // sentencepiece's own message (it says the largest size the corpus allows).
    expectError([&] { ft::tok::trainSentencePiece(options); }, {"too-big", "Vocabulary size"});
    QVERIFY(!QFile::exists(m_dir.filePath("too-big.model")));

    options.vocabSize = 400;
    options.inputFile = m_dir.filePath("missing.txt").toStdString();
    expectError([&] { ft::tok::trainSentencePiece(options); }, {m_dir.filePath("missing.txt")});

    options.inputFile = m_corpusPath.toStdString();
    options.extraFlags = {{"no_such_flag", "1"}};
    expectError([&] { ft::tok::trainSentencePiece(options); }, {"no_such_flag"});
}

void TestTokenizer::loaderHonoursConfig_data()
{
    QTest::addColumn<QByteArray>("config"); // empty: no tokenizer_config.json
    QTest::addColumn<bool>("bos");
    QTest::addColumn<bool>("eos");
    QTest::newRow("no config") << QByteArray() << true << false;
    QTest::newRow("empty object") << QByteArray("{}") << true << false;
    QTest::newRow("eos on") << QByteArray(R"({"add_bos_token": true, "add_eos_token": true})") << true << true;
    QTest::newRow("bos off") << QByteArray(R"({"add_bos_token": false})") << false << false;
    QTest::newRow("null means default") << QByteArray(R"({"add_bos_token": null, "model_max_length": 2048})") << true << false;
}

void TestTokenizer::loaderHonoursConfig()
{
    QFETCH(QByteArray, config);
    QFETCH(bool, bos);
    QFETCH(bool, eos);
    tok();
    QTemporaryDir folder;
    QVERIFY(QFile::copy(m_modelPath, folder.filePath("tokenizer.model")));
    if (!config.isEmpty())
        writeFile(folder.filePath("tokenizer_config.json"), config);
    const auto loaded = ft::tok::loadTokenizer(folder.path().toStdString());
    QCOMPARE(loaded->addsBosByDefault(), bos);
    QCOMPARE(loaded->addsEosByDefault(), eos);
    const auto ids = loaded->encodeForModel("Hello world");
    QCOMPARE(ids, tok().encode("Hello world", bos, eos));
    QCOMPARE(ids.front() == 1, bos);
    QCOMPARE(ids.back() == 2, eos);
}

void TestTokenizer::loaderErrors_data()
{
    // What the folder holds; the error must name `expected` (relative to the folder).
    QTest::addColumn<QString>("setup");
    QTest::addColumn<QString>("expected");
    QTest::newRow("missing folder") << "missing" << "";
    QTest::newRow("empty folder") << "empty" << "";
    QTest::newRow("only tokenizer.json") << "json" << "tokenizer.json";
    QTest::newRow("corrupt tokenizer.model") << "corrupt" << "tokenizer.model";
    QTest::newRow("truncated config") << "badconfig" << "tokenizer_config.json";
    QTest::newRow("config wrong type") << "badtype" << "tokenizer_config.json";
    QTest::newRow("config not object") << "array" << "tokenizer_config.json";
}

void TestTokenizer::loaderErrors()
{
    QFETCH(QString, setup);
    QFETCH(QString, expected);
    tok();
    QTemporaryDir parent;
    QString folder = parent.filePath("model");
    if (setup == "missing") {
        folder = parent.filePath("does-not-exist");
    } else {
        QVERIFY(QDir().mkpath(folder));
        const QDir dir(folder);
        if (setup == "json")
            writeFile(dir.filePath("tokenizer.json"), R"({"model": {"type": "BPE"}})");
        if (setup == "corrupt") {
            QByteArray noise(4096, '\0');
            std::mt19937 rng(1);
            for (char& c : noise)
                c = static_cast<char>(rng());
            writeFile(dir.filePath("tokenizer.model"), noise);
        }
        if (setup == "badconfig" || setup == "badtype" || setup == "array") {
            QVERIFY(QFile::copy(m_modelPath, dir.filePath("tokenizer.model")));
            const QByteArray config = setup == "badconfig" ? R"({"add_bos_token": tr)"
                                      : setup == "badtype" ? R"({"add_eos_token": "yes"})"
                                                           : "[true]";
            writeFile(dir.filePath("tokenizer_config.json"), config);
        }
    }
    const QString needle = expected.isEmpty() ? folder : QDir(folder).filePath(expected);
    expectError([&] { ft::tok::loadTokenizer(folder.toStdString()); }, {needle});
}

// A sentencepiece folder as Phi-3 and Llama 2 ship it: special tokens written in the text
// become their ids (the model's own </s>, and added tokens beyond the model from
// tokenizer_config.json's added_tokens_decoder), each stretch between them encoded on
// its own as Hugging Face's Llama tokenizers do (so each gets sentencepiece's dummy
// prefix); rstrip swallows the whitespace after a token; decoding renders them or skips
// the special ones. The bare model (no folder) is the reference for the stretches.
void TestTokenizer::specialAndAddedTokensInText()
{
    tok();
    QTemporaryDir folder;
    QVERIFY(QFile::copy(m_modelPath, folder.filePath("tokenizer.model")));
    writeFile(folder.filePath("tokenizer_config.json"), R"({"add_bos_token": true, "add_eos_token": false,
        "added_tokens_decoder": {
          "400": {"content": "<|user|>", "lstrip": false, "normalized": false, "rstrip": true, "single_word": false, "special": true},
          "401": {"content": "<|end|>", "lstrip": false, "normalized": false, "rstrip": true, "single_word": false, "special": true},
          "402": {"content": "<|placeholder|>", "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": false}}})");
    const auto loaded = ft::tok::loadTokenizer(folder.path().toStdString());
    auto plain = [&](const char* text) { return tok().encode(text, false, false); };
    QCOMPARE(loaded->encode("a</s>b", false, false), join({plain("a"), {2}, plain("b")}));
    QCOMPARE(loaded->encode("<s>x<unk>", false, false), join({{1}, plain("x"), {0}}));
    QCOMPARE(loaded->encode("<|user|>\nhello there<|end|>\n", true, false),
             join({{1}, {400}, plain("hello there"), {401}}));  // rstrip took both newlines
    QCOMPARE(loaded->encode("say <|placeholder|> now", false, false),
             join({plain("say "), {402}, plain(" now")}));
    QCOMPARE(loaded->encode("no specials here", false, false), plain("no specials here"));
    QCOMPARE(loaded->vocabSize(), 403);
    QCOMPARE(loaded->idToPiece(401), std::string("<|end|>"));
    QCOMPARE(loaded->pieceToId("<|user|>"), std::optional<int>(400));
    QCOMPARE(loaded->pieceToId("</s>"), std::optional<int>(2));
    const std::vector<int> turn = join({{400}, plain("hello"), {401}});
    QCOMPARE(loaded->decode(turn, /*skipSpecial=*/false), std::string("<|user|>hello<|end|>"));
    QCOMPARE(loaded->decode(turn, /*skipSpecial=*/true), std::string("hello"));
    QCOMPARE(loaded->decode(join({plain("say"), {402}}), true), std::string("say<|placeholder|>"));
    expectError([&] { loaded->decode({403}); }, {"403"});
}

// Hugging Face's non-legacy rule for sentencepiece folders: the dummy prefix "▁" only
// at the text's start, so text right after a special token keeps no space it did not
// have ("</s>b" -> the piece "b", not "▁b"), and a space written there is kept. The slow
// tokenizer's switch is tokenizer_config.json's "legacy": false; the fast one's a
// Metaspace pre-tokenizer with prepend_scheme "first" in tokenizer.json, which wins.
// Expected ids come from the piece table, not from the encoder.
void TestTokenizer::nonLegacyPrefixOnlyAtTextStart()
{
    tok();
    const std::optional<int> b = tok().pieceToId("b"), o = tok().pieceToId("o");
    QVERIFY(b && o);
    auto plain = [&](const char* text) { return tok().encode(text, false, false); };
    const std::string metaspace = [](const char* scheme) {
        return std::string(R"({"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer":
            {"type": "Metaspace", "replacement": "\u2581", "prepend_scheme": ")") + scheme + R"(", "split": false}})";
    }("first");
    for (const auto& [label, config, tokenizerJson] :
         std::vector<std::tuple<QString, std::string, std::string>>{{"slow", R"({"legacy": false})", ""},
                                                                   {"fast", R"({"legacy": true})", metaspace}}) {
        QTemporaryDir folder;
        QVERIFY(QFile::copy(m_modelPath, folder.filePath("tokenizer.model")));
        writeFile(folder.filePath("tokenizer_config.json"), config.c_str());
        if (!tokenizerJson.empty())
            writeFile(folder.filePath("tokenizer.json"), tokenizerJson.c_str());
        const auto loaded = ft::tok::loadTokenizer(folder.path().toStdString());
        QVERIFY2(loaded->encode("a</s>b", false, false) == join({plain("a"), {2}, {*b}}), qPrintable(label));
        QVERIFY2(loaded->encode("a</s> b", false, false) == join({plain("a"), {2}, plain("b")}), qPrintable(label));
        QVERIFY2(loaded->encode("<s>o", false, false) == std::vector<int>({1, *o}), qPrintable(label));
        QVERIFY2(loaded->encode("a b", false, false) == plain("a b"), qPrintable(label));  // the start keeps it
        QVERIFY2(loaded->decode(loaded->encode("x</s>b</s> y", false, false), false) == "x</s>b</s> y", qPrintable(label));
    }
    // Legacy (the default, and Metaspace "always"): each stretch gets the prefix.
    QTemporaryDir folder;
    QVERIFY(QFile::copy(m_modelPath, folder.filePath("tokenizer.model")));
    writeFile(folder.filePath("tokenizer.json"), QString::fromStdString(metaspace).replace("first", "always").toUtf8());
    QCOMPARE(ft::tok::loadTokenizer(folder.path().toStdString())->encode("a</s>b", false, false),
             join({plain("a"), {2}, plain("b")}));
}

FT_TEST_MAIN(TestTokenizer)

} // namespace test_tokenizer

#include "test_tokenizer.moc"
