// Reading, validating and writing run configs (see run_config.h). The sections'
// settings are tables of SettingSpecs; parsing applies each table, then the rules
// that span settings (warmup given twice, a layout the objective cannot train on),
// and reports everything that is wrong in one error.
#include "train/run_config.h"

#include "train/run_config_sections.h"

#include "data/dataset_tools.h"
#include "data/file_formats.h"
#include "io/json_file.h"
#include "util/error.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <regex>

namespace ft::train {

namespace {

using nlohmann::json;
using util::SettingSpec;
namespace fs = std::filesystem;
using namespace detail;

std::string text(const json& j)
{
    return j.is_string() ? j.get<std::string>() : std::string();
}

std::vector<std::string> strings(const json& j)
{
    std::vector<std::string> out;
    if (j.is_array())
        for (const json& item : j)
            out.push_back(item.get<std::string>());
    return out;
}

std::string resolvePath(const std::string& value, const std::string& baseDir)
{
    if (value.empty() || baseDir.empty() || fs::path(value).is_absolute())
        return value;
    return (fs::path(baseDir) / value).lexically_normal().string();
}

// A data value resolved against baseDir; a project reference keeps its "#dataset".
std::string resolveData(const std::string& value, const std::string& baseDir, const std::string& where,
                        std::vector<std::string>& errors)
{
    if (!isDatasetRef(value))
        return resolvePath(value, baseDir);
    try {
        const data::DatasetRef ref = data::parseDatasetRef(value);
        return resolvePath(ref.projectPath, baseDir) + "#" + ref.datasetName;
    } catch (const Error& e) {
        errors.push_back(where + ": " + e.what());
        return value;
    }
}

ObjectiveConfig parseObjective(const json& j, std::vector<std::string>& errors)
{
    ObjectiveConfig o;
    const json given = j.is_object() && j.contains("name") ? j["name"] : json();
    o.name = given.is_null() ? "sft" : text(given);
    const ObjectiveSchema* schema = findObjective(o.name);
    if (!schema) {
        util::applySchema(j, {objectiveNameSpec()}, "objective", errors, /*rejectUnknownKeys=*/false);
        return o;
    }
    std::vector<SettingSpec> specs = {objectiveNameSpec()};
    specs.insert(specs.end(), schema->settings.begin(), schema->settings.end());
    o.settings = util::applySchema(j, specs, "objective", errors);
    if (o.name == "sft") {
        o.sft.lossOn = o.settings["loss_on"].get<std::string>();
        o.sft.packing = o.settings["packing"].get<bool>();
        o.sft.chatTemplate = o.settings["template"].get<std::string>();
        o.sft.reasoningLoss = o.settings["reasoning_loss"].get<bool>();
    }
    return o;
}

// The value at `keys` in the config as given, or nullptr.
const json* given(const json& j, std::initializer_list<const char*> keys)
{
    const json* at = &j;
    for (const char* key : keys) {
        if (!at->is_object() || !at->contains(key))
            return nullptr;
        at = &(*at)[key];
    }
    return at;
}

// Rules no single setting's range can say.
void checkCrossRules(const RunConfig& c, const json& j, std::vector<std::string>& errors)
{
    const TrainingConfig& t = c.training;
    const auto shown = [](double v) { return json(v).dump(); };
    if (t.epochs <= 0)
        errors.push_back("training.epochs: must be a number > 0, got " + shown(t.epochs));
    if (t.maxSteps == 0)
        errors.push_back("training.max_steps: must be -1 (derive from epochs) or >= 1, got 0");
    if (t.optimizer.lr <= 0)
        errors.push_back("training.optimizer.lr: must be a number > 0, got " + shown(t.optimizer.lr));
    if (t.optimizer.beta1 >= 1)
        errors.push_back("training.optimizer.beta1: must be < 1, got " + shown(t.optimizer.beta1));
    if (t.optimizer.beta2 >= 1)
        errors.push_back("training.optimizer.beta2: must be < 1, got " + shown(t.optimizer.beta2));
    if (t.optimizer.eps <= 0)
        errors.push_back("training.optimizer.eps: must be a number > 0, got " + shown(t.optimizer.eps));
    if (t.schedule.warmupSteps > 0 && t.schedule.warmupRatio > 0)
        errors.push_back("training.schedule: set warmup_steps or warmup_ratio, not both (got " +
                         std::to_string(t.schedule.warmupSteps) + " and " + shown(t.schedule.warmupRatio) + ")");
    static const std::regex device("auto|cpu|cuda|cuda:[0-9]+");
    if (!std::regex_match(t.device, device))
        errors.push_back("training.device: must be auto, cpu, cuda or cuda:N (N a GPU index); got \"" + t.device +
                         "\"");

    if (c.samples.everySteps > 0 && c.samples.prompts.empty())
        errors.push_back("samples.prompts: at least one prompt is needed when samples.every_steps is " +
                         std::to_string(c.samples.everySteps));

    const std::string& technique = c.technique.technique;
    if ((technique == "prompt" || technique == "ptuning" || technique == "prefix") &&
        c.technique.numVirtualTokens >= t.maxSeqLen)
        errors.push_back("technique.num_virtual_tokens: must be smaller than training.max_seq_len (" +
                         std::to_string(t.maxSeqLen) + "), got " + std::to_string(c.technique.numVirtualTokens));

    if (const ObjectiveSchema* o = findObjective(c.objective.name)) {
        const auto layout = data::layoutFromName(c.data.format);
        const auto kind = layout ? data::layoutKind(*layout) : std::nullopt;
        if (kind && std::find(o->dataKinds.begin(), o->dataKinds.end(), *kind) == o->dataKinds.end()) {
            std::string kinds;
            for (data::DatasetKind k : o->dataKinds)
                kinds += (kinds.empty() ? "" : ", ") + std::string(data::datasetKindName(k));
            errors.push_back("data.format: layout '" + c.data.format + "' holds " + data::datasetKindName(*kind) +
                             " rows, but objective '" + o->name + "' trains on " + kinds + " rows");
        }
    }

    // Required strings that are present but empty (absent ones were reported already).
    const auto requireNonEmpty = [&](const char* path, const json* v) {
        if (v && v->is_string() && v->get<std::string>().empty())
            errors.push_back(std::string(path) + ": must not be empty");
    };
    requireNonEmpty("model", given(j, {"model"}));
    requireNonEmpty("output_dir", given(j, {"output_dir"}));
    requireNonEmpty("data.train", given(j, {"data", "train"}));
}

RunConfig parseInto(const json& j, const std::string& sourceName, const std::string& baseDir,
                    std::vector<std::string>& errors)
{
    const json root = util::applySchema(j, rootSpecs(), "", errors);
    const json data = util::applySchema(root["data"], dataSpecs(), "data", errors);
    const json training = util::applySchema(root["training"], trainingSpecs(), "training", errors);
    const json optimizer = util::applySchema(training["optimizer"], optimizerSpecs(), "training.optimizer", errors);
    const json schedule = util::applySchema(training["schedule"], scheduleSpecs(), "training.schedule", errors);
    const json eval = util::applySchema(root["eval"], evalSpecs(), "eval", errors);
    const json checkpoint = util::applySchema(root["checkpoint"], checkpointSpecs(), "checkpoint", errors);
    const json samples = util::applySchema(root["samples"], samplesSpecs(), "samples", errors);
    const json distributed = util::applySchema(root["distributed"], distributedSpecs(), "distributed", errors);

    RunConfig c;
    c.source = sourceName;
    c.model = resolvePath(text(root["model"]), baseDir);
    c.outputDir = resolvePath(text(root["output_dir"]), baseDir);
    c.resume = root["resume"].get<bool>();
    c.technique = peft::settingsFromJson(root["technique"], "technique", errors);
    c.objective = parseObjective(root["objective"], errors);

    c.data.train = resolveData(text(data["train"]), baseDir, "data.train", errors);
    c.data.eval = resolveData(text(data["eval"]), baseDir, "data.eval", errors);
    c.data.evalFraction = data["eval_fraction"].get<double>();
    c.data.format = data["format"].get<std::string>();
    c.data.maxRows = data["max_rows"].get<int64_t>();

    TrainingConfig& t = c.training;
    t.maxSeqLen = training["max_seq_len"].get<int64_t>();
    t.batchSize = training["batch_size"].get<int64_t>();
    t.gradAccum = training["grad_accum"].get<int64_t>();
    t.epochs = training["epochs"].get<double>();
    t.maxSteps = training["max_steps"].get<int64_t>();
    t.optimizer.name = optimizer["name"].get<std::string>();
    t.optimizer.lr = optimizer["lr"].get<double>();
    t.optimizer.weightDecay = optimizer["weight_decay"].get<double>();
    t.optimizer.beta1 = optimizer["beta1"].get<double>();
    t.optimizer.beta2 = optimizer["beta2"].get<double>();
    t.optimizer.eps = optimizer["eps"].get<double>();
    t.schedule.name = schedule["name"].get<std::string>();
    t.schedule.warmupSteps = schedule["warmup_steps"].get<int64_t>();
    t.schedule.warmupRatio = schedule["warmup_ratio"].get<double>();
    t.schedule.minLrRatio = schedule["min_lr_ratio"].get<double>();
    t.maxGradNorm = training["max_grad_norm"].get<double>();
    t.gradientCheckpointing = training["gradient_checkpointing"].get<bool>();
    t.neftuneNoiseAlpha = training["neftune_noise_alpha"].get<double>();
    t.precision = training["precision"].get<std::string>();
    t.device = training["device"].get<std::string>();
    t.threads = training["threads"].get<int64_t>();
    t.seed = training["seed"].get<int64_t>();
    t.logEvery = training["log_every"].get<int64_t>();

    c.eval.everySteps = eval["every_steps"].get<int64_t>();
    c.eval.maxBatches = eval["max_batches"].get<int64_t>();
    c.eval.suites = strings(eval["suites"]);
    c.eval.suiteLimit = eval["suite_limit"].get<int64_t>();
    c.eval.suiteTemplate = eval["suite_template"].get<std::string>();
    c.checkpoint.everySteps = checkpoint["every_steps"].get<int64_t>();
    c.checkpoint.keepLast = checkpoint["keep_last"].get<int64_t>();
    c.samples.everySteps = samples["every_steps"].get<int64_t>();
    c.samples.prompts = strings(samples["prompts"]);
    c.samples.maxNewTokens = samples["max_new_tokens"].get<int64_t>();
    c.samples.temperature = samples["temperature"].get<double>();
    c.distributed.processes = distributed["processes"].get<int64_t>();
    c.distributed.backend = distributed["backend"].get<std::string>();
    c.distributed.timeoutSeconds = distributed["timeout_s"].get<int64_t>();
    c.distributed.shardOptimizer = distributed["shard_optimizer"].get<bool>();
    c.distributed.bucketCapMb = distributed["bucket_cap_mb"].get<double>();

    checkCrossRules(c, j, errors);
    return c;
}

void failIfAny(const std::string& source, const std::vector<std::string>& errors)
{
    if (errors.empty())
        return;
    std::string message = "invalid run config " + source + " (" + std::to_string(errors.size()) +
                          (errors.size() == 1 ? " problem" : " problems") + "):";
    for (const std::string& e : errors)
        message += "\n  " + e;
    message += "\n`ftstudio-cli train --schema` lists every setting; docs/run-config.md explains them.";
    fail(message);
}

} // namespace

bool isDatasetRef(const std::string& dataValue)
{
    return dataValue.find('#') != std::string::npos;
}

RunConfig parseRunConfig(const nlohmann::json& j, const std::string& sourceName, const std::string& baseDir)
{
    std::vector<std::string> errors;
    RunConfig c = parseInto(j, sourceName, baseDir, errors);
    failIfAny(sourceName, errors);
    return c;
}

RunConfig loadRunConfig(const std::string& path)
{
    const json j = io::readJsonFile(path);
    std::error_code ec;
    const fs::path absolute = fs::absolute(path, ec);
    const std::string baseDir = (ec ? fs::path(path) : absolute).parent_path().lexically_normal().string();
    std::vector<std::string> errors;
    RunConfig c = parseInto(j, path, baseDir.empty() ? "." : baseDir, errors);
    for (std::string& p : pathProblems(c))
        errors.push_back(std::move(p));
    failIfAny(path, errors);
    return c;
}

std::vector<std::string> pathProblems(const RunConfig& c)
{
    std::vector<std::string> problems;
    std::error_code ec;
    if (!c.model.empty()) {
        if (!fs::is_directory(c.model, ec))
            problems.push_back("model: folder '" + c.model + "' does not exist");
        else if (!fs::is_regular_file(fs::path(c.model) / "config.json", ec))
            problems.push_back("model: '" + c.model + "' has no config.json; expected a Hugging Face model folder");
    }
    for (const auto& [value, key] : {std::pair{c.data.train, "data.train"}, {c.data.eval, "data.eval"}}) {
        if (value.empty())
            continue;
        const bool ref = isDatasetRef(value);
        const std::string file = ref ? value.substr(0, value.rfind('#')) : value;
        if (!fs::is_regular_file(file, ec))
            problems.push_back(std::string(key) + ": " + (ref ? "project file '" : "file '") + file +
                               "' does not exist");
    }
    // A missing output_dir is fine even with resume: the trainer starts fresh and says so.
    if (!c.outputDir.empty() && fs::exists(c.outputDir, ec) && !fs::is_directory(c.outputDir, ec)) {
        problems.push_back("output_dir: '" + c.outputDir + "' exists and is not a folder");
    } else if (!c.outputDir.empty()) {
        // It will be created: its nearest existing parent must be a folder we can write.
        fs::path parent = fs::path(c.outputDir);
        while (!parent.empty() && !fs::exists(parent, ec) && parent.has_parent_path() && parent != parent.parent_path())
            parent = parent.parent_path();
        if (!parent.empty() && fs::exists(parent, ec) && !fs::is_directory(parent, ec))
            problems.push_back("output_dir: '" + c.outputDir + "' cannot be created: '" + parent.string() +
                               "' is a file, not a folder");
        else if (!parent.empty() && fs::is_directory(parent, ec) && ::access(parent.c_str(), W_OK | X_OK) != 0)
            problems.push_back("output_dir: '" + c.outputDir + "' cannot be written: the folder '" + parent.string() +
                               "' is not writable (" + std::strerror(errno) + ")");
    }
    return problems;
}

nlohmann::json toJson(const RunConfig& c)
{
    json objective;
    if (c.objective.name == "sft") {
        objective = {{"name", "sft"},
                     {"loss_on", c.objective.sft.lossOn},
                     {"packing", c.objective.sft.packing},
                     {"template", c.objective.sft.chatTemplate},
                     {"reasoning_loss", c.objective.sft.reasoningLoss}};
    } else {
        objective = c.objective.settings.is_object() ? c.objective.settings : json::object();
        objective["name"] = c.objective.name;
    }
    const TrainingConfig& t = c.training;
    return {
        {"model", c.model},
        {"output_dir", c.outputDir},
        {"resume", c.resume},
        {"technique", peft::settingsToJson(c.technique)},
        {"objective", objective},
        {"data",
         {{"train", c.data.train},
          {"eval", c.data.eval},
          {"eval_fraction", c.data.evalFraction},
          {"format", c.data.format},
          {"max_rows", c.data.maxRows}}},
        {"training",
         {{"max_seq_len", t.maxSeqLen},
          {"batch_size", t.batchSize},
          {"grad_accum", t.gradAccum},
          {"epochs", t.epochs},
          {"max_steps", t.maxSteps},
          {"optimizer",
           {{"name", t.optimizer.name},
            {"lr", t.optimizer.lr},
            {"weight_decay", t.optimizer.weightDecay},
            {"beta1", t.optimizer.beta1},
            {"beta2", t.optimizer.beta2},
            {"eps", t.optimizer.eps}}},
          {"schedule",
           {{"name", t.schedule.name},
            {"warmup_steps", t.schedule.warmupSteps},
            {"warmup_ratio", t.schedule.warmupRatio},
            {"min_lr_ratio", t.schedule.minLrRatio}}},
          {"max_grad_norm", t.maxGradNorm},
          {"gradient_checkpointing", t.gradientCheckpointing},
          {"neftune_noise_alpha", t.neftuneNoiseAlpha},
          {"precision", t.precision},
          {"device", t.device},
          {"threads", t.threads},
          {"seed", t.seed},
          {"log_every", t.logEvery}}},
        {"eval", {{"every_steps", c.eval.everySteps}, {"max_batches", c.eval.maxBatches}, {"suites", c.eval.suites},
                  {"suite_limit", c.eval.suiteLimit}, {"suite_template", c.eval.suiteTemplate}}},
        {"checkpoint", {{"every_steps", c.checkpoint.everySteps}, {"keep_last", c.checkpoint.keepLast}}},
        {"samples",
         {{"every_steps", c.samples.everySteps},
          {"prompts", c.samples.prompts},
          {"max_new_tokens", c.samples.maxNewTokens},
          {"temperature", c.samples.temperature}}},
        {"distributed",
         {{"processes", c.distributed.processes},
          {"backend", c.distributed.backend},
          {"timeout_s", c.distributed.timeoutSeconds},
          {"shard_optimizer", c.distributed.shardOptimizer},
          {"bucket_cap_mb", c.distributed.bucketCapMb}}},
    };
}

} // namespace ft::train
