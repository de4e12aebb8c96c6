#include "train/lm_batch.h"

#include "util/error.h"

#include <ATen/ATen.h>

namespace ft::train {

std::vector<int64_t> tokenStream(const std::vector<std::string>& documents, const tok::Tokenizer& tokenizer)
{
    std::vector<int64_t> stream;
    for (const std::string& doc : documents) {
        const std::vector<int> ids = tokenizer.encode(doc, /*addBos=*/true, /*addEos=*/true);
        stream.insert(stream.end(), ids.begin(), ids.end());
    }
    return stream;
}

WindowSampler::WindowSampler(const std::vector<int64_t>& stream, int64_t windowLength, uint64_t seed)
    : m_stream(stream), m_window(windowLength), m_rng(seed)
{
    if (static_cast<int64_t>(stream.size()) <= windowLength)
        fail("the training text is too short: " + std::to_string(stream.size()) + " tokens for windows of " +
             std::to_string(windowLength));
}

at::Tensor WindowSampler::next(int64_t batchSize)
{
    at::Tensor batch = at::empty({batchSize, m_window}, at::kLong);
    int64_t* out = batch.data_ptr<int64_t>();
    std::uniform_int_distribution<int64_t> start(0, static_cast<int64_t>(m_stream.size()) - m_window);
    for (int64_t b = 0; b < batchSize; ++b) {
        const int64_t s = start(m_rng);
        std::copy(m_stream.begin() + s, m_stream.begin() + s + m_window, out + b * m_window);
    }
    return batch;
}

std::vector<at::Tensor> evaluationBatches(const std::vector<int64_t>& stream, int64_t windowLength, int64_t batchSize,
                                          int64_t maxBatches)
{
    const int64_t windows = static_cast<int64_t>(stream.size()) / windowLength;
    if (windows == 0)
        fail("the evaluation text is too short: " + std::to_string(stream.size()) + " tokens for windows of " +
             std::to_string(windowLength));
    at::Tensor all = at::tensor(std::vector<int64_t>(stream.begin(), stream.begin() + windows * windowLength), at::kLong)
                         .view({windows, windowLength});
    std::vector<at::Tensor> batches;
    for (int64_t s = 0; s < windows && static_cast<int64_t>(batches.size()) < maxBatches; s += batchSize)
        batches.push_back(all.narrow(0, s, std::min(batchSize, windows - s)));
    return batches;
}

} // namespace ft::train
