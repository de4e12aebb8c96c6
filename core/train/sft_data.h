// Instruction-tuning data from rendered rows to training batches: tokenization with
// prompt masking (labels kIgnoreIndex outside trainable segments), truncation with
// counts, and a resumable batcher with optional packing of several examples into
// one fixed-length row. Not here: rendering rows to text (prompt_format.h), reading
// rows (dataset_source.h), the loss (lm_loss.h), the training loop.
//
// Tokenization: BOS first when the tokenizer adds it by default. Then, within a run
// of segments up to an EOS, a segment's tokens are those that tokenizing (run so far
// + segment) adds beyond tokenizing the run so far. Encoding each segment on its own
// would put sentencepiece's dummy-prefix space in front of every response ("_7"
// where the base model saw "7" after "### Response:\n"), so the model would learn a
// different first token than it continues with at generation time. When a token
// straddles a boundary (the two tokenizations diverge) the diverging tail is
// replaced and labelled as the later segment. A segment with eos is followed by the
// tokenizer's EOS id, and the next text starts a new run, as a new document did in
// pretraining.
// The first token's label is always kIgnoreIndex: no position predicts it, and in a
// packed row it must not be predicted from the previous example.
//
// Shape legend: B batch (rows), T time.
#pragma once

#include "dist/data_shard.h"
#include "data/records.h"
#include "tokenizer/tokenizer.h"
#include "train/prompt_format.h"

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ft::train {

// Which tokens the loss sees: Responses (trainable segments: assistant turns, the
// default) or All (prompts too, like pretraining on the rendered text).
enum class LossOn { Responses, All };
const char* lossOnName(LossOn l);                             // "responses", "all"
std::optional<LossOn> lossOnFromName(std::string_view name);  // also "assistant" for Responses

struct TokenizedText {
    std::vector<int64_t> ids;
    std::vector<int64_t> labels;  // same length; kIgnoreIndex where the loss does not look
};

// Tokens and labels of rendered segments, before truncation (see the top comment).
TokenizedText tokenizeSegments(const std::vector<Segment>& segments, const tok::Tokenizer& tokenizer, LossOn lossOn);

struct SftExample {
    std::vector<int64_t> ids;
    std::vector<int64_t> labels;
    int64_t rowId = 0;  // the dataset row it came from
};

struct SftDataOptions {
    int64_t maxSeqLen = 512;  // longer examples keep their first maxSeqLen tokens
    LossOn lossOn = LossOn::Responses;
    bool reasoningLoss = true;  // false: reasoning in answers is masked (withoutReasoningLoss)
};

struct SftDataset {
    std::vector<SftExample> examples;  // in row order
    int64_t rows = 0;             // rows given
    int64_t truncated = 0;        // examples cut to maxSeqLen and kept
    int64_t dropped = 0;          // rows left out: no trainable token remained (after truncation, or ever)
    int64_t tokens = 0;           // tokens over all examples
    int64_t trainableTokens = 0;  // labels != kIgnoreIndex over all examples
    int64_t maxSeqLen = 0;
    int64_t padId = 0;            // the tokenizer's pad id, 0 when it has none
};

// One row as training takes it: rendered by `format` (reasoning masked when
// options.reasoningLoss is off), tokenized, cut to maxSeqLen. ft::Error "row N: ..." when
// it cannot be rendered. buildSftDataset keeps it as an example unless trainable is 0.
struct SftRowTokens {
    std::vector<Segment> segments;  // as rendered
    TokenizedText tokens;           // after truncation
    int64_t fullLength = 0;         // tokens before truncation
    int64_t trainable = 0;          // labels that carry loss after truncation; 0: the row is dropped
};
SftRowTokens tokenizeSftRow(const data::Row& row, data::DatasetKind kind, const PromptFormat& format,
                            const tok::Tokenizer& tokenizer, const SftDataOptions& options);

// Renders, tokenizes and truncates every row (tokenizeSftRow). ft::Error naming the row id when a row
// cannot be rendered (wrong kind, invalid fields), and when maxSeqLen < 2.
SftDataset buildSftDataset(const std::vector<data::Row>& rows, data::DatasetKind kind, const PromptFormat& format,
                           const tok::Tokenizer& tokenizer, const SftDataOptions& options);

struct SftBatch {
    at::Tensor ids;            // (B, T) int64, right-padded with the pad id
    at::Tensor labels;         // (B, T) int64, kIgnoreIndex on padding and prompts
    at::Tensor attentionMask;  // (B, T) int64, 1 = real token, 0 = padding
    at::Tensor segmentIds;     // (B, T) int64, packing only (1, 2, .. per example, 0 = padding); else undefined
    int64_t tokens = 0;        // trainable labels in the batch
    int64_t examples = 0;      // examples in the batch (several per row when packed)
    int64_t epoch = 0;         // the epoch this batch belongs to
    bool epochEnded = false;   // this is the epoch's last batch
};

// Where a batcher stands: the next batch is batch `index` of epoch `epoch`. Saved in
// a checkpoint and restored, the batcher continues with exactly the batches an
// uninterrupted run would have produced.
using SftPosition = dist::ShardPosition;

struct SftBatcherOptions {
    int64_t batchSize = 8;    // rows per batch (packed rows when packing)
    bool packing = false;
    int64_t packedLength = 0; // T of packed rows; 0 = the dataset's maxSeqLen
    bool shuffle = true;      // order shuffled per epoch with seed + epoch; false = row order
    uint64_t seed = 0;
    dist::DataShard shard;    // this process's share of every epoch (DistributedSampler semantics)
};

// Batches over epochs. Each epoch's plan (order, and with packing the greedy
// first-fit assignment of examples to rows in that order) is a pure function of
// (dataset, options, epoch), so a position identifies the rest of the stream.
// Without packing T is the longest example of the batch; with packing every row
// has T = packedLength. The last batch of an epoch may have fewer rows.
class SftBatcher {
public:
    // Keeps a reference to `data`, which must outlive the batcher. ft::Error when the
    // dataset has no examples, batchSize < 1, or (packing) an example is longer than
    // packedLength.
    SftBatcher(const SftDataset& data, const SftBatcherOptions& options);
    SftBatcher(SftDataset&&, const SftBatcherOptions&) = delete;

    SftBatch nextBatch();
    SftPosition position() const { return m_pos; }
    // Rows of the current epoch's order consumed by all ranks together.
    int64_t rowsConsumed() const;
    // ft::Error when the index lies beyond that epoch's batches.
    void restore(const SftPosition& position);
    // Batches in the given epoch (with packing it can differ by a row or so between
    // epochs); plans that epoch without moving the position.
    int64_t batchesInEpoch(int64_t epoch) const;

    using Plan = std::vector<std::vector<int64_t>>;  // per batch row: example indices
    // The epoch's rows in the order they are trained, before they are shared out among
    // ranks: each the indices of its examples in data.examples (several, in their order
    // within the row, when packing). Does not move the position.
    Plan planEpoch(int64_t epoch) const;

private:
    const Plan& plan(int64_t epoch);
    const std::vector<int64_t>& shardRows();  // this rank's rows of the current epoch from m_pos.base

    const SftDataset& m_data;
    SftBatcherOptions m_options;
    SftPosition m_pos;
    Plan m_plan;
    int64_t m_plannedEpoch = -1;
    std::vector<int64_t> m_shardRows;
    SftPosition m_shardedAt{-1, 0, -1};  // epoch and base m_shardRows belong to
};

// The whole dataset in row order, unpacked, batchSize examples per batch (the last
// may be smaller); epoch 0, epochEnded on the last batch.
std::vector<SftBatch> evaluationBatches(const SftDataset& data, int64_t batchSize);

} // namespace ft::train
