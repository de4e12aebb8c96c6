// The embedded default base model: a sentencepiece tokenizer trained on the
// shipped corpus and a small Llama-architecture model pretrained on it on the CPU,
// saved as an ordinary Hugging Face folder in the user's data folder and reused.
// This file holds the recipe and the steps; the corpus lives in datasets/.
#pragma once

#include "model/model_config.h"
#include "train/pretrain.h"

#include <functional>
#include <string>

namespace ft::base {

struct BaseRecipe {
    model::ModelConfig config;
    int tokenizerVocab = 2048;
    train::PretrainOptions pretrain;
};

// The recipe the README's run command uses (about 4 minutes on 2 cores).
BaseRecipe defaultBaseRecipe();

// The recipe's model at another width: heads of 32, half as many key/value heads (all
// of them when the count is odd), an MLP 8/3 as wide rounded up to a multiple of 32.
// `hidden` must be a positive multiple of 32 (the caller checks).
void setHiddenSize(BaseRecipe& recipe, int64_t hidden);

struct MakeBaseReport {
    std::string dir;
    int64_t parameters = 0;
    int64_t trainTokens = 0;
    int64_t heldoutTokens = 0;
    double initialHeldoutLoss = 0;
    double heldoutLoss = 0;
    double heldoutPerplexity = 0;
    double tokenizerSeconds = 0;
    double pretrainSeconds = 0;
    bool reused = false;  // an existing, complete base model was found
};

using LogFn = std::function<void(const std::string& line)>;
using ProgressFn = train::PretrainCallback;

// True when `dir` holds a complete base model (base_info.json is written last).
bool baseModelReady(const std::string& dir);

// Builds the base model into `dir` unless it is ready (or `force`). Works in a
// temporary sibling folder and renames it into place at the end, so an
// interrupted build never leaves a half-made model under `dir`.
MakeBaseReport makeBaseModel(const std::string& dir, const std::string& corpusDir, const BaseRecipe& recipe, bool force,
                             const LogFn& log, const ProgressFn& progress);

} // namespace ft::base
