// Bottleneck adapters, BitFit, freeze and full fine-tuning against independent
// references: the base model's own output (adapters unchanged at init, disabled,
// unmerged), a hand-computed adapter MLP, merged-vs-unmerged equality, parameter
// counts from the shapes, and short training runs that must lower the loss.
#include "model/llama.h"
#include "peft/bitfit.h"
#include "peft/bottleneck_adapter.h"
#include "peft/selective.h"
#include "peft/targets.h"
#include "tensor_compare.h"
#include "test_support.h"
#include "tiny_models.h"
#include "train/lm_loss.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <set>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_peft_selective {

using namespace ft;
using ft::model::Arch;
using ft::model::CausalLM;

namespace {

CausalLM makeModel(const model::ModelConfig& c, c10::ScalarType dtype = at::kDouble, uint64_t seed = 11)
{
    CausalLM m(c);
    m->initializeWeights(seed);
    torch::NoGradGuard g;
    auto gen = at::detail::createCPUGenerator(seed + 1);
    for (auto& p : m->named_parameters()) {
        if (p.value().dim() >= 2)
            p.value().mul_(8.0);
        else if (p.key().find(".bias") != std::string::npos)  // Qwen2's q/k/v biases: not zero, so they count
            p.value().copy_(at::normal(0.0, 0.5, p.value().sizes(), gen));
    }
    m->to(dtype);
    m->eval();
    return m;
}

at::Tensor batch(uint64_t seed = 21)
{
    auto gen = at::detail::createCPUGenerator(seed);
    return at::randint(61, {4, 12}, gen, at::kLong);
}

at::Tensor logits(CausalLM& m, const at::Tensor& ids)
{
    torch::NoGradGuard g;
    return m->forward(ids);
}

double lossOf(CausalLM& m, const at::Tensor& ids)
{
    torch::NoGradGuard g;
    return train::causalLmLoss(m->forward(ids), ids).item<double>();
}

double trainAdapter(CausalLM& m, peft::Adapter& a, const at::Tensor& ids, int steps, double lr)
{
    std::vector<at::Tensor> params;
    for (auto& [_, t] : a.trainableParameters())
        params.push_back(t);
    torch::optim::Adam opt(params, torch::optim::AdamOptions(lr));
    m->train();
    for (int i = 0; i < steps; ++i) {
        at::Tensor loss = train::causalLmLoss(m->forward(ids), ids);
        opt.zero_grad();
        loss.backward();
        opt.step();
    }
    m->eval();
    return lossOf(m, ids);
}

void perturb(peft::Adapter& a, uint64_t seed)
{
    torch::NoGradGuard g;
    auto gen = at::detail::createCPUGenerator(seed);
    for (auto& [_, t] : a.trainableParameters())
        t.add_(at::normal(0.0, 0.3, t.sizes(), gen).to(t.scalar_type()));
}

int64_t countOf(const peft::NamedTensors& tensors)
{
    int64_t n = 0;
    for (auto& [_, t] : tensors)
        n += t.numel();
    return n;
}

std::set<std::string> requiringGrad(CausalLM& m)
{
    std::set<std::string> names;
    for (auto& p : m->named_parameters())
        if (p.value().requires_grad())
            names.insert(p.key());
    return names;
}

std::set<std::string> namesOf(const peft::NamedTensors& tensors)
{
    std::set<std::string> names;
    for (auto& [k, _] : tensors)
        names.insert(k);
    return names;
}

std::map<std::string, at::Tensor> fileOf(peft::Adapter& a)
{
    std::map<std::string, at::Tensor> file;
    for (auto& [k, t] : a.stateDict())
        file[k] = t.clone();
    return file;
}

peft::PeftSettings bottleneckSettings(const std::string& placement)
{
    peft::PeftSettings s;
    s.technique = "adapter";
    s.adapterSize = 4;
    s.adapterPlacement = placement;
    s.seed = 5;
    return s;
}

} // namespace

