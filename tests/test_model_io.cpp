// Model folders: config.json parsing and its errors, save/load round trips
// (fp32, bf16, tied embeddings, sharded), and the errors a user sees for an
// inconsistent folder, each naming the field or tensor involved.
#include "io/json_file.h"
#include "io/safetensors.h"
#include "model/model_config.h"
#include "model/model_io.h"
#include "tensor_compare.h"
#include "test_support.h"
#include "tiny_models.h"
#include "util/error.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_model_io {

using namespace ft::model;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

json llamaConfigJson()
{
    return json::parse(R"({
        "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
        "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
        "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
        "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "hidden_act": "silu", "tie_word_embeddings": false,
        "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                         "original_max_position_embeddings": 8192, "rope_type": "llama3"},
        "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "torch_dtype": "bfloat16"})");
}

std::string errorOf(const std::function<void()>& f) { return fttest::errorOf(f).toStdString(); }

at::Tensor logitsOf(CausalLM& m)
{
    torch::NoGradGuard g;
    at::Tensor ids = at::arange(0, 12, at::kLong).remainder(m->config().vocabSize).view({2, 6});
    return m->forward(ids);
}

} // namespace

class TestModelIo : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void parsesLlama31Config()
    {
        const ModelConfig c = parseModelConfig(llamaConfigJson(), "config.json");
        QCOMPARE(c.arch, Arch::Llama);
        QCOMPARE(c.numKeyValueHeads, int64_t(8));
        QCOMPARE(c.headDim, int64_t(128));
        QCOMPARE(c.ropeScaling.type, std::string("llama3"));
        QCOMPARE(c.ropeScaling.factor, 8.0);
        QCOMPARE(c.eosTokenId, int64_t(128001));
        QCOMPARE(c.parameterCount(), int64_t(8030261248));  // Llama 3.1 8B, as published
    }

    void parsesQwen2AndMistral()
    {
        json q = json::parse(R"({"architectures": ["Qwen2ForCausalLM"], "vocab_size": 151936, "hidden_size": 896,
            "intermediate_size": 4864, "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2,
            "tie_word_embeddings": true, "use_sliding_window": false, "sliding_window": 32768, "rope_theta": 1000000.0})");
        const ModelConfig c = parseModelConfig(q, "qwen/config.json");
        QVERIFY(c.attentionBias);
        QVERIFY(!c.attentionOutBias);
        QVERIFY(c.tieWordEmbeddings);
        QVERIFY(!c.slidingWindow);
        QCOMPARE(c.parameterCount(), int64_t(494032768));  // Qwen2.5-0.5B, as published
        json m = json::parse(R"({"architectures": ["MistralForCausalLM"], "vocab_size": 32000, "hidden_size": 4096,
            "intermediate_size": 14336, "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
            "sliding_window": 4096})");
        QCOMPARE(parseModelConfig(m, "m").slidingWindow.value_or(0), int64_t(4096));
        // Qwen2 with its per-layer window switched on: full attention when no layer is
        // windowed (max_window_layers >= layers), refused otherwise, never silently wrong.
        q["use_sliding_window"] = true;
        q["max_window_layers"] = 24;
        QVERIFY(!parseModelConfig(q, "qwen/config.json").slidingWindow);
        q["max_window_layers"] = 21;
        const std::string msg = errorOf([&] { parseModelConfig(q, "qwen/config.json"); });
        QVERIFY2(msg.find("qwen/config.json: use_sliding_window is true and max_window_layers (21)") == 0, msg.c_str());
    }

    void configErrorsNameTheField_data()
    {
        QTest::addColumn<QString>("patch");
        QTest::addColumn<QString>("expected");
        QTest::newRow("unknown architecture") << R"({"architectures": ["GPT2LMHeadModel"], "model_type": "gpt2"})"
                                              << "unsupported architecture 'GPT2LMHeadModel'; supported: LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM";
        QTest::newRow("missing field") << R"({"hidden_size": null})" << "required field 'hidden_size' is missing";
        QTest::newRow("wrong type") << R"({"num_hidden_layers": "32"})" << "'num_hidden_layers' must be a positive integer, found \"32\"";
        QTest::newRow("gqa mismatch") << R"({"num_key_value_heads": 5})" << "must be a multiple of num_key_value_heads (5)";
        QTest::newRow("rope type") << R"({"rope_scaling": {"rope_type": "yarn", "factor": 4.0}})" << "rope type 'yarn' is not supported";
        QTest::newRow("activation") << R"({"hidden_act": "gelu"})" << "hidden_act 'gelu' is not supported";
        // Found by fuzz_model_config: a count past int64 (undefined behaviour) and a layer
        // count that built per-layer lists until memory ran out.
        QTest::newRow("overflowing sizes") << R"({"hidden_size": 1099511627776})"
                                           << "its sizes describe a model of more than 2^50 parameters";
        QTest::newRow("absurd layer count") << R"({"num_hidden_layers": 1000000000000000})"
                                            << "num_hidden_layers 1000000000000000 is more than the 65536 supported";
    }
    void configErrorsNameTheField()
    {
        QFETCH(QString, patch);
        QFETCH(QString, expected);
        json j = llamaConfigJson();
        j.merge_patch(json::parse(patch.toStdString()));
        if (j.contains("hidden_size") && j["hidden_size"].is_null())
            j.erase("hidden_size");
        const std::string msg = errorOf([&] { parseModelConfig(j, "/models/x/config.json"); });
        QVERIFY2(msg.find("/models/x/config.json") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find(expected.toStdString()) != std::string::npos, msg.c_str());
    }

    void saveLoadRoundTrip_data()
    {
        QTest::addColumn<int>("arch");
        QTest::addColumn<QString>("dtype");
        for (Arch a : registeredArchs()) {
            QTest::newRow((std::string(archName(a)) + " fp32").c_str()) << int(a) << "fp32";
            QTest::newRow((std::string(archName(a)) + " bf16").c_str()) << int(a) << "bf16";
        }
    }
    void saveLoadRoundTrip()
    {
        QFETCH(int, arch);
        QFETCH(QString, dtype);
        const ModelConfig c = fttest::tinyConfig(Arch(arch));
        CausalLM m(c);
        m->initializeWeights(3);
        QTemporaryDir dir;
        const auto store = dtype == "bf16" ? at::kBFloat16 : at::kFloat;
        if (store == at::kBFloat16)
            m->to(at::kBFloat16), m->to(at::kFloat);  // so the bf16 copy on disk is exact
        saveModelFolder(dir.path().toStdString(), m, {1, {2, 5}}, store);
        LoadedModel loaded = loadModelFolder(dir.path().toStdString());
        QCOMPARE(loaded.config.arch, c.arch);
        QCOMPARE(loaded.generation.eosTokenIds, (std::vector<int64_t>{2, 5}));
        QVERIFY(loaded.ignoredTensors.empty());
        QCOMPARE(loaded.storedDtype, std::string(store == at::kBFloat16 ? "BF16" : "F32"));
        m->eval();
        FT_COMPARE_TENSORS(logitsOf(loaded.model), logitsOf(m), 1e-6);
        // tied embeddings: no lm_head tensor on disk
        const auto file = ft::io::SafetensorsFile::open(dir.path().toStdString() + "/model.safetensors");
        QCOMPARE(file.find("lm_head.weight") == nullptr, c.tieWordEmbeddings);
    }

    void loadsIntoTheComputeDtype()
    {
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m(c);
        m->initializeWeights(6);
        m->eval();
        QTemporaryDir dir;
        saveModelFolder(dir.path().toStdString(), m, {1, {2}});
        LoadedModel bf16 = loadModelFolder(dir.path().toStdString(), {at::kBFloat16, c10::Device(c10::kCPU)});
        for (auto& p : bf16.model->parameters())
            QCOMPARE(p.scalar_type(), at::kBFloat16);
        // bf16 keeps ~3 significant digits: the logits agree to that precision
        FT_COMPARE_TENSORS(logitsOf(bf16.model).to(at::kFloat), logitsOf(m), 5e-2);
        // and the weights are the checkpoint's, rounded, not a fresh initialization
        at::Tensor w = bf16.model->named_parameters()["model.layers.1.mlp.down_proj.weight"];
        FT_COMPARE_TENSORS(w.to(at::kFloat), m->named_parameters()["model.layers.1.mlp.down_proj.weight"], 1e-2);
    }

    void loadsShardedCheckpoint()
    {
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m(c);
        m->initializeWeights(4);
        m->eval();
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        saveModelFolder(d, m, {1, {2}});
        // Split the single file into two shards plus an index, as large models ship.
        std::vector<at::Tensor> keep;
        std::vector<ft::io::TensorToWrite> first, second;
        json weightMap;
        int i = 0;
        for (auto& p : m->named_parameters()) {
            keep.push_back(p.value().detach().contiguous());
            auto& t = keep.back();
            const bool one = i++ % 2 == 0;
            (one ? first : second).push_back({p.key(), ft::io::DType::F32, t.sizes().vec(), t.data_ptr(), t.nbytes()});
            weightMap[p.key()] = one ? "model-00001-of-00002.safetensors" : "model-00002-of-00002.safetensors";
        }
        fs::remove(d + "/model.safetensors");
        ft::io::writeSafetensors(d + "/model-00001-of-00002.safetensors", first);
        ft::io::writeSafetensors(d + "/model-00002-of-00002.safetensors", second);
        ft::io::writeJsonFileAtomic(d + "/model.safetensors.index.json", json{{"metadata", json::object()}, {"weight_map", weightMap}});
        LoadedModel loaded = loadModelFolder(d);
        FT_COMPARE_TENSORS(logitsOf(loaded.model), logitsOf(m), 1e-6);
    }

    void inconsistentFolderErrorsNameTheTensor()
    {
        ModelConfig c = fttest::tinyConfig();
        CausalLM m(c);
        QTemporaryDir dir;
        const std::string d = dir.path().toStdString();
        saveModelFolder(d, m, {1, {2}});
        // config says a bigger vocabulary than the embedding rows on disk
        json cfg = ft::io::readJsonFile(d + "/config.json");
        cfg["vocab_size"] = 64;
        ft::io::writeJsonFileAtomic(d + "/config.json", cfg);
        std::string msg = errorOf([&] { loadModelFolder(d); });
        QVERIFY2(msg.find("tensor 'lm_head.weight'") != std::string::npos || msg.find("tensor 'model.embed_tokens.weight'") != std::string::npos, msg.c_str());
        QVERIFY2(msg.find("[61, 32]") != std::string::npos && msg.find("[64, 32]") != std::string::npos, msg.c_str());

        // a tensor missing from the checkpoint
        cfg["vocab_size"] = 61;
        cfg["num_hidden_layers"] = 3;
        ft::io::writeJsonFileAtomic(d + "/config.json", cfg);
        msg = errorOf([&] { loadModelFolder(d); });
        QVERIFY2(msg.find("tensor 'model.layers.2.") != std::string::npos && msg.find("missing") != std::string::npos, msg.c_str());

        // not a model folder at all
        msg = errorOf([&] { loadModelFolder(d + "/nope"); });
        QVERIFY2(msg.find("nope") != std::string::npos, msg.c_str());
        fs::remove(d + "/config.json");
        msg = errorOf([&] { loadModelFolder(d); });
        QVERIFY2(msg.find("config.json is missing") != std::string::npos, msg.c_str());
    }

    void nonFiniteWeightsAreRejected()
    {
        const ModelConfig c = fttest::tinyConfig();
        CausalLM m(c);
        {
            torch::NoGradGuard g;
            m->named_parameters()["model.norm.weight"][3] = std::numeric_limits<float>::quiet_NaN();
        }
        QTemporaryDir dir;
        saveModelFolder(dir.path().toStdString(), m, {1, {2}});
        const std::string msg = errorOf([&] { loadModelFolder(dir.path().toStdString()); });
        QVERIFY2(msg.find("tensor 'model.norm.weight' contains NaN") != std::string::npos, msg.c_str());
    }
};

FT_TEST_MAIN(TestModelIo)

} // namespace test_model_io

#include "test_model_io.moc"
