// Preference and unpaired rows as token sequences: each (prompt, response) is
// rendered with the run's prompt format exactly as SFT renders an instruction or
// chat row (BOS, EOS, the same markup), and only the response tokens (EOS included)
// carry labels; the prompt is masked. Truncation keeps the first max_seq_len tokens
// and drops an example whose response lost every token.
// Not here: the losses (preference_loss.h), batching over epochs (index_batcher.h).
//
// Shape legend: N sequences, T time.
#pragma once

#include "data/records.h"
#include "model/llama.h"
#include "tokenizer/tokenizer.h"
#include "train/prompt_format.h"
#include "train/sft_data.h"

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <vector>

namespace ft::align {

using Response = train::TokenizedText;  // ids, labels (kIgnoreIndex on the prompt)

// prompt: a string or a message list; response: a string or a message list (TRL's
// conversational form). A string prompt with a string response renders as an
// instruction row, anything else as a chat row; only the final assistant part trains.
// Returns false when nothing of the response is left within maxSeqLen.
bool tokenizeResponse(const nlohmann::json& prompt, const nlohmann::json& response, const train::PromptFormat& format,
                      const tok::Tokenizer& tokenizer, int64_t maxSeqLen, Response& out, bool& truncated);

struct PairExample {
    Response chosen, rejected;
    double margin = 0;  // the row's optional "margin" field (reward models)
    int64_t rowId = 0;
};

struct UnpairedExample {
    Response completion;  // prompt i with its own completion
    Response mismatched;  // prompt i with the completion of example i+1 (KTO's KL estimate)
    bool desirable = true;
    int64_t rowId = 0;
};

struct DataCounts {
    int64_t rows = 0, truncated = 0, dropped = 0, tokens = 0;
    nlohmann::json toJson() const;
};

// ft::Error naming the row id when a row lacks its fields.
std::vector<PairExample> buildPairs(const std::vector<data::Row>& rows, const train::PromptFormat& format,
                                    const tok::Tokenizer& tokenizer, int64_t maxSeqLen, DataCounts& counts);
std::vector<UnpairedExample> buildUnpaired(const std::vector<data::Row>& rows, const train::PromptFormat& format,
                                           const tok::Tokenizer& tokenizer, int64_t maxSeqLen, DataCounts& counts);

struct ResponseBatch {
    at::Tensor ids;            // (N, T) int64, right-padded
    at::Tensor labels;         // (N, T) int64, kIgnoreIndex on the prompt and padding
    at::Tensor attentionMask;  // (N, T) int64
};
ResponseBatch collateResponses(const std::vector<const Response*>& responses, int64_t padId, c10::Device device);

// Summed log-probs of the labelled tokens (N,) and their counts (N,), from one forward
// pass; with gradient when grad mode is on.
struct ResponseLogps {
    at::Tensor sums;
    at::Tensor counts;
    at::Tensor averages() const;  // sums / counts
};
ResponseLogps responseLogps(model::CausalLM& model, const ResponseBatch& batch);

} // namespace ft::align
