// Multimodal folders whose language model the studio runs (Gemma3ForConditionalGeneration):
// config.json's text_config over Gemma3TextConfig's defaults, the text weights under
// both layouts transformers has saved (language_model.model.* before 4.52,
// model.language_model.* since), the vision tower left on disk and written back byte
// for byte with a merged model, and adapters under PEFT's multimodal key names.
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model_config.h"
#include "model/model_io.h"
#include "peft/adapter_io.h"
#include "peft/registry.h"
#include "tensor_compare.h"
#include "test_support.h"
#include "tiny_models.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <regex>

namespace test_multimodal {

using namespace ft::model;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

at::Tensor logitsOf(CausalLM& m)
{
    torch::NoGradGuard g;
    at::Tensor ids = at::arange(3, 27, at::kLong).remainder(m->config().vocabSize).view({2, 12});
    return m->forward(ids);
}

// What a Gemma 3 4B config.json looks like, scaled down: text_config states only what
// differs from Gemma3TextConfig's defaults (activation, RoPE bases, norms' epsilon and
// tying come from them), the whole model's eos ids sit at the top.
json multimodalConfig(const ModelConfig& c)
{
    return json{{"architectures", {"Gemma3ForConditionalGeneration"}},
                {"model_type", "gemma3"},
                {"boi_token_index", 55},
                {"image_token_index", 60},
                {"mm_tokens_per_image", 4},
                {"eos_token_id", {1, 57}},
                {"torch_dtype", "float32"},
                {"text_config",
                 {{"model_type", "gemma3_text"},
                  {"vocab_size", c.vocabSize},
                  {"hidden_size", c.hiddenSize},
                  {"intermediate_size", c.intermediateSize},
                  {"num_hidden_layers", c.numHiddenLayers},
                  {"num_attention_heads", c.numAttentionHeads},
                  {"num_key_value_heads", c.numKeyValueHeads},
                  {"head_dim", c.headDim},
                  {"query_pre_attn_scalar", c.queryPreAttnScalar},
                  {"max_position_embeddings", c.maxPositionEmbeddings},
                  {"sliding_window", *c.slidingWindow},
                  {"sliding_window_pattern", 2}}},
                {"vision_config", {{"model_type", "siglip_vision_model"}, {"hidden_size", 8}}}};
}

// The tiny text model written as a multimodal folder in `layout`, with two vision tensors.
void writeMultimodalFolder(const std::string& dir, CausalLM& m, TextLayout layout)
{
    fs::create_directories(dir);
    std::vector<at::Tensor> keep;
    std::vector<ft::io::TensorToWrite> tensors;
    for (auto& p : m->named_parameters()) {
        keep.push_back(p.value().detach().contiguous());
        tensors.push_back({storedTensorName(p.key(), layout), ft::io::DType::F32, keep.back().sizes().vec(),
                           keep.back().data_ptr(), keep.back().nbytes()});
    }
    const std::string vision = layout == TextLayout::LegacyMultimodal ? "" : "model.";
    keep.push_back(at::arange(0, 48, at::kFloat).view({4, 12}).to(at::kBFloat16));
    tensors.push_back({vision + "vision_tower.vision_model.embeddings.patch_embedding.weight", ft::io::DType::BF16,
                       {4, 12}, keep.back().data_ptr(), keep.back().nbytes()});
    keep.push_back(at::linspace(-1, 1, 16, at::kFloat).view({2, 8}));
    tensors.push_back({vision + "multi_modal_projector.mm_input_projection_weight", ft::io::DType::F32, {2, 8},
                       keep.back().data_ptr(), keep.back().nbytes()});
    ft::io::writeSafetensors(dir + "/model.safetensors", tensors);
    ft::io::writeJsonFileAtomic(dir + "/config.json", multimodalConfig(m->config()));
    ft::io::writeJsonFileAtomic(dir + "/preprocessor_config.json", json{{"image_seq_length", 4}});
}

ModelConfig tinyGemma3()
{
    ModelConfig c = fttest::tinyConfig(Arch::Gemma3Text);
    c.ropeTheta = 1e6;  // Gemma3TextConfig's defaults, which the folder leaves out
    c.ropeLocalTheta = 10000;
    return c;
}

} // namespace

