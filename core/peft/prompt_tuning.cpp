#include "peft/prompt_tuning.h"

#include "model/model_config.h"
#include "peft/adapter_support.h"
#include "peft/config_fields.h"
#include "peft/technique.h"
#include "peft/tensor_load_plan.h"
#include "tokenizer/tokenizer.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <cmath>

namespace ft::peft {

// ---- Shared virtual-token machinery ------------------------------------------------

PromptLearningTokensImpl::PromptLearningTokensImpl(int64_t count, int64_t width, int64_t embeddingWidth, bool withEncoder)
    : m_count(count), m_width(width), m_hasEncoder(withEncoder)
{
    embedding = register_module("embedding", torch::nn::Embedding(count, embeddingWidth));
}

at::Tensor PromptLearningTokensImpl::values()
{
    if (!m_hasEncoder)
        return embedding->weight;                                 // (N, W)
    return encode(embedding->weight.unsqueeze(0)).squeeze(0);     // (1, N, E) -> (N, W)
}

void PromptLearningTokensImpl::replaceWithValues(const at::Tensor& v)
{
    const at::Tensor old = embedding->weight;
    if (v.sizes() != at::IntArrayRef{m_count, m_width})
        fail("prompt_embeddings of shape " + shapeString(v.sizes()) + " cannot replace virtual tokens of shape " +
             shapeString({m_count, m_width}));
    if (m_hasEncoder) {
        dropEncoder();
        m_hasEncoder = false;
    }
    torch::nn::Embedding direct(m_count, m_width);
    direct->to(old.device(), old.scalar_type());
    {
        torch::NoGradGuard noGrad;
        direct->weight.copy_(v.to(old.device(), old.scalar_type()));
    }
    direct->weight.set_requires_grad(old.requires_grad());
    embedding = replace_module("embedding", direct);
}

// ---- Prompt tuning ---------------------------------------------------------------

at::Tensor PromptEmbeddingImpl::promptEmbeddings(int64_t batch)
{
    return values().unsqueeze(0).expand({batch, m_count, m_width});  // (B, N, C)
}

// ---- P-tuning --------------------------------------------------------------------

PromptEncoderImpl::PromptEncoderImpl(int64_t count, int64_t hidden, const std::string& type, int64_t encoderHidden,
                                     int64_t lstmLayers, double lstmDropout)
    : PromptLearningTokensImpl(count, hidden, hidden, true)
{
    if (type == "lstm") {
        lstm_head = register_module("lstm_head", torch::nn::LSTM(torch::nn::LSTMOptions(hidden, encoderHidden)
                                                                     .num_layers(lstmLayers)
                                                                     .dropout(lstmDropout)
                                                                     .bidirectional(true)
                                                                     .batch_first(true)));
        mlp_head = register_module("mlp_head", torch::nn::Sequential(torch::nn::Linear(2 * encoderHidden, 2 * encoderHidden),
                                                                     torch::nn::ReLU(),
                                                                     torch::nn::Linear(2 * encoderHidden, hidden)));
    } else {
        mlp_head = register_module("mlp_head", torch::nn::Sequential(torch::nn::Linear(hidden, encoderHidden), torch::nn::ReLU(),
                                                                     torch::nn::Linear(encoderHidden, encoderHidden),
                                                                     torch::nn::ReLU(),
                                                                     torch::nn::Linear(encoderHidden, hidden)));
    }
}

at::Tensor PromptEncoderImpl::encode(const at::Tensor& x)
{
    if (lstm_head)
        return mlp_head->forward(std::get<0>(lstm_head->forward(x)));  // (1, N, 2H) -> (1, N, C)
    return mlp_head->forward(x);
}

void PromptEncoderImpl::dropEncoder()
{
    if (lstm_head) {
        unregister_module("lstm_head");
        lstm_head = nullptr;
    }
    unregister_module("mlp_head");
    mlp_head = nullptr;
}

at::Tensor PromptEncoderImpl::promptEmbeddings(int64_t batch)
{
    return values().unsqueeze(0).expand({batch, m_count, m_width});  // (B, N, C)
}

// ---- The adapter -----------------------------------------------------------------

PromptLearningAdapter::PromptLearningAdapter(std::string name, PeftSettings settings, model::CausalLM model,
                                             std::shared_ptr<PromptLearningTokensImpl> tokens, std::string peftType,
                                             std::string encoderKeyPrefix, nlohmann::json config)
    : Adapter(std::move(name), std::move(settings)), m_model(std::move(model)), m_tokens(std::move(tokens)),
      m_peftType(std::move(peftType)), m_encoderKeyPrefix(std::move(encoderKeyPrefix)), m_config(std::move(config))
{
    m_config["peft_type"] = m_peftType;
    m_config["task_type"] = "CAUSAL_LM";
}

NamedTensors PromptLearningAdapter::trainableParameters()
{
    NamedTensors out;
    for (auto& p : m_tokens->named_parameters())
        out.emplace_back("virtual_tokens_" + name() + "." + p.key(), p.value());
    return out;
}

NamedTensors PromptLearningAdapter::stateDict()
{
    NamedTensors out;
    {
        // The encoder's output without dropout (an LSTM's between layers), whatever mode training left it in.
        torch::NoGradGuard noGrad;
        const bool training = m_tokens->is_training();
        m_tokens->eval();
        out.emplace_back("prompt_embeddings", m_tokens->values().detach());
        m_tokens->train(training);
    }
    if (m_tokens->hasEncoder())
        for (auto& p : m_tokens->named_parameters())
            out.emplace_back(m_encoderKeyPrefix + p.key(), p.value().detach());
    return out;
}

void PromptLearningAdapter::loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source)
{
    TensorLoadPlan plan(tensors, source);
    if (!m_tokens->hasEncoder()) {
        plan.expect("prompt_embeddings", m_tokens->embedding->weight);
        plan.apply();
        return;
    }
    // With an encoder: its weights when the file has them (resuming our own training),
    // else PEFT's prompt_embeddings alone, which then become the trained values.
    at::Tensor values = plan.take("prompt_embeddings");
    at::Tensor expected;
    {
        torch::NoGradGuard noGrad;
        expected = m_tokens->values();
    }
    if (!values.defined())
        plan.problem("missing tensor 'prompt_embeddings' " + shapeString(expected.sizes()));
    else if (values.sizes() != expected.sizes())
        plan.problem("tensor 'prompt_embeddings' has shape " + shapeString(values.sizes()) + ", expected " +
                     shapeString(expected.sizes()));
    bool anyEncoderKey = false;
    for (auto& p : m_tokens->named_parameters())
        anyEncoderKey = anyEncoderKey || plan.has(m_encoderKeyPrefix + p.key());
    if (anyEncoderKey)
        for (auto& p : m_tokens->named_parameters())
            plan.expect(m_encoderKeyPrefix + p.key(), p.value());
    plan.apply();
    if (!anyEncoderKey)
        m_tokens->replaceWithValues(values);
}

