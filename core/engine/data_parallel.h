// What the training loop shares between the processes of a data-parallel run: the
// starting weights (rank 0's, broadcast), each step's total weight and tokens (so
// that the loss is normalized by the global batch, as one process would), the
// gradients (summed after the last micro-batch's backward, before clipping), the
// stop/save requests (every rank stops at the same step), and the figures of the
// step events. With one process every call is an identity, so the loop has a
// single code path. Not here: the transport (dist/communicator.h) or which rows a
// rank reads (dist/data_shard.h, through the objectives' batchers).
#pragma once

#include "dist/communicator.h"
#include "dist/data_shard.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace ft::engine {

class DataParallel {
public:
    explicit DataParallel(dist::Communicator* communicator) : m_comm(communicator) {}

    bool active() const { return m_comm && m_comm->worldSize() > 1; }
    int rank() const { return m_comm ? m_comm->rank() : 0; }
    int worldSize() const { return m_comm ? m_comm->worldSize() : 1; }
    bool writes() const { return rank() == 0; }  // checkpoints, events, outputs
    dist::DataShard shard() const { return {rank(), worldSize()}; }

    // Every rank ends with rank 0's values.
    void broadcast(const std::vector<std::pair<std::string, at::Tensor>>& tensors);

    struct Requests {
        bool stop = false;
        bool save = false;
    };
    Requests agree(Requests local);  // a request of any rank holds for all

    // Sums of the micro-batches' weights and tokens over all ranks.
    std::pair<double, double> sumTotals(double weight, double tokens);

    // Sums every parameter's gradient over the ranks (missing gradients count as zero).
    void sumGradients(std::vector<at::Tensor>& parameters);

    double sum(double value);
    // The mean over ranks of the numeric entries of `metrics` (which every rank has
    // with the same keys: the same objective); other entries stay rank 0's.
    nlohmann::json meanMetrics(const nlohmann::json& metrics);
    std::vector<double> gather(double value);

    // Resumed steps must agree; ft::Error naming the ranks when they do not (a
    // checkpoint only some ranks can see: output_dir not on a shared file system).
    void checkSameStep(int64_t step);

    void barrier();
    double takeCommunicationSeconds();

    // {"world_size", "backend", "launcher", "ranks": [{"rank", "host"}]} for the started event.
    nlohmann::json describe() const;

private:
    dist::Communicator* m_comm = nullptr;
};

} // namespace ft::engine
