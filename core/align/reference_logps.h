// Log-probs of responses under the reference model, computed once when an objective
// is built, before any update: the policy with its adapter disabled (never a second
// copy of the weights). Full and freeze fine-tuning have no adapter to disable, but
// at that moment their weights still are the base's, so the same pass gives the
// reference. (Objectives are built before a checkpoint is loaded, so a resumed run
// computes the same values.)
#pragma once

#include "align/preference_data.h"

#include <vector>

namespace ft::peft {
class Adapter;
}

namespace ft::align {

struct ReferenceValues {
    std::vector<double> sums;    // per response, summed log-prob of its labelled tokens
    std::vector<double> counts;  // labelled tokens
};

ReferenceValues referenceLogps(model::CausalLM& model, peft::Adapter* adapter,
                               const std::vector<const Response*>& responses, int64_t batchSize, int64_t padId,
                               c10::Device device);

// (N,) float tensors of values at `indices` (sums, and sums / counts when average).
at::Tensor gatherReference(const ReferenceValues& values, const std::vector<int64_t>& indices, bool average,
                           c10::Device device);

} // namespace ft::align
