// The Llama-family decoder (Llama, Mistral, Qwen2) as libtorch modules whose
// parameter names equal Hugging Face's ("model.layers.0.self_attn.q_proj.weight"),
// so weights, adapters and merged models move between this engine and other tools.
// Not here: loading from disk (model_io.h), sampling (sampler.h), PEFT wrappers.
//
// Shape legend: B batch, T new tokens, S cached + new tokens, C hidden size,
// H attention heads, K key/value heads, D head dim, F MLP width, V vocabulary.
#pragma once

#include "model/model_config.h"
#include "model/rope.h"

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>

#include <memory>
#include <vector>

namespace ft::model {

// The interface every projection honours, so a PEFT technique can wrap a layer
// (LoRA around a dense or 4-bit weight) and put the wrapper in its place.
class LinearLayerImpl : public torch::nn::Module {
public:
    virtual at::Tensor forward(const at::Tensor& x) = 0;  // (..., in) -> (..., out)
    virtual int64_t inFeatures() const = 0;
    virtual int64_t outFeatures() const = 0;
};
using LinearLayer = std::shared_ptr<LinearLayerImpl>;

// While one is alive on this thread, new DenseLinear layers skip their random
// initialization: a checkpoint is about to overwrite them, and initializing a
// 7B model on the CPU would cost minutes (at::empty pages are never touched).
class SkipWeightInit {
public:
    SkipWeightInit();
    ~SkipWeightInit();
    SkipWeightInit(const SkipWeightInit&) = delete;
    SkipWeightInit& operator=(const SkipWeightInit&) = delete;
    static bool active();
};

class DenseLinearImpl : public LinearLayerImpl {
public:
    DenseLinearImpl(int64_t in, int64_t out, bool bias);
    at::Tensor forward(const at::Tensor& x) override;
    int64_t inFeatures() const override { return weight.size(1); }
    int64_t outFeatures() const override { return weight.size(0); }
    // Registers a zero bias when the layer has none (BitFit on bias-free models).
    void ensureBias();
    at::Tensor weight;  // (out, in)
    at::Tensor bias;    // (out,) or undefined
};

class RMSNormImpl : public torch::nn::Module {
public:
    // unitOffset: Gemma's norm, which scales by (1 + weight) in fp32 and whose weight starts at 0.
    RMSNormImpl(int64_t dim, double eps, bool unitOffset = false);
    at::Tensor forward(const at::Tensor& x);  // normalized in fp32, returned in x's dtype
    at::Tensor weight;                        // (C,)
    double eps;
    bool unitOffset = false;
    // Scale by the weight before casting back (OLMo 2, Gemma); Llama casts first.
    bool scaleInFloat = false;
};
TORCH_MODULE(RMSNorm);

// Keys and values of the tokens seen so far, one entry per layer.
struct KVCache {
    std::vector<at::Tensor> keys;    // per layer (B, K, S, D)
    std::vector<at::Tensor> values;  // per layer (B, K, S, D)
    at::Tensor keyMask;              // (B, S) 1 = real token, 0 = padding
    int64_t length() const { return keyMask.defined() ? keyMask.size(1) : 0; }
    void clear() { keys.clear(); values.clear(); keyMask = at::Tensor(); }
};

class AttentionImpl : public torch::nn::Module {
public:
    explicit AttentionImpl(const ModelConfig& c);
    // x (B, T, C); mask additive (B, 1, T, S); cacheK/V: this layer's cache slots
    at::Tensor forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask, at::Tensor* cacheK,
                       at::Tensor* cacheV);
    // Puts `layer` where the projection `name` (q_proj, k_proj, v_proj, o_proj; qkv_proj
    // when fused) was.
    void setProjection(const std::string& name, LinearLayer layer);
    LinearLayer projection(const std::string& name) const;
    // The names this attention has, in Hugging Face's order: q, k, v, o or qkv, o.
    std::vector<std::string> projectionNames() const;

