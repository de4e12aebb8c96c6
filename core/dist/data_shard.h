// Which rows of an epoch one rank reads: PyTorch's DistributedSampler semantics over
// an epoch's planned rows (examples, or packed rows). Every rank plans the same
// seeded order; rank r of N reads rows r, r+N, r+2N ... of it, the list padded by
// wrapping around to its start so that every rank has the same count.
// Re-sharding: after k batches of B rows on every rank, exactly the first k*B*N rows
// of the order are consumed, so a position is "rows consumed" and the rest of the
// epoch can be split again among any number of ranks (a resume on another world size).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <vector>

namespace ft::dist {

struct DataShard {
    int rank = 0;
    int worldSize = 1;
};

// Rows [offset, size) of an epoch's order split for `shard`: indices into the order,
// ceil((size - offset) / worldSize) of them.
std::vector<int64_t> shardIndices(int64_t size, int64_t offset, const DataShard& shard);

// Rows of the order consumed once every rank has read `batches` batches of
// `batchSize` from `offset` on (at most size).
int64_t rowsConsumed(int64_t size, int64_t offset, int64_t batches, int64_t batchSize, const DataShard& shard);

// Where a rank stands: batch `index` (counted from `base`) of epoch `epoch`, where
// `base` rows of the epoch's order had been consumed when this sharding began.
struct ShardPosition {
    int64_t epoch = 0;
    int64_t index = 0;
    int64_t base = 0;
    bool operator==(const ShardPosition&) const = default;
};

// {"epoch", "index", "base", "rows" (consumed by all ranks), "world_size"}: what a
// checkpoint saves.
nlohmann::json positionJson(const ShardPosition& position, int64_t rowsConsumed, const DataShard& shard);
// A saved position for this shard. Saved with another number of processes, the rest
// of the epoch is split anew: {epoch, 0, rows}. Positions without "base" (written
// before data sharding) read as base 0. ft::Error naming what is missing.
ShardPosition readPosition(const nlohmann::json& saved, const DataShard& shard);

} // namespace ft::dist
