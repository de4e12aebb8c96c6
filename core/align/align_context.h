// What every alignment objective is built from: the policy model, its tokenizer,
// the adapter (disabled to get the reference model), the prompt format, the
// objective's resolved settings and its train/eval rows. Filled by
// engine/objective_registry.cpp from the run config.
#pragma once

#include "data/records.h"
#include "dist/data_shard.h"
#include "model/llama.h"
#include "model/model_io.h"
#include "train/events.h"
#include "train/prompt_format.h"

#include <nlohmann/json.hpp>

#include <functional>
#include <string>
#include <vector>

namespace ft::tok {
class Tokenizer;
}
namespace ft::peft {
class Adapter;
}

namespace ft::align {

struct AlignContext {
    model::CausalLM model{nullptr};
    const tok::Tokenizer* tokenizer = nullptr;
    peft::Adapter* adapter = nullptr;
    const model::GenerationDefaults* generation = nullptr;
    const train::PromptFormat* format = nullptr;
    c10::Device device = c10::Device(c10::kCPU);
    train::EventWriter* events = nullptr;
    nlohmann::json settings;  // the objective's resolved settings (name included)
    int64_t maxSeqLen = 512;
    int64_t batchSize = 8;
    uint64_t seed = 0;
    dist::DataShard shard;  // this process's share of the training rows (several processes)
    // Several processes: the mean of a value over the ranks (a collective: call it in
    // training steps only, the same number of times on every rank); empty for one.
    std::function<double(double)> meanOverRanks;
    std::string outputDir;
    std::string modelDir;  // the base model folder
    bool fullModel = false;  // full/freeze fine-tuning: no adapter to disable
    std::vector<data::Row> trainRows;
    std::vector<data::Row> evalRows;

    double number(const char* key) const { return settings.at(key).get<double>(); }
    int64_t integer(const char* key) const { return settings.at(key).get<int64_t>(); }
    std::string text(const char* key) const { return settings.at(key).get<std::string>(); }
};

} // namespace ft::align
