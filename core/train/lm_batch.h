// Turning documents into training batches for causal-LM pretraining: documents
// are tokenized as BOS text EOS and concatenated into one stream; batches are
// windows of that stream. Not for instruction data (that masks prompts).
// Shape legend: B batch, T window length.
#pragma once

#include "tokenizer/tokenizer.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace ft::train {

std::vector<int64_t> tokenStream(const std::vector<std::string>& documents, const tok::Tokenizer& tokenizer);

// Random windows of a token stream, drawn with a seeded generator.
class WindowSampler {
public:
    // Keeps a reference to `stream`, which must outlive the sampler.
    WindowSampler(const std::vector<int64_t>& stream, int64_t windowLength, uint64_t seed);
    WindowSampler(std::vector<int64_t>&&, int64_t, uint64_t) = delete;
    at::Tensor next(int64_t batchSize);  // (B, T) int64 on CPU

private:
    const std::vector<int64_t>& m_stream;
    int64_t m_window;
    std::mt19937_64 m_rng;
};

// Consecutive non-overlapping windows covering the stream (the tail shorter than a
// window is dropped), grouped into batches of up to batchSize; at most maxBatches.
std::vector<at::Tensor> evaluationBatches(const std::vector<int64_t>& stream, int64_t windowLength, int64_t batchSize,
                                          int64_t maxBatches);

} // namespace ft::train
