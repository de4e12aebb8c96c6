// The instruction-tuning data pipeline: prompt formats against hand-written text,
// tokenization with prompt masking (a character tokenizer whose ids are known by
// hand, with a sentencepiece-like dummy prefix and one merge), truncation counts,
// the batcher's padding, shuffling and exact resume, packing checked against the
// unpacked loss on a tiny model, and the dataset sources (files, project datasets,
// kinds SFT cannot use, train/eval splits, the sample data in datasets/sft).
// Not here: the training loop (its own test).
#include "data/project_store.h"
#include "model/llama.h"
#include "test_support.h"
#include "tiny_models.h"
#include "train/dataset_source.h"
#include "train/lm_loss.h"
#include "train/prompt_format.h"
#include "train/sft_data.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <torch/csrc/autograd/grad_mode.h>

#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <fstream>
#include <set>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_sft_data {

using namespace ft::train;
using ft::data::DatasetKind;
using ft::data::Row;

namespace {

// BOS 1, EOS 2, pad `pad`; 3 = the dummy-prefix piece put before every non-empty
// text (like sentencepiece's leading space); 4 = the pair "ab" (one merge, to make a
// token straddle a segment boundary); every other byte c -> 5 + c % 56. Ids < 61,
// the tiny model's vocabulary.
class CharTokenizer : public ft::tok::Tokenizer {
public:
    explicit CharTokenizer(int pad = 0) : m_pad(pad) {}
    static int64_t idOf(char c) { return 5 + static_cast<unsigned char>(c) % 56; }
    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override
    {
        std::vector<int> ids;
        if (addBos)
            ids.push_back(1);
        if (!text.empty())
            ids.push_back(3);
        for (size_t i = 0; i < text.size(); ++i) {
            if (text[i] == 'a' && i + 1 < text.size() && text[i + 1] == 'b') {
                ids.push_back(4);
                ++i;
            } else {
                ids.push_back(static_cast<int>(idOf(text[i])));
            }
        }
        if (addEos)
            ids.push_back(2);
        return ids;
    }
    std::string decode(const std::vector<int>&, bool) const override { return {}; }
    int vocabSize() const override { return 61; }
    int bosId() const override { return 1; }
    int eosId() const override { return 2; }
    int padId() const override { return m_pad; }
    int unkId() const override { return 0; }
    std::string idToPiece(int) const override { return "?"; }
    std::optional<int> pieceToId(std::string_view) const override { return std::nullopt; }

private:
    int m_pad;
};

constexpr int64_t I = kIgnoreIndex;

std::vector<int64_t> charIds(const std::string& s)
{
    std::vector<int64_t> ids;
    for (char c : s)
        ids.push_back(CharTokenizer::idOf(c));
    return ids;
}

std::vector<int64_t> cat(std::initializer_list<std::vector<int64_t>> parts)
{
    std::vector<int64_t> out;
    for (const auto& p : parts)
        out.insert(out.end(), p.begin(), p.end());
    return out;
}

Row instructionRow(int64_t id, const std::string& instruction, const std::string& output,
                   ft::data::Split split = ft::data::Split::Train)
{
    Row r;
    r.id = id;
    r.fields = {{"instruction", instruction}, {"output", output}};
    r.split = split;
    return r;
}

// Rows of varying length whose outputs are long enough to carry several labels.
std::vector<Row> variedRows(int n)
{
    std::vector<Row> rows;
    for (int i = 0; i < n; ++i)
        rows.push_back(instructionRow(i + 1, "Q" + std::string(1 + (i * 7) % 9, 'x'),
                                      "R" + std::string(1 + (i * 5) % 7, 'y')));
    return rows;
}

ft::model::CausalLM tinyModel()
{
    ft::model::CausalLM m(fttest::tinyConfig());
    m->initializeWeights(11);
    torch::NoGradGuard g;
    for (auto& p : m->parameters())
        if (p.dim() >= 2)
            p.mul_(5.0);  // attention far from uniform, so a leak between examples shows
    m->eval();
    return m;
}

// Sum of the per-token cross-entropy of a batch (logits at t predict label t+1).
double summedLoss(ft::model::CausalLM& m, const SftBatch& b, bool useSegments = true)
{
    torch::NoGradGuard g;
    at::Tensor segments = useSegments ? b.segmentIds : at::Tensor();
    at::Tensor logits = m->logitsFromHidden(m->hidden(b.ids, b.attentionMask, nullptr, segments));
    int64_t predicted = (b.labels.narrow(1, 1, b.labels.size(1) - 1) != kIgnoreIndex).sum().item<int64_t>();
    return causalLmLoss(logits, b.labels).item<double>() * double(predicted);
}

std::vector<std::vector<int64_t>> rowsOf(const SftBatch& b)
{
    std::vector<std::vector<int64_t>> out;
    at::Tensor ids = b.ids.contiguous();
    for (int64_t r = 0; r < ids.size(0); ++r)
        out.emplace_back(ids[r].data_ptr<int64_t>(), ids[r].data_ptr<int64_t>() + ids.size(1));
    return out;
}

// Each row's tokens without the padding (which depends on the batch's longest row).
std::vector<std::vector<int64_t>> realTokensOf(const SftBatch& b)
{
    std::vector<std::vector<int64_t>> out;
    for (int64_t r = 0; r < b.ids.size(0); ++r) {
        const at::Tensor real = b.ids[r].masked_select(b.attentionMask[r].to(at::kBool)).contiguous();
        out.emplace_back(real.data_ptr<int64_t>(), real.data_ptr<int64_t>() + real.numel());
    }
    return out;
}

bool sameBatch(const SftBatch& a, const SftBatch& b)
{
    auto eq = [](const at::Tensor& x, const at::Tensor& y) {
        return x.defined() == y.defined() && (!x.defined() || (x.sizes() == y.sizes() && x.equal(y)));
    };
    return eq(a.ids, b.ids) && eq(a.labels, b.labels) && eq(a.attentionMask, b.attentionMask) &&
           eq(a.segmentIds, b.segmentIds) && a.tokens == b.tokens && a.epoch == b.epoch &&
           a.epochEnded == b.epochEnded;
}

} // namespace

