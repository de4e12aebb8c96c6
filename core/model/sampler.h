// Picking the next token from logits: greedy, or sampling with temperature,
// top-k, top-p and a repetition penalty, from a seeded generator of our own so
// the same seed gives the same text on any device.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>
#include <vector>

namespace ft::model {

struct SamplingOptions {
    double temperature = 0.0;       // 0 = greedy
    int64_t topK = 0;               // 0 = off
    double topP = 1.0;              // 1 = off
    double repetitionPenalty = 1.0; // 1 = off; Hugging Face's CTRL-style penalty
    uint64_t seed = 0;
};

// Throws ft::Error naming the field when a value is out of range.
void validateSamplingOptions(const SamplingOptions& o);

class Sampler {
public:
    explicit Sampler(const SamplingOptions& options);
    // logits: (V,) for one sequence; context: ids seen so far (for the penalty).
    int64_t next(const at::Tensor& logits, const std::vector<int64_t>& context);
    // The processed distribution next() draws from, (V,) fp32 on CPU (for tests).
    at::Tensor distribution(const at::Tensor& logits, const std::vector<int64_t>& context) const;

private:
    at::Tensor processedLogits(const at::Tensor& logits, const std::vector<int64_t>& context) const;
    SamplingOptions m_options;
    std::mt19937_64 m_rng;
};

} // namespace ft::model
