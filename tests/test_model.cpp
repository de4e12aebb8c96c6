// Numerics of the Llama-family decoder: causality, KV-cache decoding, padding,
// GQA, rotary embeddings, sliding windows and gradients, each checked against an
// independent reference (a recomputation, an explicit construction, a closed
// form or finite differences).
#include "model/llama.h"
#include "model/rope.h"
#include "tensor_compare.h"
#include "tiny_models.h"
#include "train/lm_loss.h"

#include "test_main.h"

#include <QtTest>
#include <torch/torch.h>

#include <cmath>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_model {

using namespace ft::model;

namespace {

CausalLM makeModel(const ModelConfig& c, uint64_t seed = 7, c10::ScalarType dtype = at::kFloat)
{
    CausalLM m(c);
    m->initializeWeights(seed);
    // Larger than Hugging Face's 0.02 so attention patterns are far from uniform
    // and a bug in masking or caching shows in the logits.
    torch::NoGradGuard g;
    for (auto& p : m->parameters())
        if (p.dim() >= 2)
            p.mul_(10.0);
    m->to(dtype);
    m->eval();
    return m;
}

at::Tensor randomIds(int64_t b, int64_t t, int64_t vocab, uint64_t seed)
{
    auto gen = at::detail::createCPUGenerator(seed);
    return at::randint(vocab, {b, t}, gen, at::kLong);
}

} // namespace

class TestModel : public QObject {
    Q_OBJECT
private Q_SLOTS:
    // NEFTune's noise on the token embeddings: uniform in +-alpha / sqrt(T * C) in
    // training mode (the paper's formula, T the padded length), none in eval mode or at 0.
    void neftuneNoiseOnlyWhileTraining()
    {
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m = makeModel(c);
        const at::Tensor ids = at::randint(c.vocabSize, {3, 10}, at::kLong);
        const at::Tensor clean = m->model->embed_tokens->forward(ids).detach();
        m->neftuneNoiseAlpha = 5.0;
        m->train();
        at::manual_seed(1);
        const at::Tensor noise = (m->tokenEmbeddings(ids) - clean).detach();
        const double bound = 5.0 / std::sqrt(10.0 * double(c.hiddenSize));
        QVERIFY(noise.abs().max().item<double>() <= bound * (1 + 1e-5));
        QVERIFY(noise.abs().max().item<double>() > 0.9 * bound);  // 960 draws fill the range
        QVERIFY(std::abs(noise.mean().item<double>()) < 0.1 * bound);
        // Variance of U(-b, b) is b^2 / 3.
        QVERIFY(std::abs(noise.pow(2).mean().item<double>() / (bound * bound / 3) - 1) < 0.15);
        m->eval();
        QVERIFY(m->tokenEmbeddings(ids).equal(clean));
        m->train();
        m->neftuneNoiseAlpha = 0;
        QVERIFY(m->tokenEmbeddings(ids).equal(clean));
    }

    void initTestCase() { torch::manual_seed(0); }