class TestMultimodal : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void textConfigFillsInTheDefaults()
    {
        const ModelConfig c = parseModelConfig(multimodalConfig(tinyGemma3()), "config.json");
        QCOMPARE(c.arch, Arch::Gemma3Text);
        QCOMPARE(c.multimodalType, std::string("gemma3"));
        QCOMPARE(c.hiddenAct, std::string("gelu_pytorch_tanh"));
        QCOMPARE(c.ropeTheta, 1e6);
        QCOMPARE(*c.ropeLocalTheta, 10000.0);
        QVERIFY(c.tieWordEmbeddings);
        QCOMPARE(c.eosTokenIds, (std::vector<int64_t>{1, 57}));  // the whole model's, from the top level
        QCOMPARE(c.slidingLayers, (std::vector<bool>{true, false}));
        // The 4B model's own text_config: the rest is Gemma3TextConfig's defaults.
        const json real = json::parse(R"({"architectures": ["Gemma3ForConditionalGeneration"], "model_type": "gemma3",
            "eos_token_id": [1, 106], "torch_dtype": "bfloat16",
            "text_config": {"hidden_size": 2560, "intermediate_size": 10240, "model_type": "gemma3_text",
                            "num_hidden_layers": 34, "rope_scaling": {"factor": 8.0, "rope_type": "linear"},
                            "sliding_window": 1024}})");
        const ModelConfig g = parseModelConfig(real, "config.json");
        QCOMPARE(g.vocabSize, int64_t(262208));
        QCOMPARE(g.numAttentionHeads, int64_t(8));
        QCOMPARE(g.numKeyValueHeads, int64_t(4));
        QCOMPARE(g.headDim, int64_t(256));
        QCOMPARE(g.queryPreAttnScalar, 256.0);
        QCOMPARE(g.ropeScaling.type, std::string("linear"));
        QCOMPARE(g.torchDtype, std::string("bfloat16"));
        int64_t global = 0;
        for (int64_t i = 0; i < g.numHiddenLayers; ++i)
            global += g.layerIsSliding(i) ? 0 : 1;
        QCOMPARE(global, int64_t(5));  // every sixth of 34 layers
        // The 4B model has 3.88 B text parameters (262208 x 2560 embeddings, tied).
        QVERIFY(std::abs(double(g.parameterCount()) - 3.88e9) < 0.01e9);
    }

    void configErrorsNameTextConfig()
    {
        json j = multimodalConfig(tinyGemma3());
        j.erase("text_config");
        QVERIFY(fttest::errorOf([&] { parseModelConfig(j, "mm/config.json"); })
                    .contains("mm/config.json: a Gemma3ForConditionalGeneration folder needs a 'text_config' object"));
        j = multimodalConfig(tinyGemma3());
        j["text_config"]["num_key_value_heads"] = 3;
        QVERIFY(fttest::errorOf([&] { parseModelConfig(j, "mm/config.json"); })
                    .contains("mm/config.json text_config: num_attention_heads (4) must be a multiple of num_key_value_heads (3)"));
    }

    void loadsBothLayoutsAndWritesTheWholeModelBack_data()
    {
        QTest::addColumn<int>("layout");
        QTest::newRow("language_model.model (transformers < 4.52)") << int(TextLayout::LegacyMultimodal);
        QTest::newRow("model.language_model (4.52+)") << int(TextLayout::Multimodal);
    }
    void loadsBothLayoutsAndWritesTheWholeModelBack()
    {
        QFETCH(int, layout);
        CausalLM m(tinyGemma3());
        m->initializeWeights(5);
        m->eval();
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString() + "/gemma3-mm", out = tmp.path().toStdString() + "/merged";
        writeMultimodalFolder(dir, m, TextLayout(layout));

        LoadedModel loaded = loadModelFolder(dir);
        QVERIFY(loaded.config.isMultimodal());
        QVERIFY(loaded.ignoredTensors.empty());
        QCOMPARE(loaded.otherModalityTensors, int64_t(2));
        QCOMPARE(loaded.generation.eosTokenIds, (std::vector<int64_t>{1, 57}));
        FT_COMPARE_TENSORS(logitsOf(loaded.model), logitsOf(m), 1e-6);

        // Written back: the same layout, the base's config.json and processor file, the
        // vision tensors byte for byte; and it loads to the same model.
        saveModelFolder(out, loaded.model, loaded.generation, at::kFloat, int64_t(1) << 30, dir);
        const json written = ft::io::readJsonFile(out + "/config.json");
        QCOMPARE(written["architectures"][0].get<std::string>(), std::string("Gemma3ForConditionalGeneration"));
        QCOMPARE(written["vision_config"], multimodalConfig(m->config())["vision_config"]);
        QVERIFY(fs::exists(out + "/preprocessor_config.json"));
        const auto before = ft::io::SafetensorsCheckpoint::open(dir), after = ft::io::SafetensorsCheckpoint::open(out);
        QCOMPARE(after.names(), before.names());
        for (const std::string& n : before.names()) {
            if (isTextTensor(n, TextLayout(layout)))
                continue;
            const auto &a = before.get(n), &b = after.get(n);
            QCOMPARE(int(b.dtype), int(a.dtype));
            QCOMPARE(b.nbytes, a.nbytes);
            QVERIFY(std::memcmp(a.data, b.data, a.nbytes) == 0);
        }
        LoadedModel again = loadModelFolder(out);
        FT_COMPARE_TENSORS(logitsOf(again.model), logitsOf(m), 1e-6);
        QVERIFY(fttest::errorOf([&] { saveModelFolder(out + "2", loaded.model, loaded.generation); })
                    .contains("saved together with its base folder"));
    }

    void adaptersCarryPeftsMultimodalNames()
    {
        CausalLM m(tinyGemma3());
        m->initializeWeights(9);
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString() + "/gemma3-mm", adapterDir = tmp.path().toStdString() + "/adapter";
        writeMultimodalFolder(dir, m, TextLayout::LegacyMultimodal);
        LoadedModel loaded = loadModelFolder(dir);
        ft::peft::PeftSettings s;
        s.technique = "lora";
        s.r = 2;
        s.loraAlpha = 4;
        s.targetModules = {"q_proj", "down_proj"};
        auto adapter = ft::peft::applyTechnique(loaded.model, s);
        {
            torch::NoGradGuard g;
            int64_t i = 0;
            for (auto& [name, t] : adapter->trainableParameters())
                t.copy_(at::sin(at::arange(0, t.numel(), at::kFloat).view(t.sizes()) + double(i++)) * 0.2);
        }
        loaded.model->eval();
        const at::Tensor tuned = logitsOf(loaded.model);
        ft::peft::saveAdapter(adapterDir, *adapter, dir);

        // PEFT's names inside Gemma3ForConditionalGeneration (transformers 4.52+).
        const auto file = ft::io::SafetensorsFile::open(adapterDir + "/adapter_model.safetensors");
        QVERIFY(file.find("base_model.model.model.language_model.layers.1.self_attn.q_proj.lora_A.weight"));
        QVERIFY(file.find("base_model.model.model.language_model.layers.0.mlp.down_proj.lora_B.weight"));
        QCOMPARE(int64_t(file.tensors().size()), int64_t(8));
        // target_modules: a regular expression that PEFT fully matches against module
        // paths, naming the language model's projections and not the vision tower's.
        const json config = ft::io::readJsonFile(adapterDir + "/adapter_config.json");
        QVERIFY(config["target_modules"].is_string());
        const std::regex targets(config["target_modules"].get<std::string>());
        QVERIFY(std::regex_match("model.language_model.layers.3.self_attn.q_proj", targets));
        QVERIFY(std::regex_match("model.language_model.layers.0.mlp.down_proj", targets));
        QVERIFY(!std::regex_match("model.language_model.layers.0.self_attn.k_proj", targets));
        QVERIFY(!std::regex_match("model.vision_tower.vision_model.encoder.layers.0.self_attn.q_proj", targets));
        QVERIFY(!std::regex_match("model.language_model.layers.0.self_attn.q_proj.lora_A", targets));

        // Back on a fresh load: the same logits, from the file we wrote and from one
        // with the key names PEFT used before transformers 4.52.
        LoadedModel fresh = loadModelFolder(dir);
        ft::peft::loadAdapter(adapterDir, fresh.model);
        fresh.model->eval();
        FT_COMPARE_TENSORS(logitsOf(fresh.model), tuned, 1e-5);

        std::vector<at::Tensor> keep;
        std::vector<ft::io::TensorToWrite> legacy;
        for (const auto& v : file.tensors()) {
            const std::string name = "base_model.model.language_model.model." + v.name.substr(std::string("base_model.model.model.language_model.").size());
            keep.push_back(tensorFromView(v, at::kFloat));
            legacy.push_back({name, ft::io::DType::F32, v.shape, keep.back().data_ptr(), keep.back().nbytes()});
        }
        const std::string legacyDir = tmp.path().toStdString() + "/legacy-adapter";
        fs::create_directories(legacyDir);
        fs::copy_file(adapterDir + "/adapter_config.json", legacyDir + "/adapter_config.json");
        ft::io::writeSafetensors(legacyDir + "/adapter_model.safetensors", legacy);
        LoadedModel third = loadModelFolder(dir);
        ft::peft::loadAdapter(legacyDir, third.model);
        third.model->eval();
        FT_COMPARE_TENSORS(logitsOf(third.model), tuned, 1e-5);
    }
};

FT_TEST_MAIN(TestMultimodal)

} // namespace test_multimodal

#include "test_multimodal.moc"
