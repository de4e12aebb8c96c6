// ModelConfig: the subset of a Hugging Face config.json that the Llama-family
// engine needs, parsed and validated once. Field names follow config.json.
// Not the model itself (model/llama.h) and not the run configuration.
#pragma once

#include "model/architecture.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ft::model {

struct RopeScaling {
    std::string type;                       // "" (none), "linear", "llama3" or "longrope"
    double factor = 1.0;
    double lowFreqFactor = 1.0;             // llama3 only
    double highFreqFactor = 4.0;            // llama3 only
    int64_t originalMaxPositionEmbeddings = 8192;  // llama3, longrope (Phi-3: config.json's top-level field)
    // longrope (Phi-3.5, Phi-4-mini): per-pair divisors of the inverse frequencies, the
    // short ones while the sequence fits originalMaxPositionEmbeddings, the long ones
    // beyond; cos and sin are scaled by attentionFactor.
    std::vector<double> shortFactor, longFactor;
    double attentionFactor = 1.0;
};

struct ModelConfig {
    Arch arch = Arch::Llama;
    int64_t vocabSize = 0;
    int64_t hiddenSize = 0;
    int64_t intermediateSize = 0;
    int64_t numHiddenLayers = 0;
    int64_t numAttentionHeads = 0;
    int64_t numKeyValueHeads = 0;           // GQA when < numAttentionHeads
    int64_t headDim = 0;                    // hidden/heads unless config.json says otherwise
    double partialRotaryFactor = 1.0;       // Phi-3/4: RoPE rotates the first rotaryDim() of each head only
    int64_t maxPositionEmbeddings = 2048;
    double rmsNormEps = 1e-6;
    double ropeTheta = 10000.0;
    RopeScaling ropeScaling;
    bool tieWordEmbeddings = false;
    bool attentionBias = false;             // q/k/v biases (Qwen2 always; Llama's attention_bias)
    bool attentionOutBias = false;          // o_proj bias (Llama's attention_bias)
    bool mlpBias = false;
    std::optional<int64_t> slidingWindow;   // Mistral (every layer), Gemma (the layers slidingLayers marks)
    std::vector<bool> slidingLayers;        // per layer: windowed; empty = every layer when slidingWindow is set
    std::optional<double> ropeLocalTheta;   // Gemma 3: RoPE base of the windowed layers (no scaling there)
    std::vector<bool> ropeLayers;           // per layer: RoPE applied; empty = every layer (SmolLM3: NoPE layers)
    double queryPreAttnScalar = 0;          // Gemma: scores scaled by 1/sqrt(this); 0 = head_dim
    double attnLogitSoftcap = 0;            // Gemma 2: scores -> cap * tanh(scores / cap); 0 = off
    double finalLogitSoftcap = 0;           // Gemma 2: logits -> cap * tanh(logits / cap); 0 = off
    std::string hiddenAct = "silu";         // silu, or gelu_pytorch_tanh (Gemma)
    // Mixture of experts (Mixtral, Qwen3-MoE, OLMoE); numExperts 0 = every layer dense.
    int64_t numExperts = 0;
    int64_t numExpertsPerTok = 0;           // top-k experts per token
    int64_t moeIntermediateSize = 0;        // each expert's MLP width
    bool normTopkProb = true;               // the k routing weights renormalized to sum to 1
    double routerAuxLossCoef = 0;           // load-balancing loss weight in training; 0 = off
    std::vector<bool> sparseLayers;         // per layer: experts; empty = every layer when numExperts > 0
    std::string torchDtype = "float32";     // the stored weights' dtype, informational
    // Set when the folder is a multimodal model ("gemma3": Gemma3ForConditionalGeneration)
    // and this is its language model (architecture.h, MultimodalWrapper).
    std::string multimodalType;
    int64_t bosTokenId = 1;
    int64_t eosTokenId = 2;                 // the first of eosTokenIds
    std::vector<int64_t> eosTokenIds;       // all of config.json's eos_token_id (a list in Llama 3)

    int64_t kvGroups() const { return numAttentionHeads / numKeyValueHeads; }
    // The rotated part of each head: int(head_dim * partial_rotary_factor), as transformers rounds it.
    int64_t rotaryDim() const { return int64_t(double(headDim) * partialRotaryFactor); }
    bool layerUsesRope(int64_t i) const
    {
        return ropeLayers.empty() || i >= int64_t(ropeLayers.size()) || ropeLayers[size_t(i)];
    }
    // Whether layer i attends within slidingWindow only.
    bool layerIsSliding(int64_t i) const
    {
        return slidingWindow && (slidingLayers.empty() || (i < int64_t(slidingLayers.size()) && slidingLayers[size_t(i)]));
    }
    // Whether layer i's feed-forward is a mixture of experts.
    bool layerIsSparse(int64_t i) const
    {
        return numExperts > 0 && (sparseLayers.empty() || (i < int64_t(sparseLayers.size()) && sparseLayers[size_t(i)]));
    }
    bool hasExperts() const { return numExperts > 0; }
    bool isMultimodal() const { return !multimodalType.empty(); }
    // Parameter count implied by the shapes (embeddings and head included once if tied).
    int64_t parameterCount() const;
    // Parameters one token passes through: a sparse layer counts its router and k of its experts.
    int64_t activeParameterCount() const;
    // Decoder layer i's: its projections (every expert and the router in a sparse
    // layer), norms (and q/k norms where the architecture has them).
    int64_t layerParameterCount(int64_t i) const;
};

// Parses and validates; errors name `source` (the config.json path) and the field.
// A multimodal folder's config.json gives its text_config (architecture.h).
ModelConfig parseModelConfig(const nlohmann::json& j, const std::string& source);
ModelConfig readModelConfig(const std::string& configJsonPath);
// The text model's config.json (for a multimodal folder: what its text_config describes).
nlohmann::json modelConfigToJson(const ModelConfig& c);

// A module path of the text model ("model.layers.0.self_attn.q_proj") as transformers
// names it inside a multimodal model ("model.language_model.layers.0.self_attn.q_proj");
// unchanged for a text model and for the output head.
std::string multimodalModulePath(const ModelConfig& c, const std::string& path);

} // namespace ft::model
