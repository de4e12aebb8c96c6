// The mixture-of-experts block (core/model/moe_block.h) against references written
// here without its grouping: every expert's MLP computed from its weights on every
// token and weighted by a top-k mask chosen by sorting in double precision (outputs
// and gradients); experts that receive no token are never run (NaN weights in an
// unrouted expert leave the output finite, which a dense loop over all experts would
// not); transformers' load-balancing loss recomputed with plain loops; the loss reaches
// the router through autograd, is only collected under gradient, and trains the same
// under gradient checkpointing.
#include "model/llama.h"
#include "model/moe_block.h"
#include "tensor_compare.h"
#include "tiny_models.h"

#include "test_main.h"

#include <QtTest>
#include <torch/torch.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <numeric>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_moe {

using namespace ft::model;

namespace {

at::Tensor weightOf(const LinearLayer& l) { return l->as<DenseLinearImpl>()->weight; }

MoeBlock makeBlock(Arch arch, uint64_t seed)
{
    const ModelConfig c = fttest::tinyConfig(arch);
    MoeBlock block(c, nullptr);
    auto gen = at::detail::createCPUGenerator(seed);
    torch::NoGradGuard noGrad;
    for (auto& p : block->parameters())
        p.copy_(at::normal(0.0, 0.4, p.sizes(), gen));
    return block;
}

// Every expert on every token, weighted by the top-k mask: (N, C) in double.
at::Tensor denseReference(MoeBlock& block, const at::Tensor& x, int64_t topK, bool normalize)
{
    const at::Tensor tokens = x.reshape({-1, x.size(-1)}).to(at::kDouble);
    const at::Tensor probs = at::softmax(at::linear(tokens, weightOf(block->gate).to(at::kDouble)), -1);  // (N, E)
    const int64_t n = probs.size(0), e = probs.size(1);
    at::Tensor weights = at::zeros_like(probs);
    auto p = probs.accessor<double, 2>();
    auto w = weights.accessor<double, 2>();
    for (int64_t t = 0; t < n; ++t) {
        std::vector<int64_t> order(static_cast<size_t>(e));
        std::iota(order.begin(), order.end(), 0);
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[t][a] > p[t][b]; });
        double kept = 0;
        for (int64_t j = 0; j < topK; ++j)
            kept += p[t][order[size_t(j)]];
        for (int64_t j = 0; j < topK; ++j)
            w[t][order[size_t(j)]] = p[t][order[size_t(j)]] / (normalize ? kept : 1.0);
    }
    // The weights of the chosen experts depend on the router: rebuild them differentiably.
    const at::Tensor chosen = weights > 0;
    at::Tensor kept = at::where(chosen, probs, at::zeros_like(probs));
    if (normalize)
        kept = kept / kept.sum(-1, true);
    at::Tensor out = at::zeros_like(tokens);
    for (int64_t i = 0; i < e; ++i) {
        ExpertMlpImpl& ex = block->expert(i);
        const at::Tensor g = at::linear(tokens, weightOf(ex.gate).to(at::kDouble));
        const at::Tensor u = at::linear(tokens, weightOf(ex.up).to(at::kDouble));
        const at::Tensor y = at::linear(g * at::sigmoid(g) * u, weightOf(ex.down).to(at::kDouble));
        out = out + kept.select(1, i).unsqueeze(1) * y;
    }
    return out;
}

} // namespace

