// The registry and adapter files across every technique: applyTechnique by name,
// save in the PEFT layout and load into a fresh model with identical logits (also
// from PEFT's own fields alone, as a folder written by PEFT would be read), several
// adapters on one base switched per request without copying the base weights, and
// the AdaptersDisabled guard that gives the reference model.
#include "io/json_file.h"
#include "peft/adapter_io.h"
#include "peft/registry.h"
#include "peft/target_rules.h"
#include "peft/technique.h"
#include "tensor_compare.h"
#include "test_support.h"
#include "tiny_models.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_peft_registry {

namespace {

ft::model::CausalLM freshModel()
{
    ft::model::CausalLM m(fttest::tinyConfig());
    m->initializeWeights(3);
    m->eval();
    return m;
}

// Moves every trainable tensor away from its neutral initialization.
void perturb(ft::peft::Adapter& a, uint64_t seed)
{
    torch::NoGradGuard noGrad;
    auto gen = at::detail::createCPUGenerator(seed);
    for (auto& [_, t] : a.trainableParameters())
        t.add_(at::normal(0.0, 0.05, t.sizes(), gen).to(t.scalar_type()));
}

ft::peft::PeftSettings settingsFor(const std::string& technique)
{
    ft::peft::PeftSettings s;
    s.technique = technique;
    s.numVirtualTokens = 4;
    s.r = 4;
    s.adapterSize = 8;
    s.encoderHiddenSize = 16;
    if (technique == "lora" || technique == "dora" || technique == "rslora" || technique == "qlora")
        s.targetModules = {"q_proj", "v_proj", "down_proj"};
    if (technique == "ia3")
        s.targetModules = {"k_proj", "v_proj", "down_proj"};
    return s;
}

const at::Tensor kIds = at::tensor({3, 17, 5, 42, 8, 11, 2, 30}, at::kLong).view({2, 4});

} // namespace

