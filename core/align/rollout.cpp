#include "align/rollout.h"

#include "model/eval_mode.h"
#include "model/generator.h"
#include "model/sampler.h"
#include "util/error.h"
#include "util/random.h"
#include "util/stopwatch.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>
#include <limits>
#include <random>

namespace ft::align {

namespace {

c10::Device deviceOf(model::CausalLM& model) { return model->parameters().front().device(); }

// Row r's own random stream: a function of (seed, r) only, never of the batch.
std::mt19937_64 rowGenerator(uint64_t seed, int64_t row)
{
    return std::mt19937_64(util::splitMix64(seed ^ util::splitMix64(static_cast<uint64_t>(row) + 1)));
}

void validate(model::CausalLM& model, const std::vector<std::vector<int64_t>>& prompts, const RolloutOptions& o)
{
    model::SamplingOptions s;
    s.temperature = o.temperature;
    s.topK = o.topK;
    s.topP = o.topP;
    model::validateSamplingOptions(s);
    if (o.samplesPerPrompt < 1)
        fail("samples per prompt must be >= 1, found " + std::to_string(o.samplesPerPrompt));
    if (o.maxNewTokens < 1)
        fail("max new tokens must be >= 1, found " + std::to_string(o.maxNewTokens));
    if (prompts.empty())
        fail("rollouts need at least one prompt; the prompt list is empty");
    const int64_t vocab = model->config().vocabSize;
    if (o.padId < 0 || o.padId >= vocab)
        fail("pad id " + std::to_string(o.padId) + " is outside the vocabulary (size " + std::to_string(vocab) +
             "); pick an existing token, it is always masked out");
    for (size_t i = 0; i < prompts.size(); ++i) {
        if (prompts[i].empty())
            fail("prompt " + std::to_string(i) + " is empty: it needs at least one token (e.g. BOS)");
        for (int64_t id : prompts[i])
            if (id < 0 || id >= vocab)
                fail("prompt " + std::to_string(i) + " has token id " + std::to_string(id) +
                     ", outside the vocabulary (size " + std::to_string(vocab) + ")");
    }
}

// top-k then top-p on tempered logits (N, V), as model::Sampler defines them per row.
at::Tensor truncated(at::Tensor logits, int64_t topK, double topP)
{
    const int64_t vocab = logits.size(1);
    const double negInf = -std::numeric_limits<double>::infinity();
    if (topK > 0 && topK < vocab) {
        at::Tensor kth = std::get<0>(logits.topk(topK, /*dim=*/-1)).narrow(1, topK - 1, 1);  // (N, 1)
        logits = logits.masked_fill(logits < kth, negInf);
    }
    if (topP < 1.0) {
        // Keep the smallest set of tokens whose probability reaches top_p (at least one).
        auto [sorted, order] = logits.sort(/*dim=*/-1, /*descending=*/true);
        at::Tensor p = sorted.softmax(-1);
        at::Tensor drop = (p.cumsum(-1) - p) >= topP;  // mass before this token already enough
        logits = logits.masked_fill(at::zeros_like(drop).scatter(1, order, drop), negInf);
    }
    return logits;
}

// Inverse CDF per row: the first token whose cumulative probability exceeds u * total.
// logits (N, V), u (N,) in [0, 1) -> (N,) int64
at::Tensor drawTokens(const at::Tensor& logits, const at::Tensor& u)
{
    const int64_t vocab = logits.size(1);
    at::Tensor probs = logits.to(at::kDouble).softmax(-1);                  // (N, V)
    at::Tensor cdf = probs.cumsum(-1);                                       // (N, V)
    at::Tensor target = u.unsqueeze(1) * cdf.narrow(1, vocab - 1, 1);        // (N, 1)
    at::Tensor index = (cdf <= target).sum(-1);                              // (N,)
    // Rounding can leave the target at the total: stay on a token that has mass.
    at::Tensor positions = at::arange(vocab, index.options()).unsqueeze(0);  // (1, V)
    at::Tensor lastWithMass = at::where(probs > 0, positions, at::zeros_like(positions)).amax(-1);
    return at::minimum(index, lastWithMass);
}

} // namespace

Rollouts generateRollouts(model::CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                          const RolloutOptions& o)
{
    validate(model, prompts, o);
    const auto start = util::Clock::now();
    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*model);
    const auto device = deviceOf(model);
    const auto longOpts = at::TensorOptions().dtype(at::kLong).device(device);
    const int64_t g = o.samplesPerPrompt, n = static_cast<int64_t>(prompts.size()) * g;
    int64_t p = 0;
    for (const auto& prompt : prompts)
        p = std::max<int64_t>(p, static_cast<int64_t>(prompt.size()));