class TestMoe : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void groupedRoutingMatchesEveryExpertOnEveryToken_data()
    {
        QTest::addColumn<int>("arch");
        QTest::newRow("qwen3_moe (renormalized)") << int(Arch::Qwen3Moe);
        QTest::newRow("mixtral (w1/w3/w2)") << int(Arch::Mixtral);
        QTest::newRow("olmoe (not renormalized)") << int(Arch::Olmoe);
    }
    void groupedRoutingMatchesEveryExpertOnEveryToken()
    {
        QFETCH(int, arch);
        const ModelConfig c = fttest::tinyConfig(Arch(arch));
        MoeBlock block = makeBlock(Arch(arch), 11);
        auto gen = at::detail::createCPUGenerator(3);
        const at::Tensor x = at::normal(0.0, 1.0, {3, 7, c.hiddenSize}, gen).set_requires_grad(true);
        const at::Tensor out = block->forward(x);
        QCOMPARE(out.sizes().vec(), x.sizes().vec());
        const at::Tensor expected = denseReference(block, x.detach(), c.numExpertsPerTok, c.normTopkProb);
        FT_COMPARE_TENSORS(out.reshape({-1, c.hiddenSize}).to(at::kDouble), expected, 1e-4);  // fp32 against double on values up to ~40

        // Gradients for the input, the router and an expert agree with the reference's.
        const at::Tensor r = at::normal(0.0, 1.0, out.sizes(), gen);
        (out * r).sum().backward();
        const at::Tensor xd = x.detach().to(at::kDouble).set_requires_grad(true);
        MoeBlock twin = makeBlock(Arch(arch), 11);  // the same weights, in double
        for (auto& p : twin->parameters())
            p.set_data(p.detach().to(at::kDouble).clone().set_requires_grad(true));
        (denseReference(twin, xd, c.numExpertsPerTok, c.normTopkProb) * r.reshape({-1, c.hiddenSize}).to(at::kDouble))
            .sum()
            .backward();
        FT_COMPARE_TENSORS(x.grad().to(at::kDouble), xd.grad(), 1e-4);  // fp32 against double on values up to ~40
        // Every expert that received tokens got the reference's gradient.
        for (int64_t e = 0; e < block->expertCount(); ++e) {
            const at::Tensor g = weightOf(block->expert(e).down).grad();
            const at::Tensor ref = weightOf(twin->expert(e).down).grad();
            if (g.defined())
                FT_COMPARE_TENSORS(g.to(at::kDouble), ref, 1e-4);  // fp32 against double on values up to ~40
            else
                QVERIFY(!ref.defined() || ref.abs().max().item<double>() == 0);
        }
    }

    void routerGradientMatchesTheReference()
    {
        // The router is trained through the routing weights of the chosen experts.
        const ModelConfig c = fttest::tinyConfig(Arch::Qwen3Moe);
        MoeBlock block = makeBlock(Arch::Qwen3Moe, 5);
        auto gen = at::detail::createCPUGenerator(9);
        const at::Tensor x = at::normal(0.0, 1.0, {2, 5, c.hiddenSize}, gen);
        const at::Tensor r = at::normal(0.0, 1.0, {2, 5, c.hiddenSize}, gen);
        (block->forward(x) * r).sum().backward();
        const at::Tensor engineGrad = weightOf(block->gate).grad().to(at::kDouble);

        MoeBlock twin = makeBlock(Arch::Qwen3Moe, 5);
        auto* router = twin->gate->as<DenseLinearImpl>();
        router->weight.set_data(router->weight.detach().to(at::kDouble));
        router->weight.set_requires_grad(true);
        (denseReference(twin, x, c.numExpertsPerTok, true) * r.reshape({-1, c.hiddenSize}).to(at::kDouble))
            .sum()
            .backward();
        QVERIFY(engineGrad.abs().max().item<double>() > 1e-3);
        FT_COMPARE_TENSORS(engineGrad, router->weight.grad(), 1e-4);  // fp32 against double on values up to ~40
    }

    // An expert no token is routed to is never run: NaN weights there leave every output finite.
    void unroutedExpertsAreNeverRun()
    {
        const ModelConfig c = fttest::tinyConfig(Arch::Mixtral);
        MoeBlock block = makeBlock(Arch::Mixtral, 2);
        auto gen = at::detail::createCPUGenerator(4);
        const at::Tensor x = at::normal(0.0, 1.0, {2, 6, c.hiddenSize}, gen).abs() + 0.1;  // positive inputs
        {
            torch::NoGradGuard noGrad;
            weightOf(block->gate)[3].fill_(-5.0);  // expert 3 scores far below the others on positive inputs
            for (auto& p : block->expert(3).parameters())
                p.fill_(std::nan(""));
        }
        const at::Tensor out = block->forward(x);
        QVERIFY(out.isfinite().all().item<bool>());
        // The same block with expert 3 in reach of some token: its NaN shows.
        {
            torch::NoGradGuard noGrad;
            weightOf(block->gate)[3].fill_(5.0);
        }
        QVERIFY(!block->forward(x).isfinite().all().item<bool>());
    }

    // transformers' load_balancing_loss_func, recomputed with loops over layers, tokens
    // and slots, real tokens only.
    void loadBalancingLossMatchesItsDefinition()
    {
        const int64_t n = 9, e = 5, k = 2, layers = 3;
        auto gen = at::detail::createCPUGenerator(21);
        std::vector<at::Tensor> logits, masks;
        for (int64_t l = 0; l < layers; ++l) {
            logits.push_back(at::normal(0.0, 2.0, {n, e}, gen));
            at::Tensor m = at::ones({n});
            m[l] = 0;  // one padding token per forward
            m[n - 1] = 0;
            masks.push_back(m);
        }
        const double got = loadBalancingLoss(logits, masks, k).item<double>();

        std::vector<std::vector<double>> f(size_t(k), std::vector<double>(size_t(e), 0.0));
        std::vector<double> meanProb(static_cast<size_t>(e), 0.0);
        double real = 0;
        for (int64_t l = 0; l < layers; ++l) {
            auto a = logits[size_t(l)].accessor<float, 2>();
            for (int64_t t = 0; t < n; ++t) {
                if (masks[size_t(l)][t].item<float>() == 0)
                    continue;
                real += 1;
                double top = -1e300, total = 0;
                for (int64_t i = 0; i < e; ++i)
                    top = std::max(top, double(a[t][i]));
                std::vector<double> p(static_cast<size_t>(e));
                for (int64_t i = 0; i < e; ++i)
                    total += (p[size_t(i)] = std::exp(double(a[t][i]) - top));
                for (double& v : p)
                    v /= total;
                std::vector<int64_t> order(static_cast<size_t>(e));
                std::iota(order.begin(), order.end(), 0);
                std::sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return p[size_t(x)] > p[size_t(y)]; });
                for (int64_t j = 0; j < k; ++j)
                    f[size_t(j)][size_t(order[size_t(j)])] += 1;
                for (int64_t i = 0; i < e; ++i)
                    meanProb[size_t(i)] += p[size_t(i)];
            }
        }
        double expected = 0;
        for (int64_t j = 0; j < k; ++j)
            for (int64_t i = 0; i < e; ++i)
                expected += (f[size_t(j)][size_t(i)] / real) * (meanProb[size_t(i)] / real);
        expected *= double(e);
        QVERIFY2(std::abs(got - expected) < 1e-5, qPrintable(QString("%1 vs %2").arg(got).arg(expected)));
        // Routing everything to one expert costs more than spreading it.
        std::vector<at::Tensor> skewed{at::zeros({n, e})}, none{at::Tensor()};
        skewed[0].select(1, 0).fill_(8.0);
        QVERIFY(loadBalancingLoss(skewed, none, k).item<double>() > got);
    }

    // The model collects router logits only when asked and only under gradient, and
    // the loss it gives back reaches the router's weights.
    void auxLossIsCollectedUnderGradientAndReachesTheRouter()
    {
        const ModelConfig c = fttest::tinyConfig(Arch::Olmoe);
        CausalLM m(c);
        m->initializeWeights(3);
        const at::Tensor ids = at::randint(c.vocabSize, {2, 6}, at::kLong);
        const at::Tensor mask = at::tensor({0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, at::kLong).view({2, 6});
        m->forward(ids, mask);
        QVERIFY(!m->takeRouterAuxLoss().defined());  // not asked
        m->collectRouterLogits();
        {
            torch::NoGradGuard noGrad;
            m->forward(ids, mask);
        }
        QVERIFY(!m->takeRouterAuxLoss().defined());  // no gradient: an evaluation or a reference pass
        m->collectRouterLogits();
        m->forward(ids, mask);
        const at::Tensor aux = m->takeRouterAuxLoss();
        QVERIFY(aux.defined() && aux.requires_grad());
        QVERIFY(aux.item<double>() > 0);
        aux.backward();
        auto* router = m->model->layer(0).moe->gate->as<DenseLinearImpl>();
        QVERIFY(router->weight.grad().defined() && router->weight.grad().abs().max().item<double>() > 0);
        QVERIFY(!m->takeRouterAuxLoss().defined());  // taken once
    }

    // Gradient checkpointing runs the layers' first pass without gradient; the load-
    // balancing loss still trains, through the recomputations in backward: the same
    // model and batch give the same loss value and the same gradients (router, experts,
    // attention) with and without checkpointing.
    void auxLossTrainsTheSameUnderGradientCheckpointing()
    {
        const ModelConfig c = fttest::tinyConfig(Arch::Qwen3Moe);
        auto gen = at::detail::createCPUGenerator(8);
        const at::Tensor ids = at::randint(c.vocabSize, {2, 7}, gen, at::kLong);
        const at::Tensor mask = at::tensor({0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, at::kLong).view({2, 7});
        const double coef = 0.5;
        auto run = [&](bool checkpointing, double& auxValue, bool& auxHasGrad) -> std::map<std::string, at::Tensor> {
            CausalLM m(c);
            m->initializeWeights(4);
            m->train();
            m->model->gradientCheckpointing = checkpointing;
            m->collectRouterLogits();
            const at::Tensor logits = m->forward(ids, mask);
            const at::Tensor aux = m->takeRouterAuxLoss(coef);
            auxValue = aux.item<double>();
            at::Tensor total = logits.pow(2).mean();  // any differentiable objective
            auxHasGrad = aux.requires_grad();
            if (aux.requires_grad())
                total = total + coef * aux;
            total.backward();
            std::map<std::string, at::Tensor> grads;
            for (const auto& p : m->named_parameters())
                if (p.value().grad().defined())
                    grads[p.key()] = p.value().grad().clone();
            return grads;
        };
        double plainAux = 0, checkpointedAux = 0;
        bool plainGrad = false, checkpointedGrad = true;
        const auto plain = run(false, plainAux, plainGrad), checkpointed = run(true, checkpointedAux, checkpointedGrad);
        QVERIFY(plainGrad && !checkpointedGrad);  // checkpointed: trained through the recomputations only
        QVERIFY(std::abs(plainAux - checkpointedAux) < 1e-6);
        QVERIFY(plain.contains("model.layers.0.mlp.gate.weight"));
        for (const auto& [name, g] : plain) {
            QVERIFY2(checkpointed.contains(name), name.c_str());
            FT_COMPARE_TENSORS(checkpointed.at(name), g, 1e-6);
        }
        // The comparison has teeth: without the aux term the router's gradient differs.
        CausalLM m(c);
        m->initializeWeights(4);
        m->train();
        m->forward(ids, mask).pow(2).mean().backward();
        QVERIFY(!at::allclose(m->model->layer(0).moe->gate->as<DenseLinearImpl>()->weight.grad(),
                              plain.at("model.layers.0.mlp.gate.weight"), 1e-6, 1e-7));
    }
};

FT_TEST_MAIN(TestMoe)

} // namespace test_moe

#include "test_moe.moc"
