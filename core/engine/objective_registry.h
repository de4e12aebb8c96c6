// The objective registry: one table (objective_registry.cpp) maps the objective a run
// config names (sft, reward, dpo, ipo, simpo, orpo, ppo, kto, grpo, rlvr) to its
// factory. makeObjective reads and splits the rows, checks that they are of a kind
// the objective trains on, and hands back an Objective the engine loop can drive.
// The loop (trainer.cpp) never knows which one it runs.
// Not here: the objectives' math (train/sft_objective.h, align/*), their settings
// schemas (train/run_config_sections.cpp), the loop itself.
#pragma once

#include "dist/data_shard.h"
#include "model/llama.h"
#include "model/model_io.h"
#include "train/events.h"
#include "train/objective.h"
#include "train/prompt_format.h"
#include "train/dataset_source.h"
#include "train/run_config.h"
#include "train/sft_data.h"

#include <memory>

namespace ft::tok {
class Tokenizer;
}
namespace ft::peft {
class Adapter;
}

namespace ft::engine {

struct ObjectiveContext {
    const train::RunConfig* config = nullptr;
    model::CausalLM model{nullptr};
    const tok::Tokenizer* tokenizer = nullptr;
    peft::Adapter* adapter = nullptr;  // disabled to get the reference model
    const model::GenerationDefaults* generation = nullptr;
    const train::PromptFormat* format = nullptr;
    c10::Device device = c10::Device(c10::kCPU);
    train::EventWriter* events = nullptr;
    dist::DataShard shard;  // this process's share of the training rows
    std::function<double(double)> meanOverRanks;  // several processes: a value's mean over the ranks
};

// A run's rows: data.train (and data.eval, or the part of train held out for evaluation),
// of one kind. ft::Error for an unknown objective, or rows of a kind it does not train on
// (naming the dataset, its kind and what the objective needs).
struct ObjectiveRows {
    data::DatasetKind kind = data::DatasetKind::Instruction;
    train::TrainEvalRows split;
};
ObjectiveRows loadObjectiveRows(const train::RunConfig& config);

// How an SFT run tokenizes its rows (max_seq_len, loss_on, reasoning_loss).
train::SftDataOptions sftDataOptions(const train::RunConfig& config);
// The SFT batcher's options of a run (batch size, packing, seed), for one process's
// share `shard` of the data.
train::SftBatcherOptions sftBatcherOptions(const train::RunConfig& config, const dist::DataShard& shard);

// The prompt format an objective renders rows with ("template" of its settings).
std::unique_ptr<train::PromptFormat> objectivePromptFormat(const train::RunConfig& config);

// ft::Error for an unknown objective, rows of the wrong kind (naming the dataset,
// its kind and what the objective needs), or no usable example.
std::unique_ptr<train::Objective> makeObjective(const ObjectiveContext& context);

} // namespace ft::engine
