// Prompt-learning techniques (prompt tuning, P-tuning, prefix tuning) against
// independent references: the base model run on hand-concatenated embeddings, a KV
// cache filled by hand with PEFT's index formula, a hand-written MLP/LSTM prompt
// encoder, incremental decoding against a full forward, parameter counts from the
// shapes, save/load round trips, and short training runs that must lower the loss.
#include "model/generator.h"
#include "model/llama.h"
#include "model/sampler.h"
#include "peft/prefix_tuning.h"
#include "peft/prompt_tuning.h"
#include "peft/targets.h"
#include "tensor_compare.h"
#include "test_support.h"
#include "tiny_models.h"
#include "tokenizer/tokenizer.h"
#include "train/lm_loss.h"

#include "test_main.h"

#include <ATen/ATen.h>
#include <QtTest>
#include <torch/optim/adam.h>
#include <torch/types.h>

#include <cmath>
#include <set>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_peft_virtual {

using namespace ft;
using ft::model::CausalLM;

namespace {

CausalLM makeModel(c10::ScalarType dtype = at::kDouble, uint64_t seed = 11)
{
    CausalLM m(fttest::tinyConfig());  // 4 heads, 2 key/value heads: GQA
    m->initializeWeights(seed);
    torch::NoGradGuard g;
    for (auto& p : m->parameters())
        if (p.dim() >= 2)
            p.mul_(8.0);  // attention far from uniform, so a wrong key or position shows
    m->to(dtype);
    m->eval();
    return m;
}

peft::PeftSettings settingsFor(const std::string& variant)
{
    peft::PeftSettings s;
    s.technique = variant.substr(0, variant.find('-'));
    s.numVirtualTokens = 5;
    s.seed = 3;
    s.encoderHiddenSize = 16;
    s.prefixProjection = variant == "prefix-proj";
    s.encoderType = variant == "ptuning-lstm" ? "lstm" : "mlp";
    if (variant == "ptuning-lstm")
        s.encoderHiddenSize = 8;
    return s;
}

std::unique_ptr<peft::Adapter> applyVariant(CausalLM& m, const std::string& variant, const peft::ApplyContext& ctx = {})
{
    const peft::PeftSettings s = settingsFor(variant);
    if (s.technique == "prefix")
        return peft::applyPrefixTuning(m, s, "default", ctx);
    if (s.technique == "prompt")
        return peft::applyPromptTuning(m, s, "default", ctx);
    return peft::applyPTuning(m, s, "default", ctx);
}

at::Tensor tensorNamed(const peft::NamedTensors& tensors, const std::string& key)
{
    for (auto& [k, t] : tensors)
        if (k == key)
            return t;
    return {};
}

// Row 0 full, row 1 left-padded by two.
std::pair<at::Tensor, at::Tensor> paddedBatch()
{
    at::Tensor ids = at::tensor({5L, 9L, 17L, 3L, 44L, 2L, 0L, 0L, 7L, 30L, 12L, 8L}, at::kLong).view({2, 6});
    at::Tensor mask = at::tensor({1L, 1L, 1L, 1L, 1L, 1L, 0L, 0L, 1L, 1L, 1L, 1L}, at::kLong).view({2, 6});
    return {ids, mask};
}

// Changes every trainable tensor so a save/load test cannot pass on initial values.
void perturb(peft::Adapter& a, uint64_t seed)
{
    torch::NoGradGuard g;
    auto gen = at::detail::createCPUGenerator(seed);
    for (auto& [_, t] : a.trainableParameters())
        t.add_(at::normal(0.0, 0.3, t.sizes(), gen).to(t.scalar_type()));
}

double lossOf(CausalLM& m, const at::Tensor& ids)
{
    torch::NoGradGuard g;
    return train::causalLmLoss(m->forward(ids), ids).item<double>();
}

// Adam on the adapter's parameters only; returns the loss after `steps` steps.
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

// A character tokenizer: 'a' -> 10, 'b' -> 11, ...; enough for text initialization.
class LetterTokenizer : public tok::Tokenizer {
public:
    std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const override
    {
        std::vector<int> ids;
        if (addBos)
            ids.push_back(1);
        for (char c : text)
            ids.push_back(10 + (c - 'a'));
        if (addEos)
            ids.push_back(2);
        return ids;
    }
    std::string decode(const std::vector<int>&, bool) const override { return {}; }
    int vocabSize() const override { return 61; }
    int bosId() const override { return 1; }
    int eosId() const override { return 2; }
    int padId() const override { return 0; }
    int unkId() const override { return 3; }
    std::string idToPiece(int) const override { return {}; }
    std::optional<int> pieceToId(std::string_view) const override { return std::nullopt; }
};

// One direction of one LSTM layer, PyTorch's gate order (input, forget, cell, output).
at::Tensor lstmDirection(const at::Tensor& x, const at::Tensor& wih, const at::Tensor& whh, const at::Tensor& bih,
                         const at::Tensor& bhh, bool reverse)
{
    const int64_t n = x.size(0), h = whh.size(1);
    at::Tensor hState = at::zeros({h}, x.options()), cState = at::zeros({h}, x.options());
    std::vector<at::Tensor> out(n);
    for (int64_t step = 0; step < n; ++step) {
        const int64_t t = reverse ? n - 1 - step : step;
        at::Tensor gates = at::mv(wih, x[t]) + bih + at::mv(whh, hState) + bhh;
        at::Tensor i = at::sigmoid(gates.narrow(0, 0, h)), f = at::sigmoid(gates.narrow(0, h, h));
        at::Tensor g = at::tanh(gates.narrow(0, 2 * h, h)), o = at::sigmoid(gates.narrow(0, 3 * h, h));
        cState = f * cState + i * g;
        hState = o * at::tanh(cState);
        out[t] = hState;
    }
    return at::stack(out);  // (N, H)
}

} // namespace

