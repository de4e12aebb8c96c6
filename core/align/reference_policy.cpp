// The reference policy: adapter off, or a swapped-in frozen copy; see reference_policy.h.
#include "align/reference_policy.h"

#include "model/eval_mode.h"
#include "peft/adapter.h"

#include <ATen/ATen.h>
#include <torch/types.h>

namespace ft::align {

ReferencePolicy::ReferencePolicy(model::CausalLM model, peft::Adapter* adapter, bool fullModel)
    : m_model(std::move(model)), m_adapter(fullModel ? nullptr : adapter)
{
    if (m_adapter || !adapter)
        return;
    torch::NoGradGuard noGrad;
    for (const auto& [_, t] : adapter->trainableParameters())
        m_frozen.emplace_back(t, t.detach().clone());
}

at::Tensor ReferencePolicy::completionLogprobs(const Rollouts& r, double temperature)
{
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*m_model);
    if (m_adapter) {
        peft::AdaptersDisabled off({m_adapter});
        return align::completionLogprobs(m_model, r, temperature);
    }
    // Swap the initial values in, and the trained ones back however the pass ends.
    struct Swap {
        std::vector<std::pair<at::Tensor, at::Tensor>>& pairs;
        void flip()
        {
            for (auto& [live, other] : pairs) {
                at::Tensor current = live.data();
                live.set_data(other);
                other = current;
            }
        }
        explicit Swap(std::vector<std::pair<at::Tensor, at::Tensor>>& p) : pairs(p) { flip(); }
        ~Swap() { flip(); }
    } swap(m_frozen);
    return align::completionLogprobs(m_model, r, temperature);
}

int64_t ReferencePolicy::copyBytes() const
{
    int64_t bytes = 0;
    for (const auto& [_, copy] : m_frozen)
        bytes += int64_t(copy.nbytes());
    return bytes;
}

} // namespace ft::align