class TestPeftRegistry : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void saveLoadRoundTrip_data()
    {
        QTest::addColumn<QString>("technique");
        for (const char* t : {"lora", "dora", "rslora", "qlora", "ia3", "adapter", "prefix", "prompt", "ptuning", "bitfit"})
            QTest::newRow(t) << QString(t);
    }

    void saveLoadRoundTrip()
    {
        QFETCH(QString, technique);
        torch::NoGradGuard noGrad;
        auto model = freshModel();
        auto adapter = ft::peft::applyTechnique(model, settingsFor(technique.toStdString()));
        perturb(*adapter, 5);
        model->eval();
        const at::Tensor expected = model->forward(kIds);
        QTemporaryDir dir;
        ft::peft::saveAdapter(dir.path().toStdString(), *adapter, "tiny");

        auto other = freshModel();
        auto loaded = ft::peft::loadAdapter(dir.path().toStdString(), other);
        QCOMPARE(QString::fromStdString(loaded->settings().technique), technique);
        other->eval();
        FT_COMPARE_TENSORS(other->forward(kIds), expected, 1e-6);
    }

    void peftFieldsAloneSuffice_data()
    {
        QTest::addColumn<QString>("technique");
        for (const char* t : {"lora", "dora", "ia3", "prefix", "prompt"})
            QTest::newRow(t) << QString(t);
    }

    // A folder written by PEFT has no "ftstudio" block: the PEFT fields must be enough.
    void peftFieldsAloneSuffice()
    {
        QFETCH(QString, technique);
        torch::NoGradGuard noGrad;
        auto model = freshModel();
        auto adapter = ft::peft::applyTechnique(model, settingsFor(technique.toStdString()));
        perturb(*adapter, 9);
        model->eval();
        const at::Tensor expected = model->forward(kIds);
        QTemporaryDir dir;
        const std::string path = dir.path().toStdString();
        ft::peft::saveAdapter(path, *adapter, "tiny");
        auto config = ft::io::readJsonFile(path + "/adapter_config.json");
        config.erase("ftstudio");
        ft::io::writeJsonFileAtomic(path + "/adapter_config.json", config);

        auto other = freshModel();
        auto loaded = ft::peft::loadAdapter(path, other);
        other->eval();
        FT_COMPARE_TENSORS(other->forward(kIds), expected, 1e-6);
    }

    // PEFT's values are held to our ranges when the folder is read, naming the file and
    // the field, instead of failing later in a tuner or the trainer; what is fine reads.
    void peftFieldsAreCheckedWhenRead()
    {
        const nlohmann::json lora = {{"peft_type", "LORA"}, {"r", 16}, {"lora_alpha", 32}, {"lora_dropout", 0.1},
                                     {"target_modules", {"q_proj", "v_proj"}}, {"task_type", "CAUSAL_LM"}};
        const ft::peft::PeftSettings s = ft::peft::adapterSettingsFromConfig(lora, "x/adapter_config.json");
        QCOMPARE(s.technique, std::string("lora"));
        QCOMPARE(s.r, int64_t(16));
        QCOMPARE(s.loraAlpha, 32.0);
        QCOMPARE(s.targetModules, (std::vector<std::string>{"q_proj", "v_proj"}));

        const auto refused = [](const nlohmann::json& j) {
            return fttest::errorOf([&] { ft::peft::adapterSettingsFromConfig(j, "x/adapter_config.json"); });
        };
        nlohmann::json bad = lora;
        bad["r"] = 0;
        QString err = refused(bad);
        QVERIFY2(err.startsWith("x/adapter_config.json: invalid value") && err.contains("r: must be"), qPrintable(err));
        bad = lora;
        bad["lora_dropout"] = 2.0;
        err = refused(bad);
        QVERIFY2(err.contains("lora_dropout"), qPrintable(err));
        bad = {{"peft_type", "PREFIX_TUNING"}, {"num_virtual_tokens", -3}};
        err = refused(bad);
        QVERIFY2(err.contains("num_virtual_tokens"), qPrintable(err));
        // Found by fuzz_adapter_config: 1.2e65 was cast to an integer (undefined behaviour)
        // and 13.7 silently became 13.
        for (const double r : {1.2e65, 13.7}) {
            bad = lora;
            bad["r"] = r;
            err = refused(bad);
            QVERIFY2(err.contains("x/adapter_config.json: field 'r' must be an integer, found"), qPrintable(err));
        }
        bad = lora;
        bad["r"] = uint64_t(1) << 63;  // past int64's range
        QVERIFY2(refused(bad).contains("field 'r' must be an integer"), qPrintable(refused(bad)));
        err = refused({{"peft_type", "LOHA"}, {"r", 8}});
        QVERIFY2(err.contains("peft_type 'LOHA' is not supported") && err.contains("LORA"), qPrintable(err));
        err = refused(nlohmann::json::array({1, 2}));
        QVERIFY2(err.contains("x/adapter_config.json: not a JSON object"), qPrintable(err));
    }

    // target_modules as one string is a regular expression over the module path, from a
    // file the user may have downloaded. Found by fuzz_adapter_config: a backreference
    // number past 2^63 overflowed inside libstdc++'s std::regex parser (UBSan); and a
    // pattern that backtracks exponentially hung std::regex (Python's re, PEFT's, takes
    // 7 s on this one and doubles with each character of the path). PCRE2 reads the
    // first as Python does and ends the second at its match limit with an error.
    void hostileTargetRegexIsRefused()
    {
        const std::string path = "model.layers.0.self_attn.q_proj";
        const QString runaway = fttest::errorOf(
            [&] { ft::peft::matchesTarget(path, "q_proj", {"(?:[a-z._0-9]+)+[A-Z]"}); });
        QVERIFY2(runaway.startsWith("target_modules: matching the regular expression") &&
                     runaway.contains("limit") && runaway.contains("simplify the pattern"),
                 qPrintable(runaway));
        // PCRE2 reads \111 as an octal escape ('I', as Python's re does) and the digits after
        // it as literals: a pattern that matches nothing here, not an overflow.
        QVERIFY(!ft::peft::matchesTarget(path, "q_proj", {"model\\11111111111111111111111111111(q_proj)"}));
        const QString broken = fttest::errorOf([&] { ft::peft::matchesTarget(path, "q_proj", {"model\\.(q_proj"}); });
        QVERIFY2(broken.startsWith("target_modules: the regular expression") && broken.contains("does not compile"),
                 qPrintable(broken));
        // Python's syntax, as PEFT's re.fullmatch reads it.
        QVERIFY(ft::peft::matchesTarget(path, "q_proj", {"model\\.layers\\.(?P<n>\\d+)\\.self_attn\\.(q|v)_proj"}));
        QVERIFY(!ft::peft::matchesTarget(path, "q_proj", {"layers\\.0\\..*v_proj"}));
        QVERIFY(!ft::peft::matchesTarget(path, "q_proj", {".*self_attn"}));  // whole path, not a search
    }

    // LoRA+ is LoRA's tuner with another optimizer: its adapter is a LORA folder that
    // reads back as LoRA+ with its ratio, and loads on LoRA's tuner.
    void loraPlusFolderReadsBackAsLoraPlus()
    {
        torch::NoGradGuard noGrad;
        auto model = freshModel();
        ft::peft::PeftSettings s = settingsFor("loraplus");
        s.extra["loraplus_lr_ratio"] = 4.0;
        auto adapter = ft::peft::applyTechnique(model, s);
        perturb(*adapter, 5);
        model->eval();
        const at::Tensor expected = model->forward(kIds);
        QTemporaryDir dir;
        ft::peft::saveAdapter(dir.path().toStdString(), *adapter, "tiny");
        QCOMPARE(ft::peft::readAdapterConfig(dir.path().toStdString())["peft_type"].get<std::string>(),
                 std::string("LORA"));
        const ft::peft::PeftSettings back = ft::peft::readAdapterSettings(dir.path().toStdString());
        QCOMPARE(back.technique, std::string("loraplus"));
        QCOMPARE(back.extra["loraplus_lr_ratio"].get<double>(), 4.0);
        auto other = freshModel();
        auto loaded = ft::peft::loadAdapter(dir.path().toStdString(), other);
        other->eval();
        FT_COMPARE_TENSORS(other->forward(kIds), expected, 1e-6);
    }

    void adapterForAnotherModelIsRefused()
    {
        auto model = freshModel();
        auto adapter = ft::peft::applyTechnique(model, settingsFor("lora"));
        QTemporaryDir dir;
        ft::peft::saveAdapter(dir.path().toStdString(), *adapter, "tiny");
        auto config = fttest::tinyConfig();
        config.hiddenSize = 48;
        config.headDim = 12;
        ft::model::CausalLM wider(config);
        const QString err = fttest::errorOf([&] { ft::peft::loadAdapter(dir.path().toStdString(), wider); });
        QVERIFY2(err.contains("adapter_model.safetensors") && err.contains("lora_A"), qPrintable(err));
    }

    void severalAdaptersSwitchPerRequest()
    {
        torch::NoGradGuard noGrad;
        auto model = freshModel();
        const at::Tensor base = model->forward(kIds);
        auto* q = model->model->layer(0).self_attn->projection("v_proj")->as<ft::model::DenseLinearImpl>();
        QVERIFY(q);
        const void* baseStorage = q->weight.data_ptr();

        auto a = ft::peft::applyTechnique(model, settingsFor("lora"), "a");
        perturb(*a, 1);
        auto b = ft::peft::applyTechnique(model, settingsFor("ia3"), "b");
        perturb(*b, 2);
        auto c = ft::peft::applyTechnique(model, settingsFor("prompt"), "c");
        perturb(*c, 3);
        model->eval();

        auto only = [&](ft::peft::Adapter* on) {
            for (auto* x : {a.get(), b.get(), c.get()})
                x->setEnabled(x == on);
            return model->forward(kIds);
        };
        const at::Tensor la = only(a.get()), lb = only(b.get()), lc = only(c.get());
        const at::Tensor none = only(nullptr);
        FT_COMPARE_TENSORS(none, base, 0.0);
        QVERIFY((la - base).abs().max().item<double>() > 1e-4);
        QVERIFY((lb - base).abs().max().item<double>() > 1e-4);
        QVERIFY((lc - base).abs().max().item<double>() > 1e-4);
        QVERIFY((la - lb).abs().max().item<double>() > 1e-4);
        FT_COMPARE_TENSORS(only(a.get()), la, 0.0);  // switching back gives the same answer

        // The base weights are shared, never copied: v_proj, wrapped by LoRA and then IA3, still holds them.
        const at::Tensor stillBase = model->model->layer(0).self_attn->projection("v_proj")->named_parameters()
                                         ["base_layer.base_layer.weight"];
        QCOMPARE(stillBase.data_ptr(), baseStorage);

        // The reference model: everything off inside the guard, back on after it.
        for (auto* x : {a.get(), b.get(), c.get()})
            x->setEnabled(true);
        const at::Tensor all = model->forward(kIds);
        {
            ft::peft::AdaptersDisabled reference({a.get(), b.get(), c.get()});
            FT_COMPARE_TENSORS(model->forward(kIds), base, 0.0);
        }
        FT_COMPARE_TENSORS(model->forward(kIds), all, 0.0);
    }

    void estimateCountsWhatApplyTrains_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::addColumn<QString>("variant");
        QTest::addColumn<int>("arch");
        for (const ft::peft::Technique* t : ft::peft::techniques())
            for (ft::model::Arch arch : ft::model::registeredArchs())
                QTest::newRow((t->name + "/" + ft::model::archName(arch)).c_str())
                    << QString::fromStdString(t->name) << QString() << int(arch);
        QTest::newRow("lora regex") << "lora" << "regex" << 0;
        QTest::newRow("lora all-linear") << "lora" << "all-linear" << 0;
        QTest::newRow("ia3 ff") << "ia3" << "feedforward" << 0;
        QTest::newRow("bitfit qwen2 q/o") << "bitfit" << "q_proj,o_proj" << int(ft::model::Arch::Qwen2);
        QTest::newRow("adapter pfeiffer") << "adapter" << "pfeiffer" << 0;
        QTest::newRow("prefix projection") << "prefix" << "projection" << 0;
        QTest::newRow("ptuning lstm") << "ptuning" << "lstm" << 0;
        QTest::newRow("freeze embeddings") << "freeze" << "embeddings" << 0;
        QTest::newRow("freeze tied head") << "freeze" << "head" << int(ft::model::Arch::Qwen2);
    }

    // The count a technique declares from the shapes alone (what `train --estimate` and
    // the GUI show before a run) equals what applying it to a model makes trainable.
    void estimateCountsWhatApplyTrains()
    {
        QFETCH(QString, technique);
        QFETCH(QString, variant);
        QFETCH(int, arch);
        const auto config = fttest::tinyConfig(ft::model::Arch(arch));
        ft::peft::PeftSettings s = settingsFor(technique.toStdString());
        if (variant == "regex")
            s.targetModules = {R"(model\.layers\.1\..*_proj)"};
        else if (variant == "all-linear")
            s.targetModules = {"all-linear"};
        else if (variant == "feedforward")
            s.feedforwardModules = {"down_proj", "v_proj"};
        else if (variant == "q_proj,o_proj")
            s.targetModules = {"q_proj", "o_proj"};
        else if (variant == "pfeiffer")
            s.adapterPlacement = "pfeiffer";
        else if (variant == "projection")
            s.prefixProjection = true;
        else if (variant == "lstm")
            s.encoderType = "lstm";
        else if (variant == "embeddings")
            s.trainEmbeddings = true;
        else if (variant == "head")
            s.trainLmHead = true;
        s.trainableLayers = 1;
        const ft::peft::TechniqueEstimate e = ft::peft::technique(s.technique).estimate(config, s);

        ft::model::CausalLM model(config);
        int64_t before = 0;
        for (const auto& p : model->parameters())
            before += p.numel();
        auto adapter = ft::peft::applyTechnique(model, s);
        int64_t after = 0, trainable = 0;
        for (const auto& p : model->parameters()) {
            after += p.numel();
            trainable += p.requires_grad() ? p.numel() : 0;
        }
        QCOMPARE(before, config.parameterCount());
        QCOMPARE(e.added + e.trainedInPlace, trainable);
        // QLoRA's NF4 projections leave the parameters (they are packed buffers).
        QCOMPARE(e.added, after - before + e.quantizedParameters);
        if (s.technique == "qlora") {  // every decoder projection is stored in NF4, at about 4.1 bits
            const int64_t C = config.hiddenSize, F = config.intermediateSize,
                          QD = config.numAttentionHeads * config.headDim, KD = config.numKeyValueHeads * config.headDim;
            int64_t expected = 0;  // attention, then the MLP or every expert (a router stays dense)
            for (int64_t i = 0; i < config.numHiddenLayers; ++i)
                expected += 2 * C * QD + 2 * C * KD +
                            (config.layerIsSparse(i) ? config.numExperts * 3 * C * config.moeIntermediateSize : 3 * C * F);
            QCOMPARE(e.quantizedParameters, expected);
            QVERIFY(e.quantizedBytesPerParameter > 0.5 && e.quantizedBytesPerParameter < 0.52);
        }
    }

    void unknownTechniqueListsTheKnownOnes()
    {
        auto model = freshModel();
        ft::peft::PeftSettings s;
        s.technique = "loar";
        const QString err = fttest::errorOf([&] { ft::peft::applyTechnique(model, s); });
        QVERIFY2(err.contains("loar") && err.contains("lora") && err.contains("ptuning"), qPrintable(err));
    }
};

FT_TEST_MAIN(TestPeftRegistry)

} // namespace test_peft_registry

#include "test_peft_registry.moc"
