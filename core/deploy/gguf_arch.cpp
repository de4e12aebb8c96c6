#include "deploy/gguf_arch.h"

#include "util/error.h"

#include <array>
#include <cmath>
#include <numbers>
#include <regex>
#include <vector>

namespace ft::deploy {
namespace {

// llama.cpp's names (gguf-py/gguf/constants.py).
constexpr std::array<GgufArch, 12> kArchs{{
    {model::Arch::Llama, "llama", true, false},
    {model::Arch::Mistral, "llama", true, false},  // llama.cpp's converter writes Mistral as llama
    {model::Arch::Qwen2, "qwen2", false, false},   // NEOX RoPE: Hugging Face's layout as is
    {model::Arch::Qwen3, "qwen3", false, false},
    {model::Arch::Gemma2, "gemma2", false, true},
    {model::Arch::Gemma3Text, "gemma3", false, true},
    {model::Arch::Phi3, "phi3", false, false},  // fused attn_qkv and ffn_up (gate half first), NEOX RoPE
    {model::Arch::Qwen3Moe, "qwen3moe", false, false},
    {model::Arch::Mixtral, "llama", true, false},  // llama.cpp's converter writes Mixtral as llama with experts
    {model::Arch::Olmoe, "olmoe", false, false},
    {model::Arch::Olmo2, "olmo2", false, false, true},
    {model::Arch::SmolLM3, "smollm3", true, false},  // Llama's layout; NoPE layers fixed by llama.cpp (below)
}};

// Hugging Face leaf names inside a decoder layer -> GGUF's, per tensor kind.
struct LayerName {
    const char* hf;
    const char* gguf;
};
// The Gemma block's norms: around attention and around the MLP.
constexpr std::array<LayerName, 4> kGemmaNormNames{{
    {"input_layernorm", "attn_norm"},
    {"post_attention_layernorm", "post_attention_norm"},
    {"pre_feedforward_layernorm", "ffn_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
}};
// OLMo 2's layer: a norm after attention and one after the MLP, none before them.
constexpr std::array<LayerName, 2> kPostNormNames{{
    {"post_attention_layernorm", "post_attention_norm"},
    {"post_feedforward_layernorm", "post_ffw_norm"},
}};
constexpr std::array<LayerName, 15> kLayerNames{{
    {"input_layernorm", "attn_norm"},
    {"self_attn.q_proj", "attn_q"},
    {"self_attn.k_proj", "attn_k"},
    {"self_attn.v_proj", "attn_v"},
    {"self_attn.o_proj", "attn_output"},
    {"self_attn.q_norm", "attn_q_norm"},
    {"self_attn.k_norm", "attn_k_norm"},
    {"post_attention_layernorm", "ffn_norm"},
    {"mlp.gate_proj", "ffn_gate"},
    {"mlp.up_proj", "ffn_up"},
    {"mlp.down_proj", "ffn_down"},
    {"self_attn.qkv_proj", "attn_qkv"},  // Phi-3
    {"mlp.gate_up_proj", "ffn_up"},      // Phi-3: llama.cpp splits it into gate and up halves
    {"mlp.gate", "ffn_gate_inp"},        // a mixture of experts' router (the experts: ffn_*_exps, stacked)
    {"block_sparse_moe.gate", "ffn_gate_inp"},  // Mixtral's router
}};

} // namespace

const GgufArch& ggufArch(model::Arch arch)
{
    for (const auto& a : kArchs)
        if (a.arch == arch)
            return a;
    fail(std::string("GGUF export does not support the ") + model::archClassName(arch) + " family yet (" +
         ggufSupportedArchs() + " are supported)");
}

std::string ggufSupportedArchs()
{
    std::string s;
    for (const auto& a : kArchs)
        s += (s.empty() ? "" : ", ") + std::string(model::archClassName(a.arch));
    return s;
}

void writeHyperParameters(io::GgufWriter& w, const GgufArch& arch, const model::ModelConfig& c)
{
    const std::string p = std::string(arch.ggufName) + ".";
    auto u32 = [](int64_t v) { return io::GgufValue{uint32_t(v)}; };
    auto f32 = [](double v) { return io::GgufValue{float(v)}; };
    w.set(p + "vocab_size", u32(c.vocabSize));
    w.set(p + "context_length", u32(c.maxPositionEmbeddings));
    w.set(p + "embedding_length", u32(c.hiddenSize));
    w.set(p + "block_count", u32(c.numHiddenLayers));
    w.set(p + "feed_forward_length", u32(c.intermediateSize));
    w.set(p + "attention.head_count", u32(c.numAttentionHeads));
    w.set(p + "attention.head_count_kv", u32(c.numKeyValueHeads));
    if (c.headDim * c.numAttentionHeads != c.hiddenSize || arch.arch == model::Arch::Qwen3 ||
        arch.arch == model::Arch::Qwen3Moe) {
        w.set(p + "attention.key_length", u32(c.headDim));
        w.set(p + "attention.value_length", u32(c.headDim));
    }
    w.set(p + "attention.layer_norm_rms_epsilon", f32(c.rmsNormEps));
    w.set(p + "rope.freq_base", f32(c.ropeTheta));
    w.set(p + "rope.dimension_count", u32(c.rotaryDim()));  // Phi-4-mini rotates part of each head
    if (c.ropeScaling.type == "linear") {
        w.set(p + "rope.scaling.type", io::GgufValue{std::string("linear")});
        w.set(p + "rope.scaling.factor", f32(c.ropeScaling.factor));
    } else if (c.ropeScaling.type == "llama3") {
        if (arch.ggufName != std::string("llama"))
            fail(std::string("llama.cpp applies llama3 RoPE scaling only to the llama architecture, not to ") +
                 arch.ggufName);
        // The factors travel as the rope_freqs tensor (llama3RopeFactors), as the converter writes them.
    } else if (c.ropeScaling.type == "longrope") {
        if (arch.arch != model::Arch::Phi3)
            fail(std::string("llama.cpp applies longrope scaling only to the phi3 architecture, not to ") + arch.ggufName);
        // The factors travel as rope_factors_long / rope_factors_short (phi3RopeFactors).
        w.set(p + "rope.scaling.attn_factor", f32(c.ropeScaling.attentionFactor));
    } else if (!c.ropeScaling.type.empty())
        fail("RoPE scaling '" + c.ropeScaling.type + "' cannot be written to GGUF yet (linear, llama3 and Phi-3's "
             "longrope can)");
    if (c.hasExperts()) {
        // llama.cpp renormalizes the top-k weights for qwen3moe and llama (Mixtral), never
        // for olmoe, and runs experts in every layer.
        const bool renormalizes = arch.arch != model::Arch::Olmoe;
        if (c.normTopkProb != renormalizes)
            fail(std::string("norm_topk_prob is ") + (c.normTopkProb ? "true" : "false") + ": llama.cpp's " +
                 arch.ggufName + (renormalizes ? " always renormalizes" : " never renormalizes") +
                 " the top-k routing weights");
        for (int64_t i = 0; i < c.numHiddenLayers; ++i)
            if (!c.layerIsSparse(i))
                fail("layer " + std::to_string(i) + " has a dense MLP (mlp_only_layers / decoder_sparse_step): llama.cpp's " +
                     arch.ggufName + " expects experts in every layer");
        w.set(p + "expert_count", u32(c.numExperts));
        w.set(p + "expert_used_count", u32(c.numExpertsPerTok));
        if (arch.arch == model::Arch::Qwen3Moe)
            w.set(p + "expert_feed_forward_length", u32(c.moeIntermediateSize));
        else
            w.set(p + "feed_forward_length", u32(c.moeIntermediateSize));
    }
    if (arch.arch == model::Arch::SmolLM3) {
        // llama.cpp's smollm3 has no key for its NoPE layers: every fourth layer (3, 7,
        // 11 ...) goes without RoPE, as no_rope_layer_interval 4 gives, and none has a window.
        for (int64_t i = 0; i < c.numHiddenLayers; ++i)
            if (c.layerUsesRope(i) != ((i + 1) % 4 != 0))
                fail("layer " + std::to_string(i) + (c.layerUsesRope(i) ? " applies" : " skips") +
                     " RoPE (no_rope_layers); llama.cpp's smollm3 skips it on every fourth layer (3, 7, 11 ...) only");
        if (c.slidingWindow)
            fail("a smollm3 model with use_sliding_window: llama.cpp's smollm3 attends to the whole context");
    }
    if (arch.arch == model::Arch::Phi3) {
        // As llama.cpp's converter: the pretraining length (longrope picks its long factors
        // past it) and the window of every layer, 0 for none.
        w.set(p + "rope.scaling.original_context_length",
              u32(c.ropeScaling.type == "longrope" ? c.ropeScaling.originalMaxPositionEmbeddings : c.maxPositionEmbeddings));
        w.set(p + "attention.sliding_window", u32(c.slidingWindow.value_or(0)));
    }
    if (arch.arch == model::Arch::Gemma2 || arch.arch == model::Arch::Gemma3Text) {
        // llama.cpp scales queries by 1/sqrt(head_dim) (1/sqrt(hidden/heads) for the 27B
        // shapes only); gemma2 windows the even layers, gemma3 all but every sixth, whose
        // local RoPE base is 10000 without scaling.
        const bool gemma3 = arch.arch == model::Arch::Gemma3Text;
        if (c.queryPreAttnScalar != 0 && c.queryPreAttnScalar != double(c.headDim))
            fail("query_pre_attn_scalar " + std::to_string(c.queryPreAttnScalar) + " differs from head_dim " +
                 std::to_string(c.headDim) + ": llama.cpp's " + arch.ggufName + " scales queries by 1/sqrt(head_dim)");
        if (!c.slidingWindow)
            fail(std::string("a ") + arch.ggufName + " model without sliding_window: llama.cpp's " + arch.ggufName +
                 " needs one");
        for (int64_t i = 0; i < c.numHiddenLayers; ++i) {
            const bool expected = gemma3 ? (i + 1) % 6 != 0 : i % 2 == 0;
            if (c.layerIsSliding(i) != expected)
                fail("layer " + std::to_string(i) + (c.layerIsSliding(i) ? " is" : " is not") + " windowed; llama.cpp's " +
                     arch.ggufName + (gemma3 ? " windows all layers but every sixth" : " windows exactly the even layers"));
        }
        w.set(p + "attention.sliding_window", u32(*c.slidingWindow));
        if (gemma3) {
            if (c.attnLogitSoftcap > 0 || c.finalLogitSoftcap > 0)
                fail("a gemma3 model with logit soft-capping: llama.cpp's gemma3 has none");
            if (c.ropeLocalTheta && *c.ropeLocalTheta != 10000.0)
                fail("rope_local_base_freq " + std::to_string(*c.ropeLocalTheta) +
                     ": llama.cpp's gemma3 uses 10000 for the windowed layers");
        } else {
            if (c.attnLogitSoftcap <= 0 || c.finalLogitSoftcap <= 0)
                fail("a gemma2 model without attention and final logit soft-capping: llama.cpp's gemma2 always caps");
            w.set(p + "attn_logit_softcapping", f32(c.attnLogitSoftcap));
            w.set(p + "final_logit_softcapping", f32(c.finalLogitSoftcap));
        }
    }
}

std::optional<std::string> ggufTensorName(const std::string& hf, const GgufArch* arch)
{
    if (hf == "model.embed_tokens.weight")
        return "token_embd.weight";
    if (hf == "model.norm.weight")
        return "output_norm.weight";
    if (hf == "lm_head.weight")
        return "output.weight";
    static const std::regex layer(R"(model\.layers\.(\d+)\.(.+)\.(weight|bias))");
    std::smatch m;
    if (!std::regex_match(hf, m, layer))
        return std::nullopt;
    if (arch && arch->gemmaNorms)
        for (const auto& n : kGemmaNormNames)
            if (m[2] == n.hf)
                return "blk." + m[1].str() + "." + n.gguf + "." + m[3].str();
    if (arch && arch->postNorms)
        for (const auto& n : kPostNormNames)
            if (m[2] == n.hf)
                return "blk." + m[1].str() + "." + n.gguf + "." + m[3].str();
    for (const auto& n : kLayerNames)
        if (m[2] == n.hf)
            return "blk." + m[1].str() + "." + n.gguf + "." + m[3].str();
    return std::nullopt;
}

int64_t ggufPermuteHeads(const GgufArch& arch, const model::ModelConfig& c, const std::string& ggufName)
{
    if (!arch.permuteQK)
        return 0;
    if (ggufName.find(".attn_q.") != std::string::npos)
        return c.numAttentionHeads;
    return ggufName.find(".attn_k.") != std::string::npos ? c.numKeyValueHeads : 0;
}

int64_t ggufLayerOf(const std::string& ggufName)
{
    static const std::regex blk(R"(blk\.(\d+)\..*)");
    std::smatch m;
    return std::regex_match(ggufName, m, blk) ? std::stoll(m[1]) : -1;
}

void permuteRowsForInterleavedRope(float* data, int64_t rows, int64_t cols, int64_t heads)
{
    if (heads <= 0 || rows % heads != 0 || (rows / heads) % 2 != 0)
        fail("internal: cannot permute " + std::to_string(rows) + " rows into " + std::to_string(heads) +
             " heads of even size");
    const int64_t perHead = rows / heads, half = perHead / 2;
    std::vector<float> head(size_t(perHead * cols));
    for (int64_t h = 0; h < heads; ++h) {
        float* base = data + h * perHead * cols;
        std::copy(base, base + perHead * cols, head.begin());
        for (int64_t j = 0; j < half; ++j)
            for (int64_t s = 0; s < 2; ++s)
                std::copy_n(head.begin() + (s * half + j) * cols, cols, base + (2 * j + s) * cols);
    }
}

std::vector<float> llama3RopeFactors(const model::ModelConfig& c)
{
    const auto& r = c.ropeScaling;
    const double oldContext = double(r.originalMaxPositionEmbeddings);
    const double lowWavelen = oldContext / r.lowFreqFactor, highWavelen = oldContext / r.highFreqFactor;
    std::vector<float> factors;
    for (int64_t i = 0; i < c.headDim; i += 2) {
        // float32 as the converter computes it (torch.arange(..., dtype=float32) / dim)
        const float freq = 1.0f / std::pow(float(c.ropeTheta), float(i) / float(c.headDim));
        const double wavelen = 2 * std::numbers::pi / double(freq);
        if (wavelen < highWavelen)
            factors.push_back(1.0f);
        else if (wavelen > lowWavelen)
            factors.push_back(float(r.factor));
        else {
            const double smooth = (oldContext / wavelen - r.lowFreqFactor) / (r.highFreqFactor - r.lowFreqFactor);
            factors.push_back(float(1 / ((1 - smooth) / r.factor + smooth)));
        }
    }
    return factors;
}

} // namespace ft::deploy
