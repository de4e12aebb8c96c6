// Batched rollouts against the single-sequence generator: greedy rows equal
// model::generateIds (left padding, EOS, virtual-token adapters), sampled log-probs
// equal the teacher-forced ones, seeded rows are reproducible and independent of the
// rest of the batch, the teacher-forced log-probs carry gradient; plus the bench.
#include "align/reference_policy.h"
#include "align/rollout.h"
#include "model/generator.h"
#include "model/model_io.h"
#include "model/sampler.h"
#include "peft/registry.h"
#include "small_base.h"
#include "tensor_compare.h"
#include "test_support.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <torch/types.h>

#include <cmath>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_rollout {

using namespace ft;
using ft::align::RolloutOptions;
using ft::align::Rollouts;

namespace {

model::CausalLM loadBase()
{
    model::CausalLM m = model::loadModelFolder(fttest::smallBaseModel()).model;
    m->eval();
    return m;
}

// Three lengths, so rows are left-padded by different amounts.
const std::vector<std::vector<int64_t>> kPrompts{{1, 45, 200, 17, 88, 301, 12}, {2}, {120, 77, 5}};

std::vector<int64_t> greedyIds(model::CausalLM& m, const std::vector<int64_t>& prompt, int64_t maxNew,
                               const std::vector<int64_t>& eos)
{
    model::Sampler greedy({});
    return model::generateIds(m, prompt, maxNew, greedy, eos);
}

// An EOS that some prompt's greedy text reaches after its first token and another
// prompt's never does, so both stop reasons occur; -1 when there is none.
int64_t separatingEos(model::CausalLM& m, int64_t maxNew)
{
    std::vector<std::vector<int64_t>> free;
    for (const auto& prompt : kPrompts)
        free.push_back(greedyIds(m, prompt, maxNew, {}));
    for (const auto& ends : free)
        for (size_t i = 1; i < ends.size(); ++i)
            for (const auto& runs : free)
                if (std::find(runs.begin(), runs.end(), ends[i]) == runs.end())
                    return ends[i];
    return -1;
}

// A token the model really produces greedily after kPrompts[1], so EOS stops happen.
int64_t producedToken(model::CausalLM& m) { return greedyIds(m, kPrompts[1], 8, {})[2]; }

// Every row of `r` against its own greedy generateIds run, and the layout of the row.
void checkGreedyRows(model::CausalLM& m, const Rollouts& r, const std::vector<std::vector<int64_t>>& prompts,
                     const RolloutOptions& o)
{
    const int64_t g = o.samplesPerPrompt, n = static_cast<int64_t>(prompts.size()) * g, p = r.promptLength;
    QCOMPARE(r.sequences.size(0), n);
    QCOMPARE(int64_t(r.completions.size()), n);
    at::Tensor seq = r.sequences.cpu(), mask = r.attentionMask.cpu();
    for (int64_t row = 0; row < n; ++row) {
        const auto& prompt = prompts[row / g];
        const std::vector<int64_t> ref = greedyIds(m, prompt, o.maxNewTokens, o.eosIds);
        QCOMPARE(r.completions[row], ref);
        const bool endedAtEos = std::find(o.eosIds.begin(), o.eosIds.end(), ref.back()) != o.eosIds.end();
        QCOMPARE(QString::fromStdString(r.stopReasons[row]), QString(endedAtEos ? "eos" : "max_tokens"));
        // [pad ... pad, prompt, completion, pad ...]
        const int64_t start = p - int64_t(prompt.size()), width = seq.size(1);
        for (int64_t t = 0; t < width; ++t) {
            const int64_t c = t - p;
            const bool real = t >= start && (c < 0 || c < int64_t(ref.size()));
            const int64_t expected = !real ? o.padId : c < 0 ? prompt[t - start] : ref[c];
            QCOMPARE(seq[row][t].item<int64_t>(), expected);
            QCOMPARE(mask[row][t].item<int64_t>(), int64_t(real));
        }
    }
}

} // namespace

