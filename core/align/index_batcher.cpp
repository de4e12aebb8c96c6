#include "align/index_batcher.h"

#include "util/error.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

namespace ft::align {

IndexBatcher::IndexBatcher(int64_t size, int64_t batchSize, uint64_t seed, bool shuffle)
    : m_size(size), m_batchSize(batchSize), m_seed(seed), m_shuffle(shuffle)
{
    if (size < 1)
        fail("no training examples");
    if (batchSize < 1)
        fail("training.batch_size must be >= 1, got " + std::to_string(batchSize));
}

void IndexBatcher::plan()
{
    if (m_plannedEpoch == m_epoch)
        return;
    m_order.resize(size_t(m_size));
    std::iota(m_order.begin(), m_order.end(), int64_t(0));
    if (m_shuffle) {
        // Fisher-Yates with our own draws: std::shuffle's algorithm is not specified,
        // and the order must be the same on every standard library.
        std::mt19937_64 rng(m_seed * 1000003ULL + uint64_t(m_epoch));
        for (int64_t i = m_size - 1; i > 0; --i) {
            const int64_t j = int64_t(rng() % uint64_t(i + 1));
            std::swap(m_order[size_t(i)], m_order[size_t(j)]);
        }
    }
    m_plannedEpoch = m_epoch;
}

BatchIndices IndexBatcher::next()
{
    plan();
    BatchIndices b;
    b.epoch = m_epoch;
    const int64_t begin = m_index * m_batchSize;
    const int64_t end = std::min(m_size, begin + m_batchSize);
    b.indices.assign(m_order.begin() + begin, m_order.begin() + end);
    ++m_index;
    if (m_index >= batchesPerEpoch()) {
        b.epochEnded = true;
        m_index = 0;
        ++m_epoch;
    }
    return b;
}

void IndexBatcher::restore(const nlohmann::json& position)
{
    if (!position.is_object() || !position.contains("epoch") || !position.contains("index"))
        fail("checkpoint data position lacks epoch/index: " + position.dump());
    const int64_t epoch = position["epoch"].get<int64_t>(), index = position["index"].get<int64_t>();
    if (epoch < 0 || index < 0 || index >= batchesPerEpoch())
        fail("checkpoint data position " + position.dump() + " does not fit this dataset (" +
             std::to_string(batchesPerEpoch()) + " batches per epoch); was the data changed?");
    m_epoch = epoch;
    m_index = index;
}

std::unique_ptr<IndexedBatch> nextIndexedBatch(IndexBatcher& batcher, const std::function<int64_t(int64_t)>& tokensOf)
{
    auto b = std::make_unique<IndexedBatch>();
    BatchIndices next = batcher.next();
    b->indices = std::move(next.indices);
    b->epoch = next.epoch;
    b->epochEnded = next.epochEnded;
    b->weight = double(b->indices.size());
    for (int64_t i : b->indices)
        b->tokens += tokensOf(i);
    return b;
}

std::vector<std::vector<int64_t>> evaluationChunks(size_t n, int64_t batchSize, int64_t maxBatches)
{
    std::vector<std::vector<int64_t>> out;
    for (size_t begin = 0; begin < n; begin += size_t(batchSize)) {
        if (maxBatches > 0 && int64_t(out.size()) >= maxBatches)
            break;
        std::vector<int64_t> chunk;
        for (size_t i = begin; i < std::min(n, begin + size_t(batchSize)); ++i)
            chunk.push_back(int64_t(i));
        out.push_back(std::move(chunk));
    }
    return out;
}

} // namespace ft::align
