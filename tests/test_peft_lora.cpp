// The reparameterization techniques on the tiny model: LoRA, rsLoRA, DoRA, QLoRA, PiSSA
// and IA3. Each is checked against an independent reference: the base model's own output
// (at initialization and when disabled), merged against unmerged forwards, the base
// weights before merging, hand-counted parameters, finite differences in fp64, a
// closed-form DoRA with its norm held fixed, and a short training run.
#include "model/llama.h"
#include "peft/ia3.h"
#include "peft/lora.h"
#include "peft/nf4.h"
#include "peft/registry.h"
#include "peft/technique.h"
#include "peft/targets.h"
#include "tensor_compare.h"
#include "test_support.h"
#include "tiny_models.h"
#include "train/lm_loss.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <torch/optim/adam.h>

#include <cmath>
#include <map>
#include <set>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_peft_lora {

using namespace ft;
using model::CausalLM;

namespace {

constexpr uint64_t kBaseSeed = 7;

CausalLM makeModel(c10::ScalarType dtype = at::kDouble)
{
    CausalLM m(fttest::tinyConfig());
    m->initializeWeights(kBaseSeed);
    at::NoGradGuard g;
    for (auto& p : m->parameters())
        if (p.dim() >= 2)
            p.mul_(5.0);  // larger than 0.02 so that an adapter's effect shows in the logits
    m->to(dtype);
    m->eval();
    return m;
}

at::Tensor randomIds(int64_t b, int64_t t, uint64_t seed)
{
    auto gen = at::detail::createCPUGenerator(seed);
    return at::randint(fttest::tinyConfig().vocabSize, {b, t}, gen, at::kLong);
}

at::Tensor randomLike(const at::Tensor& t, uint64_t seed)
{
    auto gen = at::detail::createCPUGenerator(seed);
    return at::normal(0.0, 1.0, t.sizes(), gen).to(t.options());
}

peft::PeftSettings settingsFor(const std::string& technique)
{
    peft::PeftSettings s;
    s.technique = technique;
    s.r = 4;
    s.loraAlpha = 8.0;
    s.loraDropout = 0.0;
    s.seed = 11;
    return s;  // targets: the defaults (q, k, v, o for the LoRA family; k, v, down for IA3)
}

std::unique_ptr<peft::Adapter> apply(CausalLM& m, const peft::PeftSettings& s)
{
    if (s.technique == "pissa")  // defined in its own file, reached through its descriptor
        return peft::tuner(peft::technique("pissa"))(m, s, "default", {});
    return s.technique == "ia3" ? peft::applyIa3(m, s, "default", {}) : peft::applyLora(m, s, "default", {});
}

// What the registry does: freeze everything, inject, make the adapter's tensors train.
std::unique_ptr<peft::Adapter> applyFrozen(CausalLM& m, const peft::PeftSettings& s)
{
    peft::freezeAll(*m);
    auto adapter = apply(m, s);
    for (auto& [_, t] : adapter->trainableParameters())
        t.set_requires_grad(true);
    return adapter;
}

// Moves every adapter tensor away from its initialization (B != 0, magnitude != ||W||).
void perturb(peft::Adapter& adapter, uint64_t seed)
{
    at::NoGradGuard g;
    for (auto& [name, t] : adapter.trainableParameters()) {
        at::Tensor noise = randomLike(t, seed++);
        if (name.find("magnitude") != std::string::npos || name.find("ia3_l") != std::string::npos)
            t.mul_(1.0 + 0.3 * noise);
        else
            t.copy_(0.3 * noise);
    }
}

std::map<std::string, at::Tensor> baseWeights(CausalLM& m)
{
    std::map<std::string, at::Tensor> out;
    for (auto& slot : peft::projectionSlots(m))
        if (auto* d = slot.get()->as<model::DenseLinearImpl>())
            out[slot.path] = d->weight.detach().clone();
    return out;
}

// The dense weight under a slot, through any wrappers.
at::Tensor denseWeightAt(CausalLM& m, const std::string& path)
{
    for (auto& p : m->named_parameters())
        if (p.key() == path + ".base_layer.weight" || p.key() == path + ".weight")
            return p.value().detach();
    return {};
}

at::Tensor logits(CausalLM& m, const at::Tensor& ids)
{
    at::NoGradGuard g;
    return m->forward(ids);
}

double maxAbsDiff(const at::Tensor& a, const at::Tensor& b) { return (a - b).abs().max().item<double>(); }

template <typename T>
std::vector<T*> wrappers(CausalLM& m)
{
    std::vector<T*> out;
    for (auto& mod : m->modules())
        if (auto* w = dynamic_cast<T*>(mod.get()))
            out.push_back(w);
    return out;
}

} // namespace