void PromptLearningAdapter::setEnabled(bool on)
{
    m_enabled = on;
    m_tokens->enabled = on;
}

// ---- Factories -------------------------------------------------------------------

namespace {

void requirePositive(int64_t value, const char* field, const std::string& technique)
{
    if (value <= 0)
        fail("technique '" + technique + "': " + field + " must be positive, found " + std::to_string(value));
}

// PEFT's PromptTuningInit.TEXT: the text's ids (no BOS/EOS) repeated and cut to N,
// their input embeddings copied.
at::Tensor embeddingsOfText(model::CausalLM& model, const PeftSettings& s, const ApplyContext& context)
{
    if (!context.tokenizer)
        fail("prompt tuning initialized from text needs the model's tokenizer, and none was given");
    if (s.promptInitText.empty())
        fail("prompt tuning: prompt_init is 'text' but prompt_init_text is empty");
    std::vector<int> ids = context.tokenizer->encode(s.promptInitText, /*addBos=*/false, /*addEos=*/false);
    if (ids.empty())
        fail("prompt tuning: prompt_init_text '" + s.promptInitText + "' encodes to no tokens");
    const int64_t vocab = model->config().vocabSize;
    std::vector<int64_t> repeated;
    for (int64_t i = 0; i < s.numVirtualTokens; ++i) {
        const int id = ids[size_t(i) % ids.size()];
        if (id < 0 || id >= vocab)
            fail("prompt tuning: prompt_init_text has token id " + std::to_string(id) +
                 " outside the model's vocabulary (size " + std::to_string(vocab) + "); is this the model's tokenizer?");
        repeated.push_back(id);
    }
    const at::Tensor& table = model->model->embed_tokens->weight;  // (V, C)
    return table.detach().index_select(0, at::tensor(repeated, at::kLong).to(table.device()));
}

nlohmann::json commonPromptConfig(model::CausalLM& model, const PeftSettings& s)
{
    const auto& c = model->config();
    return {{"num_virtual_tokens", s.numVirtualTokens},
            {"token_dim", c.hiddenSize},
            {"num_transformer_submodules", 1},
            {"num_attention_heads", c.numAttentionHeads},
            {"num_layers", c.numHiddenLayers}};
}

} // namespace

