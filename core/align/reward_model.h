// A reward model: the causal LM (with its adapter) read up to the last real token of
// prompt + response, and a linear score head on that token's final hidden state,
// as Hugging Face's sequence-classification models do (a "score" layer, 1 label).
// The head is saved beside the adapter as reward_head.safetensors ("score.weight",
// (1, C), fp32) with reward_model.json saying how it was trained (prompt format,
// pooling), so PPO, the GUI and `ftstudio-cli` can score text with it.
// Not here: the training objective (reward_objective.h).
//
// Shape legend: N sequences, T time, C hidden size.
#pragma once

#include "align/preference_data.h"
#include "model/llama.h"

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

namespace ft::peft {
class Adapter;
}

namespace ft::align {

inline constexpr const char* kRewardHeadFile = "reward_head.safetensors";
inline constexpr const char* kRewardConfigFile = "reward_model.json";

// (N,) fp32 scores: hidden state of each row's last real token (right padding) times the head.
at::Tensor rewardScores(model::CausalLM& model, const at::Tensor& head, const ResponseBatch& batch);

void saveRewardHead(const std::string& dir, const at::Tensor& head, const std::string& promptFormat);

// A trained reward model ready to score: base model folder + the adapter folder that
// holds the head (or a full model folder that holds it).
class RewardScorer {
public:
    RewardScorer();
    ~RewardScorer();
    // ft::Error naming the folder and file when the head is missing or its width does
    // not match the model's hidden size.
    static std::unique_ptr<RewardScorer> load(const std::string& baseModel, const std::string& rewardDir);
    // Scores of (prompt, response) pairs, prompts as strings or message lists.
    std::vector<double> score(const std::vector<std::pair<nlohmann::json, nlohmann::json>>& items,
                              int64_t maxSeqLen = 1024);
    model::CausalLM& model() { return m_model; }

private:
    model::CausalLM m_model{nullptr};
    std::unique_ptr<tok::Tokenizer> m_tokenizer;
    std::unique_ptr<peft::Adapter> m_adapter;
    std::unique_ptr<train::PromptFormat> m_format;
    at::Tensor m_head;  // (1, C)
};

} // namespace ft::align