    LinearLayer q_proj, k_proj, v_proj, o_proj;
    LinearLayer qkv_proj;  // Phi-3 (ArchTraits::fusedProjections) instead of q, k and v
    // RMSNorm of queries and keys before RoPE: per head, weight (D,), for ArchTraits::qkNorm
    // (Qwen3, Gemma 3); over the whole projection, weight (H*D,) / (K*D,), for OLMo 2.
    // Empty holders otherwise.
    RMSNorm q_norm{nullptr}, k_norm{nullptr};

private:
    int64_t m_heads, m_kvHeads, m_headDim;
    bool m_wholeQkNorm = false;  // OLMo 2
    double m_scoreDivisor;  // sqrt(head_dim), or sqrt(query_pre_attn_scalar)
    double m_softcap;  // 0 = off
};
TORCH_MODULE(Attention);

class MlpImpl : public torch::nn::Module {
public:
    explicit MlpImpl(const ModelConfig& c);
    at::Tensor forward(const at::Tensor& x);  // (B, T, C) -> (B, T, C) via (B, T, F)
    void setProjection(const std::string& name, LinearLayer layer);
    LinearLayer projection(const std::string& name) const;
    std::vector<std::string> projectionNames() const;  // gate, up, down or gate_up, down
    LinearLayer gate_proj, up_proj, down_proj;
    LinearLayer gate_up_proj;  // Phi-3: (2F, C), gate rows first, instead of gate and up

private:
    bool m_geluTanh = false;  // gelu_pytorch_tanh (Gemma) instead of SiLU
    int64_t m_width = 0;      // F
};
TORCH_MODULE(Mlp);

class MoeBlockImpl;
struct RouterLog;

// The Llama block: x + attn(norm(x)), then h + mlp(norm(h)). Other layouts derive
// from it and keep its projections and first two norms (model/gemma_block.h).
class DecoderLayerImpl : public torch::nn::Module {
public:
    // withNorms false: the layout registers its own norms (OLMo 2 has no input_layernorm).
    // A layer the config makes sparse (ModelConfig::layerIsSparse(index)) gets a
    // mixture of experts (model/moe_block.h) where the MLP would be; routerLog collects
    // its router logits for the load-balancing loss.
    explicit DecoderLayerImpl(const ModelConfig& c, bool withNorms = true, int64_t index = 0,
                              std::shared_ptr<RouterLog> routerLog = nullptr);
    virtual at::Tensor forward(const at::Tensor& x, const RopeTables& rope, const at::Tensor& mask, at::Tensor* cacheK,
                               at::Tensor* cacheV);
    // The MLP or the mixture of experts, whichever the layer has.
    at::Tensor feedForward(const at::Tensor& x);
    Attention self_attn{nullptr};
    Mlp mlp{nullptr};  // empty in a sparse layer
    std::shared_ptr<MoeBlockImpl> moe;  // a sparse layer's experts, registered under the family's name
    RMSNorm input_layernorm{nullptr};
    RMSNorm post_attention_layernorm{nullptr};
};
TORCH_MODULE(DecoderLayer);

class LlamaModelImpl : public torch::nn::Module {
public:
    explicit LlamaModelImpl(const ModelConfig& c);
    // ids (B, T) int64; attentionMask (B, T) or undefined (all real) -> hidden (B, T, C)
    at::Tensor forward(const at::Tensor& ids, const at::Tensor& attentionMask, KVCache* cache);
    // embeds (B, T, C) instead of ids. segmentIds (B, T) int64, optional, for packed
    // sequences: tokens attend only within their own segment, positions restart at
    // each segment, 0 marks padding; not combinable with a cache.
    at::Tensor forwardEmbeddings(const at::Tensor& embeds, const at::Tensor& attentionMask, KVCache* cache,
                                 const at::Tensor& segmentIds = {});
    torch::nn::Embedding embed_tokens{nullptr};
    torch::nn::ModuleList layers{nullptr};
    RMSNorm norm{nullptr};
    DecoderLayerImpl& layer(int64_t i) { return *layers[i]->as<DecoderLayerImpl>(); }
    // Recompute each layer's activations in backward instead of keeping them
    // (activation_checkpoint.h); only while training with gradient and no cache.
    bool gradientCheckpointing = false;
    // The sparse layers' router logits, collected while routerLog->collecting.
    std::shared_ptr<RouterLog> routerLog;

private:
    ModelConfig m_config;
    // (D/2,) fp32 always, deliberately not a buffer: Module::to(dtype) would round it
    // to bf16 and put RoPE angles off by radians at long positions.
    at::Tensor m_invFreq;
    at::Tensor m_invFreqLocal;  // the windowed layers' (Gemma 3's rope_local_base_freq); undefined otherwise
    at::Tensor m_invFreqLong;   // longrope's long factors, used once a sequence outgrows the original length
};
TORCH_MODULE(LlamaModel);

