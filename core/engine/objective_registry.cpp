#include "engine/objective_registry.h"

#include "train/model_template_format.h"

#include "align/grpo_objective.h"
#include "align/kto_objective.h"
#include "align/ppo_objective.h"
#include "align/preference_objective.h"
#include "align/reward_objective.h"
#include "peft/adapter.h"
#include "tokenizer/tokenizer.h"
#include "train/dataset_source.h"
#include "train/sft_objective.h"
#include "util/error.h"

#include <algorithm>
#include <type_traits>

namespace ft::engine {

using namespace ft::train;  // the engine drives the pieces train/ provides

SftDataOptions sftDataOptions(const RunConfig& c)
{
    SftDataOptions o;
    o.maxSeqLen = c.training.maxSeqLen;
    o.lossOn = c.objective.sft.lossOn == "all" ? LossOn::All : LossOn::Responses;
    o.reasoningLoss = c.objective.sft.reasoningLoss;
    return o;
}

SftBatcherOptions sftBatcherOptions(const RunConfig& c, const dist::DataShard& shard)
{
    SftBatcherOptions o;
    o.batchSize = c.training.batchSize;
    o.packing = c.objective.sft.packing;
    o.seed = uint64_t(c.training.seed);
    o.shard = shard;
    return o;
}

ObjectiveRows loadObjectiveRows(const RunConfig& c)
{
    const ObjectiveSchema* schema = findObjective(c.objective.name);
    if (!schema)
        fail("objective.name: unknown objective '" + c.objective.name + "'");
    auto check = [&](const SourceRows& rows) {
        if (std::find(schema->dataKinds.begin(), schema->dataKinds.end(), rows.kind) != schema->dataKinds.end())
            return;
        if (c.objective.name == "sft")
            requireSftKind(rows);  // its message also says which objectives do use the rows
        std::string kinds;
        for (data::DatasetKind k : schema->dataKinds)
            kinds += (kinds.empty() ? "" : " or ") + std::string(data::datasetKindName(k));
        fail("dataset '" + rows.name + "' (" + rows.source + ") holds " + data::datasetKindName(rows.kind) +
             " rows, but objective '" + c.objective.name + "' (" + schema->label + ") trains on " + kinds + " rows");
    };
    SourceRows trainRows = loadRows(c.data.train, c.data.format,
                                    c.data.maxRows > 0 ? std::optional<int64_t>(c.data.maxRows) : std::nullopt);
    check(trainRows);
    ObjectiveRows out{trainRows.kind, {}};
    if (!c.data.eval.empty()) {
        SourceRows evalRows = loadRows(c.data.eval, c.data.format);
        check(evalRows);
        if (evalRows.kind != trainRows.kind)
            fail("data.eval holds " + std::string(data::datasetKindName(evalRows.kind)) + " rows but data.train holds " +
                 data::datasetKindName(trainRows.kind) + " rows; both must be of one kind");
        out.split.train = std::move(trainRows.rows);
        out.split.eval = std::move(evalRows.rows);
    } else {
        out.split = splitTrainEval(trainRows.rows, c.data.evalFraction, uint64_t(c.training.seed));
    }
    return out;
}

namespace {

std::unique_ptr<Objective> makeSft(const ObjectiveContext& x, ObjectiveRows rows)
{
    const RunConfig& c = *x.config;
    const SftDataOptions dataOptions = sftDataOptions(c);
    SftObjectiveSetup setup;
    setup.train = buildSftDataset(rows.split.train, rows.kind, *x.format, *x.tokenizer, dataOptions);
    if (setup.train.examples.empty())
        fail("data.train: no usable example in '" + c.data.train + "' (" + std::to_string(setup.train.dropped) +
             " rows had no response token left within max_seq_len " + std::to_string(c.training.maxSeqLen) + ")");
    setup.eval = buildSftDataset(rows.split.eval, rows.kind, *x.format, *x.tokenizer, dataOptions);
    setup.batcher = sftBatcherOptions(c, x.shard);
    setup.evalBatchSize = c.training.batchSize;
    setup.device = x.device;
    if (setup.train.truncated > 0)
        x.events->log("warning", std::to_string(setup.train.truncated) + " training rows were longer than max_seq_len " +
                                     std::to_string(c.training.maxSeqLen) + " and were truncated");
    return std::make_unique<SftObjective>(x.model, std::move(setup));
}

// The alignment objectives are built from an AlignContext: the run's model, adapter,
// settings and rows.
align::AlignContext alignContext(const ObjectiveContext& x, ObjectiveRows rows)
{
    const RunConfig& c = *x.config;
    align::AlignContext a;
    a.model = x.model;
    a.tokenizer = x.tokenizer;
    a.adapter = x.adapter;
    a.generation = x.generation;
    a.format = x.format;
    a.device = x.device;
    a.events = x.events;
    a.settings = c.objective.settings;
    a.maxSeqLen = c.training.maxSeqLen;
    a.batchSize = c.training.batchSize;
    a.seed = uint64_t(c.training.seed);
    a.shard = x.shard;
    a.meanOverRanks = x.meanOverRanks;
    a.outputDir = c.outputDir;
    a.modelDir = c.model;
    a.fullModel = x.adapter && x.adapter->savesFullModel();
    a.trainRows = std::move(rows.split.train);
    a.evalRows = std::move(rows.split.eval);
    return a;
}

// An alignment objective whose constructor takes its context (and, for objectives
// that are a family of losses, the objective's name first).
template <class T>
std::unique_ptr<Objective> makeAlign(const ObjectiveContext& x, ObjectiveRows rows)
{
    if constexpr (std::is_constructible_v<T, std::string, align::AlignContext>)
        return std::make_unique<T>(x.config->objective.name, alignContext(x, std::move(rows)));
    else
        return std::make_unique<T>(alignContext(x, std::move(rows)));
}

struct ObjectiveEntry {
    const char* name;  // objective.name in the run config (its schema: run_config_sections.cpp)
    std::unique_ptr<Objective> (*make)(const ObjectiveContext&, ObjectiveRows);
};

// The one list of objectives the engine can train: a new objective is its own file
// plus a line here (and its settings schema).
const ObjectiveEntry kObjectives[] = {
    {"sft", makeSft},
    {"reward", makeAlign<align::RewardObjective>},
    {"dpo", makeAlign<align::PreferenceObjective>},
    {"ipo", makeAlign<align::PreferenceObjective>},
    {"simpo", makeAlign<align::PreferenceObjective>},
    {"orpo", makeAlign<align::PreferenceObjective>},
    {"kto", makeAlign<align::KtoObjective>},
    {"ppo", makeAlign<align::PpoObjective>},
    {"grpo", makeAlign<align::GrpoObjective>},
    {"rlvr", makeAlign<align::GrpoObjective>},
};

} // namespace

std::unique_ptr<PromptFormat> objectivePromptFormat(const RunConfig& config)
{
    const auto& s = config.objective.settings;
    const std::string name = config.objective.name == "sft" ? config.objective.sft.chatTemplate
                             : s.is_object() && s.contains("template") ? s["template"].get<std::string>()
                                                                       : "alpaca";
    return promptFormatFor(name, config.model);
}

std::unique_ptr<Objective> makeObjective(const ObjectiveContext& x)
{
    const std::string& name = x.config->objective.name;
    for (const ObjectiveEntry& entry : kObjectives)
        if (name == entry.name)
            return entry.make(x, loadObjectiveRows(*x.config));
    fail("objective.name: '" + name + "' has no trainer");
}

} // namespace ft::engine
