// Finding the projections a technique adapts: every Linear slot of a CausalLM with
// its Hugging Face path ("model.layers.3.self_attn.q_proj"), and PEFT's rule for
// target_modules (a list: exact name or ".name" suffix; one string: a full-match
// regex over the path; "all-linear": every projection except the output head).
#pragma once

#include "model/llama.h"
#include "model/model_config.h"
#include "peft/peft_settings.h"

#include <functional>
#include <string>
#include <vector>

namespace ft::peft {

struct ProjectionSlot {
    std::string path;       // model.layers.3.self_attn.q_proj (in a multimodal model model.language_model.layers...), or lm_head
    std::string shortName;  // q_proj
    int64_t layer = -1;     // -1 for lm_head
    std::function<model::LinearLayer()> get;
    std::function<void(model::LinearLayer)> set;  // puts a wrapper (or the original) in the slot
    bool router = false;  // a mixture of experts' router: adaptable, never quantized
};

// Every projection of every layer (q, k, v, o, gate, up, down; or Phi-3's qkv, o, gate_up,
// down; in a sparse layer the router "gate" and every expert's gate, up, down), then
// lm_head when untied.
std::vector<ProjectionSlot> projectionSlots(model::CausalLM& model);

// PEFT's rule for one module (path "model.layers.3.self_attn.q_proj", short name "q_proj").
bool matchesTarget(const std::string& path, const std::string& shortName, const std::vector<std::string>& targets);
bool matchesTarget(const ProjectionSlot& slot, const std::vector<std::string>& targets);

// The matching slots; an ft::Error naming the targets and the available names when none match.
std::vector<ProjectionSlot> selectSlots(model::CausalLM& model, const std::vector<std::string>& targets);

// A projection as the model's shapes give it, without a model: what the estimates count.
struct ProjectionShape {
    std::string path;       // as ProjectionSlot::path
    std::string shortName;
    int64_t layer = -1;
    int64_t in = 0, out = 0;
    bool hasBias = false;
    bool router = false;
};

// The slots projectionSlots() would give for a model of this config, in the same order.
std::vector<ProjectionShape> projectionShapes(const model::ModelConfig& config);
// The matching shapes, with selectSlots()'s rules and errors.
std::vector<ProjectionShape> selectShapes(const model::ModelConfig& config, const std::vector<std::string>& targets);

// settings.targetModules, or the technique's default targets when it is empty (in a
// family with fused projections, q/k/v_proj become qkv_proj and gate/up_proj gate_up_proj).
std::vector<std::string> targetsOrDefault(const PeftSettings& settings, const model::ModelConfig& config);

// requires_grad = false on every parameter of `module`.
void freezeAll(torch::nn::Module& module);

} // namespace ft::peft
