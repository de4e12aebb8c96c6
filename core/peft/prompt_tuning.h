// Soft prompts: prompt tuning (N trained embeddings put before every input) and
// P-tuning (the N embeddings come out of a prompt encoder, an MLP or a bidirectional
// LSTM with an MLP head, over N trained inputs), plus the machinery the prompt-learning
// family shares with prefix tuning (prefix_tuning.h): virtual tokens whose saved form
// is PEFT's single "prompt_embeddings" matrix, and the Adapter that saves and loads it.
// Not here: the model's side of virtual tokens (model/llama.h), prefix keys/values.
//
// Shape legend: N virtual tokens, C hidden size, E encoder input width, W saved width,
// H encoder hidden size.
#pragma once

#include "peft/adapter.h"

#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/rnn.h>

namespace ft::peft {

// Virtual tokens computed from a trained (N, E) embedding, optionally through an
// encoder. values() is what PEFT saves as "prompt_embeddings" (the encoder's output).
class PromptLearningTokensImpl : public model::VirtualTokensImpl {
public:
    int64_t count() const override { return m_count; }
    at::Tensor values();  // (N, W)
    bool hasEncoder() const { return m_hasEncoder; }
    // PEFT's inference mode: the encoder is dropped and `values` (N, W) itself becomes
    // the trained embedding (loading a file that holds only prompt_embeddings).
    void replaceWithValues(const at::Tensor& values);
    torch::nn::Embedding embedding{nullptr};  // (N, E), or (N, W) without an encoder

protected:
    PromptLearningTokensImpl(int64_t count, int64_t width, int64_t embeddingWidth, bool withEncoder);
    virtual at::Tensor encode(const at::Tensor& x) { return x; }  // (1, N, E) -> (1, N, W)
    virtual void dropEncoder() {}                                 // unregisters the encoder's modules
    int64_t m_count, m_width;
    bool m_hasEncoder;
};

// Prompt tuning: the (N, C) embedding is the prompt.
class PromptEmbeddingImpl : public PromptLearningTokensImpl {
public:
    PromptEmbeddingImpl(int64_t count, int64_t hidden) : PromptLearningTokensImpl(count, hidden, hidden, false) {}
    at::Tensor promptEmbeddings(int64_t batch) override;  // (B, N, C)
};

// P-tuning: PEFT's PromptEncoder. MLP: Linear(C, H), ReLU, Linear(H, H), ReLU,
// Linear(H, C). LSTM: bidirectional LSTM(C -> H, encoderNumLayers layers), then
// Linear(2H, 2H), ReLU, Linear(2H, C).
class PromptEncoderImpl : public PromptLearningTokensImpl {
public:
    PromptEncoderImpl(int64_t count, int64_t hidden, const std::string& type, int64_t encoderHidden, int64_t lstmLayers,
                      double lstmDropout);
    at::Tensor promptEmbeddings(int64_t batch) override;  // (B, N, C)
    torch::nn::Sequential mlp_head{nullptr};
    torch::nn::LSTM lstm_head{nullptr};

protected:
    at::Tensor encode(const at::Tensor& x) override;
    void dropEncoder() override;
};

// The Adapter of every prompt-learning technique. Saved: "prompt_embeddings" (N, W),
// exactly PEFT's file content; when the tokens have an encoder, also its weights under
// `encoderKeyPrefix` ("prefix_encoder.embedding.weight", ...) so training can resume.
// Loading a file without them (one written by PEFT) keeps prompt_embeddings as the
// trained values and drops the encoder.
class PromptLearningAdapter : public Adapter {
public:
    PromptLearningAdapter(std::string name, PeftSettings settings, model::CausalLM model,
                          std::shared_ptr<PromptLearningTokensImpl> tokens, std::string peftType,
                          std::string encoderKeyPrefix, nlohmann::json config);
    std::string peftType() const override { return m_peftType; }
    NamedTensors trainableParameters() override;
    NamedTensors stateDict() override;
    void loadStateDict(const std::map<std::string, at::Tensor>& tensors, const std::string& source) override;
    nlohmann::json configJson() const override { return m_config; }
    void setEnabled(bool on) override;
    PromptLearningTokensImpl& tokens() { return *m_tokens; }

private:
    model::CausalLM m_model;
    std::shared_ptr<PromptLearningTokensImpl> m_tokens;
    std::string m_peftType, m_encoderKeyPrefix;
    nlohmann::json m_config;
};

std::unique_ptr<Adapter> applyPromptTuning(model::CausalLM& model, const PeftSettings& settings,
                                           const std::string& name, const ApplyContext& context);
std::unique_ptr<Adapter> applyPTuning(model::CausalLM& model, const PeftSettings& settings, const std::string& name,
                                      const ApplyContext& context);

} // namespace ft::peft
