// Data parallelism's pure pieces: the launch variables of torchrun and Slurm (and
// their errors), the DistributedSampler split checked against a literal transcription
// of PyTorch's torch/utils/data/distributed.py, and the alignment batcher's shards:
// two ranks together read exactly what one process reads with twice the batch, and a
// position saved on one world size continues on another with nothing read twice or
// skipped. (The SFT batcher's shards: test_sft_data; whole runs: test_distributed.)
#include "align/index_batcher.h"
#include "dist/data_shard.h"
#include "dist/launch_env.h"
#include "test_support.h"

#include "test_main.h"

#include <QtTest>

#include <algorithm>
#include <map>
#include <set>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_data_shard {

using ft::dist::DataShard;

namespace {

ft::dist::LaunchEnv envOf(const std::map<std::string, std::string>& vars)
{
    return ft::dist::readLaunchEnv([&](const char* name) -> const char* {
        const auto it = vars.find(name);
        return it == vars.end() ? nullptr : it->second.c_str();
    });
}

// PyTorch's DistributedSampler.__iter__ (drop_last=False) after its shuffle, line by
// line: pad the index list with its own beginning up to num_samples * num_replicas,
// then take indices[rank:total_size:num_replicas].
std::vector<int64_t> torchDistributedSampler(const std::vector<int64_t>& order, int rank, int replicas)
{
    const int64_t n = int64_t(order.size());
    const int64_t numSamples = (n + replicas - 1) / replicas;  // math.ceil(len / num_replicas)
    const int64_t totalSize = numSamples * replicas;
    std::vector<int64_t> indices = order;
    const int64_t padding = totalSize - n;
    if (padding <= n) {
        indices.insert(indices.end(), order.begin(), order.begin() + padding);
    } else {
        std::vector<int64_t> repeated;
        for (int64_t k = 0; k < (padding + n - 1) / n; ++k)
            repeated.insert(repeated.end(), order.begin(), order.end());
        indices.insert(indices.end(), repeated.begin(), repeated.begin() + padding);
    }
    std::vector<int64_t> out;
    for (int64_t i = rank; i < totalSize; i += replicas)
        out.push_back(indices[size_t(i)]);
    return out;
}

// The batcher's batches until its epoch ends.
std::vector<std::vector<int64_t>> epochOf(ft::align::IndexBatcher& b)
{
    std::vector<std::vector<int64_t>> out;
    for (;;) {
        const ft::align::BatchIndices next = b.next();
        out.push_back(next.indices);
        if (next.epochEnded)
            return out;
    }
}

} // namespace

