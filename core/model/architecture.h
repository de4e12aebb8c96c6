// The architecture registry: which Hugging Face model families the engine can run
// and how they differ. Each family is one file, model/arch_<family>.cpp, defining its
// descriptor (below): its names, traits and how it reads and writes its own config.json
// fields; kArchitectures in architecture.cpp lists them. Adding an architecture:
//   1. add an Arch value and write model/arch_<family>.cpp with its descriptor;
//   2. add its line to kArchitectures (architecture.cpp);
//   3. if its block differs from Llama's (norms, activations, fused projections),
//      give the block its own file beside model/llama.cpp;
//   4. tests/test_model.cpp loops over every registered architecture, and a golden
//      forward test (tests/test_golden_forward.cpp) checks its equations.
#pragma once

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace ft::model {

enum class Arch { Llama, Mistral, Qwen2, Qwen3, Gemma2, Gemma3Text, SmolLM3, Olmo2, Phi3, Qwen3Moe, Mixtral, Olmoe, Unknown };

struct ArchTraits {
    bool qkvBias = false;        // q/k/v projections carry biases (Qwen2)
    bool slidingWindow = false;  // attention limited to a window of recent keys (Mistral)
    bool qkNorm = false;         // RMSNorm over each head's queries and keys before RoPE (Qwen3: q_norm, k_norm)
    // The Gemma block (model/gemma_block.cpp): RMSNorm scaling by (1 + weight), a norm
    // after attention and around the MLP, embeddings scaled by sqrt(hidden).
    bool gemmaBlock = false;
    // The OLMo 2 layer (model/olmo2_block.cpp): norms after attention and after the MLP
    // instead of before them, and q_norm / k_norm over the whole q and k projections.
    bool olmo2Block = false;
    // Phi-3: one qkv_proj for queries, keys and values (rows in that order) and one
    // gate_up_proj for the MLP's gate and up halves, kept fused under those names so
    // adapters carry PEFT's key names for the family.
    bool fusedProjections = false;
    // RMSNorm over the whole q and k projections (weight H*D and K*D) before splitting
    // into heads, Llama's norm otherwise (OLMoE); OLMo 2's, which scales in fp32, comes
    // with olmo2Block.
    bool wholeQkNorm = false;
    // Mixture of experts (model/moe_block.h): the sparse block's module name in a layer
    // ("mlp"; Mixtral: "block_sparse_moe") and its experts' projection names (gate_proj,
    // up_proj, down_proj; Mixtral: w1, w3, w2).
    const char* moeBlockName = "mlp";
    bool mixtralExpertNames = false;
};

struct ModelConfig;
class FieldReader;

// A multimodal model whose language model is this family (Gemma3ForConditionalGeneration
// around gemma3_text). The engine runs and trains its text part only: config.json keeps
// it under text_config, which omits what equals the family's defaults (textDefaults
// fills those in), and the checkpoint stores it under language_model.model.* (or
// model.language_model.*, as transformers 4.52+ saves) beside the vision tower, which
// is read from nowhere and written back unchanged (model_io.h).
struct MultimodalWrapper {
    const char* modelType = "";  // "gemma3"
    const char* className = "";  // "Gemma3ForConditionalGeneration"
    nlohmann::json (*textDefaults)() = nullptr;
};

struct Architecture {
    Arch arch = Arch::Unknown;
    const char* modelType = "";  // config.json's model_type: "llama"
    const char* className = "";  // config.json's architectures[]: "LlamaForCausalLM"
    ArchTraits traits;
    // The family's own config.json fields, read after the common ones (model_config.cpp);
    // an ft::Error naming `source` for a value the engine cannot run.
    void (*parseFields)(const nlohmann::json& j, const FieldReader& f, ModelConfig& c, const std::string& source) =
        nullptr;
    // Writes them back (modelConfigToJson), as the family's config.json spells them.
    void (*writeFields)(const ModelConfig& c, nlohmann::json& j) = nullptr;
    const MultimodalWrapper* multimodal = nullptr;  // the multimodal folders built around it, if any
};

// The registered family; an ft::Error for Arch::Unknown.
const Architecture& architecture(Arch a);
// "LlamaForCausalLM" or "llama" -> Arch::Llama; Unknown when not registered.
Arch archFromString(std::string_view name);
// The family whose multimodal wrapper is called `name` ("Gemma3ForConditionalGeneration"
// or "gemma3"); nullptr when none is.
const Architecture* multimodalArchitecture(std::string_view name);
const char* archName(Arch a);            // the model_type spelling: "llama"
const char* archClassName(Arch a);       // the architectures[] spelling: "LlamaForCausalLM"
ArchTraits archTraits(Arch a);
std::vector<Arch> registeredArchs();
std::string supportedArchList();         // "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM"

} // namespace ft::model