// Tokens every sequence starts with that the caller does not pass as ids: soft
// prompts (embeddings put before the input) and prefixes (keys and values put in
// front of every layer's cache). Implemented in core/peft; the model only asks.
class VirtualTokensImpl : public torch::nn::Module {
public:
    virtual int64_t count() const = 0;  // N
    // (B, N, C) embeddings prepended to the input, or undefined when this is a prefix.
    virtual at::Tensor promptEmbeddings(int64_t batch) { (void)batch; return {}; }
    // Fills one (B, K, N, D) key and value per layer and returns true, or returns false.
    virtual bool prefixKeyValues(int64_t batch, std::vector<at::Tensor>& keys, std::vector<at::Tensor>& values)
    {
        (void)batch; (void)keys; (void)values;
        return false;
    }
    bool enabled = true;
};
using VirtualTokens = std::shared_ptr<VirtualTokensImpl>;

class CausalLMImpl : public torch::nn::Module {
public:
    explicit CausalLMImpl(const ModelConfig& c);
    at::Tensor forward(const at::Tensor& ids, const at::Tensor& attentionMask = {}, KVCache* cache = nullptr);  // (B, T, V)
    // (B, T, C). Virtual tokens of the active adapter are added when a sequence
    // starts (no cache or an empty one) and never appear in the output.
    at::Tensor hidden(const at::Tensor& ids, const at::Tensor& attentionMask = {}, KVCache* cache = nullptr,
                      const at::Tensor& segmentIds = {});
    at::Tensor logitsFromHidden(const at::Tensor& hidden);
    // The input embeddings of ids (B, T) -> (B, T, C), with NEFTune's noise when it is on.
    at::Tensor tokenEmbeddings(const at::Tensor& ids);                                                     // (B, T, V)
    at::Tensor outputEmbeddingWeight();  // (V, C): lm_head, or the input embedding when tied
    // Normal(0, 0.02) weights, unit norms, zero biases: Hugging Face's initializer.
    void initializeWeights(uint64_t seed);
    const ModelConfig& config() const { return m_config; }
    ModelConfig& mutableConfig() { return m_config; }  // BitFit turns bias flags on

    // Mixture of experts: collect the router logits of the forwards that follow, then
    // take their load-balancing loss (moe_block.h; undefined when nothing was
    // collected) and stop collecting. `weight` is the factor the caller trains the loss
    // with: under gradient checkpointing the returned loss has no gradient, and the
    // recomputations in backward add weight x its gradient themselves. No-ops for a
    // dense model.
    void collectRouterLogits();
    at::Tensor takeRouterAuxLoss(double weight = 0);

    // NEFTune (Jain et al. 2023): in training mode, the token embeddings (B, T, C) get
    // uniform noise in +-alpha / sqrt(T * C) (transformers' neftune_post_forward_hook,
    // T the padded length); 0 = off. Eval mode (evaluation, sampling) never adds it.
    double neftuneNoiseAlpha = 0;

    // Registered as a child module "virtual_tokens_<name>"; the first enabled one is used.
    void addVirtualTokens(const std::string& name, VirtualTokens tokens);
    void removeVirtualTokens(const std::string& name);
    VirtualTokens activeVirtualTokens() const;

    LlamaModel model{nullptr};
    LinearLayer lm_head;  // nullptr when tie_word_embeddings

private:
    ModelConfig m_config;
    std::vector<std::pair<std::string, VirtualTokens>> m_virtualTokens;
};
TORCH_MODULE(CausalLM);

// Additive attention mask (B, 1, T, S): causal over absolute indices, padding keys
// masked, and keys older than the sliding window masked when one is set.
at::Tensor buildAttentionMask(const at::Tensor& keyMask, int64_t newTokens, std::optional<int64_t> slidingWindow,
                              c10::ScalarType dtype);

} // namespace ft::model