std::unique_ptr<Adapter> applyPromptTuning(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                           const ApplyContext& context)
{
    requirePositive(settings.numVirtualTokens, "num_virtual_tokens", settings.technique);
    const int64_t hidden = model->config().hiddenSize;
    auto tokens = std::make_shared<PromptEmbeddingImpl>(settings.numVirtualTokens, hidden);
    const at::TensorOptions opts = adapterTensorOptions(model);
    tokens->to(opts.device(), opts.dtype().toScalarType());

    const at::Tensor& words = model->model->embed_tokens->weight;
    if (settings.promptInit == "random") {
        // The word embeddings' own scale, so virtual tokens start like ordinary ones.
        const double std = words.detach().to(at::kDouble).std().item<double>();
        SeededInit(settings.seed).normal(tokens->embedding->weight, std > 0 ? std : 1.0);
    } else if (settings.promptInit == "text") {
        torch::NoGradGuard noGrad;
        tokens->embedding->weight.copy_(embeddingsOfText(model, settings, context));
    } else {
        fail("prompt tuning: prompt_init must be 'random' or 'text', found '" + settings.promptInit + "'");
    }

    nlohmann::json config = commonPromptConfig(model, settings);
    const bool text = settings.promptInit == "text";
    config["prompt_tuning_init"] = text ? "TEXT" : "RANDOM";
    config["prompt_tuning_init_text"] = text ? nlohmann::json(settings.promptInitText) : nlohmann::json();
    // PEFT refuses a TEXT config without the tokenizer it was initialized with.
    config["tokenizer_name_or_path"] =
        text && !settings.baseModelNameOrPath.empty() ? nlohmann::json(settings.baseModelNameOrPath) : nlohmann::json();
    config["tokenizer_kwargs"] = nullptr;
    model->addVirtualTokens(name, tokens);
    return std::make_unique<PromptLearningAdapter>(name, settings, model, tokens, "PROMPT_TUNING", "", config);
}

std::unique_ptr<Adapter> applyPTuning(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                      const ApplyContext& context)
{
    (void)context;
    requirePositive(settings.numVirtualTokens, "num_virtual_tokens", settings.technique);
    requirePositive(settings.encoderHiddenSize, "encoder_hidden_size", settings.technique);
    if (settings.encoderType != "mlp" && settings.encoderType != "lstm")
        fail("P-tuning: encoder_type must be 'mlp' or 'lstm', found '" + settings.encoderType + "'");
    const bool lstm = settings.encoderType == "lstm";
    if (lstm)
        requirePositive(settings.encoderNumLayers, "encoder_num_layers", settings.technique);
    if (settings.encoderDropout < 0 || settings.encoderDropout >= 1)
        fail("P-tuning: encoder_dropout must be in [0, 1), found " + std::to_string(settings.encoderDropout));
    const int64_t hidden = model->config().hiddenSize, h = settings.encoderHiddenSize;
    auto tokens = std::make_shared<PromptEncoderImpl>(settings.numVirtualTokens, hidden, settings.encoderType, h,
                                                      lstm ? settings.encoderNumLayers : 1, lstm ? settings.encoderDropout : 0.0);
    const at::TensorOptions opts = adapterTensorOptions(model);
    tokens->to(opts.device(), opts.dtype().toScalarType());

    // PyTorch's defaults, drawn from the seed: embedding N(0, 1), Linear U(+-1/sqrt(in)),
    // LSTM U(+-1/sqrt(H)).
    SeededInit init(settings.seed);
    init.normal(tokens->embedding->weight, 1.0);
    if (tokens->lstm_head)
        for (auto& p : tokens->lstm_head->parameters())
            init.uniform(p, 1.0 / std::sqrt(double(h)));
    for (auto& child : tokens->mlp_head->children())
        if (auto* linear = child->as<torch::nn::LinearImpl>())
            init.linearDefault(linear->weight, linear->bias);

    nlohmann::json config = commonPromptConfig(model, settings);
    config["encoder_reparameterization_type"] = lstm ? "LSTM" : "MLP";
    config["encoder_hidden_size"] = h;
    config["encoder_num_layers"] = lstm ? settings.encoderNumLayers : 2;
    config["encoder_dropout"] = lstm ? settings.encoderDropout : 0.0;
    model->addVirtualTokens(name, tokens);
    return std::make_unique<PromptLearningAdapter>(name, settings, model, tokens, "P_TUNING", "p_tuning_encoder.", config);
}

} // namespace ft::peft
