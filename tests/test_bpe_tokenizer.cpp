// Tests of the tokenizer.json pipeline (JsonTokenizer and its parts) against
// references that do not come from this code:
//  - the unit-test vectors published in huggingface/tokenizers (models/bpe/model.rs,
//    pre_tokenizers/*.rs, decoders/*.rs, tokenizer/added_vocabulary.rs), re-run here;
//  - hand derivations written out in tests/data/tokenizers/README.md;
//  - expected ids for seven small tokenizer.json files (GPT-2, Llama 3, Qwen2, SmolLM,
//    Llama 2 and two Mistral styles) computed by the separate Python reference in
//    tests/data/tokenizers/make_test_tokenizers.py (see the README for what it follows);
//  - facts of the real vocabularies that the test files share by construction (GPT-2 /
//    Llama 3: "\n" = 198, " " = 220; Llama 2: <0x0A> = 13, byte tokens at 3 + byte).
// Also: errors that name the JSON path, streaming decode, and encode throughput on
// datasets/base_corpus/train.txt (printed). Needs FTSTUDIO_SOURCE_DIR (CTest sets it).
#include "tokenizer/added_tokens.h"
#include "tokenizer/bpe_tokenizer.h"
#include "tokenizer/byte_level.h"
#include "tokenizer/decoder.h"
#include "tokenizer/pretokenizer.h"
#include "tokenizer/split_regex.h"
#include "tokenizer/tokenizer_json.h"
#include "tokenizer/unicode_text.h"
#include "util/error.h"

#include "test_support.h"

#include "qtest_printers.h"
#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <ctime>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_bpe_tokenizer {

using ft::tok::JsonTokenizer;
using nlohmann::json;
using Ids = std::vector<int>;
using Strings = std::vector<std::string>;

namespace {

std::string dataDir() { return fttest::sourceDir() + "/tests/data/tokenizers/"; }

const JsonTokenizer& testTokenizer(const std::string& name)
{
    static std::map<std::string, std::unique_ptr<JsonTokenizer>> cache;
    auto& slot = cache[name];
    if (!slot)
        slot = ft::tok::loadTokenizerJson(dataDir() + name);
    return *slot;
}

Strings preTokenize(const json& config, const std::string& text, bool atStart = true)
{
    const auto pre = ft::tok::makePreTokenizer(config, "test pre_tokenizer");
    std::vector<ft::tok::PreToken> pieces{{text, atStart}};
    pre->split(pieces);
    Strings out;
    for (const auto& p : pieces)
        out.push_back(p.text);
    return out;
}

Strings decodeChain(const json& config, Strings tokens)
{
    ft::tok::makeDecoder(config, "test decoder")->decodeChain(tokens);
    return tokens;
}

// The 256 byte characters, ids in GPT-2's order (by code point).
json byteVocab()
{
    std::vector<char32_t> chars;
    for (int b = 0; b < 256; ++b)
        chars.push_back(ft::tok::byte_level::charOf(static_cast<unsigned char>(b)));
    std::sort(chars.begin(), chars.end());
    json vocab = json::object();
    for (char32_t c : chars) {
        std::string s;
        ft::tok::utf8::append(s, c);
        vocab[s] = int(vocab.size());
    }
    return vocab;
}

json bpeModel(const json& vocab, const json& merges)
{
    return {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", nullptr}, {"fuse_unk", false},
            {"byte_fallback", false}, {"vocab", vocab}, {"merges", merges}};
}

json byteLevel(bool addPrefixSpace, bool useRegex)
{
    return {{"type", "ByteLevel"}, {"add_prefix_space", addPrefixSpace}, {"trim_offsets", true}, {"use_regex", useRegex}};
}

// The hand-derived tokenizer of README.md, section "Hand derivation".
std::unique_ptr<JsonTokenizer> handTokenizer()
{
    json vocab = byteVocab();
    const Strings merged = {"Ġw", "or", "ld", "Ġwor", "Ġworld", "el", "lo", "Hel", "Hello", "ll"};
    for (const std::string& m : merged)
        vocab[m] = int(vocab.size());
    const json merges = {"Ġ w", "o r", "l d", "Ġw or", "Ġwor ld", "e l", "l o", "H el", "Hel lo", "l l"};
    json tj = {{"model", bpeModel(vocab, merges)}, {"pre_tokenizer", byteLevel(false, true)},
               {"decoder", byteLevel(true, true)},
               {"added_tokens", json::array({{{"id", 266}, {"content", "<|endoftext|>"}, {"special", true},
                                              {"normalized", false}}})}};
    return JsonTokenizer::fromJson(tj, "hand tokenizer");
}

ft::tok::BpeModel makeModel(const std::vector<std::pair<std::string, int>>& vocab,
                            const std::vector<std::pair<std::string, std::string>>& merges,
                            ft::tok::BpeOptions options = {})
{
    return ft::tok::BpeModel(vocab, merges, std::move(options), "test model");
}

Ids tokenize(const ft::tok::BpeModel& model, const std::string& word)
{
    Ids ids;
    model.tokenize(word, ids);
    return ids;
}

// Added-token segments as (text, id) pairs.
std::vector<std::pair<std::string, int>> segments(const ft::tok::AddedTokenSplitter& splitter, const std::string& text)
{
    std::vector<ft::tok::TextSegment> parts;
    splitter.split(text, parts);
    std::vector<std::pair<std::string, int>> out;
    for (const auto& p : parts)
        out.emplace_back(text.substr(p.begin, p.end - p.begin), p.token);
    return out;
}

ft::tok::AddedToken addedToken(int id, const std::string& content)
{
    ft::tok::AddedToken t;
    t.id = id;
    t.content = content;
    return t;
}

} // namespace

