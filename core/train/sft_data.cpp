// Tokenizing rendered rows with prompt masking, and the resumable (optionally
// packing) batcher; see sft_data.h for the rules. Not here: rendering, the loss.
#include "train/sft_data.h"

#include "train/lm_loss.h"
#include "util/error.h"
#include "util/random.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <numeric>

namespace ft::train {

namespace {

// First-fit bin packing in O(n log n): leaves are bins (all start with `capacity`),
// inner nodes hold the largest remaining capacity below them, so the leftmost bin
// that still fits a length is found by one descent. Unused bins to the right act as
// "open a new bin".
class FirstFit {
public:
    FirstFit(int64_t maxBins, int64_t capacity)
    {
        while (m_leaves < maxBins)
            m_leaves *= 2;
        m_tree.assign(2 * m_leaves, capacity);
    }
    // The bin that takes `length`; the caller guarantees length <= capacity.
    int64_t place(int64_t length)
    {
        int64_t node = 1;
        while (node < m_leaves)
            node = m_tree[2 * node] >= length ? 2 * node : 2 * node + 1;
        m_tree[node] -= length;
        for (int64_t n = node / 2; n >= 1; n /= 2)
            m_tree[n] = std::max(m_tree[2 * n], m_tree[2 * n + 1]);
        return node - m_leaves;
    }

private:
    int64_t m_leaves = 1;
    std::vector<int64_t> m_tree;
};

int64_t countTrainable(const std::vector<int64_t>& labels)
{
    return std::count_if(labels.begin(), labels.end(), [](int64_t l) { return l != kIgnoreIndex; });
}

// One batch from rows of example indices; T = fixedLength, or the longest row when 0.
SftBatch makeBatch(const SftDataset& data, const std::vector<std::vector<int64_t>>& rows, int64_t fixedLength,
                   bool packed)
{
    int64_t t = fixedLength;
    if (t == 0)
        for (const auto& row : rows) {
            int64_t length = 0;
            for (int64_t e : row)
                length += static_cast<int64_t>(data.examples[e].ids.size());
            t = std::max(t, length);
        }
    const int64_t b = static_cast<int64_t>(rows.size());
    SftBatch batch;
    batch.ids = at::full({b, t}, data.padId, at::kLong);             // (B, T)
    batch.labels = at::full({b, t}, kIgnoreIndex, at::kLong);        // (B, T)
    batch.attentionMask = at::zeros({b, t}, at::kLong);              // (B, T)
    at::Tensor segments = at::zeros({b, t}, at::kLong);              // (B, T)
    int64_t* ids = batch.ids.data_ptr<int64_t>();
    int64_t* labels = batch.labels.data_ptr<int64_t>();
    int64_t* mask = batch.attentionMask.data_ptr<int64_t>();
    int64_t* seg = segments.data_ptr<int64_t>();
    for (int64_t r = 0; r < b; ++r) {
        int64_t pos = r * t, segment = 0;
        for (int64_t e : rows[r]) {
            const SftExample& ex = data.examples[e];
            ++segment;
            for (size_t i = 0; i < ex.ids.size(); ++i, ++pos) {
                ids[pos] = ex.ids[i];
                labels[pos] = ex.labels[i];
                mask[pos] = 1;
                seg[pos] = segment;
            }
            batch.tokens += countTrainable(ex.labels);
            ++batch.examples;
        }
    }
    if (packed)
        batch.segmentIds = segments;
    return batch;
}

} // namespace

const char* lossOnName(LossOn l) { return l == LossOn::All ? "all" : "responses"; }

std::optional<LossOn> lossOnFromName(std::string_view name)
{
    if (name == "responses" || name == "assistant")
        return LossOn::Responses;
    if (name == "all")
        return LossOn::All;
    return std::nullopt;
}

TokenizedText tokenizeSegments(const std::vector<Segment>& segments, const tok::Tokenizer& tokenizer, LossOn lossOn)
{
    TokenizedText out;
    if (tokenizer.addsBosByDefault() && tokenizer.bosId() >= 0) {
        out.ids.push_back(tokenizer.bosId());
        out.labels.push_back(kIgnoreIndex);
    }
    size_t runStart = out.ids.size();
    std::string runText;
    std::vector<int> runIds;
    for (const Segment& s : segments) {
        const bool trainable = s.trainable || lossOn == LossOn::All;
        runText += s.text;
        std::vector<int> now = tokenizer.encode(runText, /*addBos=*/false, /*addEos=*/false);
        size_t common = 0;
        while (common < runIds.size() && common < now.size() && runIds[common] == now[common])
            ++common;
        out.ids.resize(runStart + common);
        out.labels.resize(runStart + common);
        for (size_t i = common; i < now.size(); ++i) {
            out.ids.push_back(now[i]);
            out.labels.push_back(trainable ? now[i] : kIgnoreIndex);
        }
        runIds = std::move(now);
        if (s.eos) {
            if (tokenizer.eosId() >= 0) {
                out.ids.push_back(tokenizer.eosId());
                out.labels.push_back(trainable ? tokenizer.eosId() : kIgnoreIndex);
            }
            runStart = out.ids.size();
            runText.clear();
            runIds.clear();
        }
    }
    if (!out.labels.empty())
        out.labels[0] = kIgnoreIndex;
    return out;
}

SftDataset buildSftDataset(const std::vector<data::Row>& rows, data::DatasetKind kind, const PromptFormat& format,
                           const tok::Tokenizer& tokenizer, const SftDataOptions& options)
{
    if (options.maxSeqLen < 2)
        fail("max_seq_len must be at least 2 tokens (found " + std::to_string(options.maxSeqLen) + ")");
    SftDataset data;
    data.rows = static_cast<int64_t>(rows.size());
    data.maxSeqLen = options.maxSeqLen;
    data.padId = std::max(tokenizer.padId(), 0);
    for (const data::Row& row : rows) {
        SftRowTokens r = tokenizeSftRow(row, kind, format, tokenizer, options);
        if (r.trainable == 0) {
            ++data.dropped;
            continue;
        }
        data.truncated += r.fullLength > options.maxSeqLen ? 1 : 0;
        data.tokens += static_cast<int64_t>(r.tokens.ids.size());
        data.trainableTokens += r.trainable;
        data.examples.push_back({std::move(r.tokens.ids), std::move(r.tokens.labels), row.id});
    }
    return data;
}

SftRowTokens tokenizeSftRow(const data::Row& row, data::DatasetKind kind, const PromptFormat& format,
                            const tok::Tokenizer& tokenizer, const SftDataOptions& options)
{
    SftRowTokens r;
    try {
        r.segments = format.render(kind, row.fields);
        if (!options.reasoningLoss)
            r.segments = withoutReasoningLoss(std::move(r.segments));
    } catch (const Error& e) {
        fail("row " + std::to_string(row.id) + ": " + e.what());
    }
    r.tokens = tokenizeSegments(r.segments, tokenizer, options.lossOn);
    r.fullLength = static_cast<int64_t>(r.tokens.ids.size());
    if (r.fullLength > options.maxSeqLen) {
        r.tokens.ids.resize(options.maxSeqLen);
        r.tokens.labels.resize(options.maxSeqLen);
    }
    r.trainable = countTrainable(r.tokens.labels);
    return r;
}

// ---- batching --------------------------------------------------------------

SftBatcher::SftBatcher(const SftDataset& data, const SftBatcherOptions& options) : m_data(data), m_options(options)
{
    if (data.examples.empty())
        fail("no training examples: every row was dropped or the dataset is empty (" + std::to_string(data.rows) +
             " rows, " + std::to_string(data.dropped) + " dropped for having no trainable token)");
    if (options.batchSize < 1)
        fail("batch size must be at least 1 (found " + std::to_string(options.batchSize) + ")");
    if (m_options.packing) {
        if (m_options.packedLength == 0)
            m_options.packedLength = data.maxSeqLen;
        for (const SftExample& e : data.examples)
            if (static_cast<int64_t>(e.ids.size()) > m_options.packedLength)
                fail("row " + std::to_string(e.rowId) + " has " + std::to_string(e.ids.size()) +
                     " tokens, more than the packed length " + std::to_string(m_options.packedLength));
    }
}

SftBatcher::Plan SftBatcher::planEpoch(int64_t epoch) const
{
    const int64_t n = static_cast<int64_t>(m_data.examples.size());
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    if (m_options.shuffle) {
        util::SplitMix64 rng(m_options.seed + static_cast<uint64_t>(epoch));
        for (int64_t i = n - 1; i > 0; --i)
            std::swap(order[i], order[rng.scaled(static_cast<uint64_t>(i) + 1)]);
    }
    Plan rows;
    if (!m_options.packing) {
        for (int64_t e : order)
            rows.push_back({e});
        return rows;
    }
    FirstFit bins(n, m_options.packedLength);
    for (int64_t e : order) {
        const int64_t bin = bins.place(static_cast<int64_t>(m_data.examples[e].ids.size()));
        if (bin >= static_cast<int64_t>(rows.size()))
            rows.resize(bin + 1);
        rows[bin].push_back(e);
    }
    return rows;
}

const SftBatcher::Plan& SftBatcher::plan(int64_t epoch)
{
    if (m_plannedEpoch != epoch) {
        m_plan = planEpoch(epoch);
        m_plannedEpoch = epoch;
    }
    return m_plan;
}

int64_t SftBatcher::batchesInEpoch(int64_t epoch) const
{
    const int64_t rows =
        m_plannedEpoch == epoch ? static_cast<int64_t>(m_plan.size()) : static_cast<int64_t>(planEpoch(epoch).size());
    const int64_t world = m_options.shard.worldSize;
    return ((rows + world - 1) / world + m_options.batchSize - 1) / m_options.batchSize;
}

const std::vector<int64_t>& SftBatcher::shardRows()
{
    const Plan& rows = plan(m_pos.epoch);
    if (m_shardedAt.epoch != m_pos.epoch || m_shardedAt.base != m_pos.base) {
        m_shardRows = dist::shardIndices(static_cast<int64_t>(rows.size()), m_pos.base, m_options.shard);
        m_shardedAt = {m_pos.epoch, 0, m_pos.base};
    }
    return m_shardRows;
}

int64_t SftBatcher::rowsConsumed() const
{
    const int64_t rows = m_plannedEpoch == m_pos.epoch ? static_cast<int64_t>(m_plan.size())
                                                         : static_cast<int64_t>(planEpoch(m_pos.epoch).size());
    return dist::rowsConsumed(rows, m_pos.base, m_pos.index, m_options.batchSize, m_options.shard);
}

void SftBatcher::restore(const SftPosition& position)
{
    if (position.epoch < 0 || position.index < 0 || position.base < 0)
        fail("invalid data position: epoch " + std::to_string(position.epoch) + ", batch " +
             std::to_string(position.index) + ", row " + std::to_string(position.base));
    const int64_t rows = static_cast<int64_t>(plan(position.epoch).size());
    if (position.base >= rows)
        fail("data position row " + std::to_string(position.base) + " of epoch " + std::to_string(position.epoch) +
             " is beyond the epoch's " + std::to_string(rows) +
             " rows; the checkpoint was saved with a different dataset or batch settings");
    const int64_t world = m_options.shard.worldSize;
    const int64_t batches = ((rows - position.base + world - 1) / world + m_options.batchSize - 1) / m_options.batchSize;
    if (position.index >= batches)
        fail("data position batch " + std::to_string(position.index) + " of epoch " + std::to_string(position.epoch) +
             " is beyond the epoch's " + std::to_string(batches) +
             " batches; the checkpoint was saved with a different dataset or batch settings");
    m_pos = position;
}

SftBatch SftBatcher::nextBatch()
{
    const Plan& rows = plan(m_pos.epoch);
    const std::vector<int64_t>& mine = shardRows();
    const int64_t total = static_cast<int64_t>(mine.size());
    const int64_t first = m_pos.index * m_options.batchSize;
    const int64_t count = std::min(m_options.batchSize, total - first);
    Plan slice;
    for (int64_t i = first; i < first + count; ++i)
        slice.push_back(rows[size_t(mine[size_t(i)])]);
    SftBatch batch = makeBatch(m_data, slice, m_options.packing ? m_options.packedLength : 0, m_options.packing);
    batch.epoch = m_pos.epoch;
    batch.epochEnded = first + count >= total;
    m_pos = batch.epochEnded ? SftPosition{m_pos.epoch + 1, 0, 0}
                             : SftPosition{m_pos.epoch, m_pos.index + 1, m_pos.base};
    return batch;
}

std::vector<SftBatch> evaluationBatches(const SftDataset& data, int64_t batchSize)
{
    if (batchSize < 1)
        fail("evaluation batch size must be at least 1 (found " + std::to_string(batchSize) + ")");
    const int64_t n = static_cast<int64_t>(data.examples.size());
    std::vector<SftBatch> batches;
    for (int64_t s = 0; s < n; s += batchSize) {
        std::vector<std::vector<int64_t>> rows;
        for (int64_t e = s; e < std::min(n, s + batchSize); ++e)
            rows.push_back({e});
        batches.push_back(makeBatch(data, rows, /*fixedLength=*/0, /*packed=*/false));
        batches.back().epochEnded = s + batchSize >= n;
    }
    return batches;
}

} // namespace ft::train
