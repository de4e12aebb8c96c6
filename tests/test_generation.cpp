// Sampling and generation: each sampling filter against its definition, seeded
// determinism, sampled frequencies against the distribution, and the generation
// loop's stopping rules and streaming (pieces add up to the final text).
#include "model/generator.h"
#include "model/sampler.h"
#include "tiny_models.h"
#include "util/error.h"

#include "test_main.h"

#include <QtTest>
#include <torch/torch.h>

#include <cmath>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_generation {

using namespace ft::model;

namespace {

// Byte-level tokenizer: id = byte + 3; 0 unk, 1 BOS, 2 EOS. Independent of
// sentencepiece, so generation is tested on its own.
class ByteTokenizer : public ft::tok::Tokenizer {
public:
    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override
    {
        std::vector<int> ids;
        if (addBos)
            ids.push_back(1);
        for (unsigned char c : text)
            ids.push_back(c + 3);
        if (addEos)
            ids.push_back(2);
        return ids;
    }
    std::string decode(const std::vector<int>& ids, bool) const override
    {
        std::string s;
        for (int id : ids)
            if (id >= 3)
                s += static_cast<char>(id - 3);
        return s;
    }
    int vocabSize() const override { return 259; }
    int bosId() const override { return 1; }
    int eosId() const override { return 2; }
    int padId() const override { return -1; }
    int unkId() const override { return 0; }
    std::string idToPiece(int id) const override { return std::to_string(id); }
    std::optional<int> pieceToId(std::string_view) const override { return std::nullopt; }
};

CausalLM byteModel()
{
    ModelConfig c = fttest::tinyConfig();
    c.vocabSize = 259;
    CausalLM m(c);
    m->initializeWeights(5);
    torch::NoGradGuard g;
    for (auto& p : m->parameters())
        if (p.dim() >= 2)
            p.mul_(20.0);  // peaky, so greedy text is not one repeated byte
    m->eval();
    return m;
}

at::Tensor logits(std::vector<float> v) { return at::tensor(v); }

} // namespace

