// What the training loop shares between the processes of a data-parallel run: the
// starting weights (rank 0's, broadcast), the gradients (summed after the last
// micro-batch's backward, before clipping, reweighted so that the loss is normalized
// by the global batch, as one process would), and once per step a report: the loss,
// the metrics and memory figures of the step event, and the stop/save requests (every
// rank stops at the same step). Three collectives per step, whatever is logged; with optimizer-state sharding (ZeRO stage 1) also which rank updates
// which tensor. With one process every call is an identity, so the loop has a
// single code path. Not here: the transport (dist/communicator.h) or which rows a
// rank reads (dist/data_shard.h, through the objectives' batchers).
#pragma once

#include "dist/communicator.h"
#include "dist/data_shard.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ft::engine {

class DataParallel {
public:
    explicit DataParallel(dist::Communicator* communicator);
    ~DataParallel();
    DataParallel(const DataParallel&) = delete;
    DataParallel& operator=(const DataParallel&) = delete;

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

    // Overlap with backward, as PyTorch's DDP Reducer: a hook on every trained tensor's
    // gradient accumulator counts the tensors of its bucket (buckets in reverse order of
    // the tensors, the order backward finishes them: 1 MiB first, then 25 MiB); once a
    // bucket's gradients are complete in the last micro-batch's backward, its all-reduce
    // starts while backward goes on. Buckets start in index order on every rank.
    // Call once with the trained tensors, before the first step. `bucketCapMb`: DDP's
    // bucket_cap_mb (the first bucket at most min(1, bucketCapMb) MiB).
    void attachGradientHooks(const std::vector<at::Tensor>& parameters, double bucketCapMb = 25);
    // Of the last step: buckets, and how many of them started during backward.
    std::pair<int64_t, int64_t> bucketCounts() const;
    // Before the last micro-batch's backward of a step (the earlier ones communicate
    // nothing): `weight` and `tokens` are this rank's totals over the step's micro-batches.
    void armGradientHooks(double weight, double tokens);

    // The step's gradients, each rank's normalized by its own micro-batches' total
    // `weight`, become the gradient of the global batch: rescaled by weight, summed
    // over the ranks (missing gradients count as zero), divided by the global weight.
    // Starts the buckets backward did not start, waits for all. Returns the global
    // {weight, tokens} (one process: its own, gradients untouched).
    std::pair<double, double> reduceGradients(std::vector<at::Tensor>& parameters, double weight, double tokens);

    struct StepReport {
        double lossSum = 0;  // the objective's loss summed over the rank's weight units
        double auxSum = 0;   // the router's load-balancing loss (mixtures of experts)
        nlohmann::json metrics = nlohmann::json::object();  // the objective's metrics of the step
        double rssBytes = 0;
        double optimizerStateBytes = 0;
        Requests requests;  // this rank's stop/save requests for the next step
    };
    struct ReducedReport {
        double lossSum = 0, auxSum = 0;  // summed over the ranks
        nlohmann::json metrics;          // numeric entries averaged over the ranks (when every rank has as many)
        std::vector<double> rssBytes, optimizerStateBytes;  // by rank
        Requests requests;  // for all ranks at the next step
    };
    ReducedReport reduceReport(const StepReport& local);

    // The mean of a value over the ranks (objectives' batch statistics, e.g. KTO's KL).
    double mean(double value);

    // Resumed steps must agree; ft::Error naming the ranks when they do not (a
    // checkpoint only some ranks can see: output_dir not on a shared file system).
    void checkSameStep(int64_t step);

    // ZeRO stage 1: every trainable tensor is updated by one rank, which alone keeps its
    // AdamW state; tensors are dealt to ranks by size, largest first, to the least
    // loaded. Gradients are still all-reduced whole (clipping needs the global norm).
    void shardOptimizer(const std::vector<at::Tensor>& parameters);
    bool shardsOptimizer() const { return !m_owner.empty(); }
    // Before optimizer.step(): forgets the gradients of the tensors other ranks update
    // (AdamW skips a tensor without gradient: no state is created for it).
    void keepOwnedGradients(std::vector<at::Tensor>& parameters);
    // After the step: every tensor from the rank that updated it.
    void broadcastUpdated(std::vector<at::Tensor>& parameters);
    // Drops the states of tensors this rank does not update (after a full checkpoint
    // was loaded, or after rank 0 wrote one).
    void dropUnownedStates(torch::optim::Optimizer& optimizer, const std::vector<at::Tensor>& parameters);
    // Before rank 0 writes a checkpoint: the owners send it their tensors' states, so the
    // checkpoint is the same as without sharding (and resumes on any world size).
    void gatherStatesToWriter(torch::optim::Optimizer& optimizer, const std::vector<at::Tensor>& parameters);

    void barrier();
    double takeCommunicationSeconds();

    // {"world_size", "backend", "launcher", "ranks": [{"rank", "host"}]} for the started event.
    nlohmann::json describe() const;

private:
    struct Buckets;
    void startBucket(size_t bucket);

    dist::Communicator* m_comm = nullptr;
    std::unique_ptr<Buckets> m_buckets;
    std::vector<int> m_owner;  // per parameter: the rank that updates it (sharding only)
};

} // namespace ft::engine
