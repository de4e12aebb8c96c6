// ftstudio-cli bench: training-step and generation throughput of a model
// configuration, with the matmul ceiling measured in the same run and the MFU.
#include "cli/commands.h"
#include "cli/common_options.h"

#include "base/bench.h"
#include "base/make_base.h"
#include "model/model_config.h"
#include "model/model_io.h"
#include "util/runtime.h"

#include <cstdio>
#include <iostream>

namespace ftcli {

int runBench(int argc, char** argv)
{
    ArgParser p("bench",
                "Measure training-step and generation throughput for a model configuration (random weights), next to "
                "an n x n matmul ceiling measured in the same run; MFU = achieved training FLOP/s / ceiling.");
    p.option("model", "DIR", "take the configuration from DIR/config.json", "the embedded base recipe");
    p.option("batch", "N", "training batch size", "8");
    p.option("seq-len", "N", "training sequence length", "128");
    p.option("steps", "N", "timed training steps", "5");
    p.option("gen-tokens", "N", "tokens to generate (batch 1, greedy, KV cache)", "64");
    p.option("prompt-tokens", "N", "prompt length for generation", "32");
    p.option("matmul-size", "N", "n of the n x n matmul ceiling", "1024");
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
    std::printf("training step    %8.3f s         (batch %lld x seq %lld, forward + backward + AdamW)\n",
                r.trainStepSeconds, (long long)o.batchSize, (long long)o.seqLen);
    std::printf("training         %8.0f tokens/s  %.1f GFLOP/s at %.2f MFLOP/token\n", r.trainTokensPerSecond,
                r.trainGflops, r.trainFlopsPerToken / 1e6);
    std::printf("MFU              %8.1f %%        (training GFLOP/s / matmul ceiling)\n", 100.0 * r.mfu);
    std::printf("prefill          %8.0f tokens/s  (%lld prompt tokens)\n", r.prefillTokensPerSecond,
                (long long)o.promptTokens);
    std::printf("decode           %8.1f tokens/s  (%lld new tokens, batch 1, KV cache)\n", r.decodeTokensPerSecond,
                (long long)o.generateTokens);
    std::printf("peak RSS         %8s\n", formatBytes(double(r.peakRssBytes)).c_str());
    return 0;
}

} // namespace ftcli
