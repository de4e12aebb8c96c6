// The run config's settings tables and the schema JSON (see run_config_sections.h and
// run_config.h). The objectives' settings are their descriptors' (train/objectives.cpp).
#include "train/run_config_sections.h"

#include "data/file_formats.h"

#include <map>
#include <optional>

namespace ft::train {

namespace {

using nlohmann::json;
using util::SettingSpec;
using Type = SettingSpec::Type;

std::vector<std::string> layoutNames()
{
    std::vector<std::string> names;
    for (data::Layout l : {data::Layout::Auto, data::Layout::Alpaca, data::Layout::ShareGpt,
                           data::Layout::OpenAiMessages, data::Layout::TrlPreference, data::Layout::Kto,
                           data::Layout::Verifiable, data::Layout::PlainText, data::Layout::Native})
        names.push_back(data::layoutName(l));
    return names;
}

} // namespace

namespace detail {

// GCC's -Wextra flags designated initializers that leave members at their
// defaults, which is what a settings table is for.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

const std::vector<SettingSpec>& rootSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "model", .type = Type::String, .defaultValue = nullptr, .label = "Base model",
         .help = "Folder of the base model (config.json, *.safetensors, tokenizer)."},
        {.key = "output_dir", .type = Type::String, .defaultValue = nullptr, .label = "Output folder",
         .help = "Where checkpoints, the adapter (or full model), run_config.json and metrics go."},
        {.key = "resume", .type = Type::Bool, .defaultValue = false, .label = "Resume",
         .help = "Continue from the last complete checkpoint in the output folder (none there: start fresh). "
                 "Without it, an output folder that already holds a run is refused."},
        {.key = "technique", .type = Type::Object, .defaultValue = json::object(), .label = "Technique",
         .help = "The parameter-efficient technique and its settings."},
        {.key = "objective", .type = Type::Object, .defaultValue = json::object(), .label = "Objective",
         .help = "What the training optimizes, and its settings."},
        {.key = "data", .type = Type::Object, .defaultValue = json::object(), .label = "Data",
         .help = "Training and evaluation data."},
        {.key = "training", .type = Type::Object, .defaultValue = json::object(), .label = "Training",
         .help = "Sequence length, batches, optimizer, schedule, precision, device."},
        {.key = "eval", .type = Type::Object, .defaultValue = json::object(), .label = "Evaluation",
         .help = "How often the held-out loss is measured."},
        {.key = "checkpoint", .type = Type::Object, .defaultValue = json::object(), .label = "Checkpoints",
         .help = "How often checkpoints are written, and how many are kept."},
        {.key = "samples", .type = Type::Object, .defaultValue = json::object(), .label = "Samples",
         .help = "Generations from fixed prompts while training."},
        {.key = "distributed", .type = Type::Object, .defaultValue = json::object(), .label = "Distributed",
         .help = "Data-parallel training on several processes (c10d; docs/distributed.md)."},
    };
    return specs;
}

const std::vector<SettingSpec>& dataSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "train", .type = Type::String, .defaultValue = nullptr, .label = "Training data",
         .help = "A JSONL, JSON, CSV, TSV or text file, or a project dataset as path/to/project.db#dataset."},
        {.key = "eval", .type = Type::String, .defaultValue = "", .label = "Evaluation data",
         .help = "Same forms as train. Empty: held out from the training data."},
        {.key = "eval_fraction", .type = Type::Number, .defaultValue = 0.05, .min = 0, .max = 0.5,
         .label = "Held-out fraction",
         .help = "Without eval data: rows whose split is \"eval\" if there are any, else this fraction of the "
                 "training rows, chosen by the training seed."},
        {.key = "format", .type = Type::Choice, .defaultValue = "auto", .choices = layoutNames(), .label = "Layout",
         .help = "The record layout of data files (alpaca, sharegpt, openai, text, ...); auto detects it."},
        {.key = "max_rows", .type = Type::Int, .defaultValue = 0, .min = 0, .label = "Row limit",
         .help = "Use at most this many training rows (0: all)."},
    };
    return specs;
}

