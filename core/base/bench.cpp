#include "base/bench.h"

#include "model/generator.h"
#include "model/llama.h"
#include "model/runtime.h"
#include "train/lm_loss.h"
#include "util/stopwatch.h"

#include <ATen/ATen.h>
#include <torch/optim/adamw.h>

#include <chrono>

namespace ft::base {

namespace {
// Reading one value back waits for queued GPU work; on the CPU it costs nothing.
void synchronize(const at::Tensor& t) { (void)t.sum().item<double>(); }
} // namespace

double measureMatmulGflops(int64_t n, c10::Device device, c10::ScalarType dtype, double minSeconds)
{
    torch::NoGradGuard noGrad;
    auto opts = at::TensorOptions().dtype(dtype).device(device);
    at::Tensor a = at::randn({n, n}, opts), b = at::randn({n, n}, opts);
    synchronize(at::mm(a, b));  // warm-up: thread pool, BLAS buffers
    int64_t reps = 0;
    at::Tensor c;
    const auto start = util::Clock::now();
    double elapsed = 0;
    do {
        c = at::mm(a, b);
        ++reps;
        if (reps % 4 == 0) {
            synchronize(c);
            elapsed = util::secondsSince(start);
        }
    } while (elapsed < minSeconds);
    return 2.0 * double(n) * n * n * reps / elapsed / 1e9;
}

double trainingFlopsPerToken(const model::ModelConfig& c, int64_t seqLen)
{
    // A mixture of experts computes with the router and k experts per token only.
    const double matmulParams = double(c.activeParameterCount()) - double(c.vocabSize) * c.hiddenSize * (c.tieWordEmbeddings ? 0 : 1) -
                                double(c.numHiddenLayers) * 2 * c.hiddenSize - c.hiddenSize;
    const double attention = 12.0 * c.numHiddenLayers * seqLen * c.numAttentionHeads * c.headDim;
    return 6.0 * matmulParams + attention;
}

BenchReport runBench(const BenchOptions& o)
{
    BenchReport r;
    r.matmulGflops = measureMatmulGflops(o.matmulSize, o.device, o.dtype, 1.0);
    r.parameters = o.config.parameterCount();
    r.trainFlopsPerToken = trainingFlopsPerToken(o.config, o.seqLen);

    model::CausalLM lm(o.config);
    lm->initializeWeights(o.seed);
    lm->to(o.device, o.dtype);
    if (o.fullTrainingStep) {
        lm->train();
        torch::optim::AdamW optimizer(lm->parameters(), torch::optim::AdamWOptions(1e-4));
        auto gen = at::detail::createCPUGenerator(o.seed);
        at::Tensor ids = at::randint(o.config.vocabSize, {o.batchSize, o.seqLen}, gen, at::kLong).to(o.device);
        auto step = [&] {
            optimizer.zero_grad();
            at::Tensor loss = train::causalLmLoss(lm->forward(ids), ids);
            loss.backward();
            optimizer.step();
            return loss;
        };
        synchronize(step());
        const auto trainStart = util::Clock::now();
        at::Tensor last;
        for (int64_t i = 0; i < o.trainSteps; ++i)
            last = step();
        synchronize(last);
        r.trainStepSeconds = util::secondsSince(trainStart) / double(o.trainSteps);
        r.trainTokensPerSecond = double(o.batchSize * o.seqLen) / r.trainStepSeconds;
        r.trainGflops = r.trainTokensPerSecond * r.trainFlopsPerToken / 1e9;
        r.mfu = r.trainGflops / r.matmulGflops;
        lm->zero_grad();  // the gradients go before generation; the optimizer's states with it
    }

    lm->eval();
    std::vector<int64_t> prompt(o.promptTokens);
    for (int64_t i = 0; i < o.promptTokens; ++i)
        prompt[i] = 3 + (i * 7919) % (o.config.vocabSize - 3);
    model::Sampler greedy({});
    // Warm-up, then a prefill-only pass and a full generation with eos disabled.
    model::generateIds(lm, prompt, 2, greedy, {});
    const auto prefillStart = util::Clock::now();
    model::generateIds(lm, prompt, 1, greedy, {});
    const double prefill = util::secondsSince(prefillStart);
    r.prefillTokensPerSecond = double(o.promptTokens) / prefill;
    const auto genStart = util::Clock::now();
    model::generateIds(lm, prompt, o.generateTokens, greedy, {});
    const double decode = std::max(1e-9, util::secondsSince(genStart) - prefill);
    r.decodeTokensPerSecond = double(o.generateTokens - 1) / decode;
    r.peakRssBytes = processMemory().peakRssBytes;
    return r;
}

} // namespace ft::base
