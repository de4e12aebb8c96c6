// The run config: one JSON file that fully describes a training run (base model,
// technique, objective, data, hyper-parameters, cadences, output folder), read and
// validated up front so that every mistake is reported at once with its JSON path
// and the allowed values. Its schema (runConfigSchema) is what `train --schema`
// prints and what the GUI builds its forms from. docs/run-config.md explains each key.
// Not here: running anything, loading the model or the data.
#pragma once

#include "align/objective_schema.h"
#include "data/records.h"
#include "peft/peft_settings.h"
#include "util/settings_schema.h"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace ft::train {

// Supervised fine-tuning: next-token loss on the response side of each example.
struct SftSettings {
    std::string lossOn = "assistant";   // assistant (prompt tokens masked out) | all
    bool packing = false;               // several short examples per row, attention kept apart
    std::string chatTemplate = "alpaca";  // alpaca | chatml | plain | model (the model folder's template)
    bool reasoningLoss = true;          // <think>...</think> in answers carries loss
};

struct ObjectiveConfig {
    std::string name = "sft";
    SftSettings sft;        // name == "sft"
    nlohmann::json settings;  // the resolved "objective" object (name and its settings), for any objective
};

struct DataConfig {
    std::string train;          // a JSONL/JSON/CSV/... file, or "project.db#dataset"
    std::string eval;           // same forms; "" = held out from train (see evalFraction)
    double evalFraction = 0.05;  // without eval: rows with split "eval" if any, else this fraction (seeded)
    std::string format = "auto";  // a layout name (data/file_formats.h) for files; auto = detect
    int64_t maxRows = 0;        // 0 = all rows
};

struct OptimizerConfig {
    std::string name = "adamw";
    double lr = 2e-4;
    double weightDecay = 0.0;  // not applied to norms and biases
    double beta1 = 0.9;
    double beta2 = 0.999;
    double eps = 1e-8;
};

struct ScheduleConfig {
    std::string name = "cosine";  // constant | linear | cosine
    int64_t warmupSteps = 0;
    double warmupRatio = 0;   // of the total steps; at most one of warmupSteps and warmupRatio is set
    double minLrRatio = 0;    // the rate decays to lr * minLrRatio
};

struct TrainingConfig {
    int64_t maxSeqLen = 512;
    int64_t batchSize = 8;
    int64_t gradAccum = 1;
    double epochs = 1;
    int64_t maxSteps = -1;  // -1: from epochs; otherwise optimizer steps, overriding epochs
    OptimizerConfig optimizer;
    ScheduleConfig schedule;
    double maxGradNorm = 1.0;  // 0 = no clipping
    bool gradientCheckpointing = false;
    double neftuneNoiseAlpha = 0;    // NEFTune: noise on the input embeddings while training; 0 = off
    std::string precision = "auto";  // auto (= fp32) | fp32 | bf16 (autocast, CPU or CUDA) | fp16 (autocast + loss scaling, CUDA)
    std::string device = "auto";     // auto | cpu | cuda | cuda:N
    int64_t threads = 0;             // 0 = all cores the process may use
    int64_t seed = 42;
    int64_t logEvery = 1;            // a step event every N optimizer steps
};

struct EvalConfig {
    int64_t everySteps = 50;  // 0 = only at the end
    int64_t maxBatches = 0;   // 0 = the whole eval split
    // Evaluation suites (eval/suite.h) scored at each evaluation: shipped names or files.
    std::vector<std::string> suites;
    int64_t suiteLimit = 0;               // items per suite, 0 = all
    std::string suiteTemplate = "auto";   // the prompt format, as `ftstudio-cli eval --template`
};

struct CheckpointConfig {
    int64_t everySteps = 100;  // 0 = only at the end and on stop
    int64_t keepLast = 2;
};

struct SamplesConfig {
    int64_t everySteps = 0;  // 0 = never
    std::vector<std::string> prompts;
    int64_t maxNewTokens = 48;
    double temperature = 0;  // 0 = greedy
};

struct DistributedConfig {
    int64_t processes = 1;        // ranks `ftstudio-cli train` starts on this machine (torchrun/srun decide otherwise)
    std::string backend = "auto";  // auto (= gloo) | gloo | nccl
    int64_t timeoutSeconds = 1800;  // a collective or the rendezvous waits at most this long
    bool shardOptimizer = false;    // ZeRO stage 1: each rank keeps and updates 1/N of the AdamW state
    double bucketCapMb = 25;        // gradient all-reduce buckets (the first one at most 1 MiB), as DDP's bucket_cap_mb
};

struct RunConfig {
    std::string source;     // the file it came from (or the name given to parseRunConfig)
    std::string model;      // base model folder
    std::string outputDir;
    bool resume = false;    // continue from the last complete checkpoint in outputDir
    peft::PeftSettings technique;
    ObjectiveConfig objective;
    DataConfig data;
    TrainingConfig training;
    EvalConfig eval;
    CheckpointConfig checkpoint;
    SamplesConfig samples;
    DistributedConfig distributed;
};

// The objectives' descriptors (align/objective_schema.h), listed in train/objectives.cpp.
using align::ObjectiveSchema;
const std::vector<ObjectiveSchema>& objectiveSchemas();
const ObjectiveSchema* findObjective(const std::string& name);  // nullptr when unknown

// Validates `j` and fills defaults. Every problem goes into one ft::Error whose
// message starts with `sourceName` and lists each "json.path: message" on its own
// line. Relative paths (model, output_dir, data.train, data.eval) are resolved
// against `baseDir` when it is not empty. Nothing on disk is looked at.
RunConfig parseRunConfig(const nlohmann::json& j, const std::string& sourceName, const std::string& baseDir = "");

// Reads the file, resolves relative paths against the file's folder (results are
// absolute), and also checks that the model folder and the data files exist; all
// problems, of the JSON and of the files, are reported together.
RunConfig loadRunConfig(const std::string& path);

// Problems with the files a config names ("model: folder '/x' does not exist"), one per entry.
std::vector<std::string> pathProblems(const RunConfig& config);

// Whether a data value names a dataset in a project ("project.db#name") rather than a file.
bool isDatasetRef(const std::string& dataValue);

// The resolved config, every default filled in; parseRunConfig of it gives the same
// config back. Saved with the run's outputs (run_config.json) and sent in `started`.
nlohmann::json toJson(const RunConfig& config);

// Every section's settings, nested: {"settings": [... {"key": "training", "type":
// "object", "settings": [...]} ...]}; the objective's entry lists its "name" and,
// under "variants", each registered objective's settings. For the GUI and `train --schema`.
nlohmann::json runConfigSchema();

} // namespace ft::train
