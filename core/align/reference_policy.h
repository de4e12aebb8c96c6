// The reference model of the on-policy KL terms (PPO, GRPO, RLVR): the policy with
// its adapter disabled, never a second copy of the base weights. Full and freeze
// fine-tuning have no adapter to switch off; for them a frozen copy of only the
// tensors that train is taken when the objective is built (before any update, and
// before a checkpoint is loaded, so a resumed run has the same reference: TRL's
// ref_model, without copying what stays frozen) and swapped into the model for the
// length of a reference pass.
// Not here: the offline reference log-probs of DPO and KTO, computed once up front
// (reference_logps.h).
#pragma once

#include "align/rollout.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <utility>
#include <vector>

namespace ft::peft {
class Adapter;
}

namespace ft::align {

class ReferencePolicy {
public:
    // fullModel: `adapter` trains the model's own weights (freeze, full); the copy is
    // of its trainableParameters().
    ReferencePolicy(model::CausalLM model, peft::Adapter* adapter, bool fullModel);

    // Teacher-forced log-probs (N, L) of the completion tokens of `r` under the
    // reference (rollout.h completionLogprobs), without gradient and in eval mode; the
    // model is exactly the policy again afterwards.
    at::Tensor completionLogprobs(const Rollouts& r, double temperature);

    // Bytes of the frozen copy (0 when the reference is the adapter switched off).
    int64_t copyBytes() const;

private:
    model::CausalLM m_model;
    peft::Adapter* m_adapter = nullptr;
    std::vector<std::pair<at::Tensor, at::Tensor>> m_frozen;  // (live tensor, its values when built)
};

} // namespace ft::align
