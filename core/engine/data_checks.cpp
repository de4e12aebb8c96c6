#include "engine/data_checks.h"

#include "align/preference_data.h"
#include "engine/objective_registry.h"
#include "train/prompt_format.h"
#include "train/sft_data.h"
#include "util/error.h"
#include "util/text.h"

#include <map>
#include <set>

namespace ft::engine {

namespace {

using data::DatasetKind;
using nlohmann::json;

std::string text(const json& j, const char* key)
{
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : std::string();
}

// The last assistant message of a chat row, or null.
const json* lastAssistant(const json& fields)
{
    const json* last = nullptr;
    if (fields.contains("messages") && fields["messages"].is_array())
        for (const json& m : fields["messages"])
            if (m.is_object() && text(m, "role") == "assistant")
                last = &m;
    return last;
}

// What a row asks, whatever it answers: equal keys are the same prompt.
std::string promptKey(DatasetKind kind, const json& f)
{
    switch (kind) {
    case DatasetKind::Instruction:
        return text(f, "system") + "\x1f" + util::trim(text(f, "instruction")) + "\x1f" + util::trim(text(f, "input"));
    case DatasetKind::Chat: {
        json before = json::array();
        if (f.contains("messages") && f["messages"].is_array()) {
            const json* last = lastAssistant(f);
            for (const json& m : f["messages"]) {
                if (&m == last)
                    break;
                before.push_back(m);
            }
        }
        return before.dump();
    }
    case DatasetKind::Text:
        return {};  // a document has no prompt
    default:
        return f.contains("prompt") ? f["prompt"].dump() : std::string();
    }
}

class Findings {
public:
    void add(const std::string& check, const std::string& severity, const std::string& split, int64_t rowId)
    {
        DataFinding& f = m_byKey[check + "\n" + split];
        f.check = check;
        f.severity = severity;
        f.split = split;
        ++f.count;
        if (f.rows.size() < kMaxListedRows)
            f.rows.push_back(rowId);
        if (m_order.insert(check + "\n" + split).second)
            m_keys.push_back(check + "\n" + split);
    }
    DataFinding* find(const std::string& check, const std::string& split)
    {
        const auto it = m_byKey.find(check + "\n" + split);
        return it == m_byKey.end() ? nullptr : &it->second;
    }
    std::vector<DataFinding> take()
    {
        std::vector<DataFinding> out;
        for (const auto& k : m_keys)
            out.push_back(std::move(m_byKey[k]));
        return out;
    }
    void push(DataFinding f)
    {
        const std::string key = f.check + "\n" + f.split;
        m_byKey[key] = std::move(f);
        if (m_order.insert(key).second)
            m_keys.push_back(key);
    }

private:
    std::map<std::string, DataFinding> m_byKey;
    std::set<std::string> m_order;
    std::vector<std::string> m_keys;
};

std::string rowsWord(int64_t n, const std::string& split)
{
    return std::to_string(n) + " " + (split.empty() ? "" : split + " ") + (n == 1 ? "row" : "rows");
}

} // namespace

DataCheckReport checkRunData(const train::RunConfig& c, const tok::Tokenizer& tokenizer)
{
    const ObjectiveRows rows = loadObjectiveRows(c);
    const auto format = objectivePromptFormat(c);
    DataCheckReport report;
    report.source = c.data.train;
    report.kind = data::datasetKindName(rows.kind);
    report.trainRows = int64_t(rows.split.train.size());
    report.evalRows = int64_t(rows.split.eval.size());
    const int64_t maxLen = c.training.maxSeqLen;
    const bool sftKind = rows.kind == DatasetKind::Instruction || rows.kind == DatasetKind::Chat ||
                         rows.kind == DatasetKind::Text;
    const train::SftDataOptions options = sftDataOptions(c);
    Findings found;
    std::map<std::string, int64_t> longest;  // split -> longest row in tokens
    int64_t desirable = 0, undesirable = 0;

    auto checkRow = [&](const data::Row& row, const std::string& split) {
        const json& f = row.fields;
        try {
            if (sftKind) {
                const train::SftRowTokens r = train::tokenizeSftRow(row, rows.kind, *format, tokenizer, options);
                const bool anyTrainable = std::any_of(r.segments.begin(), r.segments.end(),
                                                      [](const train::Segment& s) { return s.trainable && !s.text.empty(); });
                if (options.lossOn == train::LossOn::Responses && !anyTrainable)
                    found.add("no_assistant_span", "error", split, row.id);
                longest[split] = std::max(longest[split], r.fullLength);
                if (r.fullLength > maxLen)
                    found.add("over_max_seq_len", "warning", split, row.id);
                if (r.trainable == 0 && anyTrainable)
                    found.add("dropped", "warning", split, row.id);
            } else if (rows.kind == DatasetKind::Preference) {
                align::DataCounts counts, fullCounts;
                align::buildPairs({row}, *format, tokenizer, maxLen, counts);
                const auto full = align::buildPairs({row}, *format, tokenizer, 1 << 30, fullCounts);
                if (!full.empty())
                    longest[split] = std::max({longest[split], int64_t(full[0].chosen.ids.size()),
                                               int64_t(full[0].rejected.ids.size())});
                if (counts.truncated > 0)
                    found.add("over_max_seq_len", "warning", split, row.id);
                if (counts.dropped > 0)
                    found.add("dropped", "warning", split, row.id);
            } else if (rows.kind == DatasetKind::Unpaired) {
                if (f.contains("desirable") && f["desirable"].is_boolean())
                    (f["desirable"].get<bool>() ? desirable : undesirable) += split == "train";
                align::DataCounts counts;
                align::buildUnpaired({row}, *format, tokenizer, maxLen, counts);
                if (counts.truncated > 0)
                    found.add("over_max_seq_len", "warning", split, row.id);
                if (counts.dropped > 0)
                    found.add("dropped", "warning", split, row.id);
            }
        } catch (const ft::Error& e) {
            found.add("unrenderable", "error", split, row.id);
            if (DataFinding* d = found.find("unrenderable", split); d && d->message.empty())
                d->message = e.what();  // the first reason; the message is completed below
        }
    };
    for (const auto& row : rows.split.train)
        checkRow(row, "train");
    for (const auto& row : rows.split.eval)
        checkRow(row, "eval");

    // Eval rows that ask what a training row asks.
    std::set<std::string> trainPrompts;
    for (const auto& row : rows.split.train)
        if (std::string k = promptKey(rows.kind, row.fields); !k.empty())
            trainPrompts.insert(k);
    for (const auto& row : rows.split.eval)
        if (std::string k = promptKey(rows.kind, row.fields); !k.empty() && trainPrompts.count(k))
            found.add("eval_prompt_in_train", "warning", "eval", row.id);

    std::vector<DataFinding> findings = found.take();
    const int64_t trainRows = report.trainRows;
    for (DataFinding& f : findings) {
        const bool one = f.count == 1;
        const std::string n = rowsWord(f.count, f.split);
        auto verb = [&](const char* singular, const char* plural) { return n + " " + (one ? singular : plural); };
        if (f.check == "over_max_seq_len")
            f.message = verb("is", "are") + " longer than max_seq_len " + std::to_string(maxLen) + " tokens and " + (one ? "is" : "are") + " cut (the longest: " +
                        std::to_string(longest[f.split]) + " tokens)";
        else if (f.check == "dropped")
            f.message = verb("keeps", "keep") + " no response token within max_seq_len " + std::to_string(maxLen) +
                        " and " + (one ? "is" : "are") + " left out of training";
        else if (f.check == "no_assistant_span")
            f.message = verb("gives", "give") + " no assistant text under the prompt format '" + format->name() +
                        "', so nothing of them trains (check the template or the row's roles)";
        else if (f.check == "eval_prompt_in_train")
            f.message = verb("asks", "ask") + " a prompt that a training row also asks: the held-out figures partly measure memory";
        else if (f.check == "unrenderable")
            f.message = n + " cannot be rendered; the first: " + f.message;
        if (f.check == "dropped" && f.split == "train" && f.count == trainRows)
            f.severity = "error";  // nothing at all would train
    }
    if (rows.kind == DatasetKind::Unpaired && desirable + undesirable > 0) {
        const int64_t lo = std::min(desirable, undesirable), hi = std::max(desirable, undesirable);
        if (lo == 0 || double(lo) / double(hi) < 0.25) {
            DataFinding f;
            f.check = "kto_imbalance";
            f.severity = "warning";
            f.split = "train";
            f.count = lo;
            f.message = std::to_string(desirable) + " desirable and " + std::to_string(undesirable) +
                        " undesirable training rows: KTO needs both (the paper keeps the ratio within 1:4; "
                        "desirable_weight and undesirable_weight can balance it)";
            findings.push_back(std::move(f));
        }
    }
    report.findings = std::move(findings);
    return report;
}

nlohmann::json dataCheckJson(const DataCheckReport& r)
{
    json findings = json::array();
    for (const DataFinding& f : r.findings)
        findings.push_back({{"check", f.check},
                            {"severity", f.severity},
                            {"split", f.split},
                            {"count", f.count},
                            {"rows", f.rows},
                            {"message", f.message}});
    return {{"source", r.source},
            {"kind", r.kind},
            {"train_rows", r.trainRows},
            {"eval_rows", r.evalRows},
            {"findings", findings}};
}

} // namespace ft::engine
