#include "dist/data_shard.h"

#include "util/error.h"

#include <algorithm>
#include <string>

namespace ft::dist {

std::vector<int64_t> shardIndices(int64_t size, int64_t offset, const DataShard& shard)
{
    if (shard.worldSize < 1 || shard.rank < 0 || shard.rank >= shard.worldSize)
        fail("data shard: rank " + std::to_string(shard.rank) + " of " + std::to_string(shard.worldSize) +
             " processes is not a valid rank");
    if (offset < 0 || offset > size)
        fail("data shard: offset " + std::to_string(offset) + " lies outside the epoch's " + std::to_string(size) +
             " rows");
    const int64_t rows = size - offset;
    const int64_t world = shard.worldSize;
    const int64_t perRank = (rows + world - 1) / world;
    std::vector<int64_t> out;
    out.reserve(size_t(perRank));
    for (int64_t j = 0; j < perRank && rows > 0; ++j)
        out.push_back(offset + (j * world + shard.rank) % rows);  // past the end: wrap to the start (padding)
    return out;
}

int64_t rowsConsumed(int64_t size, int64_t offset, int64_t batches, int64_t batchSize, const DataShard& shard)
{
    return std::min(size, offset + batches * batchSize * int64_t(std::max(1, shard.worldSize)));
}

nlohmann::json positionJson(const ShardPosition& position, int64_t rowsConsumed, const DataShard& shard)
{
    return {{"epoch", position.epoch}, {"index", position.index}, {"base", position.base},
            {"rows", rowsConsumed},    {"world_size", shard.worldSize}};
}

ShardPosition readPosition(const nlohmann::json& saved, const DataShard& shard)
{
    if (!saved.is_object() || !saved.contains("epoch") || !saved.contains("index"))
        fail("checkpoint data position lacks epoch/index: " + saved.dump());
    ShardPosition p;
    p.epoch = saved.at("epoch").get<int64_t>();
    p.index = saved.at("index").get<int64_t>();
    p.base = saved.value("base", int64_t(0));
    const int64_t world = saved.value("world_size", int64_t(1));
    if (world != shard.worldSize) {
        if (!saved.contains("rows"))
            fail("checkpoint data position was saved by " + std::to_string(world) +
                 " processes without the rows it consumed; resume it with as many processes");
        p.base = saved.at("rows").get<int64_t>();
        p.index = 0;
    }
    return p;
}

} // namespace ft::dist
