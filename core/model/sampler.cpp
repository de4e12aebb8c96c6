#include "model/sampler.h"

#include "util/error.h"

#include <ATen/ATen.h>

#include <limits>

namespace ft::model {

void validateSamplingOptions(const SamplingOptions& o)
{
    if (!(o.temperature >= 0.0))
        fail("temperature must be >= 0 (0 means greedy), found " + std::to_string(o.temperature));
    if (o.topK < 0)
        fail("top_k must be >= 0 (0 turns it off), found " + std::to_string(o.topK));
    if (!(o.topP > 0.0 && o.topP <= 1.0))
        fail("top_p must be in (0, 1], found " + std::to_string(o.topP));
    if (!(o.repetitionPenalty > 0.0))
        fail("repetition_penalty must be > 0 (1 turns it off), found " + std::to_string(o.repetitionPenalty));
}

Sampler::Sampler(const SamplingOptions& options) : m_options(options), m_rng(options.seed)
{
    validateSamplingOptions(options);
}

at::Tensor Sampler::processedLogits(const at::Tensor& logits, const std::vector<int64_t>& context) const
{
    at::Tensor l = logits.detach().to(at::kCPU, at::kFloat).contiguous().clone();  // (V,)
    const int64_t vocab = l.size(0);
    if (m_options.repetitionPenalty != 1.0 && !context.empty()) {
        float* p = l.data_ptr<float>();
        std::vector<bool> seen(vocab, false);
        const float penalty = static_cast<float>(m_options.repetitionPenalty);
        for (int64_t id : context) {
            if (id < 0 || id >= vocab || seen[id])
                continue;
            seen[id] = true;
            p[id] = p[id] > 0 ? p[id] / penalty : p[id] * penalty;
        }
    }
    if (m_options.temperature > 0.0)
        l = l / m_options.temperature;
    const float negInf = -std::numeric_limits<float>::infinity();
    if (m_options.topK > 0 && m_options.topK < vocab) {
        const float kth = std::get<0>(l.topk(m_options.topK)).min().item<float>();
        l = l.masked_fill(l < kth, negInf);
    }
    if (m_options.topP < 1.0) {
        // Keep the smallest set of tokens whose probability reaches top_p (at least one).
        auto [sorted, order] = l.sort(/*dim=*/-1, /*descending=*/true);
        at::Tensor cumulative = sorted.softmax(-1).cumsum(-1);
        at::Tensor drop = (cumulative - sorted.softmax(-1)) >= m_options.topP;  // mass before this token already enough
        at::Tensor dropOriginal = at::zeros_like(drop).scatter(0, order, drop);
        l = l.masked_fill(dropOriginal, negInf);
    }
    return l;
}

at::Tensor Sampler::distribution(const at::Tensor& logits, const std::vector<int64_t>& context) const
{
    return processedLogits(logits, context).softmax(-1);
}

int64_t Sampler::next(const at::Tensor& logits, const std::vector<int64_t>& context)
{
    at::Tensor l = processedLogits(logits, context);
    if (m_options.temperature == 0.0)
        return l.argmax().item<int64_t>();
    at::Tensor probs = l.softmax(-1).to(at::kDouble).contiguous();
    const double* p = probs.data_ptr<double>();
    const int64_t vocab = probs.size(0);
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    double r = uniform(m_rng), acc = 0.0;
    int64_t last = 0;
    for (int64_t i = 0; i < vocab; ++i) {
        if (p[i] <= 0.0)
            continue;
        acc += p[i];
        last = i;
        if (r < acc)
            return i;
    }
    return last;  // rounding left r just above the total
}

} // namespace ft::model