    void parameterNamesFollowHuggingFace_data()
    {
        QTest::addColumn<int>("arch");
        for (Arch a : registeredArchs())
            QTest::newRow(archName(a)) << int(a);
    }
    void parameterNamesFollowHuggingFace()
    {
        QFETCH(int, arch);
        const ModelConfig c = fttest::tinyConfig(Arch(arch));
        CausalLM m(c);
        auto params = m->named_parameters();
        for (const char* name : {"model.embed_tokens.weight", "model.layers.1.self_attn.o_proj.weight",
                                 "model.layers.0.post_attention_layernorm.weight", "model.norm.weight"})
            QVERIFY2(params.contains(name), name);
        // A mixture of experts has the router and experts under the family's names where
        // the MLP would be (Qwen3-MoE's tiny config keeps layer 1 dense).
        const bool moe = c.hasExperts();
        const std::string block = std::string("model.layers.0.") + archTraits(c.arch).moeBlockName + ".";
        const std::string down = archTraits(c.arch).mixtralExpertNames ? "w2" : "down_proj";
        QCOMPARE(params.contains(block + "gate.weight"), moe);
        QCOMPARE(params.contains(block + "experts.3." + down + ".weight"), moe);
        QCOMPARE(params.contains("model.layers.0.mlp.down_proj.weight"), !moe);
        QCOMPARE(params.contains("model.layers.1.mlp.down_proj.weight"), !moe || !c.layerIsSparse(1));
        // Phi-3 keeps its checkpoints' fused projections; the others have one per role.
        const bool fused = archTraits(c.arch).fusedProjections;
        for (const char* name : {"model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                                 "model.layers.0.self_attn.v_proj.weight"})
            QVERIFY2(params.contains(name) == !fused, name);
        for (const char* name : {"model.layers.0.mlp.gate_proj.weight", "model.layers.0.mlp.up_proj.weight"})
            QVERIFY2(params.contains(name) == (!fused && !moe), name);
        for (const char* name : {"model.layers.0.self_attn.qkv_proj.weight", "model.layers.1.mlp.gate_up_proj.weight"})
            QVERIFY2(params.contains(name) == fused, name);
        if (fused) {
            QCOMPARE(params["model.layers.0.self_attn.qkv_proj.weight"].size(0),
                     (c.numAttentionHeads + 2 * c.numKeyValueHeads) * c.headDim);
            QCOMPARE(params["model.layers.1.mlp.gate_up_proj.weight"].size(0), 2 * c.intermediateSize);
        }
        // OLMo 2 normalizes after the sublayers only; Gemma has both and two more.
        QCOMPARE(params.contains("model.layers.0.input_layernorm.weight"), !archTraits(c.arch).olmo2Block);
        QCOMPARE(params.contains("model.layers.0.post_feedforward_layernorm.weight"),
                 archTraits(c.arch).olmo2Block || archTraits(c.arch).gemmaBlock);
        QCOMPARE(params.contains("lm_head.weight"), !c.tieWordEmbeddings);
        QCOMPARE(params.contains("model.layers.0.self_attn.q_proj.bias"), c.attentionBias && !fused);
        const bool qkNorm = archTraits(c.arch).qkNorm || archTraits(c.arch).olmo2Block || archTraits(c.arch).wholeQkNorm;
        QCOMPARE(params.contains("model.layers.1.self_attn.q_norm.weight"), qkNorm);
        QCOMPARE(params.contains("model.layers.1.self_attn.k_norm.weight"), qkNorm);
        int64_t total = 0;
        for (auto& p : m->parameters())
            total += p.numel();
        QCOMPARE(total, c.parameterCount());
        at::Tensor logits = m->forward(randomIds(2, 5, c.vocabSize, 1));
        QCOMPARE(logits.sizes().vec(), (std::vector<int64_t>{2, 5, c.vocabSize}));
        QVERIFY(logits.isfinite().all().item<bool>());
    }

    // OLMo 2's norm multiplies by its weight in fp32 and rounds once (Olmo2RMSNorm);
    // Llama's rounds the normalized values first. In bf16 the two differ, and the
    // flag picks OLMo 2's order.
    void olmo2NormRoundsOnce()
    {
        auto gen = at::detail::createCPUGenerator(5);
        const at::Tensor x = at::normal(0.0, 3.0, {4, 64}, gen).to(at::kBFloat16);
        const at::Tensor w = at::normal(1.0, 0.5, {64}, gen).to(at::kBFloat16);
        RMSNorm olmo(64, 1e-6), llama(64, 1e-6);
        olmo->scaleInFloat = true;
        torch::NoGradGuard noGrad;
        olmo->weight.set_data(w.clone());
        llama->weight.set_data(w.clone());
        const at::Tensor xf = x.to(at::kFloat);
        const at::Tensor normed = xf * at::rsqrt(xf.pow(2).mean(-1, true) + 1e-6);
        const at::Tensor once = (w.to(at::kFloat) * normed).to(at::kBFloat16);
        QVERIFY(at::equal(olmo->forward(x), once));
        QVERIFY(!at::equal(llama->forward(x), once));  // the order matters for these values
    }

    void causality()
    {
        // Changing a later token must leave every earlier position's logits unchanged.
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m = makeModel(c);
        at::Tensor ids = randomIds(2, 10, c.vocabSize, 2);
        at::Tensor changed = ids.clone();
        changed.index_put_({at::indexing::Slice(), 6}, (ids.select(1, 6) + 5) % c.vocabSize);
        torch::NoGradGuard g;
        at::Tensor a = m->forward(ids), b = m->forward(changed);
        FT_COMPARE_TENSORS(a.narrow(1, 0, 6), b.narrow(1, 0, 6), 1e-5);
        QVERIFY((a.narrow(1, 6, 4) - b.narrow(1, 6, 4)).abs().max().item<double>() > 1e-3);
    }

    void kvCacheDecodingEqualsRecomputation()
    {
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m = makeModel(c);
        at::Tensor ids = randomIds(2, 12, c.vocabSize, 3);
        torch::NoGradGuard g;
        at::Tensor full = m->forward(ids);  // (B, T, V)
        KVCache cache;
        std::vector<at::Tensor> pieces{m->forward(ids.narrow(1, 0, 5), {}, &cache)};
        pieces.push_back(m->forward(ids.narrow(1, 5, 3), {}, &cache));  // a chunk
        for (int64_t t = 8; t < 12; ++t)
            pieces.push_back(m->forward(ids.narrow(1, t, 1), {}, &cache));  // single tokens
        QCOMPARE(cache.length(), int64_t(12));
        FT_COMPARE_TENSORS(at::cat(pieces, 1), full, 1e-4);
    }

    void rightPaddingDoesNotChangeRealTokens()
    {
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m = makeModel(c);
        at::Tensor shortSeq = randomIds(1, 5, c.vocabSize, 4), longSeq = randomIds(1, 9, c.vocabSize, 5);
        at::Tensor batch = at::zeros({2, 9}, at::kLong);
        batch[0].narrow(0, 0, 5).copy_(shortSeq[0]);
        batch[1].copy_(longSeq[0]);
        at::Tensor mask = at::ones({2, 9}, at::kLong);
        mask[0].narrow(0, 5, 4).zero_();
        torch::NoGradGuard g;
        at::Tensor batched = m->forward(batch, mask);
        FT_COMPARE_TENSORS(batched[0].narrow(0, 0, 5), m->forward(shortSeq)[0], 1e-4);
        FT_COMPARE_TENSORS(batched[1], m->forward(longSeq)[0], 1e-4);
    }

    void leftPaddingWithCacheMatchesUnpadded()
    {
        // Left padding (as batched generation uses) must not shift positions.
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m = makeModel(c);
        at::Tensor seq = randomIds(1, 6, c.vocabSize, 6);
        at::Tensor padded = at::cat({at::zeros({1, 3}, at::kLong), seq}, 1);
        at::Tensor mask = at::cat({at::zeros({1, 3}, at::kLong), at::ones({1, 6}, at::kLong)}, 1);
        torch::NoGradGuard g;
        KVCache cache;
        at::Tensor a = m->forward(padded.narrow(1, 0, 7), mask.narrow(1, 0, 7), &cache);
        at::Tensor b = m->forward(padded.narrow(1, 7, 2), mask.narrow(1, 7, 2), &cache);
        at::Tensor reference = m->forward(seq);
        FT_COMPARE_TENSORS(at::cat({a.narrow(1, 3, 4), b}, 1), reference, 1e-4);
    }

    void gqaEqualsExplicitRepeat()
    {
        // A GQA model equals a full multi-head model whose k/v heads are explicit copies.
        ModelConfig gqa = fttest::tinyConfig();
        ModelConfig mha = gqa;
        mha.numKeyValueHeads = mha.numAttentionHeads;
        CausalLM a = makeModel(gqa, 11), b = makeModel(mha, 12);
        torch::NoGradGuard g;
        auto pa = a->named_parameters(), pb = b->named_parameters();
        const int64_t groups = gqa.kvGroups(), d = gqa.headDim;
        for (auto& item : pb) {
            const at::Tensor& src = pa[item.key()];
            if (item.key().find("k_proj.weight") != std::string::npos || item.key().find("v_proj.weight") != std::string::npos) {
                // rows of kv head k -> rows of heads k*groups .. k*groups+groups-1
                for (int64_t h = 0; h < mha.numAttentionHeads; ++h)
                    item.value().narrow(0, h * d, d).copy_(src.narrow(0, (h / groups) * d, d));
            } else {
                item.value().copy_(src);
            }
        }
        at::Tensor ids = randomIds(2, 7, gqa.vocabSize, 13);
        FT_COMPARE_TENSORS(a->forward(ids), b->forward(ids), 1e-4);
    }

    void ropeLlama3FrequenciesMatchReference()
    {
        // Reference written from the Llama 3.1 recipe, scalar by scalar, in double.
        ModelConfig c = fttest::tinyConfig();
        c.headDim = 64;
        c.ropeTheta = 500000.0;
        c.ropeScaling = {"llama3", 8.0, 1.0, 4.0, 8192};
        at::Tensor got = ropeInverseFrequencies(c);
        std::vector<double> expected;
        for (int64_t i = 0; i < 64; i += 2) {
            const double f = 1.0 / std::pow(500000.0, double(i) / 64.0);
            const double wavelen = 2 * M_PI / f;
            double out;
            if (wavelen < 8192.0 / 4.0)
                out = f;
            else if (wavelen > 8192.0 / 1.0)
                out = f / 8.0;
            else {
                const double smooth = (8192.0 / wavelen - 1.0) / (4.0 - 1.0);
                out = (1 - smooth) * f / 8.0 + smooth * f;
            }
            expected.push_back(out);
        }
        // the engine computes in fp32, as Hugging Face does: agreement to fp32 precision
        const std::string mismatch = fttest::compareTensors(got, at::tensor(expected), 0.0, 1e-6);
        QVERIFY2(mismatch.empty(), mismatch.c_str());
        c.ropeScaling = {"linear", 4.0};
        at::Tensor linear = ropeInverseFrequencies(c);
        c.ropeScaling = {};
        FT_COMPARE_TENSORS(linear * 4.0, ropeInverseFrequencies(c), 1e-12);
    }

    void ropeScoresDependOnRelativePosition()
    {
        // Closed form: <R(m) q, R(n) k> depends on m - n only.
        ModelConfig c = fttest::tinyConfig();
        at::Tensor inv = ropeInverseFrequencies(c);
        auto gen = at::detail::createCPUGenerator(3);
        at::Tensor q = at::randn({1, 1, 1, c.headDim}, gen), k = at::randn({1, 1, 1, c.headDim}, gen);
        auto score = [&](int64_t m, int64_t n) {
            RopeTables tm = ropeTables(at::full({1, 1}, m, at::kLong), inv, at::kFloat);
            RopeTables tn = ropeTables(at::full({1, 1}, n, at::kLong), inv, at::kFloat);
            return (applyRope(q, tm) * applyRope(k, tn)).sum().item<double>();
        };
        QVERIFY(std::abs(score(7, 3) - score(24, 20)) < 1e-4);
        QVERIFY(std::abs(score(0, 0) - (q * k).sum().item<double>()) < 1e-5);
        QVERIFY(std::abs(score(7, 3) - score(8, 3)) > 1e-4);
    }

    void slidingWindowHidesOldTokens()
    {
        ModelConfig c = fttest::tinyConfig(Arch::Mistral);
        c.numHiddenLayers = 1;  // one layer: the receptive field is exactly the window
        CausalLM m = makeModel(c);
        at::Tensor ids = randomIds(1, 10, c.vocabSize, 8);
        at::Tensor changed = ids.clone();
        changed[0][2] = (ids[0][2].item<int64_t>() + 1) % c.vocabSize;
        torch::NoGradGuard g;
        at::Tensor a = m->forward(ids), b = m->forward(changed);
        // window 4: position 6 sees 3..6, so token 2 is invisible from position 6 on
        FT_COMPARE_TENSORS(a.narrow(1, 6, 4), b.narrow(1, 6, 4), 1e-5);
        QVERIFY((a[0][5] - b[0][5]).abs().max().item<double>() > 1e-4);
        // ... and the cache path agrees with the full pass
        KVCache cache;
        std::vector<at::Tensor> steps;
        for (int64_t t = 0; t < 10; ++t)
            steps.push_back(m->forward(ids.narrow(1, t, 1), {}, &cache));
        FT_COMPARE_TENSORS(at::cat(steps, 1), a, 1e-4);
    }

    void gradientsMatchFiniteDifferences_data()
    {
        QTest::addColumn<QString>("parameter");
        for (const char* p : {"model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
                              "model.layers.0.self_attn.k_proj.weight", "model.layers.1.self_attn.v_proj.weight",
                              "model.layers.1.self_attn.o_proj.weight", "model.layers.0.mlp.gate_proj.weight",
                              "model.layers.1.mlp.down_proj.weight", "model.layers.0.input_layernorm.weight",
                              "model.norm.weight", "lm_head.weight"})
            QTest::newRow(p) << QString(p);
    }
    void gradientsMatchFiniteDifferences()
    {
        QFETCH(QString, parameter);
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m = makeModel(c, 21, at::kDouble);
        at::Tensor ids = randomIds(2, 6, c.vocabSize, 22);
        at::Tensor labels = ids.clone();
        labels[0][3] = ft::train::kIgnoreIndex;  // ignored labels must not contribute
        at::Tensor param = m->named_parameters()[parameter.toStdString()];
        m->zero_grad();
        ft::train::causalLmLoss(m->forward(ids), labels).backward();
        at::Tensor analytic = param.grad().clone();
        torch::NoGradGuard g;
        auto gen = at::detail::createCPUGenerator(23);
        at::Tensor flat = param.view({-1});
        double worst = 0;
        for (int trial = 0; trial < 6; ++trial) {
            const int64_t i = at::randint(flat.numel(), {1}, gen, at::kLong).item<int64_t>();
            const double saved = flat[i].item<double>(), eps = 1e-6;
            flat[i] = saved + eps;
            const double up = ft::train::causalLmLoss(m->forward(ids), labels).item<double>();
            flat[i] = saved - eps;
            const double down = ft::train::causalLmLoss(m->forward(ids), labels).item<double>();
            flat[i] = saved;
            const double numeric = (up - down) / (2 * eps);
            const double a = analytic.view({-1})[i].item<double>();
            worst = std::max(worst, std::abs(a - numeric) / std::max(1e-6, std::abs(a) + std::abs(numeric)));
        }
        QVERIFY2(worst < 1e-5, qPrintable(QString("worst relative error %1").arg(worst)));
    }

    void lossIgnoresMaskedLabels()
    {
        // Closed form: uniform logits give loss ln(V) on every counted position.
        at::Tensor logits = at::zeros({1, 4, 10});
        at::Tensor labels = at::tensor(std::vector<int64_t>{1, 2, ft::train::kIgnoreIndex, 3}).view({1, 4});
        QVERIFY(std::abs(ft::train::causalLmLoss(logits, labels).item<double>() - std::log(10.0)) < 1e-6);
    }
};

FT_TEST_MAIN(TestModel)

} // namespace test_model

#include "test_model.moc"
