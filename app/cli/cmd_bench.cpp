// ftstudio-cli bench: training-step and generation throughput of a model
// configuration, with the matmul ceiling measured in the same run and the MFU.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "align/rollout.h"
#include "base/bench.h"
#include "base/bench_objectives.h"
#include "base/bench_techniques.h"
#include "base/make_base.h"
#include "model/llama.h"
#include "model/model_config.h"
#include "model/model_io.h"
#include "model/runtime.h"
#include "util/paths.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>
#include <iostream>

namespace ftcli {

int runBench(int argc, char** argv)
{
    if (argc > 2 && std::string(argv[2]) == "load")
        return runBenchLoad(argc, argv);
    for (int i = 2; i < argc; ++i)
        if (std::string(argv[i]).rfind("--nproc-per-node", 0) == 0)
            return runBenchDistributed(argc, argv);
    ArgParser p("bench",
                "Measure training-step and generation throughput for a model configuration (random weights), next to "
                "an n x n matmul ceiling measured in the same run; MFU = achieved training FLOP/s / ceiling. "
                "'ftstudio-cli bench load --help': checkpoint load time and peak memory; 'ftstudio-cli bench "
                "--nproc-per-node 2 --help': data-parallel scaling.");
    p.option("model", "DIR", "take the configuration from DIR/config.json", "the embedded base recipe");
    p.option("batch", "N", "training batch size", "8");
    p.option("seq-len", "N", "training sequence length", "128");
    p.option("steps", "N", "timed training steps", "5");
    p.option("gen-tokens", "N", "tokens to generate (batch 1, greedy, KV cache)", "64");
    p.option("prompt-tokens", "N", "prompt length for generation", "32");
    p.option("matmul-size", "N", "n of the n x n matmul ceiling", "1024");
    p.option("techniques", "LIST", "training configurations to time, comma-separated (none: skip)", "full,lora,qlora");
    p.option("rollout-prompts", "N", "prompts of the batched rollout benchmark (GRPO/PPO sampling; 0: skip)", "8");
    p.option("rollout-samples", "N", "completions per prompt in the rollout benchmark", "4");
    p.flag("objectives", "also time the steps of every objective (SFT, reward, DPO family, KTO, PPO, GRPO/RLVR) by "
                         "running the engine on the sample data with a real model folder (--model, default: the "
                         "embedded base)");
    addRuntimeOptions(p);
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    ft::base::BenchOptions o;
    o.config = p.has("model")
                   ? ft::model::readModelConfig(ft::model::requireModelFolder(p.get("model")))
                   : ft::base::defaultBaseRecipe().config;
    o.batchSize = p.getInt("batch");
    o.seqLen = p.getInt("seq-len");
    o.trainSteps = p.getInt("steps");
    o.generateTokens = p.getInt("gen-tokens");
    o.promptTokens = p.getInt("prompt-tokens");
    o.matmulSize = p.getInt("matmul-size");
    for (const char* name : {"batch", "seq-len", "steps", "gen-tokens", "prompt-tokens", "matmul-size"})
        if (p.getInt(name) <= 0)
            throw UsageError(std::string("--") + name + " must be positive");
    if (o.seqLen > o.config.maxPositionEmbeddings || o.promptTokens + o.generateTokens > o.config.maxPositionEmbeddings)
        throw UsageError("sequence longer than the model's max_position_embeddings (" +
                         std::to_string(o.config.maxPositionEmbeddings) + ")");
    const std::vector<std::string> techniques =
        p.get("techniques") == "none" ? std::vector<std::string>{} : splitCommaList(p.get("techniques"));
    o.fullTrainingStep = techniques.empty() || std::find(techniques.begin(), techniques.end(), "full") != techniques.end();
    const Runtime rt = applyRuntimeOptions(p);
    o.device = rt.device;
    o.dtype = rt.dtype;

    std::printf("bench: %s, %s parameters, device %s, dtype %s, %d threads\n", ft::model::archClassName(o.config.arch),
                formatCount(double(o.config.parameterCount())).c_str(), o.device.str().c_str(),
                ft::dtypeLabel(o.dtype).c_str(), rt.threads);
    std::fflush(stdout);
    const ft::base::BenchReport r = ft::base::runBench(o);
    std::printf("matmul ceiling   %8.1f GFLOP/s   (%lld x %lld x %lld, same dtype and device)\n", r.matmulGflops,
                (long long)o.matmulSize, (long long)o.matmulSize, (long long)o.matmulSize);
    if (o.fullTrainingStep) {
        std::printf("training step    %8.3f s         (batch %lld x seq %lld, forward + backward + AdamW)\n",
                    r.trainStepSeconds, (long long)o.batchSize, (long long)o.seqLen);
        std::printf("training         %8.0f tokens/s  %.1f GFLOP/s at %.2f MFLOP/token\n", r.trainTokensPerSecond,
                    r.trainGflops, r.trainFlopsPerToken / 1e6);
        std::printf("MFU              %8.1f %%        (training GFLOP/s / matmul ceiling)\n", 100.0 * r.mfu);
    } else {
        std::printf("training step    skipped (full fine-tuning is not in --techniques; its AdamW states alone "
                    "would take %s)\n", formatBytes(16.0 * double(o.config.parameterCount())).c_str());
    }
    std::printf("prefill          %8.0f tokens/s  (%lld prompt tokens)\n", r.prefillTokensPerSecond,
                (long long)o.promptTokens);
    std::printf("decode           %8.1f tokens/s  (%lld new tokens, batch 1, KV cache)\n", r.decodeTokensPerSecond,
                (long long)o.generateTokens);
    std::printf("peak RSS         %8s\n", formatBytes(double(r.peakRssBytes)).c_str());

    if (!techniques.empty()) {
        std::printf("\ntraining configurations (batch %lld x seq %lld, AdamW on the trainable tensors; LoRA family r 16 on "
                    "all linear layers)\n",
                    (long long)o.batchSize, (long long)o.seqLen);
        std::printf("%-10s %12s %12s %10s %12s %9s %7s %10s\n", "technique", "trainable", "frozen", "step s",
                    "tokens/s", "GFLOP/s", "MFU", "peak RSS");
        std::fflush(stdout);
        for (const auto& b : ft::base::benchTechniques(o, techniques, r.matmulGflops)) {
            std::printf("%-10s %12s %12s %10.3f %12.0f %9.1f %6.1f%% %10s%s\n", b.technique.c_str(),
                        formatCount(double(b.trainableParameters)).c_str(), formatBytes(double(b.frozenWeightBytes)).c_str(),
                        b.stepSeconds, b.tokensPerSecond, b.gflops, 100.0 * b.mfu, formatBytes(double(b.peakRssBytes)).c_str(),
                        b.peakIsOwn ? "" : " (process)");
            std::fflush(stdout);
        }
        std::printf("FLOPs per token: full 6N + attention; with a frozen base 4N + 6 x trainable + attention "
                    "(no weight gradients for frozen weights)\n"
                    "peak RSS: the process's high-water mark from the start of each configuration (reset through "
                    "/proc/self/clear_refs), so it includes what the process already held\n");
    }

    const int64_t rolloutPrompts = p.getInt("rollout-prompts");
    if (rolloutPrompts > 0) {
        ft::model::CausalLM lm(o.config);
        lm->initializeWeights(o.seed);
        lm->to(o.device, o.dtype);
        const int64_t samples = std::max<int64_t>(1, p.getInt("rollout-samples"));
        const auto rb = ft::align::benchRollouts(lm, rolloutPrompts, samples, o.promptTokens, o.generateTokens, o.seed);
        std::printf("\nrollouts (GRPO/PPO sampling: %lld prompts x %lld samples, %lld new tokens each, KV cache)\n",
                    (long long)rolloutPrompts, (long long)samples, (long long)o.generateTokens);
        std::printf("batched          %8.0f tokens/s  (%lld rows in one batch, %.3f s)\n", rb.batchedTokensPerSecond,
                    (long long)rb.rows, rb.batchedSeconds);
        std::printf("one at a time    %8.0f tokens/s  (%.3f s)   speed-up %.1fx\n", rb.sequentialTokensPerSecond,
                    rb.sequentialSeconds, rb.speedup);
    }

    if (p.has("objectives")) {
        ft::base::ObjectiveBenchOptions ob;
        ob.modelDir = modelDirFrom(p);
        ob.datasetsDir = ft::datasetsDir();
        ob.workDir = (std::filesystem::temp_directory_path() /
                      ("ftstudio-bench-" + std::to_string(::getpid()))).string();
        ob.steps = o.trainSteps;
        ob.batchSize = o.batchSize;
        ob.maxSeqLen = std::min<int64_t>(o.seqLen, 256);
        ob.threads = rt.threads;
        std::printf("\nobjectives (engine runs on %s, LoRA r 16 all-linear, batch %lld, max_seq_len %lld; GRPO/RLVR: "
                    "batch/4 prompts x 8 samples)\n",
                    ob.modelDir.c_str(), (long long)ob.batchSize, (long long)ob.maxSeqLen);
        std::printf("%-10s %-20s %10s %12s %16s\n", "objective", "data", "step s", "tokens/s", "rollout tokens/s");
        std::fflush(stdout);
        ft::base::benchObjectives(ob, [](const ft::base::ObjectiveBench& b) {
            std::printf("%-10s %-20s %10.3f %12.0f %16s\n", b.objective.c_str(), b.data.c_str(), b.stepSeconds,
                        b.tokensPerSecond,
                        b.rolloutTokensPerSecond > 0 ? std::to_string(int64_t(b.rolloutTokensPerSecond)).c_str() : "-");
            std::fflush(stdout);
        });
    }
    return 0;
}

} // namespace ftcli