class TestRollout : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { fttest::smallBaseModel(); }

    void greedyRowsEqualGenerateIds()
    {
        model::CausalLM m = loadBase();
        RolloutOptions o;
        o.samplesPerPrompt = 2;
        o.maxNewTokens = 10;
        o.temperature = 0.0;
        o.eosIds = {separatingEos(m, o.maxNewTokens)};
        QVERIFY2(o.eosIds[0] >= 0, "some prompt's greedy text has a token another's lacks (else pick other prompts)");
        o.padId = 3;
        m->train();
        const Rollouts r = align::generateRollouts(m, kPrompts, o);
        QVERIFY2(m->is_training(), "the train/eval mode is restored");
        m->eval();
        QCOMPARE(r.promptLength, int64_t(7));  // rows 2 and 3 padded by 6, rows 4 and 5 by 4
        checkGreedyRows(m, r, kPrompts, o);
        int eosRows = 0;
        for (const auto& reason : r.stopReasons)
            eosRows += reason == "eos";
        QVERIFY2(eosRows >= 2 && eosRows <= 4, "rows stop at EOS and rows stop at the token limit");
        QCOMPARE(r.completionMask.sum().item<int64_t>(), r.generatedTokens);
        QCOMPARE(r.sequences.size(1), r.promptLength + r.completionMask.size(1));
        // Greedy log-probs are the plain log-softmax: not above 0, and 0 where masked.
        QVERIFY(r.logprobs.max().item<double>() <= 0.0);
        QVERIFY(r.logprobs.masked_select(r.completionMask == 0).abs().sum().item<double>() == 0.0);
        qInfo("greedy: %lld rows, %lld tokens (%d rows ended at EOS), %.3f s", (long long)r.sequences.size(0),
              (long long)r.generatedTokens, eosRows, r.seconds);
    }

    void logprobsEqualTeacherForced_data()
    {
        QTest::addColumn<double>("temperature");
        QTest::addColumn<int>("topK");
        QTest::addColumn<double>("topP");
        QTest::newRow("greedy") << 0.0 << 0 << 1.0;
        QTest::newRow("t1") << 1.0 << 0 << 1.0;
        QTest::newRow("t0.7-topk-topp") << 0.7 << 40 << 0.9;
    }
    void logprobsEqualTeacherForced()
    {
        QFETCH(double, temperature);
        QFETCH(int, topK);
        QFETCH(double, topP);
        model::CausalLM m = loadBase();
        RolloutOptions o;
        o.samplesPerPrompt = 3;
        o.maxNewTokens = 12;
        o.temperature = temperature;
        o.topK = topK;
        o.topP = topP;
        o.seed = 5;
        o.eosIds = {producedToken(m)};
        const Rollouts r = align::generateRollouts(m, kPrompts, o);
        torch::NoGradGuard noGrad;
        at::Tensor entropy;
        // Greedy log-probs are untempered: compare at temperature 1.
        at::Tensor ref = align::completionLogprobs(m, r, temperature > 0 ? temperature : 1.0, &entropy);
        QCOMPARE(ref.sizes(), r.logprobs.sizes());
        FT_COMPARE_TENSORS(r.logprobs, ref, 1e-4);
        // The reference, independent of the batched, padded path both of those take: each
        // row alone (its prompt without the padding, then its completion) through one plain
        // forward; log_softmax of the logits / temperature in fp64, gathered at the
        // completion's tokens (position t predicts token t + 1).
        const double t = temperature > 0 ? temperature : 1.0;
        at::Tensor independent = at::zeros(r.logprobs.sizes(), at::kDouble);  // (N, L)
        for (int64_t row = 0; row < r.sequences.size(0); ++row) {
            const at::Tensor real = r.attentionMask[row].narrow(0, 0, r.promptLength).nonzero().squeeze(1);
            const at::Tensor prompt = r.sequences[row].index_select(0, real);  // (P')
            const auto& completion = r.completions[size_t(row)];
            const auto length = int64_t(completion.size());
            if (length == 0)
                continue;
            const at::Tensor tokens = at::tensor(completion, at::kLong);                          // (L')
            const at::Tensor logits = m->forward(at::cat({prompt, tokens}).unsqueeze(0)).squeeze(0);  // (P' + L', V)
            const at::Tensor logp = (logits.narrow(0, prompt.size(0) - 1, length).to(at::kDouble) / t).log_softmax(-1);
            independent[row].narrow(0, 0, length).copy_(logp.gather(1, tokens.unsqueeze(1)).squeeze(1));
        }
        // Measured: at most 1.4e-6 apart (fp32 logits, batched and padded against single rows).
        FT_COMPARE_TENSORS(r.logprobs, independent, 1e-5);  // the rollout's own log-probs
        FT_COMPARE_TENSORS(ref, independent, 1e-5);         // the teacher-forced ones training uses
        at::Tensor masked = r.completionMask == 0;
        QVERIFY(ref.masked_select(masked).abs().sum().item<double>() == 0.0);
        QVERIFY(entropy.masked_select(masked).abs().sum().item<double>() == 0.0);
        QVERIFY(entropy.masked_select(~masked).min().item<double>() > 0.0);
        // The masks agree with the completions.
        for (size_t row = 0; row < r.completions.size(); ++row)
            QCOMPARE(r.completionMask[row].sum().item<int64_t>(), int64_t(r.completions[row].size()));
        FT_COMPARE_TENSORS(r.attentionMask.narrow(1, r.promptLength, r.completionMask.size(1)), r.completionMask, 0.0);
        qInfo("T=%.1f: max |rollout - teacher-forced| = %.2e, |teacher-forced - single-row reference| = %.2e over %lld tokens",
              temperature, (r.logprobs - ref).abs().max().item<double>(),
              (ref.to(at::kDouble) - independent).abs().max().item<double>(), (long long)r.generatedTokens);
    }

    void seededSamplingIsReproducibleAndPerRow()
    {
        model::CausalLM m = loadBase();
        RolloutOptions o;
        o.samplesPerPrompt = 2;
        o.maxNewTokens = 12;
        o.topP = 0.95;
        o.seed = 7;
        const Rollouts a = align::generateRollouts(m, kPrompts, o);
        const Rollouts b = align::generateRollouts(m, kPrompts, o);
        QVERIFY(at::equal(a.sequences, b.sequences));
        QCOMPARE(a.completions, b.completions);
        QVERIFY2(a.completions[0] != a.completions[1], "the G samples of one prompt differ");

        RolloutOptions other = o;
        other.seed = 8;
        const Rollouts c = align::generateRollouts(m, kPrompts, other);
        QVERIFY2(!at::equal(a.sequences, c.sequences), "another seed gives other samples");

        // A longer prompt added at the end: more padding for everyone, new rows 6 and 7,
        // rows 0..5 unchanged (their draws depend on (seed, row) only).
        auto more = kPrompts;
        more.push_back({1, 33, 61, 250, 8, 19, 402, 77, 140, 6});
        const Rollouts d = align::generateRollouts(m, more, o);
        QCOMPARE(d.promptLength, int64_t(10));
        for (size_t row = 0; row < a.completions.size(); ++row)
            QCOMPARE(d.completions[row], a.completions[row]);
    }

    void samplesFollowTheDistribution_data()
    {
        QTest::addColumn<int>("topK");
        QTest::newRow("full") << 0;
        QTest::newRow("top3") << 3;
    }
    void samplesFollowTheDistribution()
    {
        QFETCH(int, topK);
        model::CausalLM m = loadBase();
        RolloutOptions o;
        o.samplesPerPrompt = 4000;
        o.maxNewTokens = 1;
        o.temperature = 1.3;  // flatter, so several tokens have mass
        o.topK = topK;
        o.seed = 11;
        const std::vector<int64_t> prompt{45, 200, 17};
        const Rollouts r = align::generateRollouts(m, {prompt}, o);
        at::Tensor first = r.sequences.select(1, r.promptLength).cpu();  // (N,) the sampled tokens
        at::Tensor freq = at::bincount(first, {}, m->config().vocabSize).to(at::kDouble) / double(o.samplesPerPrompt);
        torch::NoGradGuard noGrad;
        at::Tensor logits = m->forward(at::tensor(prompt, at::kLong).view({1, -1}))[0][-1].to(at::kDouble);  // (V,)
        logits = logits / o.temperature;
        if (topK > 0) {
            const double kth = std::get<0>(logits.topk(topK)).min().item<double>();
            logits = logits.masked_fill(logits < kth, -INFINITY);
        }
        at::Tensor p = logits.softmax(-1);  // (V,)
        QVERIFY2(freq.masked_select(p == 0).sum().item<double>() == 0.0, "no sample outside the kept tokens");
        // Within four standard errors on every token.
        at::Tensor z = (freq - p).abs() / (p * (1 - p) / double(o.samplesPerPrompt)).sqrt().clamp_min(1e-3);
        const double worst = z.max().item<double>();
        qInfo("top_k %d: largest deviation %.2f standard errors; most likely token p %.3f, sampled %.3f", topK, worst,
              p.max().item<double>(), freq[p.argmax()].item<double>());
        QVERIFY2(worst < 4.5, qPrintable(QString("a token's frequency is %1 standard errors off").arg(worst)));
    }

    void teacherForcedLogprobsHaveGradient()
    {
        model::CausalLM m = loadBase();
        RolloutOptions o;
        o.samplesPerPrompt = 2;
        o.maxNewTokens = 8;
        o.seed = 2;
        const Rollouts r = align::generateRollouts(m, kPrompts, o);
        QVERIFY(!r.logprobs.requires_grad());
        at::Tensor entropy;
        at::Tensor lp = align::completionLogprobs(m, r, 0.7, &entropy);
        QVERIFY(lp.requires_grad());
        const at::Tensor mask = r.completionMask.to(at::kFloat);
        ((lp * mask).sum() / mask.sum() + 0.01 * (entropy * mask).sum()).backward();
        int64_t withGrad = 0, total = 0;
        for (const auto& p : m->named_parameters()) {
            ++total;
            const at::Tensor g = p.value().grad();
            QVERIFY2(g.defined(), p.key().c_str());
            QVERIFY2(at::isfinite(g).all().item<bool>(), p.key().c_str());
            withGrad += g.abs().sum().item<double>() > 0.0;
        }
        QVERIFY2(withGrad == total, qPrintable(QString("%1 of %2 parameters got a gradient").arg(withGrad).arg(total)));
    }

    // The KL reference of PPO/GRPO (align/reference_policy.h). Full fine-tuning has no
    // adapter to disable: the reference keeps the weights as they were when it was
    // built, gives their log-probs after the policy moved, and leaves the moved
    // weights in place. With LoRA it is the base with the adapter off, and holds no copy.
    void referencePolicyKeepsTheStartingWeights_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::newRow("full") << "full";
        QTest::newRow("freeze") << "freeze";
        QTest::newRow("lora") << "lora";
    }
    void referencePolicyKeepsTheStartingWeights()
    {
        QFETCH(QString, technique);
        model::CausalLM m = loadBase();
        peft::PeftSettings s;
        s.technique = technique.toStdString();
        s.trainableLayers = 1;
        auto adapter = peft::applyTechnique(m, s);
        RolloutOptions o;
        o.samplesPerPrompt = 2;
        o.maxNewTokens = 6;
        o.seed = 3;
        const Rollouts r = align::generateRollouts(m, kPrompts, o);
        auto logprobs = [&] {
            torch::NoGradGuard noGrad;
            return align::completionLogprobs(m, r, 1.0);
        };
        const at::Tensor start = logprobs();
        align::ReferencePolicy reference(m, adapter.get(), adapter->savesFullModel());
        QCOMPARE(reference.copyBytes() > 0, adapter->savesFullModel());
        {
            torch::NoGradGuard noGrad;
            uint64_t seed = 50;
            for (auto& [name, t] : adapter->trainableParameters())
                t.add_(0.05 * at::normal(0.0, 1.0, t.sizes(), at::detail::createCPUGenerator(seed++)));
        }
        const at::Tensor moved = logprobs();
        QVERIFY((moved - start).abs().max().item<double>() > 1e-3);  // the policy did move
        FT_COMPARE_TENSORS(reference.completionLogprobs(r, 1.0), start, technique == "lora" ? 1e-5 : 0.0);
        FT_COMPARE_TENSORS(logprobs(), moved, 0.0);  // the trained weights are back
    }

    void virtualTokensEqualGenerateIds_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::newRow("prompt") << "prompt";
        QTest::newRow("prefix") << "prefix";
    }
    void virtualTokensEqualGenerateIds()
    {
        QFETCH(QString, technique);
        model::CausalLM m = loadBase();
        RolloutOptions o;
        o.samplesPerPrompt = 2;
        o.maxNewTokens = 10;
        o.temperature = 0.0;
        const std::vector<int64_t> base = greedyIds(m, kPrompts[0], o.maxNewTokens, {});
        peft::PeftSettings s;
        s.technique = technique.toStdString();
        s.numVirtualTokens = 4;
        s.seed = 3;
        auto adapter = peft::applyTechnique(m, s);
        {
            torch::NoGradGuard noGrad;  // larger virtual tokens, so the adapter surely changes the text
            for (auto& [_, t] : adapter->trainableParameters())
                t.mul_(4.0);
        }
        m->eval();
        QVERIFY2(greedyIds(m, kPrompts[0], o.maxNewTokens, {}) != base, "the adapter changes the output");
        o.eosIds = {producedToken(m)};
        const Rollouts r = align::generateRollouts(m, kPrompts, o);
        checkGreedyRows(m, r, kPrompts, o);
        torch::NoGradGuard noGrad;
        FT_COMPARE_TENSORS(r.logprobs, align::completionLogprobs(m, r), 1e-4);
    }

    void badInputIsAnError()
    {
        model::CausalLM m = loadBase();
        RolloutOptions o;
        QString err = fttest::errorOf([&] { align::generateRollouts(m, {{1, 2}, {}}, o); });
        QVERIFY2(err.contains("prompt 1 is empty"), qPrintable(err));
        err = fttest::errorOf([&] { align::generateRollouts(m, {}, o); });
        QVERIFY2(err.contains("prompt list is empty"), qPrintable(err));
        err = fttest::errorOf([&] { align::generateRollouts(m, {{1, 9999}}, o); });
        QVERIFY2(err.contains("9999") && err.contains("vocabulary"), qPrintable(err));
        o.samplesPerPrompt = 0;
        err = fttest::errorOf([&] { align::generateRollouts(m, {{1}}, o); });
        QVERIFY2(err.contains("samples per prompt"), qPrintable(err));
        o.samplesPerPrompt = 1;
        o.topP = 0.0;
        err = fttest::errorOf([&] { align::generateRollouts(m, {{1}}, o); });
        QVERIFY2(err.contains("top_p"), qPrintable(err));
    }

    void benchPrintsThroughput()
    {
        model::CausalLM m = loadBase();
        const align::RolloutBenchResult b = align::benchRollouts(m, 4, 4, 16, 16, 1);
        QCOMPARE(b.rows, int64_t(16));
        QCOMPARE(b.tokens, int64_t(16 * 16));
        qInfo("rollout bench (16 rows, 16 new tokens): batched %.0f tok/s (%.3f s), one row at a time %.0f tok/s "
              "(%.3f s), speedup %.1fx",
              b.batchedTokensPerSecond, b.batchedSeconds, b.sequentialTokensPerSecond, b.sequentialSeconds, b.speedup);
    }
};

FT_TEST_MAIN(TestRollout)

} // namespace test_rollout

#include "test_rollout.moc"
