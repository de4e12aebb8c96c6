// `ftstudio-cli bench --objectives`: the step time of every training objective on one
// model folder, measured by running the real engine (runTraining) for a few steps on
// the sample data of datasets/ with LoRA (r 16, all linear layers): SFT, reward model,
// DPO, IPO, SimPO, ORPO, KTO, PPO (against the reward model trained first) and
// GRPO/RLVR. Step times are taken between the first and last step events, so the
// one-off work (loading, reference log-probs, the evaluations) is left out.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace ft::base {

struct ObjectiveBench {
    std::string objective;
    std::string data;                 // the sample file it trained on
    int64_t steps = 0;
    double stepSeconds = 0;           // mean over the timed steps
    double tokensPerSecond = 0;       // mean of the step events' tokens/s over the timed steps
    double rolloutTokensPerSecond = 0;  // PPO, GRPO: sampling throughput; 0 otherwise
};

struct ObjectiveBenchOptions {
    std::string modelDir;
    std::string datasetsDir;  // holds sft/ and align/
    std::string workDir;      // scratch output folders (created, then removed)
    int64_t steps = 4;        // timed steps (one more runs first)
    int64_t batchSize = 8;
    int64_t maxSeqLen = 128;
    int64_t threads = 0;
};

// Calls `progress` with each result as it is measured.
std::vector<ObjectiveBench> benchObjectives(const ObjectiveBenchOptions& options,
                                            const std::function<void(const ObjectiveBench&)>& progress = {});

} // namespace ft::base