const std::vector<SettingSpec>& optimizerSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "name", .type = Type::Choice, .defaultValue = "adamw", .choices = {"adamw"}, .label = "Optimizer",
         .help = "AdamW with decoupled weight decay (none on norms and biases)."},
        {.key = "lr", .type = Type::Number, .defaultValue = 2e-4, .min = 0, .max = 10, .label = "Learning rate",
         .help = "Peak learning rate (> 0)."},
        {.key = "weight_decay", .type = Type::Number, .defaultValue = 0.0, .min = 0, .max = 10, .label = "Weight decay",
         .help = "Decoupled weight decay on matrices."},
        {.key = "beta1", .type = Type::Number, .defaultValue = 0.9, .min = 0, .max = 1, .label = "Beta 1",
         .help = "Decay of the first moment (< 1)."},
        {.key = "beta2", .type = Type::Number, .defaultValue = 0.999, .min = 0, .max = 1, .label = "Beta 2",
         .help = "Decay of the second moment (< 1)."},
        {.key = "eps", .type = Type::Number, .defaultValue = 1e-8, .min = 0, .max = 1, .label = "Epsilon",
         .help = "Added to the denominator (> 0)."},
    };
    return specs;
}

const std::vector<SettingSpec>& scheduleSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "name", .type = Type::Choice, .defaultValue = "cosine", .choices = {"constant", "linear", "cosine"},
         .label = "Schedule", .help = "How the learning rate moves after warmup."},
        {.key = "warmup_steps", .type = Type::Int, .defaultValue = 0, .min = 0, .label = "Warmup steps",
         .help = "Linear warmup from 0 over this many optimizer steps."},
        {.key = "warmup_ratio", .type = Type::Number, .defaultValue = 0.0, .min = 0, .max = 1, .label = "Warmup ratio",
         .help = "Warmup as a fraction of all steps; set this or warmup_steps, not both."},
        {.key = "min_lr_ratio", .type = Type::Number, .defaultValue = 0.0, .min = 0, .max = 1,
         .label = "Final LR ratio",
         .help = "linear and cosine decay to lr times this."},
    };
    return specs;
}

const std::vector<SettingSpec>& trainingSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "max_seq_len", .type = Type::Int, .defaultValue = 512, .min = 8, .max = 131072,
         .label = "Max sequence length", .help = "Longer examples are truncated (and counted)."},
        {.key = "batch_size", .type = Type::Int, .defaultValue = 8, .min = 1, .max = 65536, .label = "Batch size",
         .help = "Examples per forward pass."},
        {.key = "grad_accum", .type = Type::Int, .defaultValue = 1, .min = 1, .max = 65536,
         .label = "Gradient accumulation", .help = "Forward passes per optimizer step."},
        {.key = "epochs", .type = Type::Number, .defaultValue = 1.0, .min = 0, .max = 100000, .label = "Epochs",
         .help = "Passes over the training data (> 0; fractions allowed)."},
        {.key = "max_steps", .type = Type::Int, .defaultValue = -1, .min = -1, .label = "Max steps",
         .help = "Optimizer steps; -1 derives them from epochs."},
        {.key = "optimizer", .type = Type::Object, .defaultValue = json::object(), .label = "Optimizer",
         .help = "AdamW settings."},
        {.key = "schedule", .type = Type::Object, .defaultValue = json::object(), .label = "Schedule",
         .help = "Learning-rate schedule and warmup."},
        {.key = "max_grad_norm", .type = Type::Number, .defaultValue = 1.0, .min = 0, .label = "Gradient clipping",
         .help = "Clip the global gradient norm to this (0: off)."},
        {.key = "gradient_checkpointing", .type = Type::Bool, .defaultValue = false, .label = "Gradient checkpointing",
         .help = "Recompute each layer's activations in the backward pass instead of keeping them: less memory, "
                 "about one more forward pass of time."},
        {.key = "neftune_noise_alpha", .type = Type::Number, .defaultValue = 0.0, .min = 0, .max = 1000,
         .label = "NEFTune noise",
         .help = "NEFTune (Jain et al. 2023): uniform noise of scale alpha / sqrt(T * hidden) added to the input "
                 "embeddings while training (5 in the paper; 0: off). Never during evaluation or generation."},
        {.key = "precision", .type = Type::Choice, .defaultValue = "auto", .choices = {"auto", "fp32", "bf16", "fp16"},
         .label = "Precision", .help = "fp32; bf16: frozen weights in bf16 and forward passes under bf16 autocast, trained weights and optimizer in fp32 (CPU or CUDA); fp16: the same in fp16 with dynamic loss scaling (CUDA only). auto = fp32."},
        {.key = "device", .type = Type::String, .defaultValue = "auto", .label = "Device",
         .help = "auto (CUDA when present), cpu, cuda or cuda:N."},
        {.key = "threads", .type = Type::Int, .defaultValue = 0, .min = 0, .max = 4096, .label = "CPU threads",
         .help = "Intra-op threads (0: all cores the process may use)."},
        {.key = "seed", .type = Type::Int, .defaultValue = 42, .min = 0, .label = "Seed",
         .help = "Seeds data order, the held-out split, dropout and sampling."},
        {.key = "log_every", .type = Type::Int, .defaultValue = 1, .min = 1, .label = "Log every",
         .help = "A step event every this many optimizer steps."},
    };
    return specs;
}

