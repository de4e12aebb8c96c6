// Rollouts for on-policy objectives (GRPO, PPO): many completions sampled in one
// batch from a causal LM with the KV cache, the log-prob of every sampled token,
// and the same log-probs recomputed teacher-forced (with gradient) for the loss.
// Not here: rewards, advantages, the policy loss, text (ids in, ids out).
//
// Shape legend: N rows (prompts * samples per prompt), P padded prompt width,
// L completion width (the longest completion), V vocabulary.
#pragma once

#include "model/llama.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::align {

struct RolloutOptions {
    int64_t samplesPerPrompt = 1;  // G
    int64_t maxNewTokens = 32;
    double temperature = 1.0;      // 0 = greedy
    double topP = 1.0;             // 1 = off
    int64_t topK = 0;              // 0 = off
    uint64_t seed = 0;
    std::vector<int64_t> eosIds;   // a row stops at any of them; the EOS is kept and masked in
    int64_t padId = 0;
};

struct Rollouts {
    at::Tensor sequences;       // (N, P + L) int64: left-padded prompt, then completion, padId after a row ends
    at::Tensor attentionMask;   // (N, P + L) int64, 1 = real token
    int64_t promptLength = 0;   // P
    at::Tensor completionMask;  // (N, L) int64, 1 for generated tokens up to and including the ending EOS
    // (N, L) fp32: log-prob of each sampled token under the distribution it was drawn
    // from (logits / temperature, before top-k/top-p; greedy: plain log-softmax); 0 where masked.
    at::Tensor logprobs;
    std::vector<std::vector<int64_t>> completions;  // per row, generated ids (EOS included when it ended the row)
    std::vector<std::string> stopReasons;            // per row: "eos" | "max_tokens"
    int64_t generatedTokens = 0;
    double seconds = 0;
};

// Samples options.samplesPerPrompt completions of every prompt, all rows in one batch
// (row r = sample r % G of prompt r / G). Runs under NoGradGuard in eval mode and
// restores the model's train/eval mode. Row r's random draws come from its own
// generator seeded with (seed, r): one uniform per step, turned into a token by the
// inverse CDF of the row's distribution, so a row's sample does not depend on the
// other rows of the batch. Tensors are on the model's device.
// Throws ft::Error for an empty prompt list or prompt, an id outside the vocabulary,
// or an option out of range.
Rollouts generateRollouts(model::CausalLM& model, const std::vector<std::vector<int64_t>>& prompts,
                          const RolloutOptions& options);

// Teacher-forced log-probs of the completion tokens of `rollouts`, (N, L), 0 where
// completionMask is 0; with gradient when grad mode is on. The logits are divided by
// `temperature` (> 0) as when sampling (TRL's GRPO does the same). When `entropy` is
// given it receives the (N, L) entropy of those distributions, equally masked.
at::Tensor completionLogprobs(model::CausalLM& model, const Rollouts& rollouts, double temperature = 1.0,
                              at::Tensor* entropy = nullptr);

struct RolloutBenchResult {
    int64_t rows = 0;                // prompts * samples per prompt
    int64_t tokens = 0;              // generated tokens, each way
    double batchedSeconds = 0;       // generateRollouts, all rows in one batch
    double sequentialSeconds = 0;    // model::generateIds, one row at a time
    double batchedTokensPerSecond = 0;
    double sequentialTokensPerSecond = 0;
    double speedup = 0;              // batched / sequential tokens per second
};

// Random prompts (lengths between promptLen / 2 and promptLen, seeded), sampled at
// temperature 1 without EOS so every row makes newTokens tokens, timed batched and
// one row at a time in the same call.
RolloutBenchResult benchRollouts(model::CausalLM& model, int64_t prompts, int64_t samplesPerPrompt,
                                 int64_t promptLen, int64_t newTokens, uint64_t seed);

} // namespace ft::align
