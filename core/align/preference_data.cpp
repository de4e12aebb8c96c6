#include "align/preference_data.h"

#include "align/preference_loss.h"
#include "train/lm_loss.h"
#include "util/error.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cctype>

namespace ft::align {

namespace {

nlohmann::json asMessages(const nlohmann::json& v, const char* role)
{
    if (v.is_array())
        return v;
    return nlohmann::json::array({{{"role", role}, {"content", v}}});
}

// Only the last run of trainable segments trains: earlier assistant turns of a
// conversational prompt are context, not the response being judged.
void keepLastTrainableRun(std::vector<train::Segment>& segments)
{
    auto last = std::find_if(segments.rbegin(), segments.rend(), [](const train::Segment& s) { return s.trainable; });
    auto firstOfRun = last;
    while (firstOfRun != segments.rend() && firstOfRun->trainable)
        ++firstOfRun;
    for (auto it = firstOfRun; it != segments.rend(); ++it)
        it->trainable = false;
}

const nlohmann::json& field(const data::Row& row, const char* key)
{
    auto it = row.fields.find(key);
    if (it == row.fields.end() || it->is_null())
        fail("row " + std::to_string(row.id) + ": field '" + key + "' is missing");
    return *it;
}

} // namespace

bool tokenizeResponse(const nlohmann::json& prompt, const nlohmann::json& response, const train::PromptFormat& format,
                      const tok::Tokenizer& tokenizer, int64_t maxSeqLen, Response& out, bool& truncated)
{
    // An empty or blank response (a sampled completion that is EOS at once) renders as a
    // placeholder whose text is then removed: the response is the EOS id alone.
    const bool empty = response.is_string() &&
                       std::all_of(response.get_ref<const std::string&>().begin(),
                                   response.get_ref<const std::string&>().end(),
                                   [](unsigned char c) { return std::isspace(c) != 0; });
    const nlohmann::json shown = empty ? nlohmann::json("x") : response;
    std::vector<train::Segment> segments;
    if (prompt.is_string() && shown.is_string()) {
        segments = format.render(data::DatasetKind::Instruction, {{"instruction", prompt}, {"output", shown}});
    } else {
        nlohmann::json messages = asMessages(prompt, "user");
        for (const auto& m : asMessages(shown, "assistant"))
            messages.push_back(m);
        segments = format.render(data::DatasetKind::Chat, {{"messages", messages}});
        keepLastTrainableRun(segments);
    }
    if (empty)
        for (auto it = segments.rbegin(); it != segments.rend(); ++it)
            if (it->trainable) {
                const std::string marker = "x";
                if (it->text.size() >= marker.size() && it->text.compare(0, marker.size(), marker) == 0)
                    it->text.erase(0, marker.size());
                break;
            }
    out = train::tokenizeSegments(segments, tokenizer, train::LossOn::Responses);
    truncated = int64_t(out.ids.size()) > maxSeqLen;
    if (truncated) {
        out.ids.resize(size_t(maxSeqLen));
        out.labels.resize(size_t(maxSeqLen));
    }
    return std::any_of(out.labels.begin(), out.labels.end(), [](int64_t l) { return l != train::kIgnoreIndex; });
}

nlohmann::json DataCounts::toJson() const
{
    return {{"rows", rows}, {"truncated", truncated}, {"dropped", dropped}, {"tokens", tokens}};
}

std::vector<PairExample> buildPairs(const std::vector<data::Row>& rows, const train::PromptFormat& format,
                                    const tok::Tokenizer& tokenizer, int64_t maxSeqLen, DataCounts& counts)
{
    std::vector<PairExample> out;
    counts.rows += int64_t(rows.size());
    for (const data::Row& row : rows) {
        PairExample e;
        e.rowId = row.id;
        bool cutA = false, cutB = false;
        const bool okA = tokenizeResponse(field(row, "prompt"), field(row, "chosen"), format, tokenizer, maxSeqLen,
                                          e.chosen, cutA);
        const bool okB = tokenizeResponse(field(row, "prompt"), field(row, "rejected"), format, tokenizer, maxSeqLen,
                                          e.rejected, cutB);
        if (auto m = row.fields.find("margin"); m != row.fields.end() && m->is_number())
            e.margin = m->get<double>();
        counts.truncated += (cutA || cutB) ? 1 : 0;
        if (!okA || !okB) {
            ++counts.dropped;
            continue;
        }
        counts.tokens += int64_t(e.chosen.ids.size() + e.rejected.ids.size());
        out.push_back(std::move(e));
    }
    return out;
}

std::vector<UnpairedExample> buildUnpaired(const std::vector<data::Row>& rows, const train::PromptFormat& format,
                                           const tok::Tokenizer& tokenizer, int64_t maxSeqLen, DataCounts& counts)
{
    std::vector<UnpairedExample> out;
    counts.rows += int64_t(rows.size());
    const size_t n = rows.size();
    for (size_t i = 0; i < n; ++i) {
        const data::Row& row = rows[i];
        UnpairedExample e;
        e.rowId = row.id;
        const nlohmann::json& desirable = field(row, "desirable");
        if (!desirable.is_boolean())
            fail("row " + std::to_string(row.id) + ": field 'desirable' must be true or false");
        e.desirable = desirable.get<bool>();
        bool cut = false, cutOther = false;
        const bool ok = tokenizeResponse(field(row, "prompt"), field(row, "completion"), format, tokenizer, maxSeqLen,
                                         e.completion, cut);
        const bool okOther = tokenizeResponse(field(row, "prompt"), field(rows[(i + 1) % n], "completion"), format,
                                              tokenizer, maxSeqLen, e.mismatched, cutOther);
        counts.truncated += cut ? 1 : 0;
        if (!ok || !okOther) {
            ++counts.dropped;
            continue;
        }
        counts.tokens += int64_t(e.completion.ids.size());
        out.push_back(std::move(e));
    }
    return out;
}

ResponseBatch collateResponses(const std::vector<const Response*>& responses, int64_t padId, c10::Device device)
{
    const int64_t n = int64_t(responses.size());
    int64_t t = 1;
    for (const Response* r : responses)
        t = std::max<int64_t>(t, int64_t(r->ids.size()));
    at::Tensor ids = at::full({n, t}, padId, at::kLong);
    at::Tensor labels = at::full({n, t}, train::kIgnoreIndex, at::kLong);
    at::Tensor mask = at::zeros({n, t}, at::kLong);
    auto idsA = ids.accessor<int64_t, 2>(), labelsA = labels.accessor<int64_t, 2>(), maskA = mask.accessor<int64_t, 2>();
    for (int64_t i = 0; i < n; ++i)
        for (size_t j = 0; j < responses[size_t(i)]->ids.size(); ++j) {
            idsA[i][int64_t(j)] = responses[size_t(i)]->ids[j];
            labelsA[i][int64_t(j)] = responses[size_t(i)]->labels[j];
            maskA[i][int64_t(j)] = 1;
        }
    return {ids.to(device), labels.to(device), mask.to(device)};
}

at::Tensor ResponseLogps::averages() const
{
    return sums / counts.clamp_min(1).to(sums.scalar_type());
}

ResponseLogps responseLogps(model::CausalLM& model, const ResponseBatch& batch)
{
    ResponseLogps r;
    at::Tensor logits = model->forward(batch.ids, batch.attentionMask);  // (N, T, V)
    r.sums = sequenceLogps(logits, batch.labels, &r.counts);
    return r;
}

} // namespace ft::align