const std::vector<SettingSpec>& evalSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "every_steps", .type = Type::Int, .defaultValue = 50, .min = 0, .label = "Every N steps",
         .help = "Measure the held-out loss every N optimizer steps (0: only at the end)."},
        {.key = "max_batches", .type = Type::Int, .defaultValue = 0, .min = 0, .label = "Max batches",
         .help = "Evaluate at most this many batches (0: the whole held-out split)."},
        {.key = "suites", .type = Type::StringList, .defaultValue = json::array(), .label = "Suites",
         .help = "Evaluation suites scored at each evaluation (shipped names such as arithmetic, or JSONL files; "
                 "docs/evaluation.md): their metrics join the eval event as <suite>/<metric>."},
        {.key = "suite_limit", .type = Type::Int, .defaultValue = 0, .min = 0, .label = "Suite items",
         .help = "Score at most this many items of each suite (0: all)."},
        {.key = "suite_template", .type = Type::Choice, .defaultValue = "auto",
         .choices = {"auto", "none", "model", "alpaca", "chatml", "plain"}, .label = "Suite prompt template",
         .help = "How suite prompts reach the model: auto = the suite's format, else the run's prompt format "
                 "(objective.template)."},
    };
    return specs;
}

const std::vector<SettingSpec>& checkpointSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "every_steps", .type = Type::Int, .defaultValue = 100, .min = 0, .label = "Every N steps",
         .help = "Write a checkpoint every N optimizer steps (0: only at the end and on stop)."},
        {.key = "keep_last", .type = Type::Int, .defaultValue = 2, .min = 1, .label = "Keep last",
         .help = "How many checkpoints stay on disk; older ones are removed."},
    };
    return specs;
}

const std::vector<SettingSpec>& distributedSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "processes", .type = Type::Int, .defaultValue = 1, .min = 1, .max = 1024, .label = "Processes",
         .help = "Data-parallel processes on this machine, started by `ftstudio-cli train` itself (as "
                 "--nproc-per-node N); each reads 1/N of every epoch with training.batch_size rows per batch and "
                 "gradients are averaged. Under torchrun or srun their variables decide instead."},
        {.key = "backend", .type = Type::Choice, .defaultValue = "auto", .choices = {"auto", "gloo", "nccl"},
         .label = "Backend",
         .help = "c10d process group: gloo (CPU and CUDA tensors); nccl needs a libtorch built with it. auto = gloo."},
        {.key = "timeout_s", .type = Type::Int, .defaultValue = 1800, .min = 1, .max = 86400, .label = "Timeout (s)",
         .help = "How long a rank waits for the others at a collective or at the rendezvous before the run fails "
                 "with an error naming the rank that stopped."},
        {.key = "shard_optimizer", .type = Type::Bool, .defaultValue = false, .label = "Shard optimizer state",
         .help = "ZeRO stage 1: each process keeps and updates the AdamW state of 1/N of the trained tensors and "
                 "sends the updated tensors to the others; checkpoints still hold the whole state."},
        {.key = "bucket_cap_mb", .type = Type::Number, .defaultValue = 25.0, .min = 0.001, .max = 4096,
         .label = "Bucket size (MiB)",
         .help = "Gradients are summed across processes in buckets of about this size (the first at most 1 MiB), "
                 "each starting as soon as backward has finished its gradients, as PyTorch DDP's bucket_cap_mb."},
    };
    return specs;
}