class TestGeneration : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void greedyIsArgmax()
    {
        Sampler s({});
        QCOMPARE(s.next(logits({0.1f, 2.0f, -1.0f, 1.9f}), {}), int64_t(1));
    }

    void topKKeepsKMostLikely()
    {
        SamplingOptions o;
        o.temperature = 1.0;
        o.topK = 2;
        at::Tensor p = Sampler(o).distribution(logits({1.0f, 3.0f, 2.0f, 0.0f}), {});
        QCOMPARE(p[0].item<float>(), 0.0f);
        QCOMPARE(p[3].item<float>(), 0.0f);
        const double e = std::exp(1.0);  // softmax over {3, 2}
        QVERIFY(std::abs(p[1].item<double>() - e / (e + 1)) < 1e-6);
    }

    void topPKeepsSmallestSetReachingP()
    {
        SamplingOptions o;
        o.temperature = 1.0;
        o.topP = 0.7;
        // probabilities 0.5, 0.3, 0.15, 0.05: {0.5, 0.3} is the smallest set reaching 0.7
        at::Tensor l = at::tensor(std::vector<float>{0.5f, 0.3f, 0.15f, 0.05f}).log();
        at::Tensor p = Sampler(o).distribution(l, {});
        QVERIFY(std::abs(p[0].item<double>() - 0.5 / 0.8) < 1e-6);
        QVERIFY(std::abs(p[1].item<double>() - 0.3 / 0.8) < 1e-6);
        QCOMPARE(p[2].item<float>(), 0.0f);
        QCOMPARE(p[3].item<float>(), 0.0f);
    }

    void repetitionPenaltyFollowsCtrl()
    {
        SamplingOptions o;
        o.temperature = 1.0;
        o.repetitionPenalty = 2.0;
        at::Tensor p = Sampler(o).distribution(logits({2.0f, -1.0f, 0.5f}), {0, 1, 0});
        // seen tokens: positive logits divided, negative multiplied -> {1.0, -2.0, 0.5}
        at::Tensor expected = logits({1.0f, -2.0f, 0.5f}).softmax(-1);
        QVERIFY((p - expected).abs().max().item<double>() < 1e-6);
    }

    void samplingIsSeededAndFollowsTheDistribution()
    {
        SamplingOptions o;
        o.temperature = 1.0;
        o.seed = 42;
        at::Tensor l = at::tensor(std::vector<float>{0.1f, 0.2f, 0.3f, 0.4f}).log();
        Sampler a(o), b(o);
        std::vector<int> counts(4, 0);
        const int draws = 20000;
        for (int i = 0; i < draws; ++i) {
            const int64_t x = a.next(l, {});
            QCOMPARE(b.next(l, {}), x);
            ++counts[x];
        }
        for (int k = 0; k < 4; ++k) {
            const double expected = 0.1 * (k + 1), got = double(counts[k]) / draws;
            const double sigma = std::sqrt(expected * (1 - expected) / draws);
            QVERIFY2(std::abs(got - expected) < 5 * sigma, qPrintable(QString("token %1: %2 vs %3").arg(k).arg(got).arg(expected)));
        }
    }

    void invalidOptionsAreRejected()
    {
        for (auto bad : {SamplingOptions{-1.0, 0, 1.0, 1.0, 0}, SamplingOptions{1.0, -1, 1.0, 1.0, 0},
                         SamplingOptions{1.0, 0, 0.0, 1.0, 0}, SamplingOptions{1.0, 0, 1.0, 0.0, 0}}) {
            bool threw = false;
            try {
                Sampler s(bad);
            } catch (const ft::Error&) {
                threw = true;
            }
            QVERIFY(threw);
        }
    }

    void streamingAddsUpAndStopsAtLimit()
    {
        CausalLM m = byteModel();
        ByteTokenizer tok;
        GenerationOptions o;
        o.maxNewTokens = 20;
        std::string streamed;
        auto r = generateText(m, tok, {1, {2}}, {1, 'a' + 3, 'b' + 3}, o, [&](const std::string& s) {
            streamed += s;
            return true;
        });
        QCOMPARE(r.stopReason, std::string("max_tokens"));
        QCOMPARE(r.outputIds.size(), size_t(20));
        QCOMPARE(streamed, r.text);
        // greedy is deterministic
        auto again = generateText(m, tok, {1, {2}}, {1, 'a' + 3, 'b' + 3}, o);
        QCOMPARE(again.outputIds, r.outputIds);
    }

    void stopsAtStopStringAndEos()
    {
        CausalLM m = byteModel();
        ByteTokenizer tok;
        GenerationOptions o;
        o.maxNewTokens = 24;
        const std::vector<int64_t> prompt{1, 'h' + 3, 'i' + 3};
        const GenerationResult free = generateText(m, tok, {1, {2}}, prompt, o);
        QVERIFY(free.text.size() >= 12);

        // a stop string taken from the middle of the free-running text
        const std::string stop = free.text.substr(6, 3);
        o.stopStrings = {stop};
        std::string streamed;
        auto r = generateText(m, tok, {1, {2}}, prompt, o, [&](const std::string& s) {
            streamed += s;
            return true;
        });
        QCOMPARE(r.stopReason, std::string("stop_string"));
        QCOMPARE(r.text, free.text.substr(0, free.text.find(stop)));
        QCOMPARE(streamed, r.text);  // the stop string itself never streams

        // EOS: declare the 5th generated id to be end-of-sequence
        o.stopStrings.clear();
        const int64_t eos = free.outputIds[4];
        auto e = generateText(m, tok, {1, {eos}}, prompt, o);
        QCOMPARE(e.stopReason, std::string("eos"));
        const auto firstEos = std::find(free.outputIds.begin(), free.outputIds.end(), eos) - free.outputIds.begin();
        QCOMPARE(int64_t(e.outputIds.size()), int64_t(firstEos + 1));
        o.stopAtEos = false;
        QCOMPARE(generateText(m, tok, {1, {eos}}, prompt, o).stopReason, std::string("max_tokens"));
    }

    void callbackCanCancel()
    {
        CausalLM m = byteModel();
        ByteTokenizer tok;
        GenerationOptions o;
        o.maxNewTokens = 30;
        int calls = 0;
        auto r = generateText(m, tok, {1, {2}}, {1, 'x' + 3}, o, [&](const std::string&) { return ++calls < 3; });
        QCOMPARE(r.stopReason, std::string("cancelled"));
        QVERIFY(r.outputIds.size() < 30);
    }

    void outOfVocabularyPromptIsAnError()
    {
        CausalLM m = byteModel();
        Sampler s({});
        bool threw = false;
        try {
            generateIds(m, {1, 999}, 3, s, {});
        } catch (const ft::Error& e) {
            threw = std::string(e.what()).find("999") != std::string::npos;
        }
        QVERIFY(threw);
    }
};

FT_TEST_MAIN(TestGeneration)

} // namespace test_generation

#include "test_generation.moc"
