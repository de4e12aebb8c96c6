// The processes of one data-parallel run, connected through libtorch's own c10d:
// rendezvous on a TCPStore that rank 0 hosts at MASTER_ADDR:MASTER_PORT, collectives
// on a ProcessGroupGloo (CPU tensors, and CUDA tensors through Gloo's CUDA paths).
// Every collective waits at most the run's timeout; a rank that died, hung or never
// arrived turns into an ft::Error on every other rank that names it and its host.
// Not here: what the trainer reduces and when (engine/data_parallel.h).
#pragma once

#include "dist/launch_env.h"

#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace ft::dist {

struct CommunicatorOptions {
    std::string backend = "auto";  // auto | gloo | nccl (refused: this build's libtorch has no NCCL)
    std::chrono::milliseconds timeout{std::chrono::minutes(5)};
    int64_t bucketBytes = int64_t(25) << 20;  // gradients are all-reduced in buckets of about this size
};

class Communicator {
public:
    // Rendezvous with the other ranks; ft::Error naming the address when rank 0's store
    // cannot be reached within the timeout, or the backend is unknown or unavailable.
    static std::unique_ptr<Communicator> connect(const LaunchEnv& env, const CommunicatorOptions& options);
    ~Communicator();
    Communicator(const Communicator&) = delete;
    Communicator& operator=(const Communicator&) = delete;

    int rank() const { return m_env.rank; }
    int worldSize() const { return m_env.worldSize; }
    const LaunchEnv& env() const { return m_env; }
    std::string backendName() const { return "gloo"; }
    const std::vector<std::string>& hosts() const { return m_hosts; }  // per rank

    // In place: every rank ends with the element-wise sum over ranks. Tensors of one
    // dtype and device are flattened into buckets of options.bucketBytes, all-reduced
    // asynchronously and copied back.
    void allreduceSum(std::vector<at::Tensor>& tensors);
    // Starts an in-place sum of one contiguous tensor over the ranks and returns at once;
    // finish(...) waits for it and returns the summed tensor (a failed peer is reported
    // as by the other calls). Calls must be started in the same order on every rank.
    struct Pending;
    std::shared_ptr<Pending> startSum(const at::Tensor& flat);
    at::Tensor finish(Pending& pending);

    // In place: every rank ends with root's values.
    void broadcast(std::vector<at::Tensor>& tensors, int root = 0);
    std::vector<double> sum(std::vector<double> values);
    std::vector<double> max(std::vector<double> values);
    std::vector<double> gather(double value);  // every rank's value, by rank
    void barrier();

    // Before a rank exits on its own error: leaves the message where the others'
    // failure reports find it.
    void reportFailure(const std::string& message) noexcept;

    // Seconds spent inside collectives since the last call (the all-reduce time of a step).
    double takeCommunicationSeconds();

private:
    struct State;
    Communicator(const LaunchEnv& env, const CommunicatorOptions& options);
    template <typename F>
    void collective(const char* what, F&& body);
    [[noreturn]] void failCollective(const char* what, const std::string& detail);

    LaunchEnv m_env;
    CommunicatorOptions m_options;
    std::vector<std::string> m_hosts;
    std::unique_ptr<State> m_state;
    double m_seconds = 0;
};

} // namespace ft::dist
