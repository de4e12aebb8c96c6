#include "base/bench_techniques.h"

#include "model/llama.h"
#include "model/runtime.h"
#include "peft/adapter.h"
#include "peft/registry.h"
#include "train/lm_loss.h"
#include "train/optimizer.h"
#include "util/stopwatch.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <chrono>
#include <fstream>

namespace ft::base {

namespace {


} // namespace

std::vector<TechniqueBench> benchTechniques(const BenchOptions& o, const std::vector<std::string>& techniques,
                                            double matmulGflops)
{
    std::vector<TechniqueBench> out;
    for (const std::string& name : techniques) {
        TechniqueBench b;
        b.technique = name;
        b.peakIsOwn = resetPeakRss();
        {
            model::CausalLM lm(o.config);
            lm->initializeWeights(o.seed);
            lm->to(o.device, o.dtype);
            peft::PeftSettings settings;
            settings.technique = name;
            settings.r = 16;
            settings.loraAlpha = 32;
            settings.loraDropout = 0;
            settings.targetModules = {"all-linear"};
            auto adapter = peft::applyTechnique(lm, settings);
            lm->to(o.device);
            peft::NamedTensors trainable = adapter->trainableParameters();
            for (auto& [_, t] : trainable) {
                b.trainableParameters += t.numel();
                if (t.scalar_type() != c10::kFloat)
                    t.set_data(t.data().to(c10::kFloat));
            }
            for (const auto& p : lm->parameters())
                if (!p.requires_grad())
                    b.frozenWeightBytes += int64_t(p.nbytes());
            for (const auto& buffer : lm->buffers())
                b.frozenWeightBytes += int64_t(buffer.nbytes());
            train::AdamWSettings adamw;
            adamw.learningRate = 1e-4;
            auto optimizer = train::makeAdamW(trainable, adamw);
            lm->train();
            auto gen = at::detail::createCPUGenerator(o.seed);
            at::Tensor ids = at::randint(o.config.vocabSize, {o.batchSize, o.seqLen}, gen, at::kLong).to(o.device);
            auto step = [&] {
                optimizer->zero_grad();
                at::Tensor loss = train::causalLmLoss(lm->forward(ids), ids);
                loss.backward();
                optimizer->step();
                return loss;
            };
            (void)step().item<double>();  // warm-up, and waits for the GPU
            const auto start = util::Clock::now();
            at::Tensor last;
            for (int64_t i = 0; i < o.trainSteps; ++i)
                last = step();
            (void)last.item<double>();
            b.stepSeconds = util::secondsSince(start) / double(o.trainSteps);
        }
        const double full = trainingFlopsPerToken(o.config, o.seqLen);  // 6 N + attention
        const double matmulParams = (full - 12.0 * o.config.numHiddenLayers * o.seqLen * o.config.numAttentionHeads *
                                                o.config.headDim) / 6.0;
        const bool all = name == "full";
        const double attention = full - 6.0 * matmulParams;
        b.flopsPerToken = all ? full : 4.0 * matmulParams + 6.0 * double(b.trainableParameters) + attention;
        b.tokensPerSecond = double(o.batchSize * o.seqLen) / b.stepSeconds;
        b.gflops = b.tokensPerSecond * b.flopsPerToken / 1e9;
        b.mfu = b.gflops / matmulGflops;
        b.peakRssBytes = processMemory().peakRssBytes;
        out.push_back(b);
    }
    return out;
}

} // namespace ft::base
