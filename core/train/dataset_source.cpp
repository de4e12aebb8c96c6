// Reading a run's rows from a file or a project dataset, refusing kinds SFT cannot
// use, and the seeded train/eval split. Not here: parsing (data/importer.cpp).
#include "train/dataset_source.h"

#include "data/dataset_tools.h"
#include "data/file_formats.h"
#include "data/importer.h"
#include "util/error.h"
#include "util/random.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>

namespace ft::train {

namespace {

SourceRows loadFile(const std::string& path, const std::string& layoutName)
{
    const std::optional<data::Layout> layout = data::layoutFromName(layoutName);
    if (!layout)
        fail("unknown dataset layout '" + layoutName + "' for '" + path + "'; use one of " + data::layoutList());
    data::ImportOptions options;
    options.layout = *layout;
    data::ImportPlan plan = data::parseFile(path, options);
    if (!plan.rejections.empty()) {
        std::string list;
        for (size_t i = 0; i < plan.rejections.size() && i < 5; ++i)
            list += "\n  " + plan.rejections[i].message();
        fail("dataset file '" + path + "' has " + std::to_string(plan.rejections.size()) + " invalid record" +
             (plan.rejections.size() == 1 ? "" : "s") + "; fix or remove them:" + list +
             (plan.rejections.size() > 5 ? "\n  ..." : ""));
    }
    SourceRows out;
    out.source = path;
    out.name = std::filesystem::path(path).filename().string();
    out.kind = plan.kind;
    out.rows = std::move(plan.rows);
    for (size_t i = 0; i < out.rows.size(); ++i)
        out.rows[i].id = i < plan.rowLines.size() ? plan.rowLines[i] : static_cast<int64_t>(i) + 1;
    return out;
}

} // namespace

SourceRows loadRows(const std::string& source, const std::string& layout, std::optional<int64_t> maxRows)
{
    if (maxRows && *maxRows < 1)
        fail("max_rows must be at least 1 (found " + std::to_string(*maxRows) + ")");
    std::error_code ec;
    SourceRows out;
    if (std::filesystem::is_regular_file(source, ec)) {
        out = loadFile(source, layout);
    } else if (source.find('#') != std::string::npos) {
        data::ResolvedDataset resolved = data::resolveDataset(data::parseDatasetRef(source));
        out.source = source;
        out.name = resolved.info.name;
        out.kind = resolved.info.kind;
        out.rows = std::move(resolved.rows);
    } else {
        fail("dataset file '" + source + "' does not exist (a dataset in a project is named "
             "path/to/project.db#dataset-name)");
    }
    if (maxRows && static_cast<int64_t>(out.rows.size()) > *maxRows)
        out.rows.resize(*maxRows);
    return out;
}

void requireSftKind(const SourceRows& rows)
{
    using data::DatasetKind;
    const char* objectives = nullptr;
    switch (rows.kind) {
    case DatasetKind::Instruction:
    case DatasetKind::Chat:
    case DatasetKind::Text:
        return;
    case DatasetKind::Preference:
        objectives = "preference pairs train reward models and the DPO family (dpo, ipo, simpo, orpo), or PPO's "
                     "reward model";
        break;
    case DatasetKind::Unpaired:
        objectives = "unpaired desirable/undesirable completions train with KTO";
        break;
    case DatasetKind::Verifiable:
        objectives = "verifiable tasks train with GRPO / RLVR, whose verifiers score sampled answers";
        break;
    }
    fail("dataset '" + rows.name + "' (" + rows.source + ") holds " + data::datasetKindName(rows.kind) +
         " rows, which instruction tuning (SFT) cannot use: it trains on instruction, chat or text rows; " +
         objectives);
}

TrainEvalRows splitTrainEval(const std::vector<data::Row>& rows, double evalFraction, uint64_t seed)
{
    if (!(evalFraction >= 0.0 && evalFraction < 1.0))
        fail("eval fraction must be in [0, 1) (found " + std::to_string(evalFraction) + ")");
    TrainEvalRows out;
    for (const data::Row& r : rows)
        if (r.split == data::Split::Eval)
            out.eval.push_back(r);
    if (!out.eval.empty()) {
        for (const data::Row& r : rows)
            if (r.split == data::Split::Train)
                out.train.push_back(r);
        return out;
    }
    std::vector<const data::Row*> train;
    for (const data::Row& r : rows)
        if (r.split == data::Split::Train)
            train.push_back(&r);
    const int64_t n = static_cast<int64_t>(train.size());
    int64_t k = static_cast<int64_t>(std::llround(double(n) * evalFraction));
    if (evalFraction > 0.0 && n >= 2)
        k = std::max<int64_t>(k, 1);
    k = std::min<int64_t>(k, std::max<int64_t>(n - 1, 0));
    // The first k of a seeded shuffle are eval; both parts then keep the input order.
    std::vector<int64_t> order(n);
    std::iota(order.begin(), order.end(), 0);
    util::SplitMix64 rng(seed);  // the same split with every standard library
    for (int64_t i = n - 1; i > 0; --i) {
        const uint64_t j = rng.scaled(uint64_t(i + 1));
        std::swap(order[i], order[j]);
    }
    std::vector<bool> isEval(n, false);
    for (int64_t i = 0; i < k; ++i)
        isEval[order[i]] = true;
    for (int64_t i = 0; i < n; ++i)
        (isEval[i] ? out.eval : out.train).push_back(*train[i]);
    return out;
}

} // namespace ft::train
