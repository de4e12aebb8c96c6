// Finding the projections a technique adapts: every Linear slot of a CausalLM with
// its Hugging Face path ("model.layers.3.self_attn.q_proj"), and PEFT's rule for
// target_modules (a list: exact name or ".name" suffix; one string: a full-match
// regex over the path; "all-linear": every projection except the output head).
#pragma once

#include "model/llama.h"
#include "model/model_config.h"
#include "peft/target_rules.h"

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

bool matchesTarget(const ProjectionSlot& slot, const std::vector<std::string>& targets);

// The matching slots; an ft::Error naming the targets and the available names when none match.
std::vector<ProjectionSlot> selectSlots(model::CausalLM& model, const std::vector<std::string>& targets);

// requires_grad = false on every parameter of `module`.
void freezeAll(torch::nn::Module& module);

} // namespace ft::peft
