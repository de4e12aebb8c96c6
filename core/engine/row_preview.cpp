#include "engine/row_preview.h"

#include "align/preference_data.h"
#include "engine/objective_registry.h"
#include "train/lm_loss.h"
#include "train/prompt_format.h"
#include "train/sft_data.h"
#include "util/error.h"

#include <algorithm>
#include <limits>

namespace ft::engine {

namespace {

constexpr int64_t kNoLimit = std::numeric_limits<int32_t>::max();

PreviewSide sideOf(const std::string& name, const train::TokenizedText& full, const train::TokenizedText* kept,
                   const tok::Tokenizer& tokenizer, int64_t maxSeqLen)
{
    PreviewSide s;
    s.name = name;
    s.fullLength = int64_t(full.ids.size());
    s.text = tokenizer.decode(std::vector<int>(full.ids.begin(), full.ids.end()), /*skipSpecial=*/false);
    if (kept) {
        s.ids = kept->ids;
        s.labels = kept->labels;
    } else {  // dropped: show what max_seq_len would have kept, none of it trained on
        const size_t n = size_t(std::min<int64_t>(maxSeqLen, s.fullLength));
        s.ids.assign(full.ids.begin(), full.ids.begin() + long(n));
        s.labels.assign(n, train::kIgnoreIndex);
        s.dropped = true;
    }
    return s;
}

// Where the SFT batcher puts `row` in the first epoch when packing: the trainer's
// dataset of the training split, its options and its plan.
PackedPlacement placeInPack(const train::RunConfig& c, const data::Row& row, data::DatasetKind kind,
                            const train::PromptFormat& format, const tok::Tokenizer& tokenizer,
                            const std::vector<data::Row>& trainRows)
{
    PackedPlacement placement;
    placement.length = c.training.maxSeqLen;
    if (std::none_of(trainRows.begin(), trainRows.end(), [&](const data::Row& r) { return r.id == row.id; })) {
        placement.inEval = true;
        return placement;
    }
    const train::SftDataset data = train::buildSftDataset(trainRows, kind, format, tokenizer, sftDataOptions(c));
    const auto self = std::find_if(data.examples.begin(), data.examples.end(),
                                   [&](const train::SftExample& e) { return e.rowId == row.id; });
    if (self == data.examples.end()) {
        placement.dropped = true;
        return placement;
    }
    const train::SftBatcher batcher(data, sftBatcherOptions(c, dist::DataShard{}));
    const train::SftBatcher::Plan plan = batcher.planEpoch(placement.epoch);
    const int64_t target = int64_t(self - data.examples.begin());
    placement.packedRows = int64_t(plan.size());
    for (size_t k = 0; k < plan.size(); ++k) {
        if (std::find(plan[k].begin(), plan[k].end(), target) == plan[k].end())
            continue;
        placement.packedRow = int64_t(k);
        int64_t start = 0;
        for (int64_t e : plan[k]) {
            const train::SftExample& ex = data.examples[size_t(e)];
            PackedNeighbour n;
            n.rowId = ex.rowId;
            n.start = start;
            n.tokens = int64_t(ex.ids.size());
            n.lossTokens = std::count_if(ex.labels.begin(), ex.labels.end(),
                                         [](int64_t l) { return l != train::kIgnoreIndex; });
            n.text = tokenizer.decode(std::vector<int>(ex.ids.begin(), ex.ids.end()), /*skipSpecial=*/false);
            start += n.tokens;
            placement.examples.push_back(std::move(n));
        }
        break;
    }
    return placement;
}

} // namespace

RowPreview previewRow(const train::RunConfig& c, const data::Row& row, data::DatasetKind kind,
                      const tok::Tokenizer& tokenizer, const std::vector<data::Row>* trainRows)
{
    const train::ObjectiveSchema* schema = train::findObjective(c.objective.name);
    if (!schema)
        fail("objective.name: unknown objective '" + c.objective.name + "'");
    if (std::find(schema->dataKinds.begin(), schema->dataKinds.end(), kind) == schema->dataKinds.end())
        fail("objective '" + c.objective.name + "' does not train on " + data::datasetKindName(kind) +
             " rows, so there is nothing to preview; choose an objective for this dataset");
    const auto format = objectivePromptFormat(c);
    RowPreview p;
    p.rowId = row.id;
    p.kind = data::datasetKindName(kind);
    p.objective = c.objective.name;
    p.format = format->name();
    p.maxSeqLen = c.training.maxSeqLen;
    const std::vector<data::Row> rows{row};
    using data::DatasetKind;
    if (kind == DatasetKind::Instruction || kind == DatasetKind::Chat || kind == DatasetKind::Text) {
        p.lossOn = c.objective.sft.lossOn;
        p.packing = c.objective.sft.packing;
        const train::SftRowTokens r = train::tokenizeSftRow(row, kind, *format, tokenizer, sftDataOptions(c));
        PreviewSide side;
        side.text = train::joinedText(r.segments);
        side.ids = r.tokens.ids;  // a dropped row: what max_seq_len would keep, none of it trained on
        side.labels = r.tokens.labels;
        side.fullLength = r.fullLength;
        side.dropped = r.trainable == 0;
        p.sides.push_back(std::move(side));
        if (p.packing && trainRows)
            p.packed = placeInPack(c, row, kind, *format, tokenizer, *trainRows);
    } else if (kind == DatasetKind::Preference) {
        align::DataCounts counts, fullCounts;
        const auto pairs = align::buildPairs(rows, *format, tokenizer, c.training.maxSeqLen, counts);
        const auto fullPairs = align::buildPairs(rows, *format, tokenizer, kNoLimit, fullCounts);
        if (fullPairs.empty())
            fail("row " + std::to_string(row.id) + " gives no response token at all");
        p.sides.push_back(sideOf("chosen", fullPairs[0].chosen, pairs.empty() ? nullptr : &pairs[0].chosen, tokenizer,
                                 c.training.maxSeqLen));
        p.sides.push_back(sideOf("rejected", fullPairs[0].rejected, pairs.empty() ? nullptr : &pairs[0].rejected,
                                 tokenizer, c.training.maxSeqLen));
    } else if (kind == DatasetKind::Unpaired) {
        align::DataCounts counts, fullCounts;
        const auto ex = align::buildUnpaired(rows, *format, tokenizer, c.training.maxSeqLen, counts);
        const auto full = align::buildUnpaired(rows, *format, tokenizer, kNoLimit, fullCounts);
        if (full.empty())
            fail("row " + std::to_string(row.id) + " gives no completion token at all");
        p.sides.push_back(sideOf("completion", full[0].completion, ex.empty() ? nullptr : &ex[0].completion, tokenizer,
                                 c.training.maxSeqLen));
    } else {  // verifiable rows: on-policy objectives train on their own samples of this prompt
        if (!row.fields.contains("prompt") || !row.fields["prompt"].is_string())
            fail("row " + std::to_string(row.id) + ": the field 'prompt' is missing or not a string");
        const std::string text = format->renderPrompt(row.fields["prompt"].get<std::string>());
        train::TokenizedText full;
        for (int id : tokenizer.encode(text, tokenizer.addsBosByDefault(), false))
            full.ids.push_back(id);
        full.labels.assign(full.ids.size(), train::kIgnoreIndex);
        train::TokenizedText kept = full;
        if (int64_t(kept.ids.size()) > c.training.maxSeqLen) {
            kept.ids.resize(size_t(c.training.maxSeqLen));
            kept.labels.resize(size_t(c.training.maxSeqLen));
        }
        PreviewSide side = sideOf("prompt", full, &kept, tokenizer, c.training.maxSeqLen);
        side.text = text;
        p.sides.push_back(std::move(side));
    }
    return p;
}

nlohmann::json previewJson(const RowPreview& p, const tok::Tokenizer& tokenizer)
{
    nlohmann::json sides = nlohmann::json::array();
    for (const PreviewSide& s : p.sides) {
        nlohmann::json tokens = nlohmann::json::array();
        int64_t loss = 0;
        // A token's text is what it adds to the decoded text so far (as streaming shows
        // it): decoding one id alone loses sentencepiece's leading space.
        std::vector<int> prefix;
        std::string before;
        for (size_t i = 0; i < s.ids.size(); ++i) {
            const int id = int(s.ids[i]);
            const bool trains = s.labels[i] != train::kIgnoreIndex;
            loss += trains;
            prefix.push_back(id);
            std::string now = tokenizer.decode(prefix, /*skipSpecial=*/false);
            const std::string text = now.compare(0, before.size(), before) == 0 ? now.substr(before.size())
                                                                                : tokenizer.decode({id}, false);
            before = std::move(now);
            tokens.push_back({{"id", id}, {"piece", tokenizer.idToPiece(id)}, {"text", text}, {"loss", trains}});
        }
        sides.push_back({{"name", s.name},
                         {"text", s.text},
                         {"tokens", tokens},
                         {"full_length", s.fullLength},
                         {"kept", s.ids.size()},
                         {"loss_tokens", loss},
                         {"masked_tokens", int64_t(s.ids.size()) - loss},
                         {"truncated", s.fullLength > int64_t(s.ids.size())},
                         {"dropped", s.dropped}});
    }
    nlohmann::json out{{"row", p.rowId},         {"kind", p.kind},     {"objective", p.objective},
                       {"format", p.format},     {"loss_on", p.lossOn}, {"packing", p.packing},
                       {"max_seq_len", p.maxSeqLen}, {"sides", sides}};
    if (p.packed) {
        const PackedPlacement& pk = *p.packed;
        nlohmann::json examples = nlohmann::json::array();
        int64_t used = 0;
        for (const PackedNeighbour& n : pk.examples) {
            examples.push_back({{"row", n.rowId},
                                {"start", n.start},
                                {"tokens", n.tokens},
                                {"loss_tokens", n.lossTokens},
                                {"text", n.text},
                                {"self", n.rowId == p.rowId}});
            used += n.tokens;
        }
        out["packed"] = {{"in_eval", pk.inEval},       {"dropped", pk.dropped}, {"epoch", pk.epoch},
                         {"packed_row", pk.packedRow}, {"packed_rows", pk.packedRows}, {"length", pk.length},
                         {"used", used},               {"examples", examples}};
    }
    return out;
}

} // namespace ft::engine