class TestBpeTokenizer : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { QVERIFY2(!fttest::sourceDir().empty(), "FTSTUDIO_SOURCE_DIR must point at the source tree"); }

    // huggingface/tokenizers models/bpe/model.rs tests, re-run on BpeModel.
    void publishedBpeModelCases()
    {
        const auto unrelated = makeModel(
            {{"u", 0}, {"n", 1}, {"r", 2}, {"e", 3}, {"l", 4}, {"a", 5}, {"t", 6}, {"d", 7}, {"re", 8}, {"at", 9},
             {"ed", 10}, {"un", 11}, {"ated", 12}, {"rel", 13}, {"related", 14}, {"unrelated", 15}},
            {{"r", "e"}, {"a", "t"}, {"e", "d"}, {"u", "n"}, {"at", "ed"}, {"re", "l"}, {"rel", "ated"}, {"un", "related"}});
        QCOMPARE(tokenize(unrelated, "unrelated"), Ids({15}));

        ft::tok::BpeOptions unk;
        unk.unkToken = "<unk>";
        const auto notFused = makeModel({{"<unk>", 0}, {"a", 1}, {"b", 2}}, {}, unk);
        QCOMPARE(tokenize(notFused, "c"), Ids({0}));
        QCOMPARE(tokenize(notFused, "cc"), Ids({0, 0}));
        QCOMPARE(tokenize(notFused, "accb"), Ids({1, 0, 0, 2}));
        unk.fuseUnk = true;
        const auto fused = makeModel({{"<unk>", 0}, {"a", 1}, {"b", 2}}, {}, unk);
        QCOMPARE(tokenize(fused, "cc"), Ids({0}));
        QCOMPARE(tokenize(fused, "accb"), Ids({1, 0, 2}));

        ft::tok::BpeOptions prefix;
        prefix.unkToken = "[UNK]";
        prefix.continuingSubwordPrefix = "##";
        const auto prefixed = makeModel({{"a", 0}, {"##b", 1}, {"##c", 2}, {"ab", 3}, {"abc", 4}},
                                        {{"a", "##b"}, {"ab", "##c"}}, prefix);
        QCOMPARE(tokenize(prefixed, "ab"), Ids({3}));
        QCOMPARE(tokenize(prefixed, "abc"), Ids({4}));

        ft::tok::BpeOptions fallback;
        fallback.unkToken = "<unk>";
        fallback.byteFallback = true;
        const auto bytes = makeModel({{"<unk>", 0}, {"<0x61>", 1}}, {}, fallback);
        QCOMPARE(tokenize(bytes, "c"), Ids({0}));
        QCOMPARE(tokenize(bytes, "a"), Ids({1}));
        const auto newline = makeModel({{"<unk>", 0}, {"<0x0A>", 1}}, {}, fallback);
        QCOMPARE(tokenize(newline, "\n"), Ids({1}));

        const std::vector<std::pair<std::string, int>> vocab = {
            {".:.:", 0}, {"Ġbelirtilen", 1}, {".", 2}, {":", 3}, {"bel", 4}, {"irtilen", 5}, {"Ġ", 6}, {".:", 7},
            {"belirtilen", 8}, {".:.", 9}, {"be", 10}, {"l", 11}, {"ir", 12}, {"ti", 13}, {"en", 14}, {"irtil", 15},
            {"irti", 16}, {"i", 17}, {"r", 18}, {"t", 19}, {"b", 20}, {"e", 21}, {"n", 22}};
        const std::vector<std::pair<std::string, std::string>> merges = {
            {".", ":"}, {"b", "e"}, {"be", "l"}, {"i", "r"}, {"t", "i"}, {"ir", "ti"}, {"e", "n"}, {"irti", "l"}};
        ft::tok::BpeOptions ignore;
        ignore.ignoreMerges = true;
        const auto ignoring = makeModel(vocab, merges, ignore);
        QCOMPARE(tokenize(ignoring, ".:.:"), Ids({0}));
        QCOMPARE(tokenize(ignoring, "Ġbelirtilen"), Ids({1}));
        const auto merging = makeModel(vocab, merges);
        QCOMPARE(tokenize(merging, ".:.:"), Ids({7, 7}));
        QCOMPARE(tokenize(merging, "Ġbelirtilen"), Ids({6, 4, 15, 14}));
    }

    // README.md "Merge order": ties go to the leftmost pair, and a merge made possible
    // by an earlier one competes at its own rank (where HF and encoder.py differ).
    void mergeOrderByHand()
    {
        const auto a = makeModel({{"a", 0}, {"aa", 1}}, {{"a", "a"}});
        QCOMPARE(tokenize(a, "aaa"), Ids({1, 0}));
        QCOMPARE(tokenize(a, "aaaa"), Ids({1, 1}));
        const auto ab = makeModel({{"a", 0}, {"b", 1}, {"ab", 2}, {"aba", 3}}, {{"ab", "a"}, {"a", "b"}});
        QCOMPARE(tokenize(ab, "abab"), Ids({3, 1}));
        // Unknown characters without an unk token vanish, as in Hugging Face; what is
        // left around them is then adjacent and merges.
        QCOMPARE(tokenize(a, "aba"), Ids({1}));
    }

    // GPT-2's published byte alphabet (encoder.py bytes_to_unicode).
    void byteAlphabet()
    {
        namespace bl = ft::tok::byte_level;
        QCOMPARE(bl::charOf(' '), char32_t(0x120));  // 'Ġ'
        QCOMPARE(bl::charOf('\n'), char32_t(0x10A)); // 'Ċ'
        QCOMPARE(bl::charOf('!'), char32_t('!'));
        QCOMPARE(bl::charOf(0xAD), char32_t(0x143)); // soft hyphen -> 'Ń'
        QCOMPARE(bl::encode("\xE2\x80\x99"), std::string("âĢĻ")); // U+2019, a famous GPT-2 token
        for (int b = 0; b < 256; ++b)
            QCOMPARE(bl::byteOf(bl::charOf(static_cast<unsigned char>(b))), b);
        std::string back;
        bl::decodeTokenAppend("ĠhelloĊ", back);
        QCOMPARE(back, std::string(" hello\n"));
        back.clear();
        bl::decodeTokenAppend("<|a b|>", back); // ' ' is outside the alphabet: raw bytes
        QCOMPARE(back, std::string("<|a b|>"));
    }

    // huggingface/tokenizers pre_tokenizers/byte_level.rs tests.
    void publishedByteLevelSplits()
    {
        const std::string sentence = "Hello my friend, how is your day going?";
        QCOMPARE(preTokenize(byteLevel(false, true), sentence),
                 Strings({"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"}));
        QCOMPARE(preTokenize(byteLevel(true, false), sentence), Strings({"ĠHelloĠmyĠfriend,ĠhowĠisĠyourĠdayĠgoing?"}));
        for (const std::string& s : {sentence, " " + sentence})
            QCOMPARE(preTokenize(byteLevel(true, true), s),
                     Strings({"ĠHello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"}));
        QCOMPARE(preTokenize(byteLevel(false, true), "Hello there\nHello there"),
                 Strings({"Hello", "Ġthere", "Ċ", "Hello", "Ġthere"}));
        QCOMPARE(preTokenize(byteLevel(false, true), "Hello there       dear"),
                 Strings({"Hello", "Ġthere", "ĠĠĠĠĠĠ", "Ġdear"}));
        QCOMPARE(preTokenize(byteLevel(false, true), "i⭢j"), Strings({"i", "âŃ¢", "j"}));
        QCOMPARE(decodeChain({{"type", "ByteLevel"}},
                             {"Hello", "Ġmy", "Ġfriend", ",", "Ġhow", "Ġis", "Ġyour", "Ġday", "Ġgoing", "?"}),
                 Strings({sentence}));
    }

    // huggingface/tokenizers pre_tokenizers/metaspace.rs tests.
    void publishedMetaspaceSplits()
    {
        const json always = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}, {"split", true}};
        QCOMPARE(preTokenize(always, "Hey friend!"), Strings({"▁Hey", "▁friend!"}));
        QCOMPARE(preTokenize(always, "Hey   friend!"), Strings({"▁Hey", "▁", "▁", "▁friend!"}));
        // The older spelling: add_prefix_space true means "always".
        QCOMPARE(preTokenize({{"type", "Metaspace"}, {"replacement", "▁"}, {"add_prefix_space", true}}, "Hey friend!"),
                 Strings({"▁Hey", "▁friend!"}));

        const json splitS = {{"type", "Split"}, {"pattern", {{"Regex", "(<s>)"}}}, {"behavior", "Isolated"}, {"invert", false}};
        const json first = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
        const json firstThenAlways = {{"type", "Sequence"}, {"pretokenizers", {splitS, first, always}}};
        QCOMPARE(preTokenize({{"type", "Sequence"}, {"pretokenizers", {splitS, first}}}, "Hey my friend <s>how▁are you"),
                 Strings({"▁Hey▁my▁friend▁", "<s>", "how▁are▁you"}));
        QCOMPARE(preTokenize(firstThenAlways, "Hey my friend <s>how▁are you"),
                 Strings({"▁Hey", "▁my", "▁friend", "▁", "▁<s>", "▁how", "▁are", "▁you"}));
        const json splitFirst = {{"type", "Sequence"}, {"pretokenizers", {splitS, first}}};
        QCOMPARE(preTokenize(splitFirst, " Hey <s>how"), Strings({"▁Hey▁", "<s>", "how"}));
        QCOMPARE(preTokenize(splitFirst, " Hey <s>how <s>are <s> you"),
                 Strings({"▁Hey▁", "<s>", "how▁", "<s>", "are▁", "<s>", "▁you"}));

        QCOMPARE(decodeChain({{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "always"}},
                             {"▁Hey", "▁friend!"}),
                 Strings({"Hey", " friend!"}));
        QCOMPARE(decodeChain({{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "never"}},
                             {"▁Hey", "▁friend!"}),
                 Strings({" Hey", " friend!"}));
    }

    // huggingface/tokenizers pre_tokenizers/split.rs and digits.rs tests.
    void publishedSplitAndDigits()
    {
        const std::string s = "How are you doing?";
        const auto split = [&](const char* behavior) {
            return preTokenize({{"type", "Split"}, {"pattern", {{"Regex", "\\w+|[^\\w\\s]+"}}},
                                {"behavior", behavior}, {"invert", true}},
                               s);
        };
        QCOMPARE(split("Removed"), Strings({"How", "are", "you", "doing", "?"}));
        QCOMPARE(split("Isolated"), Strings({"How", " ", "are", " ", "you", " ", "doing", "?"}));
        QCOMPARE(split("MergedWithPrevious"), Strings({"How ", "are ", "you ", "doing", "?"}));
        QCOMPARE(split("MergedWithNext"), Strings({"How", " are", " you", " doing", "?"}));
        QCOMPARE(split("Contiguous"), Strings({"How", " ", "are", " ", "you", " ", "doing?"}));
        QCOMPARE(preTokenize({{"type", "Split"}, {"pattern", {{"Regex", "\\s+"}}}, {"behavior", "Removed"}, {"invert", false}},
                             "Hey, man!"),
                 preTokenize({{"type", "Split"}, {"pattern", {{"String", " "}}}, {"behavior", "Removed"}, {"invert", false}},
                             "Hey, man!"));
        QCOMPARE(preTokenize({{"type", "Digits"}, {"individual_digits", false}}, "Hey 123 friend!"),
                 Strings({"Hey ", "123", " friend!"}));
        QCOMPARE(preTokenize({{"type", "Digits"}, {"individual_digits", true}}, "Hey 123 friend!"),
                 Strings({"Hey ", "1", "2", "3", " friend!"}));
    }

    // huggingface/tokenizers decoders/byte_fallback.rs and strip.rs tests.
    void publishedDecoders()
    {
        const json fallback = {{"type", "ByteFallback"}};
        QCOMPARE(decodeChain(fallback, {"Hey", "friend!"}), Strings({"Hey", "friend!"}));
        QCOMPARE(decodeChain(fallback, {"<0x61>"}), Strings({"a"}));
        QCOMPARE(decodeChain(fallback, {"<0xE5>"}), Strings({"\xEF\xBF\xBD"}));
        QCOMPARE(decodeChain(fallback, {"<0xE5>", "<0x8f>"}), Strings({"\xEF\xBF\xBD", "\xEF\xBF\xBD"}));
        QCOMPARE(decodeChain(fallback, {"<0xE5>", "<0x8f>", "<0xab>"}), Strings({"叫"}));
        QCOMPARE(decodeChain(fallback, {"<0xE5>", "<0x8f>", "<0xab>", "a"}), Strings({"叫", "a"}));
        QCOMPARE(decodeChain(fallback, {"<0xE5>", "<0x8f>", "a"}), Strings({"\xEF\xBF\xBD", "\xEF\xBF\xBD", "a"}));
        QCOMPARE(decodeChain({{"type", "Strip"}, {"content", "H"}, {"start", 1}, {"stop", 0}}, {"Hey", " friend!", "HHH"}),
                 Strings({"ey", " friend!", "HH"}));
        QCOMPARE(decodeChain({{"type", "Strip"}, {"content", "y"}, {"start", 0}, {"stop", 1}}, {"Hey", " friend!"}),
                 Strings({"He", " friend!"}));
    }

    // huggingface/tokenizers tokenizer/added_vocabulary.rs tests, with the same two passes
    // (raw text, then the Lowercase-normalized stretches).
    void publishedAddedTokenCases()
    {
        using Segs = std::vector<std::pair<std::string, int>>;
        const ft::tok::AddedTokenSplitter raw({"[CLS]", "[SEP]"}, {addedToken(3, "[CLS]"), addedToken(4, "[SEP]")});
        QCOMPARE(segments(raw, "[CLS] My name is Anthony [SEP]"),
                 Segs({{"[CLS]", 3}, {" My name is Anthony ", -1}, {"[SEP]", 4}}));
        auto my = addedToken(0, "my");
        my.lstrip = my.rstrip = true;
        auto ony = addedToken(2, "ony");
        ony.singleWord = true;
        const ft::tok::AddedTokenSplitter normalized({"my", "name", "ony"}, {my, addedToken(1, "name"), ony});
        QCOMPARE(segments(normalized, ft::tok::unicode::lowercase(" My name is Anthony ")),
                 Segs({{" my ", 0}, {"name", 1}, {" is anthony ", -1}}));

        auto mask = addedToken(0, "<mask>");
        mask.singleWord = true;
        const ft::tok::AddedTokenSplitter single({"<mask>"}, {mask});
        QCOMPARE(segments(single, ft::tok::unicode::lowercase("<mask> My name <mask> A<mask> <mask>ony <mask>")),
                 Segs({{"<mask>", 0}, {" my name ", -1}, {"<mask>", 0}, {" a<mask> <mask>ony ", -1}, {"<mask>", 0}}));
        QCOMPARE(segments(single, "<mask>, <mask>- \u25CC\u0330<mask>"),
                 Segs({{"<mask>", 0}, {", ", -1}, {"<mask>", 0}, {"- \u25CC\u0330<mask>", -1}}));

        mask.lstrip = mask.rstrip = true;
        const ft::tok::AddedTokenSplitter stripping({"<mask>"}, {mask});
        QCOMPARE(segments(stripping, ft::tok::unicode::lowercase("Hi <mask> there\t<mask>\t<mask>\u2000")),
                 Segs({{"hi", -1}, {" <mask> ", 0}, {"there", -1}, {"\t<mask>\t", 0}, {"<mask>\u2000", 0}}));
        // Leftmost first, then longest.
        const ft::tok::AddedTokenSplitter nested({"<a>", "<a><b>", "b>"},
                                                 {addedToken(7, "<a>"), addedToken(8, "<a><b>"), addedToken(9, "b>")});
        QCOMPARE(segments(nested, "x<a><b>y<a>b>"), Segs({{"x", -1}, {"<a><b>", 8}, {"y", -1}, {"<a>", 7}, {"b>", 9}}));
    }

    // README.md "Hand derivation": "Hello world" with ten merges.
    void handDerivedByteLevel()
    {
        const auto t = handTokenizer();
        QCOMPARE(t->encode("Hello world", false, false), Ids({264, 260}));
        QCOMPARE(t->decode({264, 260}), std::string("Hello world"));
        QCOMPARE(t->encode("Helllo", false, false), Ids({263, 75, 262})); // a stale heap entry skipped
        QCOMPARE(t->encode("\n", false, false), Ids({198}));
        QCOMPARE(t->encode(" ", false, false), Ids({220}));
        QCOMPARE(t->encode("Hello<|endoftext|> world", false, false), Ids({264, 266, 260}));
        QCOMPARE(t->decode({263, 266, 260}, true), std::string("Hel world"));
        QCOMPARE(t->decode({263, 266, 260}, false), std::string("Hel<|endoftext|> world"));
        QCOMPARE(t->vocabSize(), 267);
        QCOMPARE(t->idToPiece(260), std::string("Ġworld"));
        QCOMPARE(t->pieceToId("<|endoftext|>"), std::optional<int>(266));
        QVERIFY_THROWS_EXCEPTION(ft::Error, t->decode({267}));
    }

    void referenceIds_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("index");
        const json expected = json::parse(fttest::readTextFile(dataDir() + "expected_ids.json"));
        for (const auto& [file, cases] : expected.items())
            for (size_t i = 0; i < cases.size(); ++i)
                QTest::newRow(qPrintable(QString("%1 #%2").arg(QString::fromStdString(file)).arg(i)))
                    << QString::fromStdString(file) << int(i);
    }

    // Ids, ids with the post-processor's tokens, and decoding, as the Python reference.
    void referenceIds()
    {
        QFETCH(QString, file);
        QFETCH(int, index);
        static const json expected = json::parse(fttest::readTextFile(dataDir() + "expected_ids.json"));
        const json& c = expected[file.toStdString()][size_t(index)];
        const JsonTokenizer& t = testTokenizer(file.toStdString());
        const std::string text = c["text"];
        QCOMPARE(t.encodeHf(text, false), c["ids"].get<Ids>());
        QCOMPARE(t.encodeHf(text, true), c["ids_with_special"].get<Ids>());
        QCOMPARE(t.encodeForModel(text), c["ids_with_special"].get<Ids>());
        QCOMPARE(t.decode(c["ids"].get<Ids>(), false), c["decoded"].get<std::string>());
        QCOMPARE(t.decode(c["ids"].get<Ids>(), true), c["decoded_skip_special"].get<std::string>());
    }

    // "<|eot_id|>" inside a sentence is one id; without its closing bar it is text.
    void specialTokensInsideText()
    {
        const JsonTokenizer& t = testTokenizer("llama3_style.json");
        const int eot = *t.pieceToId("<|eot_id|>");
        QVERIFY(t.isSpecial(eot));
        Ids joined = t.encodeHf("Hello", false);
        joined.push_back(eot);
        const Ids world = t.encodeHf(" world", false);
        joined.insert(joined.end(), world.begin(), world.end());
        QCOMPARE(t.encodeHf("Hello<|eot_id|> world", false), joined);
        const Ids open = t.encodeHf("Hello<|eot_id world", false);
        QVERIFY(std::find(open.begin(), open.end(), eot) == open.end());
        QVERIFY(open.size() > 3);
        QCOMPARE(t.decode(open), std::string("Hello<|eot_id world"));
        // GPT-2 style file: no such added token, so the same text is many ids.
        const Ids plain = testTokenizer("gpt2_bytelevel.json").encodeHf("<|eot_id|>", false);
        QVERIFY(plain.size() > 1);
        // encode_special_tokens: the same text as plain text.
        const auto asText = ft::tok::loadTokenizerJson(dataDir() + "llama3_style.json");
        asText->setEncodeSpecialTokens(true);
        const Ids literal = asText->encodeHf("Hello<|eot_id|> world", false);
        QVERIFY(std::find(literal.begin(), literal.end(), eot) == literal.end());
        QCOMPARE(asText->decode(literal), std::string("Hello<|eot_id|> world"));
        // Specials are skipped when decoding on request.
        QCOMPARE(t.decode({eot}, true), std::string());
        QCOMPARE(t.decode({eot}, false), std::string("<|eot_id|>"));
    }

    // Llama 3's \p{N}{1,3} against GPT-2's \p{N}+ and SmolLM's single digits.
    void digitSplitting()
    {
        const auto pieces = [](const char* file, const std::string& text) {
            const JsonTokenizer& t = testTokenizer(file);
            Strings out;
            for (int id : t.encodeHf(text, false))
                out.push_back(t.idToPiece(id));
            return out;
        };
        // Llama 3: pre-tokens 123 | 456 | 7, so token boundaries fall at 3 and 6.
        std::vector<size_t> ends;
        size_t at = 0;
        for (const auto& p : pieces("llama3_style.json", "1234567"))
            ends.push_back(at += p.size());
        QVERIFY(std::find(ends.begin(), ends.end(), size_t(3)) != ends.end());
        QVERIFY(std::find(ends.begin(), ends.end(), size_t(6)) != ends.end());
        QCOMPARE(ends.back(), size_t(7));
        for (const auto& p : pieces("smollm_style.json", "1234567"))
            QCOMPARE(int(p.size()), 1);
    }

    // Byte fallback: characters outside the sentencepiece-style vocabulary become
    // <0xNN> tokens, id 3 + byte (Llama 2's layout); "\n" is ▁ + <0x0A> = 13.
    void byteFallbackIds()
    {
        const JsonTokenizer& t = testTokenizer("llama2_spm.json");
        const int meta = *t.pieceToId("▁");
        QCOMPARE(t.pieceToId("<0x0A>"), std::optional<int>(13));
        QCOMPARE(t.encodeHf("\n", false), Ids({meta, 13}));
        QCOMPARE(t.encodeHf("日", false), Ids({meta, 3 + 0xE6, 3 + 0x97, 3 + 0xA5}));
        QCOMPARE(t.encodeHf("日", true), Ids({1, meta, 3 + 0xE6, 3 + 0x97, 3 + 0xA5}));
        QCOMPARE(t.idToPiece(3 + 0xE2), std::string("<0xE2>"));
        QCOMPARE(t.decode(t.encodeHf("a … b", true)), std::string("a … b"));
    }

    // prepend_scheme "first" puts ▁ only before text at the very start of the input,
    // "always" before every stretch of text (here: after added tokens).
    void metaspacePrependSchemes()
    {
        const JsonTokenizer& first = testTokenizer("mistral_metaspace_first.json");
        const JsonTokenizer& always = testTokenizer("mistral_metaspace_always.json");
        const int inst = *first.pieceToId("[INST]");
        const Ids a = first.encodeHf("[INST]Hi", false), b = always.encodeHf("[INST]Hi", false);
        QCOMPARE(a.front(), inst);
        QCOMPARE(b.front(), inst);
        QVERIFY(first.idToPiece(a[1]).rfind("▁", 0) != 0);
        QVERIFY(always.idToPiece(b[1]).rfind("▁", 0) == 0);
        // At the start both prepend, unless the text already starts with a space.
        QCOMPARE(first.encodeHf("Hi", false), always.encodeHf("Hi", false));
        QCOMPARE(first.idToPiece(first.encodeHf("Hi", false)[0]).rfind("▁", 0), size_t(0));
        QCOMPARE(first.encodeHf(" Hi", false), first.encodeHf("Hi", false));
    }

    // NFC (Qwen2) makes decomposed accents tokenize like precomposed ones.
    void nfcNormalizer()
    {
        const std::string composed = "Café résumé", decomposed = "Cafe\u0301 re\u0301sume\u0301";
        QCOMPARE(ft::tok::unicode::normalize(decomposed, ft::tok::unicode::Form::NFC), composed);
        const JsonTokenizer& qwen = testTokenizer("qwen2_style.json");
        QCOMPARE(qwen.encodeHf(decomposed, false), qwen.encodeHf(composed, false));
        const JsonTokenizer& gpt2 = testTokenizer("gpt2_bytelevel.json");
        QVERIFY(gpt2.encodeHf(decomposed, false) != gpt2.encodeHf(composed, false));
    }

    // ignore_merges (Llama 3): a pre-token that is itself a token is one id even when
    // no merge sequence builds it.
    void ignoreMerges()
    {
        const JsonTokenizer& llama3 = testTokenizer("llama3_style.json");
        const auto whole = llama3.pieceToId(ft::tok::byte_level::encode(" Zürich"));
        QVERIFY(whole.has_value());
        QCOMPARE(llama3.encodeHf("in Zürich", false).back(), *whole);
        QVERIFY(testTokenizer("gpt2_bytelevel.json").encodeHf(" Zürich", false).size() > 1);
    }

    // Oniguruma's \s is White_Space: U+180E is not a space there (PCRE2 would say it is).
    void regexReadsPatternsAsOniguruma()
    {
        QVERIFY(ft::tok::onigurumaToPcre2("[^\\s\\p{L}]").find("\\x{85}") != std::string::npos);
        QCOMPARE(preTokenize(byteLevel(false, true), "a \u180Eb"),
                 Strings({"a", ft::tok::byte_level::encode(" \u180E"), "b"}));
        // \s+(?!\S) with no-break spaces: the last space goes alone (it is not ' ').
        const std::string nbsp = ft::tok::byte_level::encode("\u00A0");
        QCOMPARE(preTokenize(byteLevel(false, true), "a\u00A0\u00A0b"), Strings({"a", nbsp, nbsp, "b"}));
    }

    // Decoding a prefix of the ids of one character gives a trailing U+FFFD (ByteLevel:
    // one; ByteFallback: one per byte); streamableLength holds all of it back.
    void streamingDecode()
    {
        const std::string emoji = "\xF0\x9F\x99\x82"; // U+1F642
        const std::string fffd = "\xEF\xBF\xBD";
        for (const char* file : {"gpt2_bytelevel.json", "llama2_spm.json"}) {
            const JsonTokenizer& t = testTokenizer(file);
            const Ids ids = t.encodeHf("ok " + emoji, false);
            std::string previous;
            for (size_t n = 1; n <= ids.size(); ++n) {
                const std::string text = t.decode(Ids(ids.begin(), ids.begin() + std::ptrdiff_t(n)));
                const size_t stable = ft::tok::streamableLength(text);
                QVERIFY2(text.compare(0, stable, "ok " + emoji, 0, stable) == 0, file);
                QVERIFY(stable >= ft::tok::streamableLength(previous));
                previous = text;
            }
            QCOMPARE(t.decode(ids), std::string("ok ") + emoji);
        }
        const JsonTokenizer& spm = testTokenizer("llama2_spm.json");
        QCOMPARE(spm.decode({3 + 0xF0, 3 + 0x9F}), fffd + fffd);
        QCOMPARE(testTokenizer("gpt2_bytelevel.json").decode({*testTokenizer("gpt2_bytelevel.json").pieceToId("ð")}), fffd);
        QCOMPARE(ft::tok::streamableLength("ab" + fffd + fffd), size_t(2));
        QCOMPARE(ft::tok::streamableLength("ab\xE2\x80"), size_t(2));
        QCOMPARE(ft::tok::streamableLength("ab\xE2\x80\x99"), size_t(5));
    }

    // Malformed UTF-8 input is read as Rust's from_utf8_lossy would.
    void malformedInput()
    {
        QCOMPARE(ft::tok::utf8::sanitize("a\xE2\x80z\xFF"), std::string("a\xEF\xBF\xBDz\xEF\xBF\xBD"));
        QCOMPARE(ft::tok::utf8::sanitize("\xF0\x9F\x99"), std::string("\xEF\xBF\xBD"));
        QCOMPARE(ft::tok::utf8::sanitize("\xC0\xAF"), std::string("\xEF\xBF\xBD\xEF\xBF\xBD"));
        const JsonTokenizer& t = testTokenizer("gpt2_bytelevel.json");
        QCOMPARE(t.encodeHf("x\xFFy", false), t.encodeHf("x\xEF\xBF\xBDy", false));
    }

    // loadTokenizerJson + tokenizer_config.json: special ids and BOS defaults.
    void loaderAndSpecialIds()
    {
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        std::filesystem::copy_file(dataDir() + "llama3_style.json", d + "/tokenizer.json");
        std::ofstream(d + "/tokenizer_config.json")
            << json({{"bos_token", "<|begin_of_text|>"},
                     {"eos_token", {{"content", "<|eot_id|>"}, {"special", true}}},
                     {"pad_token", nullptr}})
                   .dump();
        const auto t = ft::tok::loadTokenizerJson(d + "/tokenizer.json");
        QCOMPARE(t->bosId(), *t->pieceToId("<|begin_of_text|>"));
        QCOMPARE(t->eosId(), *t->pieceToId("<|eot_id|>"));
        QCOMPARE(t->padId(), -1);
        QVERIFY(t->addsBosByDefault());
        QVERIFY(!t->addsEosByDefault());
        const Ids hello = t->encode("Hello", false, false);
        Ids both = {t->bosId()};
        both.insert(both.end(), hello.begin(), hello.end());
        both.push_back(t->eosId());
        QCOMPARE(t->encode("Hello", true, true), both);
        QCOMPARE(t->decode(both, true), std::string("Hello"));

        const JsonTokenizer& qwen = testTokenizer("qwen2_style.json");
        QVERIFY(!qwen.addsBosByDefault());
        QCOMPARE(qwen.bosId(), -1);
        QCOMPARE(qwen.encode("Hello", true, false), qwen.encode("Hello", false, false));

        std::ofstream(d + "/tokenizer_config.json") << json({{"eos_token", "<|nope|>"}}).dump();
        const QString error = fttest::errorOf([&] { ft::tok::loadTokenizerJson(d + "/tokenizer.json"); });
        QVERIFY2(error.contains("eos_token") && error.contains("<|nope|>") && error.contains("tokenizer_config.json"),
                 qPrintable(error));
    }

    // Unsupported or broken components: ft::Error naming the file and JSON path.
    void errorsNameTheJsonPath()
    {
        const json base = json::parse(fttest::readTextFile(dataDir() + "gpt2_bytelevel.json"));
        const auto errorFor = [](const json& tj) {
            return fttest::errorOf([&] { JsonTokenizer::fromJson(tj, "/m/tokenizer.json"); });
        };
        json tj = base;
        tj["pre_tokenizer"] = {{"type", "Sequence"}, {"pretokenizers", {byteLevel(false, true), {{"type", "Whitespace"}}}}};
        QString e = errorFor(tj);
        QVERIFY2(e.contains("/m/tokenizer.json at pre_tokenizer.pretokenizers[1]") && e.contains("Whitespace"), qPrintable(e));
        tj = base;
        tj["model"]["type"] = "Unigram";
        e = errorFor(tj);
        QVERIFY2(e.contains("model.type") && e.contains("Unigram"), qPrintable(e));
        tj = base;
        tj["model"]["merges"][1] = "Ġ zzzz";
        e = errorFor(tj);
        QVERIFY2(e.contains("model.merges[1]") && e.contains("zzzz"), qPrintable(e));
        tj = base;
        tj["model"]["merges"][2] = "a b c";
        e = errorFor(tj);
        QVERIFY2(e.contains("model.merges[2]"), qPrintable(e));
        tj = base;
        tj["model"]["dropout"] = 0.1;
        e = errorFor(tj);
        QVERIFY2(e.contains("model.dropout"), qPrintable(e));
        tj = base;
        tj["normalizer"] = {{"type", "Sequence"}, {"normalizers", {{{"type", "Precompiled"}, {"precompiled_charsmap", "x"}}}}};
        e = errorFor(tj);
        QVERIFY2(e.contains("normalizer.normalizers[0]") && e.contains("Precompiled"), qPrintable(e));
        tj = base;
        tj["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}}, {"behavior", "Isolated"}, {"invert", false}};
        e = errorFor(tj);
        QVERIFY2(e.contains("pre_tokenizer.pattern.Regex") && e.contains("(unclosed"), qPrintable(e));
        tj = base;
        tj["decoder"] = {{"type", "WordPiece"}, {"prefix", "##"}};
        e = errorFor(tj);
        QVERIFY2(e.contains("at decoder") && e.contains("WordPiece"), qPrintable(e));

        QTemporaryDir dir;
        const std::string path = dir.path().toStdString() + "/tokenizer.json";
        std::ofstream(path) << fttest::readTextFile(dataDir() + "gpt2_bytelevel.json").substr(0, 500);
        e = fttest::errorOf([&] { ft::tok::loadTokenizerJson(path); });
        QVERIFY2(e.contains(QString::fromStdString(path)) && e.contains("line"), qPrintable(e));
    }

    // One tokenizer shared by several threads gives every thread the same ids.
    void concurrentEncode()
    {
        const JsonTokenizer& t = testTokenizer("llama3_style.json");
        const std::string text = fttest::readTextFile(fttest::sourceDir() + "/datasets/base_corpus/heldout.txt").substr(0, 40000);
        const Ids expected = t.encodeHf(text, false);
        std::vector<Ids> results(4);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < results.size(); ++i)
            threads.emplace_back([&, i] { results[i] = t.encodeHf(text, false); });
        for (auto& th : threads)
            th.join();
        for (const Ids& r : results)
            QCOMPARE(r, expected);
    }

    // Encode throughput on the base corpus (printed, per CPU second of this thread, so a
    // busy machine does not distort it), and an exact round trip.
    void throughput()
    {
        const std::string corpus = fttest::readTextFile(fttest::sourceDir() + "/datasets/base_corpus/train.txt");
        QVERIFY(corpus.size() > 100000);
        const auto cpuSeconds = [] {
            timespec ts{};
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
            return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
        };
        for (const char* file : {"llama3_style.json", "gpt2_bytelevel.json", "llama2_spm.json"}) {
            const auto t = ft::tok::loadTokenizerJson(dataDir() + file); // fresh: cold word cache
            const double start = cpuSeconds();
            const Ids ids = t->encodeHf(corpus, false);
            const double encoded = cpuSeconds();
            const std::string back = t->decode(ids);
            const double decoded = cpuSeconds();
            qInfo("%s: encode %.1f MB/s (%zu bytes -> %zu ids in %.3f s CPU), decode %.1f MB/s", file,
                  double(corpus.size()) / 1e6 / (encoded - start), corpus.size(), ids.size(), encoded - start,
                  double(corpus.size()) / 1e6 / (decoded - encoded));
            QCOMPARE(back, corpus);
        }
    }
};

FT_TEST_MAIN(TestBpeTokenizer)

} // namespace test_bpe_tokenizer

#include "test_bpe_tokenizer.moc"
