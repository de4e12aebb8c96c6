#include "align/index_batcher.h"

#include "util/error.h"

#include <algorithm>
#include <numeric>
#include <random>
#include <string>

namespace ft::align {

IndexBatcher::IndexBatcher(int64_t size, int64_t batchSize, uint64_t seed, dist::DataShard shard, bool shuffle)
    : m_size(size), m_batchSize(batchSize), m_seed(seed), m_shard(shard), m_shuffle(shuffle)
{
    if (size < 1)
        fail("no training examples");
    if (batchSize < 1)
        fail("training.batch_size must be >= 1, got " + std::to_string(batchSize));
}

int64_t IndexBatcher::batchesFrom(int64_t base) const
{
    const int64_t world = m_shard.worldSize;
    return ((m_size - base + world - 1) / world + m_batchSize - 1) / m_batchSize;
}

void IndexBatcher::plan()
{
    if (m_plannedEpoch != m_pos.epoch) {
        m_order.resize(size_t(m_size));
        std::iota(m_order.begin(), m_order.end(), int64_t(0));
        if (m_shuffle) {
            // Fisher-Yates with our own draws: std::shuffle's algorithm is not specified,
            // and the order must be the same on every standard library.
            std::mt19937_64 rng(m_seed * 1000003ULL + uint64_t(m_pos.epoch));
            for (int64_t i = m_size - 1; i > 0; --i) {
                const int64_t j = int64_t(rng() % uint64_t(i + 1));
                std::swap(m_order[size_t(i)], m_order[size_t(j)]);
            }
        }
        m_plannedEpoch = m_pos.epoch;
        m_plannedBase = -1;
    }
    if (m_plannedBase != m_pos.base) {
        m_mine = dist::shardIndices(m_size, m_pos.base, m_shard);
        m_plannedBase = m_pos.base;
    }
}

BatchIndices IndexBatcher::next()
{
    plan();
    BatchIndices b;
    b.epoch = m_pos.epoch;
    const int64_t total = int64_t(m_mine.size());
    const int64_t begin = m_pos.index * m_batchSize;
    const int64_t end = std::min(total, begin + m_batchSize);
    for (int64_t i = begin; i < end; ++i)
        b.indices.push_back(m_order[size_t(m_mine[size_t(i)])]);
    if (end >= total) {
        b.epochEnded = true;
        m_pos = {m_pos.epoch + 1, 0, 0};
    } else {
        ++m_pos.index;
    }
    return b;
}

nlohmann::json IndexBatcher::position() const
{
    return dist::positionJson(m_pos, dist::rowsConsumed(m_size, m_pos.base, m_pos.index, m_batchSize, m_shard),
                              m_shard);
}

void IndexBatcher::restore(const nlohmann::json& saved)
{
    const dist::ShardPosition p = dist::readPosition(saved, m_shard);
    if (p.epoch < 0 || p.index < 0 || p.base < 0 || p.base >= m_size || p.index >= batchesFrom(p.base))
        fail("checkpoint data position " + saved.dump() + " does not fit this dataset (" +
             std::to_string(batchesPerEpoch()) + " batches per epoch); was the data changed?");
    m_pos = p;
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