class TestPeftLora : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void techniques_data()
    {
        QTest::addColumn<QString>("technique");
        for (const char* t : {"lora", "dora", "rslora", "qlora", "ia3"})
            QTest::newRow(t) << QString(t);
    }

    void outputUnchangedAtInitialization_data() { techniques_data(); }
    void outputUnchangedAtInitialization()
    {
        QFETCH(QString, technique);
        const auto s = settingsFor(technique.toStdString());
        CausalLM m = makeModel();
        CausalLM reference = makeModel();
        if (s.technique == "qlora")  // QLoRA's reference is its own quantized base
            peft::quantizeDecoderProjections(reference, s.quantBlockSize, s.doubleQuant);
        const at::Tensor ids = randomIds(2, 9, 1);
        const at::Tensor expected = logits(reference, ids);
        auto adapter = applyFrozen(m, s);
        FT_COMPARE_TENSORS(logits(m, ids), expected, 0.0);  // bit for bit
        m->train();  // dropout sits on the adapter path only: still exact at initialization
        auto s2 = s;
        s2.loraDropout = 0.5;
        CausalLM m2 = makeModel();
        auto adapter2 = applyFrozen(m2, s2);
        m2->train();
        FT_COMPARE_TENSORS(logits(m2, ids), expected, 0.0);
    }

    void onlyAdapterTensorsTrain_data() { techniques_data(); }
    void onlyAdapterTensorsTrain()
    {
        QFETCH(QString, technique);
        const auto s = settingsFor(technique.toStdString());
        CausalLM m = makeModel();
        auto adapter = applyFrozen(m, s);
        std::set<std::string> trainable, requiring;
        int64_t count = 0;
        for (auto& [name, t] : adapter->trainableParameters()) {
            trainable.insert(name);
            count += t.numel();
        }
        for (auto& p : m->named_parameters())
            if (p.value().requires_grad())
                requiring.insert(p.key());
        QVERIFY(trainable == requiring);  // names are the model's own parameter names
        // Tiny model: C = 32, K*D = 2*8 = 16, F = 48, 2 layers, r = 4.
        // LoRA on q (32->32), k (32->16), v (32->16), o (32->32): r * (in + out) each.
        const int64_t r = 4, lora = r * ((32 + 32) + (32 + 16) + (32 + 16) + (32 + 32));  // 896 per layer
        int64_t expected = 0;
        if (s.technique == "lora" || s.technique == "rslora" || s.technique == "qlora")
            expected = 2 * lora;
        else if (s.technique == "dora")
            expected = 2 * (lora + 32 + 16 + 16 + 32);  // + one magnitude per output row
        else
            expected = 2 * (16 + 16 + 48);  // IA3: k and v outputs, down_proj's input
        QCOMPARE(count, expected);
        if (s.technique == "qlora")
            QCOMPARE(int64_t(wrappers<peft::Nf4LinearImpl>(m).size()), int64_t(2 * 7));
    }

    void mergeEqualsUnmergedAndUnmergeRestores_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::addColumn<double>("restoreTolerance");  // unmerge vs the original weights
        QTest::newRow("lora") << QString("lora") << 1e-13;      // W + dW - dW in fp64
        QTest::newRow("rslora") << QString("rslora") << 1e-13;
        QTest::newRow("dora") << QString("dora") << 0.0;         // a copy is kept
        QTest::newRow("ia3") << QString("ia3") << 1e-13;        // W * l / l in fp64
        QTest::newRow("pissa") << QString("pissa") << 1e-13;    // W + s(BA - B0A0), subtracted again
    }
    void mergeEqualsUnmergedAndUnmergeRestores()
    {
        QFETCH(QString, technique);
        QFETCH(double, restoreTolerance);
        CausalLM m = makeModel();
        const at::Tensor ids = randomIds(2, 9, 2);
        const at::Tensor base = logits(m, ids);
        const auto before = baseWeights(m);
        auto adapter = applyFrozen(m, settingsFor(technique.toStdString()));
        perturb(*adapter, 100);
        const at::Tensor unmerged = logits(m, ids);
        QVERIFY(maxAbsDiff(unmerged, base) > 1e-2);  // the adapter does something
        adapter->setEnabled(false);
        FT_COMPARE_TENSORS(logits(m, ids), base, 0.0);  // disabled: the base, bit for bit
        adapter->setEnabled(true);
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 0.0);

        adapter->merge();
        QVERIFY(adapter->merged());
        const at::Tensor merged = logits(m, ids);
        qInfo("merged vs unmerged: max |diff| %.3g", maxAbsDiff(merged, unmerged));
        FT_COMPARE_TENSORS(merged, unmerged, 1e-10);

        adapter->unmerge();
        double worst = 0;
        for (const auto& [path, w] : before)
            worst = std::max(worst, maxAbsDiff(denseWeightAt(m, path), w));
        qInfo("unmerge vs original weights: max |diff| %.3g", worst);
        QVERIFY(worst <= restoreTolerance);
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 1e-10);

        adapter->merge();
        adapter->setEnabled(false);  // disabling a merged adapter takes it out of the weights
        QVERIFY(!adapter->merged());
        FT_COMPARE_TENSORS(logits(m, ids), base, std::max(restoreTolerance * 100, 1e-12));
        adapter->setEnabled(true);

        adapter->mergeAndUnload(at::kDouble);
        for (auto& p : m->named_parameters())
            QVERIFY2(p.key().find("base_layer") == std::string::npos && p.key().find("lora_") == std::string::npos &&
                         p.key().find("ia3_") == std::string::npos,
                     p.key().c_str());
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 1e-10);
    }

    // PiSSA starts from the principal part of each weight: the model computes exactly
    // the base at initialization, and s B0 A0 is a best rank-r approximation of W.
    // Reference (not an SVD): by Eckart-Young a rank-r matrix M is a best approximation
    // exactly when ||W - M||_F^2 equals the sum of all but the r largest eigenvalues of
    // W^T W, computed here with a symmetric eigensolver.
    void pissaStartsFromThePrincipalPart()
    {
        for (int64_t niter : {0, 8}) {
            auto s = settingsFor("pissa");
            s.extra["pissa_niter"] = niter;
            CausalLM m = makeModel();
            const at::Tensor ids = randomIds(2, 9, 5);
            const at::Tensor base = logits(m, ids);
            const auto before = baseWeights(m);
            auto adapter = applyFrozen(m, s);
            FT_COMPARE_TENSORS(logits(m, ids), base, 0.0);  // the update is exactly 0
            double worstGap = 0;
            const auto& lora = static_cast<peft::LoraAdapter&>(*adapter);
            for (size_t i = 0; i < lora.entries().size(); ++i) {
                const peft::LoraLinearImpl& layer = lora.layer(i);
                const at::Tensor w = before.at(lora.entries()[i].slot.path);
                const at::Tensor m0 = layer.scaling() * layer.lora_B->weight.matmul(layer.lora_A->weight).detach();
                QCOMPARE(m0.sizes().vec(), w.sizes().vec());
                const at::Tensor eig = at::linalg_eigvalsh(w.t().matmul(w)).flip(0);  // descending
                const double tail = eig.narrow(0, 4, eig.size(0) - 4).sum().item<double>();
                const double residual = (w - m0).pow(2).sum().item<double>();
                worstGap = std::max(worstGap, (residual - tail) / eig.sum().item<double>());
            }
            qInfo("PiSSA niter %lld: residual above the optimal tail by at most %.3g of ||W||^2", (long long)niter,
                  worstGap);
            QVERIFY(worstGap <= (niter == 0 ? 1e-10 : 2e-2));
            QVERIFY(worstGap >= -1e-10);  // never better than optimal: the reference is right
        }
    }

    // A PiSSA adapter is saved as PEFT's converted form: plain LoRA of rank 2r over the
    // untouched base, which a plain LoRA adapter loads and computes the same function
    // with; loading it back as PiSSA restores A, B, A0 and B0 exactly.
    void pissaSavesAsPlainLoraOfTwiceTheRank()
    {
        const auto s = settingsFor("pissa");
        CausalLM a = makeModel();
        auto pissa = applyFrozen(a, s);
        perturb(*pissa, 500);
        const at::Tensor ids = randomIds(2, 9, 6);
        const at::Tensor expected = logits(a, ids);
        std::map<std::string, at::Tensor> saved;
        for (auto& [key, t] : pissa->stateDict())
            saved[key] = t.clone();
        const std::string q = "base_model.model.model.layers.0.self_attn.q_proj.";
        QCOMPARE(saved.at(q + "lora_A.weight").sizes().vec(), (std::vector<int64_t>{8, 32}));
        QCOMPARE(saved.at(q + "lora_B.weight").sizes().vec(), (std::vector<int64_t>{32, 8}));
        const nlohmann::json config = pissa->configJson();
        QCOMPARE(config["r"].get<int64_t>(), int64_t(8));
        QCOMPARE(config["lora_alpha"].get<double>(), 16.0);

        auto plainSettings = settingsFor("lora");
        plainSettings.r = config["r"].get<int64_t>();
        plainSettings.loraAlpha = config["lora_alpha"].get<double>();
        CausalLM b = makeModel();
        auto plain = applyFrozen(b, plainSettings);
        plain->loadStateDict(saved, "adapter_model.safetensors");
        FT_COMPARE_TENSORS(logits(b, ids), expected, 1e-10);

        CausalLM c = makeModel();
        peft::ApplyContext loading;
        loading.tensorsFollow = true;
        peft::freezeAll(*c);
        auto back = peft::tuner(peft::technique("pissa"))(c, s, "default", loading);
        back->loadStateDict(saved, "adapter_model.safetensors");
        FT_COMPARE_TENSORS(logits(c, ids), expected, 0.0);
        for (auto& [key, t] : back->stateDict())
            FT_COMPARE_TENSORS(t, saved.at(key), 0.0);
    }

    void qloraMergeRequantizesAndUnmergeRestoresCodes()
    {
        CausalLM m = makeModel();
        const at::Tensor ids = randomIds(2, 9, 3);
        auto adapter = applyFrozen(m, settingsFor("qlora"));
        perturb(*adapter, 200);
        const at::Tensor unmerged = logits(m, ids);
        std::vector<peft::Nf4Tensor> saved;
        const auto layers = wrappers<peft::Nf4LinearImpl>(m);
        for (auto* layer : layers)
            saved.push_back(layer->quantized().clone());

        adapter->merge();  // re-quantizes W + s B A: equal to the unmerged model up to 4-bit rounding
        // Reference: the update added to the dequantized base in the test, quantized afresh.
        for (const auto& e : static_cast<peft::LoraAdapter&>(*adapter).entries()) {
            auto* lora = e.layer->as<peft::LoraLinearImpl>();
            auto* nf4 = lora->base_layer->as<peft::Nf4LinearImpl>();
            size_t i = 0;
            while (i < layers.size() && layers[i] != nf4)
                ++i;
            QVERIFY2(i < layers.size(), e.slot.path.c_str());
            const at::Tensor B = lora->lora_B->weight.detach(), A = lora->lora_A->weight.detach();
            const at::Tensor delta = B.matmul(A) * 2.0;  // s = alpha / r = 8 / 4
            const peft::Nf4Tensor expected = peft::quantizeNf4(peft::dequantizeNf4(saved[i], at::kDouble) + delta);
            QVERIFY2(at::equal(nf4->quantized().packed, expected.packed), e.slot.path.c_str());
            QVERIFY2(at::equal(nf4->quantized().absmaxCodes, expected.absmaxCodes), e.slot.path.c_str());
        }
        const double mergedDiff = maxAbsDiff(logits(m, ids), unmerged);
        CausalLM dense = makeModel(), quantized = makeModel();
        peft::quantizeDecoderProjections(quantized);
        qInfo("QLoRA merged (re-quantized) vs unmerged logits: max |diff| %.3g; for scale, quantizing the base "
              "itself moves them by %.3g",
              mergedDiff, maxAbsDiff(logits(dense, ids), logits(quantized, ids)));
        adapter->unmerge();
        for (size_t i = 0; i < layers.size(); ++i) {
            QVERIFY(at::equal(layers[i]->quantized().packed, saved[i].packed));
            QVERIFY(at::equal(layers[i]->quantized().absmaxCodes, saved[i].absmaxCodes));
            QVERIFY(at::equal(layers[i]->quantized().absmaxScales, saved[i].absmaxScales));
        }
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 0.0);

        // merge_and_unload: dequantize to fp64, add the update, dense layers back in place
        // (also where QLoRA quantized a projection it does not adapt).
        adapter->mergeAndUnload(at::kDouble);
        QCOMPARE(int64_t(wrappers<peft::Nf4LinearImpl>(m).size()), int64_t(0));
        for (auto& slot : peft::projectionSlots(m))
            QVERIFY2(slot.get()->as<model::DenseLinearImpl>(), slot.path.c_str());
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 1e-10);
    }

    void stateDictRoundTrip_data() { techniques_data(); }
    void stateDictRoundTrip()
    {
        QFETCH(QString, technique);
        const auto s = settingsFor(technique.toStdString());
        CausalLM a = makeModel();
        auto adapterA = applyFrozen(a, s);
        perturb(*adapterA, 300);
        std::map<std::string, at::Tensor> saved;
        for (auto& [key, t] : adapterA->stateDict())
            saved[key] = t.clone();
        const std::string q = "base_model.model.model.layers.0.self_attn.q_proj.";
        const std::string k = "base_model.model.model.layers.0.self_attn.k_proj.";
        if (s.technique == "ia3") {
            QCOMPARE(saved.at(k + "ia3_l").sizes().vec(), (std::vector<int64_t>{16, 1}));
            QCOMPARE(saved.at("base_model.model.model.layers.1.mlp.down_proj.ia3_l").sizes().vec(),
                     (std::vector<int64_t>{1, 48}));
            QCOMPARE(saved.size(), size_t(2 * 3));
        } else {
            QCOMPARE(saved.at(q + "lora_A.weight").sizes().vec(), (std::vector<int64_t>{4, 32}));
            QCOMPARE(saved.at(k + "lora_B.weight").sizes().vec(), (std::vector<int64_t>{16, 4}));
            if (s.technique == "dora")
                QCOMPARE(saved.at(k + "lora_magnitude_vector").sizes().vec(), (std::vector<int64_t>{16}));
            QCOMPARE(saved.size(), size_t(2 * 4 * (s.technique == "dora" ? 3 : 2)));
        }

        CausalLM b = makeModel();
        auto settingsB = s;
        settingsB.seed = 999;  // a different initialization, all overwritten by the load
        auto adapterB = applyFrozen(b, settingsB);
        const at::Tensor ids = randomIds(2, 9, 4);
        QVERIFY(maxAbsDiff(logits(a, ids), logits(b, ids)) > 1e-2);
        adapterB->loadStateDict(saved, "adapter_model.safetensors");
        FT_COMPARE_TENSORS(logits(b, ids), logits(a, ids), 0.0);
    }

    void loadStateDictReportsEveryProblem()
    {
        CausalLM m = makeModel();
        auto adapter = applyFrozen(m, settingsFor("dora"));
        std::map<std::string, at::Tensor> tensors;
        for (auto& [key, t] : adapter->stateDict())
            tensors[key] = t.clone() + 1.0;
        const std::string a = "base_model.model.model.layers.1.self_attn.v_proj.lora_A.weight";
        const std::string mag = "base_model.model.model.layers.0.self_attn.o_proj.lora_magnitude_vector";
        tensors[a] = at::zeros({4, 31}, at::kDouble);
        tensors.erase(mag);
        tensors["base_model.model.model.layers.0.mlp.up_proj.lora_A.weight"] = at::zeros({4, 32}, at::kDouble);
        const at::Tensor before = adapter->stateDict()[0].second.clone();

        const QString error =
            fttest::errorOf([&] { adapter->loadStateDict(tensors, "/tmp/run/adapter_model.safetensors"); });
        QVERIFY2(error.contains("/tmp/run/adapter_model.safetensors"), qPrintable(error));
        QVERIFY2(error.contains(QString::fromStdString(a)) && error.contains("(4, 31)") && error.contains("(4, 32)"),
                 qPrintable(error));
        QVERIFY2(error.contains(QString::fromStdString(mag)) && error.contains("missing") && error.contains("(32,)"),
                 qPrintable(error));
        QVERIFY2(error.contains("mlp.up_proj.lora_A.weight") && error.contains("unexpected"), qPrintable(error));
        FT_COMPARE_TENSORS(adapter->stateDict()[0].second, before, 0.0);  // nothing was copied
    }

    void loraGradientMatchesFiniteDifferences_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::newRow("lora") << QString("lora");
        QTest::newRow("dora magnitude") << QString("dora");  // the norm does not depend on it
    }
    void loraGradientMatchesFiniteDifferences()
    {
        QFETCH(QString, technique);
        CausalLM m = makeModel();
        auto adapter = applyFrozen(m, settingsFor(technique.toStdString()));
        perturb(*adapter, 400);
        const at::Tensor ids = randomIds(2, 7, 5);
        auto loss = [&] { return train::causalLmLoss(m->forward(ids), ids); };
        loss().backward();
        auto params = adapter->trainableParameters();
        double worst = 0;
        int checked = 0;
        for (size_t i = 0; i < params.size(); ++i) {
            auto& [name, p] = params[i];
            const bool magnitude = name.find("magnitude") != std::string::npos;
            if (technique == "dora" ? !magnitude : i % 3 != 0)
                continue;  // lora: every third tensor; dora: the magnitudes (A, B: see the next test)
            const at::Tensor grad = p.grad().clone();
            for (int64_t j : {int64_t(0), p.numel() / 2, p.numel() - 1}) {
                at::Tensor flat = p.detach().view(-1);
                const double orig = flat[j].item<double>(), eps = 1e-6;
                double up, down;
                {
                    at::NoGradGuard g;
                    flat[j] = orig + eps;
                    up = loss().item<double>();
                    flat[j] = orig - eps;
                    down = loss().item<double>();
                    flat[j] = orig;
                }
                const double fd = (up - down) / (2 * eps), an = grad.view(-1)[j].item<double>();
                worst = std::max(worst, std::abs(fd - an));
                QVERIFY2(std::abs(fd - an) <= 1e-7 + 1e-5 * std::abs(fd),
                         qPrintable(QString("%1[%2]: autograd %3, finite difference %4")
                                        .arg(QString::fromStdString(name)).arg(j).arg(an).arg(fd)));
                ++checked;
            }
        }
        QVERIFY(checked >= 6);
        qInfo("%d entries, largest |autograd - finite difference| %.3g", checked, worst);
    }

    void doraGradientTreatsTheNormAsConstant()
    {
        // One DoRA layer against the closed form with n0 = ||W + s B A||_row held fixed:
        //   y = x W^T + b + (m / n0 - 1) x W^T + (m / n0) s x A^T B^T
        model::SkipWeightInit skip;
        auto base = std::make_shared<model::DenseLinearImpl>(6, 5, true);
        base->to(at::kDouble);
        {
            at::NoGradGuard g;
            base->weight.copy_(randomLike(base->weight, 1));
            base->bias.copy_(randomLike(base->bias, 2));
        }
        base->weight.set_requires_grad(false);
        base->bias.set_requires_grad(false);
        peft::LoraOptions o;
        o.r = 3;
        o.alpha = 4.5;
        o.useDora = true;
        o.dtype = at::kDouble;
        peft::LoraLinearImpl layer(base, o);
        {
            at::NoGradGuard g;
            layer.lora_A->weight.copy_(randomLike(layer.lora_A->weight, 3));
            layer.lora_B->weight.copy_(randomLike(layer.lora_B->weight, 4));
            layer.lora_magnitude_vector.mul_(1.0 + 0.2 * randomLike(layer.lora_magnitude_vector, 5));
        }
        const at::Tensor x = randomLike(at::empty({4, 6}, at::kDouble), 6);
        const at::Tensor r = randomLike(at::empty({4, 5}, at::kDouble), 7);
        const at::Tensor W = base->weight.detach(), b = base->bias.detach();
        const double s = 4.5 / 3;
        at::Tensor A = layer.lora_A->weight.detach().clone(), B = layer.lora_B->weight.detach().clone(),
                   mag = layer.lora_magnitude_vector.detach().clone();
        auto rowNorm = [](const at::Tensor& w) { return w.pow(2).sum(1).sqrt(); };
        const at::Tensor n0 = rowNorm(W + s * B.matmul(A));
        auto closedForm = [&](const at::Tensor& a, const at::Tensor& bb, const at::Tensor& mm, const at::Tensor& n) {
            at::Tensor g = mm / n, xw = x.matmul(W.t());
            return ((xw + b + (g - 1) * xw + g * s * x.matmul(a.t()).matmul(bb.t())) * r).sum().item<double>();
        };
        at::Tensor y = layer.forward(x);
        QVERIFY(std::abs((y * r).sum().item<double>() - closedForm(A, B, mag, n0)) < 1e-12);
        (y * r).sum().backward();

        const double eps = 1e-6;
        double worstFrozen = 0, worstFull = 0;
        const std::pair<at::Tensor*, at::Tensor> checks[] = {{&A, layer.lora_A->weight.grad()},
                                                             {&B, layer.lora_B->weight.grad()},
                                                             {&mag, layer.lora_magnitude_vector.grad()}};
        for (const auto& [tensor, grad] : checks) {
            for (int64_t j = 0; j < tensor->numel(); ++j) {
                at::Tensor plus = tensor->clone(), minus = tensor->clone();
                plus.view(-1)[j] += eps;
                minus.view(-1)[j] -= eps;
                auto eval = [&](const at::Tensor& t, bool frozen) {
                    const at::Tensor& a = tensor == &A ? t : A;
                    const at::Tensor& bb = tensor == &B ? t : B;
                    const at::Tensor& mm = tensor == &mag ? t : mag;
                    return closedForm(a, bb, mm, frozen ? n0 : rowNorm(W + s * bb.matmul(a)));
                };
                const double an = grad.view(-1)[j].item<double>();
                worstFrozen = std::max(worstFrozen, std::abs((eval(plus, true) - eval(minus, true)) / (2 * eps) - an));
                worstFull = std::max(worstFull, std::abs((eval(plus, false) - eval(minus, false)) / (2 * eps) - an));
            }
        }
        qInfo("DoRA grads vs finite differences: norm held fixed %.3g; norm recomputed %.3g", worstFrozen, worstFull);
        QVERIFY(worstFrozen < 1e-7);
        QVERIFY(worstFull > 1e-4);  // so the check above could tell a detached norm from a live one
    }

    void rsloraScalesByAlphaOverSqrtR()
    {
        model::SkipWeightInit skip;
        auto base = std::make_shared<model::DenseLinearImpl>(8, 6, false);
        base->to(at::kDouble);
        {
            at::NoGradGuard g;
            base->weight.copy_(randomLike(base->weight, 8));
        }
        const at::Tensor x = randomLike(at::empty({3, 8}, at::kDouble), 9);
        for (bool rs : {false, true}) {
            peft::LoraOptions o;
            o.r = 16;
            o.alpha = 8.0;
            o.useRslora = rs;
            o.dtype = at::kDouble;
            peft::LoraLinearImpl layer(base, o);
            const double expected = rs ? 8.0 / 4.0 : 8.0 / 16.0;
            QCOMPARE(layer.scaling(), expected);
            at::NoGradGuard g;
            layer.lora_B->weight.copy_(randomLike(layer.lora_B->weight, 10));
            const at::Tensor A = layer.lora_A->weight, B = layer.lora_B->weight;
            FT_COMPARE_TENSORS(layer.forward(x) - base->forward(x), expected * x.matmul(A.t()).matmul(B.t()), 1e-12);
        }
        CausalLM m = makeModel();
        auto adapter = applyFrozen(m, settingsFor("rslora"));
        QCOMPARE(adapter->configJson()["use_rslora"].get<bool>(), true);
        QCOMPARE(static_cast<peft::LoraAdapter&>(*adapter).layer(0).scaling(), 8.0 / 2.0);
    }

    void dropoutOnlyTouchesTheAdapterPath()
    {
        CausalLM m = makeModel();
        auto s = settingsFor("lora");
        s.loraDropout = 0.5;
        auto adapter = applyFrozen(m, s);
        perturb(*adapter, 500);
        at::manual_seed(18);
        const at::Tensor ids = randomIds(1, 8, 6);
        const at::Tensor evalOut = logits(m, ids);
        FT_COMPARE_TENSORS(logits(m, ids), evalOut, 0.0);  // no dropout outside training
        m->train();
        QVERIFY(maxAbsDiff(logits(m, ids), logits(m, ids)) > 1e-6);  // random masks in training
        adapter->setEnabled(false);
        const at::Tensor trainBase = logits(m, ids);
        m->eval();
        FT_COMPARE_TENSORS(trainBase, logits(m, ids), 0.0);  // the base path has no dropout
    }

    void configJsonHasPeftFields()
    {
        CausalLM m = makeModel();
        auto s = settingsFor("qlora");
        s.targetModules = {"q_proj", "v_proj"};
        auto lora = apply(m, s);
        const auto j = lora->configJson();
        QCOMPARE(lora->peftType(), std::string("LORA"));
        QCOMPARE(j["r"].get<int64_t>(), int64_t(4));
        QCOMPARE(j["lora_alpha"].get<double>(), 8.0);
        QCOMPARE(j["target_modules"], nlohmann::json({"q_proj", "v_proj"}));
        QCOMPARE(j["bias"].get<std::string>(), std::string("none"));
        QCOMPARE(j["use_dora"].get<bool>(), false);
        QCOMPARE(j["quantization"]["method"].get<std::string>(), std::string("nf4"));
        QCOMPARE(j["quantization"]["block_size"].get<int64_t>(), int64_t(64));
        QCOMPARE(j["quantization"]["double_quant"].get<bool>(), true);

        CausalLM m2 = makeModel();
        auto ia3 = apply(m2, settingsFor("ia3"));
        const auto k = ia3->configJson();
        QCOMPARE(ia3->peftType(), std::string("IA3"));
        QCOMPARE(k["target_modules"], nlohmann::json({"k_proj", "v_proj", "down_proj"}));
        QCOMPARE(k["feedforward_modules"], nlohmann::json({"down_proj"}));
        QCOMPARE(k["init_ia3_weights"].get<bool>(), true);
    }

    void trainingLowersTheLoss_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::addColumn<double>("lr");
        QTest::addColumn<double>("minDrop");  // required loss decrease, in nats
        QTest::newRow("lora") << QString("lora") << 1e-2 << 1.0;
        QTest::newRow("dora") << QString("dora") << 1e-2 << 1.0;
        QTest::newRow("qlora") << QString("qlora") << 1e-2 << 1.0;
        QTest::newRow("ia3") << QString("ia3") << 5e-2 << 0.3;
    }
    void trainingLowersTheLoss()
    {
        QFETCH(QString, technique);
        QFETCH(double, lr);
        QFETCH(double, minDrop);
        at::manual_seed(17);  // dropout masks
        CausalLM m = makeModel(at::kFloat);
        auto s = settingsFor(technique.toStdString());
        s.loraDropout = 0.05;
        auto adapter = applyFrozen(m, s);
        m->train();
        std::vector<at::Tensor> params;
        for (auto& [_, t] : adapter->trainableParameters())
            params.push_back(t);
        torch::optim::Adam optimizer(params, torch::optim::AdamOptions(lr));
        const at::Tensor ids = randomIds(4, 16, 7);
        double first = 0, last = 0;
        for (int step = 0; step < 40; ++step) {
            at::Tensor loss = train::causalLmLoss(m->forward(ids), ids);
            optimizer.zero_grad();
            loss.backward();
            optimizer.step();
            (step == 0 ? first : last) = loss.item<double>();
        }
        qInfo("%s: loss %.3f -> %.3f after 40 Adam steps", qPrintable(technique), first, last);
        QVERIFY(std::isfinite(last));
        QVERIFY2(first - last >= minDrop, qPrintable(QString("loss fell by %1 only").arg(first - last)));
    }
};

FT_TEST_MAIN(TestPeftLora)

} // namespace test_peft_lora

#include "test_peft_lora.moc"