class TestSftData : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;

    std::string writeFile(const std::string& name, const std::string& content)
    {
        const std::string path = m_dir.filePath(QString::fromStdString(name)).toStdString();
        std::ofstream(path, std::ios::binary) << content;
        return path;
    }

private Q_SLOTS:
    // ---- prompt formats ----------------------------------------------------

    void alpacaMatchesTheBaseCorpus()
    {
        auto f = makePromptFormat("alpaca");
        const std::vector<Segment> s =
            f->render(DatasetKind::Instruction, {{"instruction", "Add 3 and 4."}, {"output", "7"}});
        const std::vector<Segment> expected = {{"### Instruction:\nAdd 3 and 4.\n### Response:\n", false, false},
                                               {"7", true, true}};
        QCOMPARE(s, expected);
        // A document of datasets/base_corpus/train.txt, byte for byte.
        QCOMPARE(joinedText(s), std::string("### Instruction:\nAdd 3 and 4.\n### Response:\n7"));
        QCOMPARE(f->renderPrompt("Add 3 and 4."), std::string("### Instruction:\nAdd 3 and 4.\n### Response:\n"));
        // An empty input is no input (Alpaca files often carry "input": "").
        QCOMPARE(f->render(DatasetKind::Instruction, {{"instruction", "Add 3 and 4."}, {"input", ""}, {"output", "7"}}),
                 expected);

        const std::vector<Segment> withAll = f->render(
            DatasetKind::Instruction,
            {{"system", "Be brief."}, {"instruction", "Add the numbers."}, {"input", "3 and 4"}, {"output", "7"}});
        QCOMPARE(withAll, (std::vector<Segment>{
                              {"Be brief.\n\n### Instruction:\nAdd the numbers.\n### Input:\n3 and 4\n### Response:\n",
                               false, false},
                              {"7", true, true}}));
    }

    void alpacaChat()
    {
        auto f = makePromptFormat("alpaca");
        const nlohmann::json chat = {{"messages",
                                      {{{"role", "system"}, {"content", "Be brief."}},
                                       {{"role", "user"}, {"content", "Hi"}},
                                       {{"role", "assistant"}, {"content", "Hello."}},
                                       {{"role", "user"}, {"content", "Add 3 and 4."}},
                                       {{"role", "assistant"}, {"content", "7"}}}}};
        QCOMPARE(f->render(DatasetKind::Chat, chat),
                 (std::vector<Segment>{{"Be brief.\n\n### Instruction:\nHi\n### Response:\n", false, false},
                                       {"Hello.", true, true},
                                       {"\n### Instruction:\nAdd 3 and 4.\n### Response:\n", false, false},
                                       {"7", true, true}}));
        // A one-turn chat renders as the instruction row it corresponds to.
        const nlohmann::json oneTurn = {{"messages",
                                         {{{"role", "system"}, {"content", "Be brief."}},
                                          {{"role", "user"}, {"content", "Add 3 and 4."}},
                                          {{"role", "assistant"}, {"content", "7"}}}}};
        QCOMPARE(f->render(DatasetKind::Chat, oneTurn),
                 f->render(DatasetKind::Instruction,
                           {{"system", "Be brief."}, {"instruction", "Add 3 and 4."}, {"output", "7"}}));
    }

    void chatMlAndPlain()
    {
        auto chatml = makePromptFormat("chatml");
        QCOMPARE(chatml->render(DatasetKind::Instruction, {{"system", "Be brief."},
                                                           {"instruction", "Add the numbers."},
                                                           {"input", "3 and 4"},
                                                           {"output", "7"}}),
                 (std::vector<Segment>{{"<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nAdd the "
                                        "numbers.\n\n3 and 4<|im_end|>\n<|im_start|>assistant\n",
                                        false, false},
                                       {"7<|im_end|>", true, true}}));
        const nlohmann::json chat = {{"messages",
                                      {{{"role", "user"}, {"content", "Hi"}},
                                       {{"role", "assistant"}, {"content", "Hello."}},
                                       {{"role", "user"}, {"content", "Bye"}},
                                       {{"role", "assistant"}, {"content", "Bye."}}}}};
        QCOMPARE(chatml->render(DatasetKind::Chat, chat),
                 (std::vector<Segment>{
                     {"<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n", false, false},
                     {"Hello.<|im_end|>", true, true},
                     {"\n<|im_start|>user\nBye<|im_end|>\n<|im_start|>assistant\n", false, false},
                     {"Bye.<|im_end|>", true, true}}));
        QCOMPARE(chatml->renderPrompt("Hi"), std::string("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));

        auto plain = makePromptFormat("plain");
        QCOMPARE(plain->render(DatasetKind::Instruction,
                               {{"instruction", "Add 3 and 4."}, {"input", "Be quick."}, {"output", "7"}}),
                 (std::vector<Segment>{{"Add 3 and 4.\nBe quick.\n", false, false}, {"7", true, true}}));
        QCOMPARE(plain->render(DatasetKind::Chat, chat),
                 (std::vector<Segment>{{"Hi\n", false, false},
                                       {"Hello.", true, true},
                                       {"\nBye\n", false, false},
                                       {"Bye.", true, true}}));
        QCOMPARE(plain->renderPrompt("Hi"), std::string("Hi\n"));

        for (const char* name : {"alpaca", "chatml", "plain"})
            QCOMPARE(makePromptFormat(name)->render(DatasetKind::Text, {{"text", "A cat sat."}}),
                     (std::vector<Segment>{{"A cat sat.", true, true}}));
    }

    void formatErrors()
    {
        // "model" is built from a model folder (test_model_template), not by name alone.
        QVERIFY(fttest::errorOf([] { makePromptFormat("model"); }).contains("needs the model folder"));
        QVERIFY(fttest::errorOf([] { makePromptFormat("vicuna"); })
                    .contains("unknown prompt format 'vicuna'; use one of alpaca, chatml, plain"));
        auto f = makePromptFormat("alpaca");
        QVERIFY(fttest::errorOf([&] {
                    f->render(DatasetKind::Preference, {{"prompt", "p"}, {"chosen", "a"}, {"rejected", "b"}});
                }).contains("not preference rows"));
        const QString missing = fttest::errorOf([&] { f->render(DatasetKind::Instruction, {{"instruction", "x"}}); });
        QVERIFY2(missing.contains("field 'output' is missing"), qPrintable(missing));
        // buildSftDataset names the row.
        std::vector<Row> rows = {instructionRow(7, "x", "y")};
        rows[0].fields.erase("output");
        const QString named = fttest::errorOf(
            [&] { buildSftDataset(rows, DatasetKind::Instruction, *f, CharTokenizer(), SftDataOptions{}); });
        QVERIFY2(named.startsWith("row 7: ") && named.contains("'output'"), qPrintable(named));
    }

    // ---- tokenization and masking -----------------------------------------

    void tokenizationInContext()
    {
        const CharTokenizer tok;
        // The response is tokenized in context: no dummy prefix (3) in front of it.
        TokenizedText t = tokenizeSegments({{"q\n", false, false}, {"7", true, true}}, tok, LossOn::Responses);
        QCOMPARE(t.ids, cat({{1, 3}, charIds("q\n7"), {2}}));
        QCOMPARE(t.labels, cat({{I, I, I, I}, charIds("7"), {2}}));
        // A token straddling the boundary ("a" | "b" -> "ab") goes to the later segment.
        t = tokenizeSegments({{"xa", false, false}, {"bc", true, true}}, tok, LossOn::Responses);
        QCOMPARE(t.ids, cat({{1, 3}, charIds("x"), {4}, charIds("c"), {2}}));
        QCOMPARE(t.labels, cat({{I, I, I}, {4}, charIds("c"), {2}}));
        // After an EOS a new run starts, with its own dummy prefix, as a new document.
        t = tokenizeSegments({{"u", false, false}, {"r", true, true}, {"v", false, false}, {"s", true, true}}, tok,
                             LossOn::Responses);
        QCOMPARE(t.ids, cat({{1, 3}, charIds("ur"), {2, 3}, charIds("vs"), {2}}));
        QCOMPARE(t.labels, cat({{I, I, I}, charIds("r"), {2, I, I}, charIds("s"), {2}}));
        // loss_on all: everything but the first token (nothing predicts it).
        t = tokenizeSegments({{"q\n", false, false}, {"7", true, true}}, tok, LossOn::All);
        QCOMPARE(t.labels, cat({{I, 3}, charIds("q\n7"), {2}}));
        QCOMPARE(lossOnFromName("assistant"), std::optional<LossOn>(LossOn::Responses));
        QCOMPARE(lossOnFromName("all"), std::optional<LossOn>(LossOn::All));
        QVERIFY(!lossOnFromName("prompt"));
        // No BOS when the tokenizer does not add it by default; the first label is still ignored.
        CharTokenizer noBos;
        noBos.setSpecialTokenDefaults(false, false);
        t = tokenizeSegments({{"q", false, false}, {"7", true, true}}, noBos, LossOn::All);
        QCOMPARE(t.ids, cat({{3}, charIds("q7"), {2}}));
        QCOMPARE(t.labels, cat({{I}, charIds("q7"), {2}}));
    }

    void promptChangeLeavesLabels()
    {
        auto f = makePromptFormat("alpaca");
        const CharTokenizer tok;
        const SftDataset d = buildSftDataset({instructionRow(1, "Add 3 and 4.", "7"), instructionRow(2, "Add 5 and 4.", "7")},
                                             DatasetKind::Instruction, *f, tok, SftDataOptions{});
        QCOMPARE(d.examples.size(), size_t(2));
        QVERIFY(d.examples[0].ids != d.examples[1].ids);
        QCOMPARE(d.examples[0].labels, d.examples[1].labels);
        // Only the response and EOS are labelled.
        std::vector<int64_t> expected(d.examples[0].ids.size(), I);
        expected[expected.size() - 2] = CharTokenizer::idOf('7');
        expected.back() = 2;
        QCOMPARE(d.examples[0].labels, expected);
        QCOMPARE(d.trainableTokens, int64_t(4));
    }

    void maskedLossIgnoresPrompt()
    {
        // The loss over masked labels equals a reference averaged over the response
        // positions only (known by hand: the output characters and EOS), whatever
        // labels the prompt positions carry.
        auto f = makePromptFormat("alpaca");
        const CharTokenizer tok;
        const std::string output = "Seven.";
        const SftDataset d = buildSftDataset({instructionRow(1, "Add 3 and 4.", output)}, DatasetKind::Instruction, *f,
                                             tok, SftDataOptions{});
        const std::vector<SftBatch> batches = evaluationBatches(d, 1);
        QCOMPARE(batches.size(), size_t(1));
        const SftBatch& b = batches[0];
        auto model = tinyModel();
        torch::NoGradGuard g;
        at::Tensor logits = model->forward(b.ids, b.attentionMask);  // (1, T, V)
        const double masked = causalLmLoss(logits, b.labels).item<double>();

        const int64_t t = b.ids.size(1), responseTokens = static_cast<int64_t>(output.size()) + 1;
        at::Tensor logProbs = at::log_softmax(logits[0].to(at::kDouble), -1);  // (T, V)
        double reference = 0;
        for (int64_t pos = t - responseTokens; pos < t; ++pos)
            reference -= logProbs[pos - 1][b.ids[0][pos].item<int64_t>()].item<double>();
        reference /= double(responseTokens);
        QVERIFY2(std::abs(masked - reference) < 1e-5, qPrintable(QString("%1 vs %2").arg(masked).arg(reference)));

        // Random labels on the prompt positions, then masked again: the same loss.
        auto gen = at::detail::createCPUGenerator(3);
        at::Tensor scrambled = b.labels.clone();
        scrambled.narrow(1, 0, t - responseTokens).copy_(at::randint(61, {1, t - responseTokens}, gen, at::kLong));
        const double unmasked = causalLmLoss(logits, scrambled).item<double>();
        QVERIFY(std::abs(unmasked - masked) > 1e-3);  // the prompt labels would matter...
        scrambled.narrow(1, 0, t - responseTokens).fill_(kIgnoreIndex);
        QCOMPARE(causalLmLoss(logits, scrambled).item<double>(), masked);  // ...were they not masked
    }

    void truncationCounts()
    {
        auto f = makePromptFormat("plain");
        const CharTokenizer tok;
        // plain: BOS, 3, instruction chars, '\n', output chars, EOS.
        std::vector<Row> rows = {instructionRow(1, "ab", "xy"),          // BOS 3 ab \n x y EOS = 7 tokens
                                 instructionRow(2, "q", "longer"),       // 1+1+1+1+6+1 = 11 -> cut to 8
                                 instructionRow(3, "a long prompt", "z")};  // prompt alone > 8 -> dropped
        SftDataOptions o;
        o.maxSeqLen = 8;
        const SftDataset d = buildSftDataset(rows, DatasetKind::Instruction, *f, tok, o);
        QCOMPARE(d.rows, int64_t(3));
        QCOMPARE(d.truncated, int64_t(1));
        QCOMPARE(d.dropped, int64_t(1));
        QCOMPARE(d.examples.size(), size_t(2));
        QCOMPARE(d.examples[0].rowId, int64_t(1));
        QCOMPARE(d.examples[0].ids, cat({{1, 3, 4}, charIds("\nxy"), {2}}));
        QCOMPARE(d.examples[1].rowId, int64_t(2));
        QCOMPARE(d.examples[1].ids, cat({{1, 3}, charIds("q\nlong")}));
        QCOMPARE(d.examples[1].labels, cat({{I, I, I, I}, charIds("long")}));
        QCOMPARE(d.tokens, int64_t(7 + 8));
        QCOMPARE(d.trainableTokens, int64_t(3 + 4));
        o.maxSeqLen = 1;
        QVERIFY(fttest::errorOf([&] { buildSftDataset(rows, DatasetKind::Instruction, *f, tok, o); })
                    .contains("max_seq_len must be at least 2"));
    }

    // ---- batching ----------------------------------------------------------

    void paddingAndEvaluationBatches()
    {
        auto f = makePromptFormat("plain");
        const SftDataset d = buildSftDataset({instructionRow(1, "q", "r"), instructionRow(2, "qq", "rrr"),
                                              instructionRow(3, "q", "rr")},
                                             DatasetKind::Instruction, *f, CharTokenizer(/*pad=*/-1), SftDataOptions{});
        QCOMPARE(d.padId, int64_t(0));  // no pad id: 0
        const std::vector<SftBatch> eval = evaluationBatches(d, 2);
        QCOMPARE(eval.size(), size_t(2));
        QVERIFY(!eval[0].epochEnded && eval[1].epochEnded);
        QVERIFY(!eval[0].segmentIds.defined());
        // Row order; T = the longest of the batch (9 tokens: BOS 3 qq \n rrr EOS).
        QCOMPARE(eval[0].ids.sizes(), (at::IntArrayRef{2, 9}));
        QCOMPARE(rowsOf(eval[0])[0], cat({{1, 3}, charIds("q\nr"), {2, 0, 0, 0}}));
        QCOMPARE(eval[0].labels[0][6].item<int64_t>(), I);  // padding is never a target
        QCOMPARE(eval[0].attentionMask[0].sum().item<int64_t>(), int64_t(6));
        QCOMPARE(eval[0].tokens, int64_t(2 + 4));
        QCOMPARE(eval[1].ids.sizes(), (at::IntArrayRef{1, 7}));
        QCOMPARE(eval[1].examples, int64_t(1));
    }

    void batcherEpochsAndResume_data()
    {
        QTest::addColumn<bool>("packing");
        QTest::newRow("unpacked") << false;
        QTest::newRow("packed") << true;
    }
    void batcherEpochsAndResume()
    {
        QFETCH(bool, packing);
        auto f = makePromptFormat("plain");
        SftDataOptions dataOptions;
        dataOptions.maxSeqLen = 48;
        const SftDataset d = buildSftDataset(variedRows(31), DatasetKind::Instruction, *f, CharTokenizer(), dataOptions);
        SftBatcherOptions o;
        o.batchSize = packing ? 2 : 4;
        o.packing = packing;
        o.seed = 5;
        SftBatcher reference(d, o);
        std::vector<SftBatch> all;
        std::vector<std::multiset<std::vector<int64_t>>> seenPerEpoch(3);
        for (int64_t epoch = 0; epoch < 3; ++epoch) {
            const int64_t n = reference.batchesInEpoch(epoch);
            for (int64_t i = 0; i < n; ++i) {
                all.push_back(reference.nextBatch());
                QCOMPARE(all.back().epoch, epoch);
                QCOMPARE(all.back().epochEnded, i == n - 1);
                if (packing) {
                    QCOMPARE(all.back().ids.size(1), int64_t(48));
                    QVERIFY(all.back().segmentIds.defined());
                }
                for (const auto& row : rowsOf(all.back()))
                    seenPerEpoch[epoch].insert(row);
            }
            QCOMPARE(reference.position(), (SftPosition{epoch + 1, 0}));
        }
        // Shuffled differently per epoch.
        QVERIFY(!sameBatch(all[0], all[reference.batchesInEpoch(0)]));

        // Save mid-epoch 1, restore in a fresh batcher: the rest is identical.
        SftBatcher first(d, o);
        QVERIFY(reference.batchesInEpoch(1) >= 3);
        const int64_t mid = reference.batchesInEpoch(1) / 2, stopAt = reference.batchesInEpoch(0) + mid;
        for (int64_t i = 0; i < stopAt; ++i)
            QVERIFY(sameBatch(first.nextBatch(), all[i]));
        const SftPosition saved = first.position();
        QCOMPARE(saved, (SftPosition{1, mid}));
        SftBatcher resumed(d, o);
        resumed.restore(saved);
        for (size_t i = stopAt; i < all.size(); ++i)
            QVERIFY2(sameBatch(resumed.nextBatch(), all[i]), qPrintable(QString("batch %1 differs").arg(i)));

        QVERIFY(fttest::errorOf([&] { resumed.restore({0, 99}); }).contains("beyond the epoch's"));
        if (!packing) {
            // Every example once per epoch.
            std::multiset<std::vector<int64_t>> expected;
            for (const SftBatch& b : evaluationBatches(d, 1))
                expected.insert(rowsOf(b)[0]);
            for (auto& seen : seenPerEpoch) {
                std::multiset<std::vector<int64_t>> trimmed;
                for (auto row : seen) {
                    while (!row.empty() && row.back() == 0)
                        row.pop_back();
                    trimmed.insert(row);
                }
                QVERIFY(trimmed == expected);
            }
        }
    }

    // Two ranks' shards (DistributedSampler semantics over the epoch's rows, packed or
    // not): batch k of rank 0 and of rank 1 together are batch k of one process with
    // twice the batch size; a 2-rank position resumed on one process reads the rest.
    void shardedBatcher_data()
    {
        QTest::addColumn<bool>("packing");
        QTest::newRow("unpacked") << false;
        QTest::newRow("packed") << true;
    }
    void shardedBatcher()
    {
        QFETCH(bool, packing);
        auto f = makePromptFormat("plain");
        SftDataOptions dataOptions;
        dataOptions.maxSeqLen = 48;
        const SftDataset d = buildSftDataset(variedRows(40), DatasetKind::Instruction, *f, CharTokenizer(), dataOptions);
        SftBatcherOptions o;
        o.batchSize = 2;
        o.packing = packing;
        o.seed = 9;
        SftBatcherOptions wide = o;
        wide.batchSize = 4;
        SftBatcher single(d, wide);
        o.shard = {0, 2};
        SftBatcher rank0(d, o);
        o.shard = {1, 2};
        SftBatcher rank1(d, o);
        QCOMPARE(rank0.batchesInEpoch(0), single.batchesInEpoch(0));
        const int64_t steps = single.batchesInEpoch(0) - 1;  // the last differs by padding only
        QVERIFY(steps >= 3);
        for (int64_t k = 0; k < steps; ++k) {
            std::multiset<std::vector<int64_t>> together, expected;
            for (SftBatcher* b : {&rank0, &rank1})
                for (const auto& row : realTokensOf(b->nextBatch()))
                    together.insert(row);
            for (const auto& row : realTokensOf(single.nextBatch()))
                expected.insert(row);
            QCOMPARE(together, expected);
        }
        // Resume rank 0's position on one process at the same global batch (4 rows).
        SftBatcher fresh(d, o);
        SftBatcher straight(d, wide);
        for (int64_t k = 0; k < 2; ++k) {
            straight.nextBatch();
            fresh.nextBatch();
        }
        const SftPosition saved = fresh.position();
        QCOMPARE(fresh.rowsConsumed(), int64_t(2 * 2 * 2));
        SftBatcher resumed(d, wide);
        resumed.restore({saved.epoch, 0, fresh.rowsConsumed()});
        while (true) {
            const SftBatch a = resumed.nextBatch(), b = straight.nextBatch();
            QVERIFY(sameBatch(a, b));
            if (a.epochEnded) {
                QVERIFY(b.epochEnded);
                break;
            }
        }
    }

    void packingMatchesUnpackedLoss()
    {
        auto f = makePromptFormat("plain");
        SftDataOptions dataOptions;
        dataOptions.maxSeqLen = 64;
        const SftDataset d = buildSftDataset(variedRows(9), DatasetKind::Instruction, *f, CharTokenizer(), dataOptions);
        auto model = tinyModel();
        double unpacked = 0;
        for (const SftBatch& b : evaluationBatches(d, 1))
            unpacked += summedLoss(model, b);

        SftBatcherOptions o;
        o.batchSize = 2;
        o.packing = true;
        o.seed = 1;
        SftBatcher batcher(d, o);
        double packed = 0, packedWithoutIsolation = 0;
        int64_t examples = 0, tokens = 0, rows = 0;
        bool shared = false;
        for (bool done = false; !done;) {
            const SftBatch b = batcher.nextBatch();
            done = b.epochEnded;
            packed += summedLoss(model, b);
            packedWithoutIsolation += summedLoss(model, b, /*useSegments=*/false);
            examples += b.examples;
            tokens += b.tokens;
            rows += b.ids.size(0);
            // Segment ids: 1, 2, .. per example along the row, 0 exactly on padding.
            QVERIFY((b.segmentIds == 0).equal(b.attentionMask == 0));
            shared = shared || b.segmentIds.max().item<int64_t>() >= 2;
        }
        QCOMPARE(examples, int64_t(9));
        QCOMPARE(tokens, d.trainableTokens);
        QVERIFY2(shared && rows < 9, "rows hold several examples");
        QVERIFY2(std::abs(packed - unpacked) < 1e-4 * unpacked,
                 qPrintable(QString("packed %1 vs unpacked %2").arg(packed, 0, 'g', 10).arg(unpacked, 0, 'g', 10)));
        // Without segment isolation the examples see each other: a different loss.
        QVERIFY(std::abs(packedWithoutIsolation - unpacked) > 1e-3 * unpacked);
    }

    void firstFitPacking()
    {
        // Lengths 5, 4, 3, 3 into rows of 8 in row order (no shuffle): [5,3], [4,3].
        SftDataset d;
        d.maxSeqLen = 8;
        for (int64_t len : {5, 4, 3, 3}) {
            std::vector<int64_t> ids(len, 7), labels(len, 7);
            labels[0] = I;
            d.examples.push_back({ids, labels, len});
        }
        SftBatcherOptions o;
        o.batchSize = 4;
        o.packing = true;
        o.shuffle = false;
        SftBatch b = SftBatcher(d, o).nextBatch();
        QCOMPARE(b.ids.sizes(), (at::IntArrayRef{2, 8}));
        QVERIFY(b.segmentIds.equal(at::tensor({1, 1, 1, 1, 1, 2, 2, 2, 1, 1, 1, 1, 2, 2, 2, 0}, at::kLong).view({2, 8})));
        QVERIFY(b.epochEnded);
        o.packedLength = 4;
        QVERIFY(fttest::errorOf([&] { SftBatcher(d, o); }).contains("more than the packed length 4"));
    }

    // ---- dataset sources ---------------------------------------------------

    void loadsFilesAndNamesBadLines()
    {
        const std::string good = writeFile(
            "a.jsonl", "{\"instruction\": \"Add 1 and 2.\", \"output\": \"3\"}\n"
                       "{\"instruction\": \"Add 2 and 2.\", \"output\": \"4\", \"split\": \"eval\"}\n"
                       "{\"instruction\": \"Add 3 and 2.\", \"output\": \"5\"}\n");
        SourceRows r = loadRows(good);
        QCOMPARE(r.kind, DatasetKind::Instruction);
        QCOMPARE(r.name, std::string("a.jsonl"));
        QCOMPARE(r.rows.size(), size_t(3));
        QCOMPARE(r.rows[1].id, int64_t(2));  // the line
        QCOMPARE(r.rows[1].split, ft::data::Split::Eval);
        requireSftKind(r);
        QCOMPARE(loadRows(good, "alpaca", 2).rows.size(), size_t(2));

        const std::string bad = writeFile("bad.jsonl", "{\"instruction\": \"x\", \"output\": \"y\"}\n"
                                                       "{\"instruction\": \"x\", \"output\": \n");
        const QString e = fttest::errorOf([&] { loadRows(bad); });
        QVERIFY2(e.contains(QString::fromStdString(bad + ":2:")), qPrintable(e));
        QVERIFY(fttest::errorOf([&] { loadRows(good, "yaml"); }).contains("unknown dataset layout 'yaml'"));
        QVERIFY(fttest::errorOf([&] { loadRows(good, "auto", 0); }).contains("max_rows must be at least 1"));
        QVERIFY(fttest::errorOf([&] { loadRows(m_dir.filePath("nothing.jsonl").toStdString()); })
                    .contains("nothing.jsonl' does not exist"));
    }

    void preferenceDatasetIsRefused()
    {
        const std::string db = m_dir.filePath("p.db").toStdString();
        {
            auto store = ft::data::ProjectStore::create(db);
            const int64_t prefs = store->createDataset("my-prefs", DatasetKind::Preference);
            Row r;
            r.fields = {{"prompt", "Add 1 and 2."}, {"chosen", "3"}, {"rejected", "4"}};
            store->insertRows(prefs, {r});
            const int64_t instr = store->createDataset("instr", DatasetKind::Instruction);
            store->insertRows(instr, {instructionRow(0, "Add 1 and 2.", "3")});
        }
        const SourceRows prefs = loadRows(db + "#my-prefs");
        QCOMPARE(prefs.kind, DatasetKind::Preference);
        const QString e = fttest::errorOf([&] { requireSftKind(prefs); });
        QVERIFY2(e.contains("dataset 'my-prefs'") && e.contains("holds preference rows") && e.contains("dpo") &&
                     e.contains("instruction, chat or text"),
                 qPrintable(e));
        const SourceRows instr = loadRows(db + "#instr");
        QCOMPARE(instr.rows.size(), size_t(1));
        requireSftKind(instr);

        const std::string file = writeFile("v.jsonl", "{\"prompt\": \"Add 1 and 2.\", \"answer\": \"3\"}\n");
        const QString v = fttest::errorOf([&] { requireSftKind(loadRows(file)); });
        QVERIFY2(v.contains("'v.jsonl'") && v.contains("verifiable") && v.contains("GRPO"), qPrintable(v));
    }

    void trainEvalSplit()
    {
        std::vector<Row> rows = variedRows(20);
        const TrainEvalRows a = splitTrainEval(rows, 0.2, 9), b = splitTrainEval(rows, 0.2, 9);
        QCOMPARE(a.eval.size(), size_t(4));
        QCOMPARE(a.train.size(), size_t(16));
        QVERIFY(a.eval == b.eval && a.train == b.train);
        QVERIFY(splitTrainEval(rows, 0.2, 10).eval != a.eval);
        for (size_t i = 1; i < a.eval.size(); ++i)
            QVERIFY(a.eval[i - 1].id < a.eval[i].id);  // input order kept
        QCOMPARE(splitTrainEval({rows[0], rows[1]}, 0.01, 1).eval.size(), size_t(1));  // at least one
        QCOMPARE(splitTrainEval({rows[0]}, 0.5, 1).eval.size(), size_t(0));             // never all
        QCOMPARE(splitTrainEval(rows, 0.0, 1).train.size(), size_t(20));
        // Marked eval rows win; test rows go nowhere.
        rows[3].split = ft::data::Split::Eval;
        rows[4].split = ft::data::Split::Test;
        const TrainEvalRows marked = splitTrainEval(rows, 0.5, 1);
        QCOMPARE(marked.eval.size(), size_t(1));
        QCOMPARE(marked.eval[0].id, rows[3].id);
        QCOMPARE(marked.train.size(), size_t(18));
        QVERIFY(fttest::errorOf([&] { splitTrainEval(rows, 1.0, 1); }).contains("eval fraction must be in [0, 1)"));
    }

    void sampleDatasetLoads()
    {
        const char* src = std::getenv("FTSTUDIO_SOURCE_DIR");
        QVERIFY2(src, "FTSTUDIO_SOURCE_DIR must point at the source tree (CTest sets it)");
        const SourceRows r = loadRows(std::string(src) + "/datasets/sft/instructions.jsonl");
        QCOMPARE(r.kind, DatasetKind::Instruction);
        const TrainEvalRows split = splitTrainEval(r.rows, 0.1, 0);
        QCOMPARE(split.train.size(), size_t(400));
        QCOMPARE(split.eval.size(), size_t(60));
        std::set<std::string> trainPrompts;
        for (const Row& row : split.train)
            trainPrompts.insert(row.fields.dump());
        for (const Row& row : split.eval)
            QVERIFY2(!trainPrompts.count(row.fields.dump()), "an eval row repeats a train row");
    }
};

FT_TEST_MAIN(TestSftData)

} // namespace test_sft_data

#include "test_sft_data.moc"
