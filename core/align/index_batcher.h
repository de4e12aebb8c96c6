// Batches of example indices over epochs, shuffled per epoch from (seed, epoch), with
// a position that a checkpoint saves and restores (the same stream continues). Used
// by the alignment objectives, whose examples are pairs, unpaired completions or
// prompts rather than SFT's packed token rows.
#pragma once

#include "dist/data_shard.h"
#include "train/objective.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

namespace ft::align {

struct BatchIndices {
    std::vector<int64_t> indices;
    int64_t epoch = 0;
    bool epochEnded = false;
};

class IndexBatcher {
public:
    // ft::Error when size < 1 or batchSize < 1. `shard`: this process's share of
    // every epoch (DistributedSampler semantics, dist/data_shard.h).
    IndexBatcher(int64_t size, int64_t batchSize, uint64_t seed, dist::DataShard shard = {}, bool shuffle = true);
    BatchIndices next();
    // Batches this rank reads in a whole epoch.
    int64_t batchesPerEpoch() const { return batchesFrom(0); }
    nlohmann::json position() const;
    // ft::Error naming the position when it does not fit this dataset.
    void restore(const nlohmann::json& position);

private:
    void plan();
    int64_t batchesFrom(int64_t base) const;
    int64_t m_size, m_batchSize;
    uint64_t m_seed;
    dist::DataShard m_shard;
    bool m_shuffle;
    dist::ShardPosition m_pos;
    int64_t m_plannedEpoch = -1, m_plannedBase = -1;
    std::vector<int64_t> m_order;  // the epoch's order
    std::vector<int64_t> m_mine;   // this rank's share of it from m_pos.base, as indices into m_order
};

// A micro-batch of example indices: weight = examples, tokens from `tokensOf`.
struct IndexedBatch : train::ObjectiveBatch {
    std::vector<int64_t> indices;
};
std::unique_ptr<IndexedBatch> nextIndexedBatch(IndexBatcher& batcher, const std::function<int64_t(int64_t)>& tokensOf);

// 0..n-1 in order, batchSize at a time, at most maxBatches chunks (0 = all): the
// held-out evaluation order.
std::vector<std::vector<int64_t>> evaluationChunks(size_t n, int64_t batchSize, int64_t maxBatches);

} // namespace ft::align
