// Golden forward tests, one per architecture variant: a model folder written by the
// test itself (config.json in the form Hugging Face ships for that family, weights
// drawn from the test's own generator, stored with the Hugging Face tensor names) is
// loaded through the engine's loader, and its logits are compared with those of
// reference_llama.h, an independent double-precision implementation of the same
// equations. The expected values are therefore computed without any engine code:
// only the weights and token ids are shared, as inputs.
//
// Variants: Llama 2 (MHA), Llama 3.1 (GQA, llama3 rope scaling with all three
// frequency bands in use), Qwen2 (q/k/v biases, tied embeddings, a sliding window
// that use_sliding_window=false switches off), Mistral (a sliding window shorter
// than the sequence), and a Llama whose config gives head_dim explicitly (heads x
// head_dim != hidden) with attention and MLP biases and linear rope scaling, and
// Qwen3 (per-head q/k RMSNorm before RoPE, explicit head_dim, tied embeddings),
// Gemma 2 (its block, GELU, soft-capping, query_pre_attn_scalar, alternating windows)
// and Gemma 3 text (plus (1 + w) q/k norms, a local RoPE base, linear scaling on the
// global layer), SmolLM3 (a layer without positional encoding), OLMo 2 (norms after
// the sublayers, whole-projection q/k norms) and Phi-3 / Phi-4-mini (fused qkv and
// gate_up projections, LongRoPE with its short and long factors and attention factor,
// partial rotary embeddings), and the mixtures of experts Qwen3-MoE (with a dense
// mlp_only layer), Mixtral (its block_sparse_moe names, a window) and OLMoE (whole-
// projection q/k norms, top-k weights not renormalized). Every variant is also decoded
// token by token through the KV cache, run as a left-padded batch, and loaded in bf16
// (within a stated tolerance).
#include "io/safetensors.h"
#include "model/model_io.h"
#include "reference_llama.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <random>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_golden_forward {

using namespace ft::model;
using nlohmann::json;
namespace ref = fttest::reference;

