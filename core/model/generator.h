// Autoregressive generation with a KV cache: the prompt is processed once, then
// one token per step. Streams text as it is produced (never a split UTF-8
// character, never part of a stop string), and stops on EOS, a stop string or
// the token limit.
#pragma once

#include "model/llama.h"
#include "model/model_io.h"
#include "model/sampler.h"
#include "tokenizer/tokenizer.h"

#include <functional>
#include <string>
#include <vector>

namespace ft::model {

struct GenerationOptions {
    int64_t maxNewTokens = 64;
    SamplingOptions sampling;
    std::vector<std::string> stopStrings;
    bool stopAtEos = true;
};

struct GenerationResult {
    std::vector<int64_t> promptIds;
    std::vector<int64_t> outputIds;  // generated ids, EOS included when it ended the text
    std::string text;                // generated text, cut before a stop string
    std::string stopReason;          // "eos", "stop_string", "max_tokens", "cancelled"
    double prefillSeconds = 0;
    double decodeSeconds = 0;
};

// Called with each new piece of text; return false to stop generating.
using TextCallback = std::function<bool(const std::string& piece)>;
// Called with each new token id; return false to stop generating.
using TokenCallback = std::function<bool(int64_t id)>;

// Token-level generation: no tokenizer involved (tests, benchmarks).
std::vector<int64_t> generateIds(CausalLM& model, const std::vector<int64_t>& promptIds, int64_t maxNewTokens,
                                 Sampler& sampler, const std::vector<int64_t>& eosIds, const TokenCallback& onToken = {});

GenerationResult generateText(CausalLM& model, const tok::Tokenizer& tokenizer, const GenerationDefaults& defaults,
                              const std::vector<int64_t>& promptIds, const GenerationOptions& options,
                              const TextCallback& onText = {});

} // namespace ft::model