const std::vector<SettingSpec>& samplesSpecs()
{
    static const std::vector<SettingSpec> specs = {
        {.key = "every_steps", .type = Type::Int, .defaultValue = 0, .min = 0, .label = "Every N steps",
         .help = "Generate from the prompts every N optimizer steps (0: never)."},
        {.key = "prompts", .type = Type::StringList, .defaultValue = json::array(), .label = "Prompts",
         .help = "Prompts, formatted with the objective's template before generating."},
        {.key = "max_new_tokens", .type = Type::Int, .defaultValue = 48, .min = 1, .max = 4096,
         .label = "Max new tokens",
         .help = "Length limit of each generation."},
        {.key = "temperature", .type = Type::Number, .defaultValue = 0.0, .min = 0, .max = 10, .label = "Temperature",
         .help = "0: greedy; otherwise sampled with the training seed."},
    };
    return specs;
}

#pragma GCC diagnostic pop

SettingSpec objectiveNameSpec()
{
    SettingSpec s;
    s.key = "name";
    s.type = Type::Choice;
    s.defaultValue = "sft";
    for (const ObjectiveSchema& o : objectiveSchemas())
        s.choices.push_back(o.name);
    s.label = "Objective";
    s.help = "What the training optimizes.";
    return s;
}

// The settings of an object-valued key, by its path; nullptr for technique and
// objective, whose tables live in peft/ and in the objective registry.
const std::vector<SettingSpec>* sectionSpecs(const std::string& path)
{
    static const std::map<std::string, const std::vector<SettingSpec>*> sections = {
        {"data", &dataSpecs()},         {"training", &trainingSpecs()}, {"training.optimizer", &optimizerSpecs()},
        {"training.schedule", &scheduleSpecs()}, {"eval", &evalSpecs()}, {"checkpoint", &checkpointSpecs()},
        {"samples", &samplesSpecs()}, {"distributed", &distributedSpecs()}};
    const auto it = sections.find(path);
    return it == sections.end() ? nullptr : it->second;
}

} // namespace detail

namespace {

using detail::objectiveNameSpec;
using detail::sectionSpecs;

json sectionJson(const std::vector<SettingSpec>& specs, const std::string& path)
{
    json out = util::schemaToJson(specs);
    for (json& entry : out) {
        if (entry["type"] != "object")
            continue;
        const std::string key = entry["key"].get<std::string>();
        const std::string child = path.empty() ? key : path + "." + key;
        if (child == "technique") {
            entry["settings"] = util::schemaToJson(peft::settingsSchema());
        } else if (child == "objective") {
            entry["settings"] = util::schemaToJson({objectiveNameSpec()});
            entry["variants"] = json::object();
            for (const ObjectiveSchema& o : objectiveSchemas()) {
                json kinds = json::array();
                for (data::DatasetKind k : o.dataKinds)
                    kinds.push_back(data::datasetKindName(k));
                entry["variants"][o.name] = {{"label", o.label},
                                             {"help", o.help},
                                             {"data_kinds", kinds},
                                             {"settings", util::schemaToJson(o.settings)}};
            }
        } else if (const auto* specsOfChild = sectionSpecs(child)) {
            entry["settings"] = sectionJson(*specsOfChild, child);
        }
    }
    return out;
}

} // namespace

nlohmann::json runConfigSchema()
{
    return {{"title", "ftstudio run config"},
            {"help", "One JSON object describing a training run; see docs/run-config.md."},
            {"settings", sectionJson(detail::rootSpecs(), "")}};
}

} // namespace ft::train