class TestPeftVirtual : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::manual_seed(0); }

    void promptTuningEqualsHandConcatenatedEmbeddings()
    {
        CausalLM m = makeModel();
        auto adapter = applyVariant(m, "prompt");
        perturb(*adapter, 1);
        auto [ids, mask] = paddedBatch();
        torch::NoGradGuard g;
        at::Tensor out = m->forward(ids, mask);  // (2, 6, V)

        at::Tensor prompt = tensorNamed(adapter->stateDict(), "prompt_embeddings");  // (N, C)
        QCOMPARE(prompt.sizes(), (at::IntArrayRef{5, 32}));
        at::Tensor embeds = at::cat({prompt.unsqueeze(0).expand({2, 5, 32}), m->model->embed_tokens->forward(ids)}, 1);
        at::Tensor fullMask = at::cat({at::ones({2, 5}, at::kLong), mask}, 1);
        at::Tensor ref = m->logitsFromHidden(m->model->forwardEmbeddings(embeds, fullMask, nullptr).narrow(1, 5, 6));
        FT_COMPARE_TENSORS(out, ref, 1e-10);

        // Left padding does not move the real tokens: row 1 alone, unpadded, agrees.
        at::Tensor alone = m->forward(ids[1].narrow(0, 2, 4).unsqueeze(0));
        FT_COMPARE_TENSORS(out[1].narrow(0, 2, 4), alone[0], 1e-10);

        adapter->setEnabled(false);
        at::Tensor base = m->forward(ids, mask);
        QVERIFY((base - out).abs().max().item<double>() > 1e-3);  // the prompt did something
    }

    void prefixEqualsHandFilledCache_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::newRow("plain") << "prefix";
        QTest::newRow("projection") << "prefix-proj";
    }
    void prefixEqualsHandFilledCache()
    {
        QFETCH(QString, variant);
        CausalLM m = makeModel();
        auto adapter = applyVariant(m, variant.toStdString());
        perturb(*adapter, 2);
        const int64_t n = 5, layers = 2, kv = 2, d = 8;  // tinyConfig: K = 2 key/value heads, D = 8
        torch::NoGradGuard g;
        at::Tensor flat = tensorNamed(adapter->stateDict(), "prompt_embeddings");
        QCOMPARE(flat.sizes(), (at::IntArrayRef{n, layers * 2 * kv * d}));
        QCOMPARE(adapter->configJson()["token_dim"].get<int64_t>(), kv * d);
        QCOMPARE(adapter->configJson()["num_attention_heads"].get<int64_t>(), kv);

        // PEFT's layout, written out: column ((2l + s) * K + k) * D + j holds layer l's key (s = 0)
        // or value (s = 1), head k, dimension j.
        auto [ids, mask] = paddedBatch();
        model::KVCache cache;
        for (int64_t l = 0; l < layers; ++l) {
            at::Tensor key = at::zeros({2, kv, n, d}, flat.options()), value = at::zeros({2, kv, n, d}, flat.options());
            for (int64_t k = 0; k < kv; ++k) {
                key.select(1, k).copy_(flat.narrow(1, ((2 * l) * kv + k) * d, d).unsqueeze(0).expand({2, n, d}));
                value.select(1, k).copy_(flat.narrow(1, ((2 * l + 1) * kv + k) * d, d).unsqueeze(0).expand({2, n, d}));
            }
            cache.keys.push_back(key);
            cache.values.push_back(value);
        }
        cache.keyMask = at::ones({2, n}, at::kLong);
        at::Tensor ref = m->logitsFromHidden(m->model->forwardEmbeddings(m->model->embed_tokens->forward(ids), mask, &cache));
        at::Tensor out = m->forward(ids, mask);
        FT_COMPARE_TENSORS(out, ref, 1e-10);

        at::Tensor alone = m->forward(ids[1].narrow(0, 2, 4).unsqueeze(0));
        FT_COMPARE_TENSORS(out[1].narrow(0, 2, 4), alone[0], 1e-10);

        adapter->setEnabled(false);
        QVERIFY((m->forward(ids, mask) - out).abs().max().item<double>() > 1e-3);
    }

    void pTuningEncoderIsPeftsPromptEncoder_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::newRow("mlp") << "ptuning-mlp";
        QTest::newRow("lstm") << "ptuning-lstm";
    }
    void pTuningEncoderIsPeftsPromptEncoder()
    {
        QFETCH(QString, variant);
        CausalLM m = makeModel();
        auto adapter = applyVariant(m, variant.toStdString());
        std::map<std::string, at::Tensor> w;
        for (auto& [k, t] : adapter->stateDict())
            w[k] = t;
        const std::string p = "p_tuning_encoder.";
        at::Tensor x = w.at(p + "embedding.weight");  // (N, C)
        auto linear = [&](const at::Tensor& in, int i) {
            const std::string k = p + "mlp_head." + std::to_string(i);
            return at::matmul(in, w.at(k + ".weight").t()) + w.at(k + ".bias");
        };
        at::Tensor expected;
        if (variant == "ptuning-mlp") {
            expected = linear(at::relu(linear(at::relu(linear(x, 0)), 2)), 4);
        } else {
            at::Tensor h = x;
            for (int layer = 0; layer < 2; ++layer) {
                const std::string l = std::to_string(layer);
                auto dir = [&](const std::string& suffix, bool reverse) {
                    const std::string k = p + "lstm_head.";
                    return lstmDirection(h, w.at(k + "weight_ih_l" + l + suffix), w.at(k + "weight_hh_l" + l + suffix),
                                         w.at(k + "bias_ih_l" + l + suffix), w.at(k + "bias_hh_l" + l + suffix), reverse);
                };
                h = at::cat({dir("", false), dir("_reverse", true)}, 1);  // (N, 2H): forward then backward
            }
            expected = linear(at::relu(linear(h, 0)), 2);
        }
        FT_COMPARE_TENSORS(w.at("prompt_embeddings"), expected, 1e-10);
    }

    void trainableParametersAreExactlyTheAdapters_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<qint64>("expected");
        const int64_t n = 5, c = 32, layers = 2, kv = 2, d = 8;
        const int64_t h = 16, w = layers * 2 * kv * d;
        QTest::newRow("prefix") << "prefix" << qint64(n * layers * 2 * kv * d);
        QTest::newRow("prefix-proj") << "prefix-proj" << qint64(n * kv * d + (kv * d * h + h) + (h * w + w));
        QTest::newRow("prompt") << "prompt" << qint64(n * c);
        QTest::newRow("ptuning-mlp") << "ptuning-mlp" << qint64(n * c + (c * h + h) + (h * h + h) + (h * c + c));
        const int64_t lh = 8;  // LSTM hidden; per direction: 4 gates x (input + hidden weights + two biases)
        const int64_t lstm = 2 * (4 * lh * c + 4 * lh * lh + 8 * lh) + 2 * (4 * lh * 2 * lh + 4 * lh * lh + 8 * lh);
        QTest::newRow("ptuning-lstm") << "ptuning-lstm"
                                      << qint64(n * c + lstm + (2 * lh * 2 * lh + 2 * lh) + (2 * lh * c + c));
    }
    void trainableParametersAreExactlyTheAdapters()
    {
        QFETCH(QString, variant);
        QFETCH(qint64, expected);
        CausalLM m = makeModel(at::kFloat);
        peft::freezeAll(*m);
        auto adapter = applyVariant(m, variant.toStdString());
        int64_t count = 0;
        std::set<std::string> names;
        for (auto& [name, t] : adapter->trainableParameters()) {
            count += t.numel();
            names.insert(name);
        }
        QCOMPARE(count, int64_t(expected));
        std::set<std::string> requiringGrad;
        for (auto& p : m->named_parameters())
            if (p.value().requires_grad())
                requiringGrad.insert(p.key());
        QVERIFY(requiringGrad == names);
        QVERIFY(names.begin()->rfind("virtual_tokens_default.", 0) == 0);

        // Gradients reach exactly those tensors.
        auto [ids, mask] = paddedBatch();
        train::causalLmLoss(m->forward(ids, mask), ids).backward();
        for (auto& p : m->named_parameters())
            QCOMPARE(p.value().grad().defined(), names.count(p.key()) == 1);
    }

    void cachedDecodingEqualsFullForward_data()
    {
        QTest::addColumn<QString>("variant");
        for (const char* v : {"prompt", "prefix", "prefix-proj", "ptuning-mlp", "ptuning-lstm"})
            QTest::newRow(v) << v;
    }
    void cachedDecodingEqualsFullForward()
    {
        QFETCH(QString, variant);
        CausalLM m = makeModel();
        auto adapter = applyVariant(m, variant.toStdString());
        perturb(*adapter, 4);
        const std::vector<int64_t> prompt{4, 19, 33, 7};
        model::Sampler greedy({});
        std::vector<int64_t> generated = model::generateIds(m, prompt, 5, greedy, {});
        QCOMPARE(generated.size(), size_t(5));

        torch::NoGradGuard g;
        std::vector<int64_t> all = prompt;
        all.insert(all.end(), generated.begin(), generated.end());
        at::Tensor full = m->forward(at::tensor(all, at::kLong).view({1, -1}));  // (1, 9, V), no cache
        // Step by step through a cache, as the generator does.
        model::KVCache cache;
        at::Tensor step = m->forward(at::tensor(prompt, at::kLong).view({1, -1}), {}, &cache);
        FT_COMPARE_TENSORS(step[0], full[0].narrow(0, 0, 4), 1e-9);
        for (size_t i = 0; i < generated.size(); ++i) {
            QCOMPARE(full[0][3 + i].argmax().item<int64_t>(), generated[i]);
            if (i + 1 < generated.size()) {
                step = m->forward(at::full({1, 1}, generated[i], at::kLong), {}, &cache);
                FT_COMPARE_TENSORS(step[0][0], full[0][4 + i], 1e-9);
            }
        }
    }

    void disabledAdapterGivesTheBase_data() { cachedDecodingEqualsFullForward_data(); }
    void disabledAdapterGivesTheBase()
    {
        QFETCH(QString, variant);
        CausalLM m = makeModel();
        auto [ids, mask] = paddedBatch();
        torch::NoGradGuard g;
        at::Tensor base = m->forward(ids, mask);
        auto adapter = applyVariant(m, variant.toStdString());
        {
            peft::AdaptersDisabled off({adapter.get()});
            FT_COMPARE_TENSORS(m->forward(ids, mask), base, 0.0);
        }
        QVERIFY(adapter->enabled());
        QVERIFY((m->forward(ids, mask) - base).abs().max().item<double>() > 1e-3);
    }

    void saveLoadGivesIdenticalLogits_data() { cachedDecodingEqualsFullForward_data(); }
    void saveLoadGivesIdenticalLogits()
    {
        QFETCH(QString, variant);
        const std::string v = variant.toStdString();
        CausalLM a = makeModel(), b = makeModel();
        auto saved = applyVariant(a, v);
        perturb(*saved, 5);
        std::map<std::string, at::Tensor> file;
        for (auto& [k, t] : saved->stateDict())
            file[k] = t.clone();
        auto [ids, mask] = paddedBatch();
        torch::NoGradGuard g;
        at::Tensor expected = a->forward(ids, mask);

        auto loaded = applyVariant(b, v);
        QVERIFY((b->forward(ids, mask) - expected).abs().max().item<double>() > 1e-6);
        loaded->loadStateDict(file, "adapter_model.safetensors");
        FT_COMPARE_TENSORS(b->forward(ids, mask), expected, 1e-10);
        QCOMPARE(loaded->configJson(), saved->configJson());

        // A file as PEFT writes it: prompt_embeddings only. Encoders are dropped and the
        // values themselves become the trained tensor (PEFT's inference mode).
        CausalLM c = makeModel();
        auto inference = applyVariant(c, v);
        inference->loadStateDict({{"prompt_embeddings", file.at("prompt_embeddings")}}, "peft/adapter_model.safetensors");
        FT_COMPARE_TENSORS(c->forward(ids, mask), expected, 1e-10);
        int64_t count = 0;
        for (auto& [_, t] : inference->trainableParameters())
            count += t.numel();
        QCOMPARE(count, file.at("prompt_embeddings").numel());
    }

    void loadReportsEveryProblemAtOnce()
    {
        CausalLM m = makeModel();
        auto adapter = applyVariant(m, "prefix-proj");
        std::map<std::string, at::Tensor> file;
        for (auto& [k, t] : adapter->stateDict())
            file[k] = t.clone();
        file.erase("prefix_encoder.transform.0.bias");                       // missing
        file["prefix_encoder.transform.2.weight"] = at::zeros({3, 3});        // wrong shape
        file["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = at::zeros({2, 2});  // unexpected
        at::Tensor before = tensorNamed(adapter->stateDict(), "prompt_embeddings").clone();
        const QString err = fttest::errorOf([&] { adapter->loadStateDict(file, "run/adapter_model.safetensors"); });
        QVERIFY2(err.contains("run/adapter_model.safetensors"), qPrintable(err));
        QVERIFY2(err.contains("missing tensor 'prefix_encoder.transform.0.bias'"), qPrintable(err));
        QVERIFY2(err.contains("'prefix_encoder.transform.2.weight' has shape (3, 3), expected (64, 16)"), qPrintable(err));
        QVERIFY2(err.contains("unexpected tensor 'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight'"),
                 qPrintable(err));
        // Nothing was half-loaded.
        FT_COMPARE_TENSORS(tensorNamed(adapter->stateDict(), "prompt_embeddings"), before, 0.0);

        const QString noValues = fttest::errorOf([&] { adapter->loadStateDict({}, "empty.safetensors"); });
        QVERIFY2(noValues.contains("missing tensor 'prompt_embeddings' (5, 64)"), qPrintable(noValues));
    }

    void textInitializationCopiesWordEmbeddings()
    {
        CausalLM m = makeModel();
        LetterTokenizer tokenizer;
        peft::PeftSettings s = settingsFor("prompt");
        s.promptInit = "text";
        s.promptInitText = "cab";  // ids 12, 10, 11; no BOS
        s.baseModelNameOrPath = "models/tiny";
        peft::ApplyContext ctx;
        ctx.tokenizer = &tokenizer;
        auto adapter = peft::applyPromptTuning(m, s, "default", ctx);
        at::Tensor rows = m->model->embed_tokens->weight.index_select(0, at::tensor({12L, 10L, 11L, 12L, 10L}, at::kLong));
        FT_COMPARE_TENSORS(tensorNamed(adapter->stateDict(), "prompt_embeddings"), rows, 0.0);
        const auto config = adapter->configJson();
        QCOMPARE(config["prompt_tuning_init"].get<std::string>(), std::string("TEXT"));
        QCOMPARE(config["tokenizer_name_or_path"].get<std::string>(), std::string("models/tiny"));

        CausalLM other = makeModel();
        const QString err = fttest::errorOf([&] { peft::applyPromptTuning(other, s, "default", {}); });
        QVERIFY2(err.contains("needs the model's tokenizer"), qPrintable(err));
    }

    void trainingLowersTheLoss_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<double>("lr");
        QTest::newRow("prefix") << "prefix" << 3e-2;
        QTest::newRow("prefix-proj") << "prefix-proj" << 1e-2;
        QTest::newRow("prompt") << "prompt" << 3e-2;
        QTest::newRow("ptuning-mlp") << "ptuning-mlp" << 1e-2;
        QTest::newRow("ptuning-lstm") << "ptuning-lstm" << 1e-2;
    }
    void trainingLowersTheLoss()
    {
        QFETCH(QString, variant);
        QFETCH(double, lr);
        CausalLM m = makeModel(at::kFloat);
        peft::freezeAll(*m);
        auto adapter = applyVariant(m, variant.toStdString());
        auto gen = at::detail::createCPUGenerator(21);
        at::Tensor ids = at::randint(61, {4, 12}, gen, at::kLong);  // one fixed batch
        const double before = lossOf(m, ids);
        const double after = trainAdapter(m, *adapter, ids, 40, lr);
        qInfo("%s: loss %.4f -> %.4f", qPrintable(variant), before, after);
        QVERIFY2(after < before - 0.5, qPrintable(QString("loss %1 -> %2").arg(before).arg(after)));
    }
};

FT_TEST_MAIN(TestPeftVirtual)

} // namespace test_peft_virtual

#include "test_peft_virtual.moc"
