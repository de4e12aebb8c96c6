#include "align/reference_logps.h"

#include "model/eval_mode.h"
#include "peft/adapter.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <memory>

namespace ft::align {

ReferenceValues referenceLogps(model::CausalLM& model, peft::Adapter* adapter,
                               const std::vector<const Response*>& responses, int64_t batchSize, int64_t padId,
                               c10::Device device)
{
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*model);
    std::unique_ptr<peft::AdaptersDisabled> off;
    if (adapter && !adapter->savesFullModel())
        off = std::make_unique<peft::AdaptersDisabled>(std::vector<peft::Adapter*>{adapter});
    ReferenceValues out;
    for (size_t begin = 0; begin < responses.size(); begin += size_t(batchSize)) {
        const size_t end = std::min(responses.size(), begin + size_t(batchSize));
        std::vector<const Response*> part(responses.begin() + long(begin), responses.begin() + long(end));
        ResponseLogps r = responseLogps(model, collateResponses(part, padId, device));
        at::Tensor sums = r.sums.to(at::kDouble).cpu(), counts = r.counts.to(at::kDouble).cpu();
        for (int64_t i = 0; i < sums.size(0); ++i) {
            out.sums.push_back(sums[i].item<double>());
            out.counts.push_back(counts[i].item<double>());
        }
    }
    return out;
}

at::Tensor gatherReference(const ReferenceValues& values, const std::vector<int64_t>& indices, bool average,
                           c10::Device device)
{
    std::vector<float> v;
    v.reserve(indices.size());
    for (int64_t i : indices) {
        const double s = values.sums[size_t(i)];
        v.push_back(float(average ? s / std::max(1.0, values.counts[size_t(i)]) : s));
    }
    return at::tensor(v, at::kFloat).to(device);
}

} // namespace ft::align