    // Left-padded prompts, built on the host: row r is sample r % G of prompt r / G.
    std::vector<int64_t> hostIds(n * p, o.padId), hostMask(n * p, 0);
    for (int64_t r = 0; r < n; ++r) {
        const auto& prompt = prompts[r / g];
        const int64_t offset = r * p + p - static_cast<int64_t>(prompt.size());
        std::copy(prompt.begin(), prompt.end(), hostIds.begin() + offset);
        std::fill(hostMask.begin() + offset, hostMask.begin() + (r + 1) * p, 1);
    }
    at::Tensor promptIds = at::tensor(hostIds, at::kLong).view({n, p}).to(device);    // (N, P)
    at::Tensor promptMask = at::tensor(hostMask, at::kLong).view({n, p}).to(device);  // (N, P)

    const bool greedy = o.temperature == 0.0;
    std::vector<std::mt19937_64> generators;
    for (int64_t r = 0; r < n && !greedy; ++r)
        generators.push_back(rowGenerator(o.seed, r));
    std::uniform_real_distribution<double> uniform(0.0, 1.0);
    std::vector<double> draws(n);

    Rollouts out;
    out.promptLength = p;
    out.completions.resize(n);
    out.stopReasons.assign(n, "max_tokens");
    std::vector<at::Tensor> tokenSteps, logprobSteps, maskSteps;  // each (N,)
    std::vector<char> alive(n, 1);
    at::Tensor aliveMask = at::ones({n}, longOpts);  // (N,) rows still generating at this step
    at::Tensor pad = at::full({n}, o.padId, longOpts);

    model::KVCache cache;
    // Logits of the last prompt position only (left padding: it is real in every row).
    at::Tensor last = model->hidden(promptIds, promptMask, &cache).narrow(1, p - 1, 1);  // (N, 1, C)
    at::Tensor logits = model->logitsFromHidden(last).select(1, 0);                       // (N, V)
    for (int64_t step = 0; step < o.maxNewTokens; ++step) {
        at::Tensor l = logits.to(at::kFloat);  // (N, V)
        at::Tensor token;
        if (greedy) {
            token = l.argmax(-1);  // (N,)
        } else {
            l = l / o.temperature;
            for (int64_t r = 0; r < n; ++r)
                draws[r] = uniform(generators[r]);  // one draw per row per step, finished rows too
            token = drawTokens(truncated(l, o.topK, o.topP), at::tensor(draws, at::kDouble).to(device));
        }
        at::Tensor logp = l.log_softmax(-1).gather(1, token.unsqueeze(1)).squeeze(1);  // (N,)
        const at::Tensor isAlive = aliveMask.to(at::kBool);
        token = at::where(isAlive, token, pad);
        tokenSteps.push_back(token);
        logprobSteps.push_back(at::where(isAlive, logp, at::zeros_like(logp)));
        maskSteps.push_back(aliveMask);

        // One small copy per step: the host needs the ids and whether anyone is left.
        at::Tensor hostTokens = token.to(at::kCPU).contiguous();
        const int64_t* ids = hostTokens.data_ptr<int64_t>();
        bool anyAlive = false;
        for (int64_t r = 0; r < n; ++r) {
            if (!alive[r])
                continue;
            out.completions[r].push_back(ids[r]);
            if (std::find(o.eosIds.begin(), o.eosIds.end(), ids[r]) != o.eosIds.end()) {
                alive[r] = 0;
                out.stopReasons[r] = "eos";
            }
            anyAlive = anyAlive || alive[r];
        }
        if (!anyAlive || step + 1 == o.maxNewTokens)
            break;
        // The token just made (an ending EOS included) is a real key; rows that ended before feed padding.
        logits = model->forward(token.view({n, 1}), aliveMask.view({n, 1}), &cache).select(1, 0);  // (N, V)
        aliveMask = at::tensor(std::vector<int64_t>(alive.begin(), alive.end()), at::kLong).to(device);
    }

    out.completionMask = at::stack(maskSteps, 1);                        // (N, L)
    out.logprobs = at::stack(logprobSteps, 1);                           // (N, L)
    out.sequences = at::cat({promptIds, at::stack(tokenSteps, 1)}, 1);   // (N, P + L)
    out.attentionMask = at::cat({promptMask, out.completionMask}, 1);    // (N, P + L)
    for (const auto& c : out.completions)
        out.generatedTokens += static_cast<int64_t>(c.size());
    out.seconds = util::secondsSince(start);
    return out;
}

