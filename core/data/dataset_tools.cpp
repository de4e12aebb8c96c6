// Dataset utilities of dataset_tools.h other than duplicates: streaming a
// dataset, seeded splits, token-length statistics, sampling and dataset
// references. Not here: duplicate detection (dataset_duplicates.cpp).
#include "data/dataset_tools.h"

#include "tokenizer/tokenizer.h"
#include "util/error.h"
#include "util/random.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>

namespace ft::data {

namespace {

constexpr int64_t kScanPageSize = 2000;

template <typename T>
void seededShuffle(std::vector<T>& v, util::SplitMix64& rng)
{
    for (size_t i = v.size(); i > 1; --i)
        std::swap(v[i - 1], v[rng.below(i)]);
}

// Text of a field that may be a string or a message list (TRL's conversational form).
std::string contentText(const nlohmann::json& v)
{
    if (v.is_string())
        return v.get<std::string>();
    std::string out;
    if (v.is_array())
        for (const auto& m : v)
            if (m.is_object() && m.contains("content") && m["content"].is_string())
                out += (out.empty() ? "" : "\n") + m["content"].get<std::string>();
    return out;
}

std::string joinFields(const nlohmann::json& fields, std::initializer_list<const char*> keys)
{
    std::string out;
    for (const char* k : keys) {
        if (!fields.contains(k))
            continue;
        const std::string part = contentText(fields[k]);
        if (!part.empty())
            out += (out.empty() ? "" : "\n") + part;
    }
    return out;
}

int64_t countTokens(const ft::tok::Tokenizer& t, const std::string& text, bool bos, bool eos)
{
    return static_cast<int64_t>(t.encode(text, bos, eos).size());
}

} // namespace

void forEachRow(const ProjectStore& store, int64_t datasetId, const std::function<void(const Row&)>& visit,
                std::optional<Split> split)
{
    RowQuery q;
    q.datasetId = datasetId;
    q.split = split;
    q.limit = kScanPageSize;
    for (;;) {
        const std::vector<Row> page = store.query(q);
        for (const Row& r : page)
            visit(r);
        if (static_cast<int64_t>(page.size()) < kScanPageSize)
            return;
        q.afterId = page.back().id;
    }
}

std::vector<Row> allRows(const ProjectStore& store, int64_t datasetId, std::optional<Split> split)
{
    std::vector<Row> rows;
    forEachRow(store, datasetId, [&](const Row& r) { rows.push_back(r); }, split);
    return rows;
}

SplitCounts assignSplits(ProjectStore& store, int64_t datasetId, double evalFraction, double testFraction,
                         uint64_t seed, bool stratifyByTag)
{
    auto valid = [](double f) { return std::isfinite(f) && f >= 0.0 && f <= 1.0; };
    if (!valid(evalFraction) || !valid(testFraction) || evalFraction + testFraction > 1.0 + 1e-12)
        fail("split fractions must lie in [0, 1] and sum to at most 1 (eval " + std::to_string(evalFraction) +
             ", test " + std::to_string(testFraction) + ")");

    std::vector<Row> rows = allRows(store, datasetId);
    // Strata in a fixed order (by key), each holding row indexes in id order.
    std::map<std::string, std::vector<size_t>> strata;
    for (size_t i = 0; i < rows.size(); ++i) {
        std::string key;
        if (stratifyByTag && !rows[i].tags.empty())
            key = "#" + *std::min_element(rows[i].tags.begin(), rows[i].tags.end());  // "" = untagged
        strata[key].push_back(i);
    }

    util::SplitMix64 rng(seed);
    std::vector<Split> target(rows.size(), Split::Train);
    // Targets are rounded on running totals, so per-group rounding errors do not
    // accumulate: every group is within one row of its share and the totals are exact.
    int64_t seen = 0, evalSoFar = 0, testSoFar = 0;
    for (auto& [key, members] : strata) {
        seededShuffle(members, rng);
        seen += static_cast<int64_t>(members.size());
        const auto evalTotal = static_cast<int64_t>(std::llround(double(seen) * evalFraction));
        const auto testTotal = static_cast<int64_t>(std::llround(double(seen) * testFraction));
        const int64_t nEval = std::clamp<int64_t>(evalTotal - evalSoFar, 0, int64_t(members.size()));
        const int64_t nTest = std::clamp<int64_t>(testTotal - testSoFar, 0, int64_t(members.size()) - nEval);
        evalSoFar += nEval;
        testSoFar += nTest;
        for (int64_t k = 0; k < int64_t(members.size()); ++k)
            target[members[k]] = k < nEval ? Split::Eval : k < nEval + nTest ? Split::Test : Split::Train;
    }

    SplitCounts counts;
    std::vector<Row*> changed;
    for (size_t i = 0; i < rows.size(); ++i) {
        (target[i] == Split::Train ? counts.train : target[i] == Split::Eval ? counts.eval : counts.test) += 1;
        if (rows[i].split != target[i]) {
            rows[i].split = target[i];
            changed.push_back(&rows[i]);
        }
    }
    counts.changed = static_cast<int64_t>(changed.size());
    if (!changed.empty())
        store.transaction([&] {
            for (Row* r : changed)
                store.updateRow(*r);
        });
    return counts;
}

int64_t rowTokenLength(DatasetKind kind, const nlohmann::json& f, const ft::tok::Tokenizer& t)
{
    switch (kind) {
    case DatasetKind::Instruction:
        return countTokens(t, joinFields(f, {"system", "instruction", "input", "output"}), true, true);
    case DatasetKind::Chat:
        return countTokens(t, joinFields(f, {"messages"}), true, true);
    case DatasetKind::Preference: {
        const int64_t prompt = countTokens(t, joinFields(f, {"prompt"}), true, false);
        return prompt + std::max(countTokens(t, joinFields(f, {"chosen"}), false, true),
                                 countTokens(t, joinFields(f, {"rejected"}), false, true));
    }
    case DatasetKind::Unpaired:
        return countTokens(t, joinFields(f, {"prompt", "completion"}), true, true);
    case DatasetKind::Verifiable:
        return countTokens(t, joinFields(f, {"prompt", "reference"}), true, true);
    case DatasetKind::Text:
        return countTokens(t, joinFields(f, {"text"}), true, true);
    }
    return 0;
}

TokenLengthStats tokenLengths(const ProjectStore& store, int64_t datasetId, const ft::tok::Tokenizer& tokenizer,
                              int64_t maxLength)
{
    const auto info = store.dataset(datasetId);
    if (!info)
        fail("project '" + store.path() + "' has no dataset with id " + std::to_string(datasetId));
    TokenLengthStats stats;
    std::vector<int64_t> lengths;
    forEachRow(store, datasetId, [&](const Row& r) {
        const int64_t n = rowTokenLength(info->kind, r.fields, tokenizer);
        lengths.push_back(n);
        if (maxLength > 0 && n > maxLength)
            stats.overMaxIds.push_back(r.id);
    });
    if (lengths.empty())
        return stats;
    std::sort(lengths.begin(), lengths.end());
    const auto n = static_cast<int64_t>(lengths.size());
    auto nearestRank = [&](double p) { return lengths[std::clamp<int64_t>(int64_t(std::ceil(p * n)) - 1, 0, n - 1)]; };
    stats.count = n;
    stats.min = lengths.front();
    stats.max = lengths.back();
    stats.median = nearestRank(0.5);
    stats.p95 = nearestRank(0.95);
    stats.mean = double(std::accumulate(lengths.begin(), lengths.end(), int64_t{0})) / double(n);
    constexpr int64_t kMaxBins = 40;
    auto bins = [&](int64_t width) { return stats.max / width + 1; };
    stats.binWidth = 1;
    for (int64_t decade = 1; bins(stats.binWidth) > kMaxBins; decade *= 10)
        for (int64_t step : {1, 2, 5}) {
            stats.binWidth = step * decade;
            if (bins(stats.binWidth) <= kMaxBins)
                break;
        }
    stats.histogram.assign(size_t(stats.max / stats.binWidth + 1), 0);
    for (int64_t len : lengths)
        ++stats.histogram[size_t(len / stats.binWidth)];
    return stats;
}

std::vector<Row> sampleRows(const ProjectStore& store, int64_t datasetId, int64_t n, uint64_t seed)
{
    std::vector<int64_t> ids;
    forEachRow(store, datasetId, [&](const Row& r) { ids.push_back(r.id); });
    util::SplitMix64 rng(seed);
    const size_t take = static_cast<size_t>(std::clamp<int64_t>(n, 0, int64_t(ids.size())));
    for (size_t i = 0; i < take; ++i)  // partial Fisher-Yates: the first `take` are the sample
        std::swap(ids[i], ids[i + rng.below(ids.size() - i)]);
    ids.resize(take);
    std::sort(ids.begin(), ids.end());
    std::vector<Row> rows;
    rows.reserve(take);
    for (int64_t id : ids)
        if (auto r = store.row(id))
            rows.push_back(std::move(*r));
    return rows;
}

DatasetRef parseDatasetRef(const std::string& text)
{
    const auto hash = text.rfind('#');
    if (hash == std::string::npos || hash == 0 || hash + 1 == text.size())
        fail("dataset reference '" + text + "' must look like path/to/project.db#dataset-name");
    return {text.substr(0, hash), text.substr(hash + 1)};
}

ResolvedDataset resolveDataset(const DatasetRef& ref, std::optional<Split> split)
{
    std::error_code ec;
    if (!std::filesystem::is_regular_file(ref.projectPath, ec))
        fail("project file '" + ref.projectPath + "' (from dataset reference '" + ref.projectPath + "#" +
             ref.datasetName + "') does not exist");
    const auto store = ProjectStore::open(ref.projectPath);
    const auto info = store->dataset(ref.datasetName);
    if (!info) {
        std::string names;
        for (const DatasetInfo& d : store->datasets())
            names += (names.empty() ? "" : ", ") + d.name;
        fail("project '" + ref.projectPath + "' has no dataset '" + ref.datasetName + "'; its datasets: " +
             (names.empty() ? "(none)" : names));
    }
    return {*info, allRows(*store, info->id, split)};
}

} // namespace ft::data