class TestDataShard : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void torchrunAndSlurmVariables()
    {
        const auto none = envOf({});
        QCOMPARE(none.worldSize, 1);
        QVERIFY(!none.distributed());

        const auto torchrun = envOf({{"RANK", "3"}, {"WORLD_SIZE", "8"}, {"LOCAL_RANK", "1"}, {"LOCAL_WORLD_SIZE", "2"},
                                     {"MASTER_ADDR", "node0"}, {"MASTER_PORT", "29400"}});
        QCOMPARE(torchrun.rank, 3);
        QCOMPARE(torchrun.worldSize, 8);
        QCOMPARE(torchrun.localRank, 1);
        QCOMPARE(torchrun.localWorldSize, 2);
        QCOMPARE(torchrun.masterAddr, std::string("node0"));
        QCOMPARE(torchrun.masterPort, 29400);
        QCOMPARE(torchrun.source, std::string("torchrun variables"));

        const auto slurm = envOf({{"SLURM_PROCID", "5"}, {"SLURM_NTASKS", "6"}, {"SLURM_LOCALID", "2"},
                                  {"SLURM_NTASKS_PER_NODE", "3"}, {"MASTER_ADDR", "10.0.0.1"}, {"MASTER_PORT", "1234"}});
        QCOMPARE(slurm.rank, 5);
        QCOMPARE(slurm.worldSize, 6);
        QCOMPARE(slurm.localRank, 2);
        QCOMPARE(slurm.localWorldSize, 3);
        QCOMPARE(slurm.source, std::string("Slurm"));
        // Heterogeneous nodes ("2(x3)") leave the local world size at the world size.
        const auto hetero = envOf({{"SLURM_PROCID", "0"}, {"SLURM_NTASKS", "6"}, {"SLURM_NTASKS_PER_NODE", "2(x3)"},
                                   {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}});
        QCOMPARE(hetero.localWorldSize, 6);
        // torchrun's variables win over Slurm's (torchrun started inside an allocation).
        QCOMPARE(envOf({{"RANK", "1"}, {"WORLD_SIZE", "2"}, {"SLURM_PROCID", "7"}, {"SLURM_NTASKS", "9"},
                        {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                     .rank,
                 1);
    }

    void badVariablesAreNamed()
    {
        auto errorWith = [](const std::map<std::string, std::string>& vars) {
            return fttest::errorOf([&] { envOf(vars); });
        };
        QVERIFY(errorWith({{"RANK", "2"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                    .contains("RANK=2 must be below WORLD_SIZE=2"));
        QVERIFY(errorWith({{"WORLD_SIZE", "2"}}).contains("WORLD_SIZE and RANK must be set together"));
        QVERIFY(errorWith({{"RANK", "0"}, {"WORLD_SIZE", "two"}}).contains("WORLD_SIZE='two'"));
        QVERIFY(errorWith({{"RANK", "0"}, {"WORLD_SIZE", "2"}}).contains("MASTER_ADDR and MASTER_PORT"));
        QVERIFY(errorWith({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "h"}, {"MASTER_PORT", "70000"}})
                    .contains("MASTER_PORT=70000"));
        QVERIFY(errorWith({{"RANK", "0"}, {"WORLD_SIZE", "2"}, {"LOCAL_RANK", "4"}, {"LOCAL_WORLD_SIZE", "2"},
                           {"MASTER_ADDR", "h"}, {"MASTER_PORT", "1"}})
                    .contains("LOCAL_RANK=4 must be below LOCAL_WORLD_SIZE=2"));
        // One process needs no rendezvous.
        QCOMPARE(envOf({{"RANK", "0"}, {"WORLD_SIZE", "1"}}).worldSize, 1);
    }

    void splitsAsTorchDistributedSampler()
    {
        for (int64_t n : {1, 2, 5, 7, 8, 13, 64}) {
            // Any permutation (the split is on positions): reversed, then rotated by a third.
            std::vector<int64_t> order(static_cast<size_t>(n));
            for (int64_t i = 0; i < n; ++i)
                order[size_t(i)] = n - 1 - i;
            std::rotate(order.begin(), order.begin() + n / 3, order.end());
            for (int world : {1, 2, 3, 4, 16}) {
                std::multiset<int64_t> seen;
                for (int rank = 0; rank < world; ++rank) {
                    const std::vector<int64_t> mine = ft::dist::shardIndices(n, 0, {rank, world});
                    std::vector<int64_t> rows;
                    for (int64_t i : mine)
                        rows.push_back(order[size_t(i)]);
                    QCOMPARE(rows, torchDistributedSampler(order, rank, world));
                    seen.insert(rows.begin(), rows.end());
                }
                // Complete; only the padding repeats rows.
                QCOMPARE(int64_t(std::set<int64_t>(seen.begin(), seen.end()).size()), n);
                QCOMPARE(int64_t(seen.size()), (n + world - 1) / world * world);
            }
        }
        QVERIFY(fttest::errorOf([] { ft::dist::shardIndices(4, 0, {2, 2}); }).contains("rank 2 of 2"));
        QVERIFY(fttest::errorOf([] { ft::dist::shardIndices(4, 5, {0, 2}); }).contains("offset 5"));
    }

    // Step k of two ranks with batch B reads the rows one process reads at step k with
    // batch 2B: the data side of "2 ranks equal 1 process with the same global batch".
    void twoRanksReadOneProcessesGlobalBatches()
    {
        const int64_t n = 37, batch = 3;
        ft::align::IndexBatcher single(n, 2 * batch, 11);
        ft::align::IndexBatcher rank0(n, batch, 11, {0, 2}), rank1(n, batch, 11, {1, 2});
        for (int epoch = 0; epoch < 2; ++epoch) {
            const auto all = epochOf(single), a = epochOf(rank0), b = epochOf(rank1);
            QCOMPARE(a.size(), all.size());
            QCOMPARE(b.size(), all.size());
            QCOMPARE(rank0.batchesPerEpoch(), int64_t(all.size()));
            for (size_t k = 0; k + 1 < all.size(); ++k) {  // the last batch differs by the padding only
                std::multiset<int64_t> together(a[k].begin(), a[k].end());
                together.insert(b[k].begin(), b[k].end());
                QCOMPARE(together, std::multiset<int64_t>(all[k].begin(), all[k].end()));
                std::vector<int64_t> mine(a[k]);
                for (int64_t i : b[k])
                    QVERIFY(std::find(mine.begin(), mine.end(), i) == mine.end());  // disjoint
            }
        }
    }

    // A checkpoint of 2 ranks resumed on 1 or 3: the rest of the epoch is split anew,
    // and the rows read before and after are the epoch exactly once (plus padding).
    void resumesOnAnotherWorldSize()
    {
        const int64_t n = 50, batch = 4;
        for (int newWorld : {1, 2, 3}) {
            ft::align::IndexBatcher r0(n, batch, 3, {0, 2}), r1(n, batch, 3, {1, 2});
            std::multiset<int64_t> read;
            for (int k = 0; k < 3; ++k)
                for (auto* b : {&r0, &r1})
                    for (int64_t i : b->next().indices)
                        read.insert(i);
            const nlohmann::json saved = r0.position();
            QCOMPARE(saved["rows"].get<int64_t>(), int64_t(3 * batch * 2));
            QCOMPARE(saved["world_size"].get<int>(), 2);
            std::vector<std::unique_ptr<ft::align::IndexBatcher>> resumed;
            for (int r = 0; r < newWorld; ++r) {
                resumed.push_back(std::make_unique<ft::align::IndexBatcher>(n, batch, 3, DataShard{r, newWorld}));
                resumed.back()->restore(saved);
            }
            std::vector<int64_t> after;
            for (auto& b : resumed)
                for (const auto& chunk : epochOf(*b))
                    after.insert(after.end(), chunk.begin(), chunk.end());
            const int64_t rest = n - 3 * batch * 2;
            QCOMPARE(int64_t(after.size()), (rest + newWorld - 1) / newWorld * newWorld);
            // Nothing read before is read again, except as the padding of the last batches
            // (which repeats the start of the remainder, never a row read before it).
            for (int64_t i : after)
                QVERIFY2(!read.count(i), qPrintable(QString("row %1 read before and after the resume").arg(i)));
            read.insert(after.begin(), after.end());
            QCOMPARE(int64_t(std::set<int64_t>(read.begin(), read.end()).size()), n);
            // The next epoch starts over for the new world size.
            QCOMPARE(resumed[0]->position()["epoch"].get<int64_t>(), int64_t(1));
            QCOMPARE(resumed[0]->position()["base"].get<int64_t>(), int64_t(0));
        }
        // The same world size continues where it was (no re-split).
        ft::align::IndexBatcher a(n, batch, 3, {1, 2}), b(n, batch, 3, {1, 2});
        a.next();
        const nlohmann::json mid = a.position();
        b.restore(mid);
        QCOMPARE(b.next().indices, a.next().indices);
        QVERIFY(fttest::errorOf([&] { b.restore({{"epoch", 0}}); }).contains("lacks epoch/index"));
    }
};

FT_TEST_MAIN(TestDataShard)

} // namespace test_data_shard

#include "test_data_shard.moc"