at::Tensor completionLogprobs(model::CausalLM& model, const Rollouts& rollouts, double temperature, at::Tensor* entropy)
{
    if (!(temperature > 0.0))
        fail("the temperature dividing the logits must be > 0, found " + std::to_string(temperature));
    if (!rollouts.sequences.defined() || rollouts.sequences.dim() != 2)
        fail("rollouts have no (N, P + L) sequences: produce them with generateRollouts");
    const int64_t n = rollouts.sequences.size(0), p = rollouts.promptLength;
    const int64_t l = rollouts.sequences.size(1) - p;
    if (p < 1 || l < 0 || !rollouts.completionMask.defined() || !rollouts.attentionMask.defined() ||
        rollouts.completionMask.sizes() != at::IntArrayRef{n, l} ||
        rollouts.attentionMask.sizes() != rollouts.sequences.sizes())
        fail("rollouts are inconsistent: promptLength " + std::to_string(p) + " and sequence width " +
             std::to_string(rollouts.sequences.size(1)) + " do not match the completion and attention masks");
    const auto device = deviceOf(model);
    at::Tensor ids = rollouts.sequences.to(device);                              // (N, P + L)
    at::Tensor keep = rollouts.completionMask.to(device).to(at::kBool);          // (N, L)
    // Position t predicts token t + 1: the last prompt position predicts the first completion token.
    at::Tensor h = model->hidden(ids, rollouts.attentionMask.to(device)).narrow(1, p - 1, l);  // (N, L, C)
    at::Tensor logp = (model->logitsFromHidden(h).to(at::kFloat) / temperature).log_softmax(-1);  // (N, L, V)
    at::Tensor chosen = logp.gather(2, ids.narrow(1, p, l).unsqueeze(2)).squeeze(2);         // (N, L)
    if (entropy) {
        at::Tensor e = -(logp.exp() * logp).sum(-1);  // (N, L)
        *entropy = at::where(keep, e, at::zeros_like(e));
    }
    return at::where(keep, chosen, at::zeros_like(chosen));
}

RolloutBenchResult benchRollouts(model::CausalLM& model, int64_t prompts, int64_t samplesPerPrompt,
                                 int64_t promptLen, int64_t newTokens, uint64_t seed)
{
    if (prompts < 1 || samplesPerPrompt < 1 || promptLen < 1 || newTokens < 1)
        fail("rollout bench sizes must all be >= 1 (prompts, samples per prompt, prompt length, new tokens)");
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int64_t> length(std::max<int64_t>(1, promptLen / 2), promptLen);
    std::uniform_int_distribution<int64_t> token(0, model->config().vocabSize - 1);
    std::vector<std::vector<int64_t>> batch(prompts);
    for (auto& prompt : batch) {
        prompt.resize(length(rng));
        for (auto& id : prompt)
            id = token(rng);
    }
    RolloutOptions o;
    o.samplesPerPrompt = samplesPerPrompt;
    o.maxNewTokens = newTokens;
    o.temperature = 1.0;
    o.seed = seed;

    RolloutBenchResult result;
    result.rows = prompts * samplesPerPrompt;
    RolloutOptions warmUp = o;
    warmUp.samplesPerPrompt = 1;
    warmUp.maxNewTokens = 2;
    generateRollouts(model, {batch.front()}, warmUp);  // first-call costs (allocator, kernels) out of the timing

    const Rollouts batched = generateRollouts(model, batch, o);
    result.batchedSeconds = batched.seconds;
    result.tokens = batched.generatedTokens;

    torch::NoGradGuard noGrad;
    model::EvalModeGuard evalMode(*model);
    const auto start = util::Clock::now();
    int64_t sequentialTokens = 0;
    for (int64_t r = 0; r < result.rows; ++r) {
        model::SamplingOptions s;
        s.temperature = 1.0;
        s.seed = seed + static_cast<uint64_t>(r);
        model::Sampler sampler(s);
        const auto ids = model::generateIds(model, batch[r / samplesPerPrompt], newTokens, sampler, /*eosIds=*/{});
        sequentialTokens += static_cast<int64_t>(ids.size());
    }
    result.sequentialSeconds = util::secondsSince(start);
    result.batchedTokensPerSecond = result.tokens / std::max(result.batchedSeconds, 1e-9);
    result.sequentialTokensPerSecond = sequentialTokens / std::max(result.sequentialSeconds, 1e-9);
    result.speedup = result.batchedTokensPerSecond / std::max(result.sequentialTokensPerSecond, 1e-9);
    return result;
}

} // namespace ft::align
