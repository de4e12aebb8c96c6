#include "peft/prefix_tuning.h"

#include "model/model_config.h"
#include "peft/adapter_support.h"
#include "peft/config_fields.h"
#include "peft/technique.h"
#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/linear.h>

namespace ft::peft {

PrefixEncoderImpl::PrefixEncoderImpl(int64_t count, int64_t layers, int64_t kvHeads, int64_t headDim, bool projection,
                                     int64_t encoderHidden)
    : PromptLearningTokensImpl(count, layers * 2 * kvHeads * headDim,
                               projection ? kvHeads * headDim : layers * 2 * kvHeads * headDim, projection),
      m_layers(layers), m_kvHeads(kvHeads), m_headDim(headDim)
{
    if (projection) {
        const int64_t tokenDim = kvHeads * headDim;
        transform = register_module("transform", torch::nn::Sequential(torch::nn::Linear(tokenDim, encoderHidden),
                                                                       torch::nn::Tanh(),
                                                                       torch::nn::Linear(encoderHidden, m_width)));
    }
}

void PrefixEncoderImpl::dropEncoder()
{
    unregister_module("transform");
    transform = nullptr;
}

bool PrefixEncoderImpl::prefixKeyValues(int64_t batch, std::vector<at::Tensor>& keys, std::vector<at::Tensor>& values)
{
    // (N, L*2*K*D) -> (N, L*2, K, D) -> (L*2, K, N, D): PEFT's view and permute without the batch axis.
    at::Tensor kv = this->values().view({m_count, 2 * m_layers, m_kvHeads, m_headDim}).permute({1, 2, 0, 3});
    keys.clear();
    values.clear();
    for (int64_t l = 0; l < m_layers; ++l) {
        keys.push_back(kv[2 * l].unsqueeze(0).expand({batch, m_kvHeads, m_count, m_headDim}));    // (B, K, N, D)
        values.push_back(kv[2 * l + 1].unsqueeze(0).expand({batch, m_kvHeads, m_count, m_headDim}));
    }
    return true;
}

std::unique_ptr<Adapter> applyPrefixTuning(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                           const ApplyContext& context)
{
    (void)context;
    if (settings.numVirtualTokens <= 0)
        fail("prefix tuning: num_virtual_tokens must be positive, found " + std::to_string(settings.numVirtualTokens));
    if (settings.prefixProjection && settings.encoderHiddenSize <= 0)
        fail("prefix tuning: encoder_hidden_size must be positive with prefix_projection, found " +
             std::to_string(settings.encoderHiddenSize));
    const auto& c = model->config();
    const int64_t n = settings.numVirtualTokens, kvHeads = c.numKeyValueHeads, headDim = c.headDim;
    auto tokens = std::make_shared<PrefixEncoderImpl>(n, c.numHiddenLayers, kvHeads, headDim, settings.prefixProjection,
                                                      settings.encoderHiddenSize);
    const at::TensorOptions opts = adapterTensorOptions(model);
    tokens->to(opts.device(), opts.dtype().toScalarType());

    // PyTorch's defaults as PEFT gets them, drawn from the seed: embedding N(0, 1), Linear U(+-1/sqrt(in)).
    SeededInit init(settings.seed);
    init.normal(tokens->embedding->weight, 1.0);
    if (tokens->transform)
        for (auto& child : tokens->transform->children())
            if (auto* linear = child->as<torch::nn::LinearImpl>())
                init.linearDefault(linear->weight, linear->bias);

    nlohmann::json config = {{"num_virtual_tokens", n},
                             {"token_dim", kvHeads * headDim},
                             {"num_transformer_submodules", 1},
                             {"num_attention_heads", kvHeads},
                             {"num_layers", c.numHiddenLayers},
                             {"encoder_hidden_size", settings.encoderHiddenSize},
                             {"prefix_projection", settings.prefixProjection}};
    model->addVirtualTokens(name, tokens);
    return std::make_unique<PromptLearningAdapter>(name, settings, model, tokens, "PREFIX_TUNING", "prefix_encoder.",
                                                   config);
}

} // namespace ft::peft
