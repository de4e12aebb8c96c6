// Builds the objective a run config names (sft, reward, dpo, ipo, simpo, orpo, ppo,
// kto, grpo, rlvr): reads and splits its rows, checks that they are of a kind the
// objective trains on, renders and tokenizes them, and hands back an Objective the
// engine loop can drive. The loop (trainer.cpp) never knows which one it runs.
// Not here: the objectives' math (sft_objective.h, align/*), the loop itself.
#pragma once

#include "model/llama.h"
#include "model/model_io.h"
#include "train/events.h"
#include "train/objective.h"
#include "train/prompt_format.h"
#include "train/run_config.h"

#include <memory>

namespace ft::tok {
class Tokenizer;
}
namespace ft::peft {
class Adapter;
}

namespace ft::train {

struct ObjectiveContext {
    const RunConfig* config = nullptr;
    model::CausalLM model{nullptr};
    const tok::Tokenizer* tokenizer = nullptr;
    peft::Adapter* adapter = nullptr;  // disabled to get the reference model
    const model::GenerationDefaults* generation = nullptr;
    const PromptFormat* format = nullptr;
    c10::Device device = c10::Device(c10::kCPU);
    EventWriter* events = nullptr;
};

// The prompt format an objective renders rows with ("template" of its settings).
std::unique_ptr<PromptFormat> objectivePromptFormat(const RunConfig& config);

// ft::Error for an unknown objective, rows of the wrong kind (naming the dataset,
// its kind and what the objective needs), or no usable example.
std::unique_ptr<Objective> makeObjective(const ObjectiveContext& context);

} // namespace ft::train