class TestPeftSelective : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    // ---- Bottleneck adapters --------------------------------------------------------

    void bottleneckStartsAsTheBase_data()
    {
        QTest::addColumn<QString>("placement");
        QTest::addColumn<int>("arch");
        QTest::addColumn<qint64>("sites");
        for (Arch a : {Arch::Llama, Arch::Qwen2}) {
            QTest::addRow("houlsby-%s", model::archName(a)) << "houlsby" << int(a) << qint64(4);
            QTest::addRow("pfeiffer-%s", model::archName(a)) << "pfeiffer" << int(a) << qint64(2);
        }
    }
    void bottleneckStartsAsTheBase()
    {
        QFETCH(QString, placement);
        QFETCH(int, arch);
        QFETCH(qint64, sites);
        CausalLM m = makeModel(fttest::tinyConfig(Arch(arch)));
        const at::Tensor ids = batch();
        const at::Tensor base = logits(m, ids);
        peft::freezeAll(*m);
        auto adapter = peft::applyBottleneckAdapter(m, bottleneckSettings(placement.toStdString()), "default", {});
        FT_COMPARE_TENSORS(logits(m, ids), base, 0.0);  // up is zero: exactly the base

        const int64_t c = 32, s = 4;
        QCOMPARE(countOf(adapter->trainableParameters()), sites * (c * s + s + s * c + c));
        QVERIFY(requiringGrad(m) == namesOf(adapter->trainableParameters()));
        QVERIFY(namesOf(adapter->trainableParameters()).count("model.layers.1.mlp.down_proj.adapter_up.weight"));
        QCOMPARE(namesOf(adapter->trainableParameters()).count("model.layers.1.self_attn.o_proj.adapter_up.weight"),
                 size_t(placement == "houlsby"));
        const auto config = adapter->configJson();
        QCOMPARE(config["peft_type"].get<std::string>(), std::string("BOTTLENECK_ADAPTER"));
        QVERIFY(!adapter->canMerge());
        QVERIFY(!fttest::errorOf([&] { adapter->merge(); }).isEmpty());
    }

    void bottleneckComputesResidualMlp()
    {
        CausalLM m = makeModel(fttest::tinyConfig());
        auto dense = std::dynamic_pointer_cast<model::DenseLinearImpl>(m->model->layer(0).mlp->down_proj);
        peft::PeftSettings s = bottleneckSettings("pfeiffer");
        s.adapterActivation = "gelu";
        auto adapter = peft::applyBottleneckAdapter(m, s, "default", {});
        perturb(*adapter, 6);
        std::map<std::string, at::Tensor> w = fileOf(*adapter);
        const std::string p = "base_model.model.model.layers.0.mlp.down_proj.";
        auto gen = at::detail::createCPUGenerator(8);
        at::Tensor x = at::normal(0.0, 1.0, {3, 48}, gen).to(at::kDouble);
        torch::NoGradGuard g;
        at::Tensor y = at::matmul(x, dense->weight.t());
        at::Tensor hidden = at::gelu(at::matmul(y, w.at(p + "adapter_down.weight").t()) + w.at(p + "adapter_down.bias"));
        at::Tensor expected = y + at::matmul(hidden, w.at(p + "adapter_up.weight").t()) + w.at(p + "adapter_up.bias");
        FT_COMPARE_TENSORS(m->model->layer(0).mlp->down_proj->forward(x), expected, 1e-10);
        adapter->setEnabled(false);
        FT_COMPARE_TENSORS(m->model->layer(0).mlp->down_proj->forward(x), y, 1e-12);
    }

    void bottleneckSavesAndLoads()
    {
        CausalLM a = makeModel(fttest::tinyConfig()), b = makeModel(fttest::tinyConfig());
        auto saved = peft::applyBottleneckAdapter(a, bottleneckSettings("houlsby"), "default", {});
        perturb(*saved, 7);
        auto loaded = peft::applyBottleneckAdapter(b, bottleneckSettings("houlsby"), "default", {});
        loaded->loadStateDict(fileOf(*saved), "adapter_model.safetensors");
        const at::Tensor ids = batch();
        FT_COMPARE_TENSORS(logits(b, ids), logits(a, ids), 1e-10);

        auto file = fileOf(*saved);
        file.erase("base_model.model.model.layers.1.self_attn.o_proj.adapter_down.bias");
        const QString err = fttest::errorOf([&] { loaded->loadStateDict(file, "x/adapter_model.safetensors"); });
        QVERIFY2(err.contains("x/adapter_model.safetensors") &&
                     err.contains("missing tensor 'base_model.model.model.layers.1.self_attn.o_proj.adapter_down.bias' (4,)"),
                 qPrintable(err));
    }

    void bottleneckTrainingLowersTheLoss_data()
    {
        QTest::addColumn<QString>("placement");
        QTest::newRow("houlsby") << "houlsby";
        QTest::newRow("pfeiffer") << "pfeiffer";
    }
    void bottleneckTrainingLowersTheLoss()
    {
        QFETCH(QString, placement);
        CausalLM m = makeModel(fttest::tinyConfig(), at::kFloat);
        peft::freezeAll(*m);
        auto adapter = peft::applyBottleneckAdapter(m, bottleneckSettings(placement.toStdString()), "default", {});
        const at::Tensor ids = batch();
        const double before = lossOf(m, ids), after = trainAdapter(m, *adapter, ids, 40, 1e-2);
        qInfo("bottleneck %s: loss %.4f -> %.4f", qPrintable(placement), before, after);
        QVERIFY2(after < before - 0.5, qPrintable(QString("loss %1 -> %2").arg(before).arg(after)));
    }

    // ---- BitFit ---------------------------------------------------------------------

    void bitfitTrainsExactlyBiases_data()
    {
        QTest::addColumn<int>("arch");
        QTest::newRow("llama") << int(Arch::Llama);   // no biases: BitFit adds zeros
        QTest::newRow("qwen2") << int(Arch::Qwen2);   // q/k/v biases: BitFit starts from them
    }
    void bitfitTrainsExactlyBiases()
    {
        QFETCH(int, arch);
        CausalLM m = makeModel(fttest::tinyConfig(Arch(arch)));
        const at::Tensor ids = batch();
        const at::Tensor base = logits(m, ids);
        peft::freezeAll(*m);
        peft::PeftSettings s;
        s.technique = "bitfit";
        auto adapter = peft::applyBitFit(m, s, "default", {});
        FT_COMPARE_TENSORS(logits(m, ids), base, 1e-10);

        // Per layer: q (H*D = 32), k and v (K*D = 16 each), o (32), gate and up (48 each), down (32).
        QCOMPARE(countOf(adapter->trainableParameters()), int64_t(2 * (32 + 16 + 16 + 32 + 48 + 48 + 32)));
        QVERIFY(requiringGrad(m) == namesOf(adapter->trainableParameters()));
        for (const std::string& name : requiringGrad(m))
            QVERIFY2(name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0 &&
                         name.find("base_layer") == std::string::npos,
                     name.c_str());
        // The trained bias starts at the base's own (Qwen2) or at zero (Llama).
        const auto file = fileOf(*adapter);
        at::Tensor qBias = file.at("base_model.model.model.layers.0.self_attn.q_proj.bias");
        auto named = m->named_parameters();
        if (Arch(arch) == Arch::Qwen2)
            FT_COMPARE_TENSORS(qBias, named["model.layers.0.self_attn.q_proj.base_layer.bias"], 0.0);
        else
            QCOMPARE(qBias.abs().sum().item<double>(), 0.0);
    }

    void bitfitMergeEqualsUnmergedAndUnmergeRestores_data() { bitfitTrainsExactlyBiases_data(); }
    void bitfitMergeEqualsUnmergedAndUnmergeRestores()
    {
        QFETCH(int, arch);
        CausalLM m = makeModel(fttest::tinyConfig(Arch(arch)));
        const at::Tensor ids = batch();
        const at::Tensor base = logits(m, ids);
        std::set<std::string> baseNames;
        for (auto& p : m->named_parameters())
            baseNames.insert(p.key());
        const model::ModelConfig before = m->config();
        peft::PeftSettings s;
        s.technique = "bitfit";
        auto adapter = peft::applyBitFit(m, s, "default", {});
        perturb(*adapter, 9);
        const at::Tensor unmerged = logits(m, ids);
        QVERIFY((unmerged - base).abs().max().item<double>() > 1e-3);

        QVERIFY(adapter->canMerge());
        adapter->merge();
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 1e-10);
        QVERIFY(m->config().attentionBias && m->config().mlpBias);
        QVERIFY(m->config().attentionOutBias);  // o_proj is among the targets
        QVERIFY(!fttest::errorOf([&] { adapter->setEnabled(false); }).isEmpty());

        adapter->unmerge();
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 1e-10);
        adapter->setEnabled(false);
        FT_COMPARE_TENSORS(logits(m, ids), base, 0.0);  // the base's own biases are untouched
        QCOMPARE(m->config().attentionBias, before.attentionBias);
        QCOMPARE(m->config().attentionOutBias, before.attentionOutBias);
        QCOMPARE(m->config().mlpBias, before.mlpBias);
        // Biases that merge() added are gone again: the base has the tensors it had.
        std::set<std::string> afterNames;
        const std::set<std::string> trained = namesOf(adapter->trainableParameters());
        for (auto& p : m->named_parameters()) {
            if (trained.count(p.key()))
                continue;
            std::string k = p.key();
            if (const size_t at = k.find(".base_layer."); at != std::string::npos)
                k.erase(at, std::string(".base_layer").size());
            afterNames.insert(k);
        }
        QVERIFY(afterNames == baseNames);
    }

    void bitfitMergeDeclaresWholeBiasGroups()
    {
        CausalLM m = makeModel(fttest::tinyConfig(Arch::Llama));
        peft::PeftSettings s;
        s.technique = "bitfit";
        s.targetModules = {"q_proj"};
        auto adapter = peft::applyBitFit(m, s, "default", {});
        perturb(*adapter, 10);
        const at::Tensor ids = batch();
        const at::Tensor unmerged = logits(m, ids);
        adapter->mergeAndUnload(at::kDouble);
        FT_COMPARE_TENSORS(logits(m, ids), unmerged, 1e-10);
        // Llama's attention_bias covers q, k, v and o: all of them now have a bias, the MLP none.
        QVERIFY(m->config().attentionBias && m->config().attentionOutBias && !m->config().mlpBias);
        auto named = m->named_parameters();
        for (const char* p : {"q_proj", "k_proj", "v_proj", "o_proj"})
            QVERIFY2(named.contains(std::string("model.layers.1.self_attn.") + p + ".bias"), p);
        QVERIFY(!named.contains("model.layers.1.mlp.up_proj.bias"));
        QVERIFY(m->model->layer(0).self_attn->q_proj->as<model::DenseLinearImpl>());
        for (auto& p : m->named_parameters())
            QVERIFY2(p.key().find("base_layer") == std::string::npos, p.key().c_str());

        // Qwen2's config cannot declare an o_proj or MLP bias: refused, nothing changed.
        CausalLM q = makeModel(fttest::tinyConfig(Arch::Qwen2));
        peft::PeftSettings all;
        all.technique = "bitfit";
        auto qwen = peft::applyBitFit(q, all, "default", {});
        perturb(*qwen, 11);
        const at::Tensor qBefore = logits(q, ids);
        const QString err = fttest::errorOf([&] { qwen->mergeAndUnload(at::kDouble); });
        QVERIFY2(err.contains("Qwen2ForCausalLM") && err.contains("o_proj"), qPrintable(err));
        QVERIFY(!qwen->merged());
        FT_COMPARE_TENSORS(logits(q, ids), qBefore, 0.0);
    }

    void bitfitSavesAndLoads()
    {
        CausalLM a = makeModel(fttest::tinyConfig(Arch::Qwen2)), b = makeModel(fttest::tinyConfig(Arch::Qwen2));
        peft::PeftSettings s;
        s.technique = "bitfit";
        auto saved = peft::applyBitFit(a, s, "default", {});
        perturb(*saved, 12);
        auto loaded = peft::applyBitFit(b, s, "default", {});
        loaded->loadStateDict(fileOf(*saved), "adapter_model.safetensors");
        const at::Tensor ids = batch();
        FT_COMPARE_TENSORS(logits(b, ids), logits(a, ids), 1e-10);
        QCOMPARE(saved->configJson()["peft_type"].get<std::string>(), std::string("BITFIT"));
    }

    void bitfitTrainingLowersTheLoss()
    {
        CausalLM m = makeModel(fttest::tinyConfig(), at::kFloat);
        peft::freezeAll(*m);
        peft::PeftSettings s;
        s.technique = "bitfit";
        auto adapter = peft::applyBitFit(m, s, "default", {});
        const at::Tensor ids = batch();
        const double before = lossOf(m, ids), after = trainAdapter(m, *adapter, ids, 40, 3e-2);
        qInfo("bitfit: loss %.4f -> %.4f", before, after);
        QVERIFY2(after < before - 0.5, qPrintable(QString("loss %1 -> %2").arg(before).arg(after)));
    }

    // ---- Freeze and full ------------------------------------------------------------

    void freezeTrainsTheLastLayers_data()
    {
        QTest::addColumn<bool>("embeddings");
        QTest::addColumn<bool>("head");
        QTest::newRow("layers") << false << false;
        QTest::newRow("layers+embeddings+head") << true << true;
    }
    void freezeTrainsTheLastLayers()
    {
        QFETCH(bool, embeddings);
        QFETCH(bool, head);
        model::ModelConfig c = fttest::tinyConfig();
        c.numHiddenLayers = 3;
        CausalLM m = makeModel(c, at::kFloat);
        peft::PeftSettings s;
        s.technique = "freeze";
        s.trainableLayers = 1;
        s.trainEmbeddings = embeddings;
        s.trainLmHead = head;
        auto adapter = peft::applyFreeze(m, s, "default", {});
        // One layer: q, o (32x32), k, v (16x32), gate, up, down (32x48), two norms (32).
        const int64_t layer = 2 * 32 * 32 + 2 * 16 * 32 + 3 * 32 * 48 + 2 * 32;
        const int64_t table = 61 * 32;
        QCOMPARE(countOf(adapter->trainableParameters()), layer + (embeddings ? table : 0) + (head ? table : 0));
        QVERIFY(requiringGrad(m) == namesOf(adapter->trainableParameters()));
        for (const std::string& name : namesOf(adapter->trainableParameters()))
            QVERIFY2(name.rfind("model.layers.2.", 0) == 0 || name == "model.embed_tokens.weight" || name == "lm_head.weight",
                     name.c_str());
        QVERIFY(adapter->savesFullModel());
        QVERIFY(!adapter->canMerge());
        const QString err = fttest::errorOf([&] { adapter->setEnabled(false); });
        QVERIFY2(err.contains("no separate base"), qPrintable(err));
        // The whole model under its own names.
        QCOMPARE(countOf(adapter->stateDict()), m->config().parameterCount());
        QVERIFY(namesOf(adapter->stateDict()).count("model.layers.0.self_attn.q_proj.weight"));

        const at::Tensor ids = batch();
        const double before = lossOf(m, ids), after = trainAdapter(m, *adapter, ids, 20, 1e-2);
        qInfo("freeze: loss %.4f -> %.4f", before, after);
        QVERIFY2(after < before - 0.5, qPrintable(QString("loss %1 -> %2").arg(before).arg(after)));
    }

    void fullTrainsEverything()
    {
        CausalLM m = makeModel(fttest::tinyConfig(), at::kFloat);
        peft::freezeAll(*m);
        peft::PeftSettings s;
        s.technique = "full";
        auto adapter = peft::applyFull(m, s, "default", {});
        QCOMPARE(countOf(adapter->trainableParameters()), m->config().parameterCount());
        QCOMPARE(requiringGrad(m).size(), m->named_parameters().size());
        QCOMPARE(adapter->peftType(), std::string("FULL"));

        // Save and load between two models.
        CausalLM other = makeModel(fttest::tinyConfig(), at::kFloat, 99);
        auto target = peft::applyFull(other, s, "default", {});
        target->loadStateDict(fileOf(*adapter), "model.safetensors");
        const at::Tensor ids = batch();
        FT_COMPARE_TENSORS(logits(other, ids), logits(m, ids), 0.0);

        const double before = lossOf(m, ids), after = trainAdapter(m, *adapter, ids, 20, 1e-2);
        qInfo("full: loss %.4f -> %.4f", before, after);
        QVERIFY2(after < before - 0.5, qPrintable(QString("loss %1 -> %2").arg(before).arg(after)));
    }
};

FT_TEST_MAIN(TestPeftSelective)

} // namespace test_peft_selective

#include "test_peft_selective.moc"