namespace {

struct Variant {
    std::string name;
    json config;  // as config.json
    ref::Config reference;
    bool qkvBias = false, outBias = false, mlpBias = false;
    bool qkNorm = false;
    bool gemma = false;  // the two extra norms per layer
    bool olmo2 = false;  // post-sublayer norms only, whole-projection q/k norms
    bool fused = false;  // Phi-3's qkv_proj and gate_up_proj
};

Variant variant(const std::string& name)
{
    Variant v;
    v.name = name;
    ref::Config& r = v.reference;
    r.vocab = 96;
    r.intermediate = 48;
    r.layers = 2;
    if (name == "llama2") {
        v.config = json::parse(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 4, "max_position_embeddings": 4096, "rms_norm_eps": 1e-05,
            "rope_theta": 10000.0, "rope_scaling": null, "hidden_act": "silu", "tie_word_embeddings": false,
            "attention_bias": false, "mlp_bias": false, "bos_token_id": 1, "eos_token_id": 2,
            "torch_dtype": "float16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 4, r.headDim = 8, r.eps = 1e-5;
    } else if (name == "llama3") {
        // original_max_position_embeddings 64: wavelengths below 16 are kept, above 64 slowed 8x,
        // and the pair with wavelength 32.5 falls in the smoothly interpolated band.
        v.config = json::parse(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "hidden_size": 64, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "max_position_embeddings": 131072, "rms_norm_eps": 1e-05,
            "rope_theta": 500000.0, "hidden_act": "silu", "tie_word_embeddings": false,
            "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                             "original_max_position_embeddings": 64, "rope_type": "llama3"},
            "bos_token_id": 0, "eos_token_id": [1, 2, 3], "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 64, r.heads = 4, r.kvHeads = 2, r.headDim = 16, r.eps = 1e-5, r.theta = 500000.0;
        r.ropeType = "llama3", r.factor = 8.0, r.lowFreqFactor = 1.0, r.highFreqFactor = 4.0;
        r.originalMaxPositions = 64;
    } else if (name == "qwen2") {
        v.config = json::parse(R"({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "max_position_embeddings": 32768, "max_window_layers": 2,
            "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 4, "use_sliding_window": false,
            "hidden_act": "silu", "tie_word_embeddings": true, "bos_token_id": 5, "eos_token_id": 6,
            "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 8, r.eps = 1e-6, r.theta = 1e6, r.tied = true;
        v.qkvBias = true;
    } else if (name == "mistral") {
        v.config = json::parse(R"({"architectures": ["MistralForCausalLM"], "model_type": "mistral",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "max_position_embeddings": 32768, "rms_norm_eps": 1e-05,
            "rope_theta": 10000.0, "sliding_window": 5, "hidden_act": "silu", "tie_word_embeddings": false,
            "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 8, r.eps = 1e-5, r.slidingWindow = 5;
    } else if (name == "head_dim") {
        v.config = json::parse(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 12, "max_position_embeddings": 4096, "rms_norm_eps": 1e-06,
            "rope_theta": 10000.0, "rope_scaling": {"type": "linear", "factor": 2.5}, "hidden_act": "silu",
            "attention_bias": true, "mlp_bias": true, "tie_word_embeddings": false,
            "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "float32", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 12, r.eps = 1e-6, r.ropeType = "linear", r.factor = 2.5;
        v.qkvBias = v.outBias = v.mlpBias = true;
    } else if (name == "qwen3") {
        // As Qwen3-0.6B ships: explicit head_dim (here 12, heads x head_dim = 48 != hidden 32),
        // tied embeddings, no biases, the sliding-window fields present but switched off.
        v.config = json::parse(R"({"architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 12, "max_position_embeddings": 40960, "max_window_layers": 2,
            "rms_norm_eps": 1e-06, "rope_theta": 1000000, "rope_scaling": null, "sliding_window": null,
            "use_sliding_window": false, "attention_bias": false, "attention_dropout": 0.0, "hidden_act": "silu",
            "tie_word_embeddings": true, "bos_token_id": 5, "eos_token_id": 6, "torch_dtype": "bfloat16",
            "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 12, r.eps = 1e-6, r.theta = 1e6, r.tied = true;
        r.qkNorm = true;
        v.qkNorm = true;
    } else if (name == "gemma2") {
        // Gemma 2's layout with its soft-caps set low enough to bite on these weights,
        // query_pre_attn_scalar != head_dim, and a window of 5 on the even layers (the
        // default when layer_types is absent).
        v.config = json::parse(R"({"architectures": ["Gemma2ForCausalLM"], "model_type": "gemma2",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "head_dim": 12, "max_position_embeddings": 8192, "rms_norm_eps": 1e-06,
            "rope_theta": 10000.0, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
            "query_pre_attn_scalar": 24, "attn_logit_softcapping": 2.0, "final_logit_softcapping": 3.0,
            "sliding_window": 5, "attention_bias": false, "cache_implementation": "hybrid",
            "bos_token_id": 2, "eos_token_id": [1, 7], "pad_token_id": 0, "torch_dtype": "float32", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 12, r.eps = 1e-6, r.tied = true;
        r.gemma = true, r.geluTanh = true, r.attnScalar = 24, r.attnSoftcap = 2.0, r.finalSoftcap = 3.0;
        r.slidingWindow = 5, r.slidingLayers = {true, false};
        v.gemma = true;
    } else if (name == "gemma3") {
        // Gemma 3 text: per-head (1 + w) q/k norms, layer_types given (layer 0 local,
        // layer 1 global), a local RoPE base for the windowed layer and linear scaling
        // on the global one, no soft-capping.
        v.config = json::parse(R"({"architectures": ["Gemma3ForCausalLM"], "model_type": "gemma3_text",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 1, "head_dim": 16, "max_position_embeddings": 32768, "rms_norm_eps": 1e-06,
            "rope_theta": 1000000.0, "rope_local_base_freq": 10000.0, "rope_scaling": {"rope_type": "linear", "factor": 8.0},
            "hidden_activation": "gelu_pytorch_tanh", "query_pre_attn_scalar": 16, "attn_logit_softcapping": null,
            "final_logit_softcapping": null, "sliding_window": 5, "sliding_window_pattern": 6,
            "layer_types": ["sliding_attention", "full_attention"], "attention_bias": false,
            "bos_token_id": 2, "eos_token_id": [1, 6], "pad_token_id": 0, "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 1, r.headDim = 16, r.eps = 1e-6, r.tied = true, r.theta = 1e6;
        r.ropeType = "linear", r.factor = 8.0, r.localTheta = 10000.0;
        r.gemma = true, r.geluTanh = true, r.attnScalar = 16, r.qkNorm = true;
        r.slidingWindow = 5, r.slidingLayers = {true, false};
        v.gemma = true, v.qkNorm = true;
    } else if (name == "smollm3") {
        // SmolLM3 with its NoPE pattern given explicitly: layer 1 has no positional encoding.
        v.config = json::parse(R"({"architectures": ["SmolLM3ForCausalLM"], "model_type": "smollm3",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "max_position_embeddings": 65536, "rms_norm_eps": 1e-06,
            "rope_theta": 5000000.0, "rope_scaling": null, "hidden_act": "silu", "attention_bias": false,
            "mlp_bias": false, "no_rope_layers": [1, 0], "no_rope_layer_interval": 4, "use_sliding_window": false,
            "sliding_window": null, "tie_word_embeddings": true, "bos_token_id": null, "eos_token_id": 5,
            "pad_token_id": 4, "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 8, r.eps = 1e-6, r.theta = 5e6, r.tied = true;
        r.ropeLayers = {true, false};
    } else if (name == "olmo2") {
        v.config = json::parse(R"({"architectures": ["Olmo2ForCausalLM"], "model_type": "olmo2",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "max_position_embeddings": 4096, "rms_norm_eps": 1e-06,
            "rope_theta": 500000, "rope_scaling": null, "hidden_act": "silu", "attention_bias": false,
            "attention_dropout": 0.0, "tie_word_embeddings": false, "bos_token_id": null, "eos_token_id": 3,
            "pad_token_id": 4, "torch_dtype": "float32", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 8, r.eps = 1e-6, r.theta = 500000;
        r.olmo2 = true;
        v.olmo2 = true;
    } else if (name == "phi3") {
        // As Phi-3.5-mini ships (MHA, longrope with a top-level original length of 4096,
        // so the factor is 131072 / 4096 = 32 and the attention factor
        // sqrt(1 + ln 32 / ln 4096)), with a window of 5 that bites at this length. Twelve
        // tokens stay below 4096: the short factors apply.
        v.config = json::parse(R"({"architectures": ["Phi3ForCausalLM"], "model_type": "phi3",
            "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 4, "max_position_embeddings": 131072, "original_max_position_embeddings": 4096,
            "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "hidden_act": "silu", "sliding_window": 5,
            "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.1, 1.5, 2.25],
                             "long_factor": [1.25, 2.5, 6.0, 15.0]},
            "resid_pdrop": 0.0, "embd_pdrop": 0.0, "attention_dropout": 0.0, "tie_word_embeddings": false,
            "bos_token_id": 1, "eos_token_id": 32000, "pad_token_id": 32000, "torch_dtype": "bfloat16",
            "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 4, r.headDim = 8, r.eps = 1e-5, r.slidingWindow = 5;
        r.ropeType = "longrope", r.originalMaxPositions = 4096;
        r.shortFactors = {1.0, 1.1, 1.5, 2.25}, r.longFactors = {1.25, 2.5, 6.0, 15.0};
        r.attentionFactor = std::sqrt(1.0 + std::log(32.0) / std::log(4096.0));
        r.fused = true;
        v.fused = true;
    } else if (name == "phi4mini") {
        // As Phi-4-mini ships (GQA, tied embeddings, 3/4 of each head rotated, longrope),
        // with an original length of 4 so that twelve tokens use the long factors.
        v.config = json::parse(R"({"architectures": ["Phi3ForCausalLM"], "model_type": "phi3",
            "hidden_size": 64, "intermediate_size": 48, "num_hidden_layers": 2, "num_attention_heads": 4,
            "num_key_value_heads": 2, "max_position_embeddings": 64, "original_max_position_embeddings": 4,
            "partial_rotary_factor": 0.75, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "hidden_act": "silu",
            "sliding_window": 262144, "tie_word_embeddings": true,
            "rope_scaling": {"type": "longrope", "short_factor": [1.0, 1.0, 1.25, 1.5, 2.0, 3.0],
                             "long_factor": [1.0, 1.5, 3.0, 7.0, 20.0, 45.0]},
            "bos_token_id": 199999, "eos_token_id": 199999, "pad_token_id": 199999, "torch_dtype": "bfloat16",
            "vocab_size": 96})");
        r.hidden = 64, r.heads = 4, r.kvHeads = 2, r.headDim = 16, r.eps = 1e-5, r.tied = true;
        r.ropeType = "longrope", r.originalMaxPositions = 4, r.rotaryDim = 12;
        r.shortFactors = {1.0, 1.0, 1.25, 1.5, 2.0, 3.0}, r.longFactors = {1.0, 1.5, 3.0, 7.0, 20.0, 45.0};
        r.attentionFactor = std::sqrt(1.0 + std::log(16.0) / std::log(4.0));
        r.fused = true;
        v.fused = true;
    } else if (name == "qwen3moe") {
        // As Qwen3-30B-A3B ships (Qwen3 attention, renormalized top-k), at 4 experts of
        // width 24, top 2, with layer 1 listed in mlp_only_layers: a dense MLP of 48 there.
        v.config = json::parse(R"({"architectures": ["Qwen3MoeForCausalLM"], "model_type": "qwen3_moe",
            "hidden_size": 32, "intermediate_size": 48, "moe_intermediate_size": 24, "num_experts": 4,
            "num_experts_per_tok": 2, "norm_topk_prob": true, "decoder_sparse_step": 1, "mlp_only_layers": [1],
            "router_aux_loss_coef": 0.001, "output_router_logits": false,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12,
            "max_position_embeddings": 40960, "max_window_layers": 2, "rms_norm_eps": 1e-06, "rope_theta": 1000000,
            "rope_scaling": null, "sliding_window": null, "use_sliding_window": false, "attention_bias": false,
            "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": 5, "eos_token_id": 6,
            "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 12, r.eps = 1e-6, r.theta = 1e6, r.qkNorm = true;
        r.experts = 4, r.topK = 2, r.expertWidth = 24, r.normTopk = true, r.sparseLayers = {true, false};
        v.qkNorm = true;
    } else if (name == "mixtral") {
        // As Mixtral-8x7B ships (block_sparse_moe, w1/w3/w2, top 2 renormalized), at 4
        // experts and with a window of 5.
        v.config = json::parse(R"({"architectures": ["MixtralForCausalLM"], "model_type": "mixtral",
            "hidden_size": 32, "intermediate_size": 40, "num_local_experts": 4, "num_experts_per_tok": 2,
            "router_aux_loss_coef": 0.02, "router_jitter_noise": 0.0, "output_router_logits": false,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2,
            "max_position_embeddings": 32768, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0, "sliding_window": 5,
            "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": 1, "eos_token_id": 2,
            "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 2, r.headDim = 8, r.eps = 1e-5, r.theta = 1e6, r.slidingWindow = 5;
        r.experts = 4, r.topK = 2, r.expertWidth = 40, r.normTopk = true, r.moeBlock = "block_sparse_moe", r.w123 = true;
    } else if (name == "olmoe") {
        // As OLMoE-1B-7B ships (whole-projection q/k norms in a pre-norm layer, top-k
        // weights not renormalized), at 6 experts, top 3.
        v.config = json::parse(R"({"architectures": ["OlmoeForCausalLM"], "model_type": "olmoe",
            "hidden_size": 32, "intermediate_size": 20, "num_experts": 6, "num_experts_per_tok": 3,
            "norm_topk_prob": false, "router_aux_loss_coef": 0.01, "output_router_logits": false, "clip_qkv": null,
            "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 4,
            "max_position_embeddings": 4096, "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "rope_scaling": null,
            "attention_bias": false, "hidden_act": "silu", "tie_word_embeddings": false, "bos_token_id": null,
            "eos_token_id": 50279, "pad_token_id": 1, "torch_dtype": "bfloat16", "vocab_size": 96})");
        r.hidden = 32, r.heads = 4, r.kvHeads = 4, r.headDim = 8, r.eps = 1e-5, r.wholeQkNorm = true;
        r.experts = 6, r.topK = 3, r.expertWidth = 20, r.normTopk = false;
    } else {
        throw std::runtime_error("unknown variant " + name);
    }
    return v;
}

// Every tensor of the variant, by Hugging Face name and shape.
std::vector<std::pair<std::string, std::vector<int64_t>>> tensorShapes(const Variant& v)
{
    const ref::Config& r = v.reference;
    const int64_t C = r.hidden, F = r.intermediate, Q = int64_t(r.heads) * r.headDim, K = int64_t(r.kvHeads) * r.headDim;
    std::vector<std::pair<std::string, std::vector<int64_t>>> out{{"model.embed_tokens.weight", {r.vocab, C}}};
    for (int l = 0; l < r.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        if (!v.olmo2)
            out.push_back({p + "input_layernorm.weight", {C}});
        out.push_back({p + "post_attention_layernorm.weight", {C}});
        if (v.olmo2)
            out.push_back({p + "post_feedforward_layernorm.weight", {C}});
        if (v.olmo2 || r.wholeQkNorm) {
            out.push_back({p + "self_attn.q_norm.weight", {Q}});
            out.push_back({p + "self_attn.k_norm.weight", {K}});
        }
        if (v.fused) {  // Phi-3's fused projections
            out.push_back({p + "self_attn.qkv_proj.weight", {Q + 2 * K, C}});
            out.push_back({p + "self_attn.o_proj.weight", {C, Q}});
            out.push_back({p + "mlp.gate_up_proj.weight", {2 * F, C}});
            out.push_back({p + "mlp.down_proj.weight", {C, F}});
            continue;
        }
        for (auto [proj, rows, cols] : {std::tuple{"q_proj", Q, C}, {"k_proj", K, C}, {"v_proj", K, C}, {"o_proj", C, Q}}) {
            out.push_back({p + "self_attn." + proj + ".weight", {rows, cols}});
            if (std::string(proj) == "o_proj" ? v.outBias : v.qkvBias)
                out.push_back({p + "self_attn." + proj + ".bias", {rows}});
        }
        if (v.gemma) {
            out.push_back({p + "pre_feedforward_layernorm.weight", {C}});
            out.push_back({p + "post_feedforward_layernorm.weight", {C}});
        }
        if (v.qkNorm) {
            out.push_back({p + "self_attn.q_norm.weight", {r.headDim}});
            out.push_back({p + "self_attn.k_norm.weight", {r.headDim}});
        }
        if (r.experts > 0 && (r.sparseLayers.empty() || r.sparseLayers[size_t(l)])) {  // router and experts
            const std::string block = p + r.moeBlock + ".";
            out.push_back({block + "gate.weight", {r.experts, C}});
            const int64_t W = r.expertWidth;
            for (int e = 0; e < r.experts; ++e) {
                const std::string x = block + "experts." + std::to_string(e) + ".";
                out.push_back({x + (r.w123 ? "w1" : "gate_proj") + ".weight", {W, C}});
                out.push_back({x + (r.w123 ? "w3" : "up_proj") + ".weight", {W, C}});
                out.push_back({x + (r.w123 ? "w2" : "down_proj") + ".weight", {C, W}});
            }
            continue;
        }
        for (auto [proj, rows, cols] : {std::tuple{"gate_proj", F, C}, {"up_proj", F, C}, {"down_proj", C, F}}) {
            out.push_back({p + "mlp." + proj + ".weight", {rows, cols}});
            if (v.mlpBias)
                out.push_back({p + "mlp." + proj + ".bias", {rows}});
        }
    }
    out.push_back({"model.norm.weight", {C}});
    if (!r.tied)
        out.push_back({"lm_head.weight", {r.vocab, C}});
    return out;
}

// Writes the folder and returns the weights as the reference sees them (the float
// values written, widened to double).
ref::Weights writeFolder(const Variant& v, const std::string& dir)
{
    std::mt19937_64 rng(0x5eed + std::hash<std::string>{}(v.name));
    std::normal_distribution<double> normal(0.0, 1.0);
    std::vector<std::vector<float>> storage;
    std::vector<ft::io::TensorToWrite> tensors;
    ref::Weights weights;
    const auto shapes = tensorShapes(v);
    storage.reserve(shapes.size());
    for (const auto& [name, shape] : shapes) {
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        const bool isNorm = name.find("norm") != std::string::npos, isBias = name.ends_with(".bias");
        const double scale = shape.size() == 2 && name.find("embed") == std::string::npos ? 1.0 / std::sqrt(double(shape[1])) : 1.0;
        std::vector<float> values(n);
        for (float& x : values)
            x = float(isNorm ? 1.0 + 0.2 * normal(rng) : isBias ? 0.3 * normal(rng) : scale * normal(rng));
        weights.tensors[name] = ref::Vec(values.begin(), values.end());
        storage.push_back(std::move(values));
        tensors.push_back({name, ft::io::DType::F32, shape, storage.back().data(), storage.back().size() * sizeof(float)});
    }
    std::filesystem::create_directories(dir);
    ft::io::writeSafetensors(dir + "/model.safetensors", tensors, {{"format", "pt"}});
    std::ofstream(dir + "/config.json") << v.config.dump(2);
    return weights;
}

std::vector<int64_t> tokenIds(int64_t count, int64_t vocab, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::vector<int64_t> ids(count);
    for (int64_t& id : ids)
        id = int64_t(rng() % uint64_t(vocab));
    return ids;
}

at::Tensor referenceLogits(const Variant& v, const ref::Weights& w, const std::vector<int64_t>& ids)
{
    const ref::Vec logits = ref::forward(v.reference, w, ids);
    return at::tensor(logits, at::kDouble).view({int64_t(ids.size()), v.reference.vocab});
}

// The variant's reference with its distinctive feature changed, if it has one.
std::optional<ref::Config> contrast(const Variant& v)
{
    ref::Config c = v.reference;
    if (v.name == "qwen2")
        c.slidingWindow = 4;  // the window that use_sliding_window=false switches off
    else if (v.name == "gemma2")
        c.attnSoftcap = c.finalSoftcap = 0;  // the soft-caps must matter
    else if (v.name == "gemma3")
        c.localTheta = 0;  // the local layers' own RoPE base must matter
    else if (v.name == "smollm3")
        c.ropeLayers.clear();  // the NoPE layer must matter
    else if (v.name == "olmo2")
        return std::nullopt;
    else if (v.name == "qwen3moe" || v.name == "mixtral")
        c.normTopk = !c.normTopk, c.qkNorm = false;  // the renormalization (and Qwen3's norms) must matter
    else if (v.name == "olmoe")
        c.normTopk = true;  // OLMoE's unnormalized top-k weights must matter
    else if (v.name == "phi4mini")
        c.longFactors = c.shortFactors;  // past the original length the long factors must matter  // its layout is the whole difference: the reference without it has other tensors
    else if (c.qkNorm)
        c.qkNorm = false;
    else if (!c.ropeType.empty())
        c.ropeType.clear();
    else if (c.slidingWindow)
        c.slidingWindow = 0;
    else
        return std::nullopt;
    return c;
}

// Empty when every |engine - reference| <= 2e-5 + 2e-5 |reference|.
std::string mismatch(const at::Tensor& engine, const at::Tensor& expected)
{
    at::Tensor diff = (engine.to(at::kDouble) - expected).abs();
    at::Tensor bound = 2e-5 + 2e-5 * expected.abs();
    if ((diff <= bound).all().item<bool>())
        return {};
    std::ostringstream s;
    s << "max |engine - reference| " << diff.max().item<double>() << " (logits up to " << expected.abs().max().item<double>()
      << ")";
    return s.str();
}

// The variant's folder written, loaded by the engine, and removed again.
struct LoadedVariant {
    Variant v;
    ref::Weights weights;
    LoadedModel engine;
};

LoadedVariant loadVariant(const QString& name)
{
    LoadedVariant out{variant(name.toStdString()), {}, {}};
    QTemporaryDir tmp;
    out.weights = writeFolder(out.v, tmp.path().toStdString());
    out.engine = loadModelFolder(tmp.path().toStdString());
    return out;
}

} // namespace

class TestGoldenForward : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void matchesTheReference_data()
    {
        QTest::addColumn<QString>("variant");
        for (const char* name : {"llama2", "llama3", "qwen2", "qwen3", "gemma2", "gemma3", "smollm3", "olmo2", "phi3",
                                 "phi4mini", "qwen3moe", "mixtral", "olmoe", "mistral", "head_dim"})
            QTest::newRow(name) << QString(name);
    }

    void matchesTheReference()
    {
        QFETCH(QString, variant);
        auto [v, weights, m] = loadVariant(variant);
        QVERIFY(m.ignoredTensors.empty());

        const int64_t T = 12;
        std::vector<std::vector<int64_t>> rows{tokenIds(T, v.reference.vocab, 1), tokenIds(T, v.reference.vocab, 2)};
        std::vector<int64_t> both = rows[0];
        both.insert(both.end(), rows[1].begin(), rows[1].end());
        const at::Tensor ids = at::tensor(both, at::kLong).view({2, T});
        torch::NoGradGuard noGrad;
        const at::Tensor logits = m.model->forward(ids);  // (2, T, V), fp32
        for (int64_t b = 0; b < 2; ++b) {
            const std::string why = mismatch(logits[b], referenceLogits(v, weights, rows[b]));
            QVERIFY2(why.empty(), (v.name + " row " + std::to_string(b) + ": " + why).c_str());
        }
        // The comparison has teeth: the reference without the variant's distinctive
        // feature (or, for Qwen2, with the window it must ignore) disagrees.
        if (const auto other = contrast(v)) {
            Variant changed = v;
            changed.reference = *other;
            QVERIFY(!mismatch(logits[0], referenceLogits(changed, weights, rows[0])).empty());
        }
    }

    void kvCacheDecodingMatchesTheReference_data() { matchesTheReference_data(); }

    void kvCacheDecodingMatchesTheReference()
    {
        // A prompt of 6 tokens, then one token at a time: with a window of 5 the
        // cache holds keys the window must hide.
        QFETCH(QString, variant);
        auto [v, weights, m] = loadVariant(variant);
        const std::vector<int64_t> row = tokenIds(14, v.reference.vocab, 3);
        const at::Tensor expected = referenceLogits(v, weights, row);
        at::Tensor ids = at::tensor(row, at::kLong).view({1, -1});
        torch::NoGradGuard noGrad;
        KVCache cache;
        std::vector<at::Tensor> pieces{m.model->forward(ids.narrow(1, 0, 6), {}, &cache)[0]};
        for (int64_t t = 6; t < ids.size(1); ++t)
            pieces.push_back(m.model->forward(ids.narrow(1, t, 1), {}, &cache)[0]);
        const std::string why = mismatch(at::cat(pieces, 0), expected);
        QVERIFY2(why.empty(), (v.name + ": " + why).c_str());
    }

    // A batch as generation and training pad it: row 0 left-padded by 4 masked pad
    // tokens, row 1 full. The real positions of each row give the reference's logits of
    // that row alone: positions count from each row's first real token and no query
    // attends to padding.
    void leftPaddedBatchMatchesTheReference_data() { matchesTheReference_data(); }
    void leftPaddedBatchMatchesTheReference()
    {
        QFETCH(QString, variant);
        auto [v, weights, m] = loadVariant(variant);
        const int64_t T = 12, pad = 4;
        const std::vector<int64_t> shortRow = tokenIds(T - pad, v.reference.vocab, 5), fullRow = tokenIds(T, v.reference.vocab, 6);
        std::vector<int64_t> ids(size_t(pad), 0), mask(size_t(pad), 0);
        ids.insert(ids.end(), shortRow.begin(), shortRow.end());
        ids.insert(ids.end(), fullRow.begin(), fullRow.end());
        mask.resize(size_t(2 * T), 1);
        torch::NoGradGuard noGrad;
        const at::Tensor logits = m.model->forward(at::tensor(ids, at::kLong).view({2, T}),
                                                   at::tensor(mask, at::kLong).view({2, T}));
        std::string why = mismatch(logits[0].narrow(0, pad, T - pad), referenceLogits(v, weights, shortRow));
        QVERIFY2(why.empty(), (v.name + " padded row: " + why).c_str());
        why = mismatch(logits[1], referenceLogits(v, weights, fullRow));
        QVERIFY2(why.empty(), (v.name + " full row: " + why).c_str());
    }

    // The same folder loaded in bf16 (weights rounded to 8 significant bits, every
    // product rounded again): its logits stay within 5 % of the largest reference logit
    // before soft-capping (measured: 0.4 % to 1.5 %).
    void bf16WeightsStayCloseToTheReference_data() { matchesTheReference_data(); }
    void bf16WeightsStayCloseToTheReference()
    {
        QFETCH(QString, variant);
        const Variant v = test_golden_forward::variant(variant.toStdString());
        QTemporaryDir tmp;
        const auto weights = writeFolder(v, tmp.path().toStdString());
        LoadedModel m = loadModelFolder(tmp.path().toStdString(), {at::kBFloat16, c10::Device(c10::kCPU)});
        const std::vector<int64_t> row = tokenIds(12, v.reference.vocab, 7);
        torch::NoGradGuard noGrad;
        const at::Tensor got = m.model->forward(at::tensor(row, at::kLong).view({1, -1}))[0].to(at::kDouble);
        const at::Tensor expected = referenceLogits(v, weights, row);
        // The scale: the largest logit before any final soft-cap (a cap of 3 squeezes
        // logits of 60 into +-3, but not the rounding of the sums that made them).
        Variant uncapped = v;
        uncapped.reference.finalSoftcap = 0;
        const double scale = referenceLogits(uncapped, weights, row).abs().max().item<double>();
        const double worst = (got - expected).abs().max().item<double>();
        qInfo("%s bf16: max |engine - reference| %.4f of logits up to %.3f (%.2f %%)", v.name.c_str(), worst, scale,
              100 * worst / scale);
        QVERIFY2(worst <= 0.05 * scale, qPrintable(QString("%1 of %2").arg(worst).arg(scale)));
    }
};

FT_TEST_MAIN_GUILESS(TestGoldenForward)

} // namespace test_golden_forward

#include "test_golden_forward.moc"
