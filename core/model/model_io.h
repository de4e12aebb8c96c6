// Moving a causal LM between disk and memory: a Hugging Face model folder
// (config.json, *.safetensors, generation_config.json) to a CausalLM and back.
// Tensor names are taken from the module tree as they are, never retyped.
#pragma once

#include "io/safetensors.h"
#include "model/llama.h"

#include <c10/core/Device.h>

#include <functional>
#include <string>
#include <vector>

namespace ft::model {

struct GenerationDefaults {
    int64_t bosTokenId = -1;
    std::vector<int64_t> eosTokenIds;  // generation stops at any of them
};

struct LoadOptions {
    c10::ScalarType computeDtype = c10::kFloat;
    c10::Device device = c10::Device(c10::kCPU);
    // Called after each parameter has been read from the checkpoint (in the model's
    // parameter order, on the CPU, before the move to `device`), with the model and the
    // parameter just filled. It may replace modules of the model (QLoRA quantizes each
    // projection as soon as its weights are in: peft::quantizeWhileLoading); the loader
    // keeps no reference to a parameter once it is read, so what the hook replaces is
    // freed at once.
    std::function<void(CausalLM& model, const at::Tensor& parameter)> afterParameter;
};

struct LoadedModel {
    std::string dir;
    ModelConfig config;
    CausalLM model{nullptr};
    GenerationDefaults generation;
    std::string storedDtype;                 // dtype of the weights on disk ("BF16", "F32", mixed)
    std::vector<std::string> ignoredTensors;  // in the checkpoint, not used by the model
    int64_t otherModalityTensors = 0;         // a multimodal folder's vision tower and projector, kept on disk
};

// How a checkpoint names the text model's tensors: as the model does, or inside a
// multimodal model as transformers < 4.52 saved it (language_model.model.layers.0...,
// language_model.lm_head.weight) or as 4.52+ does (model.language_model.layers.0...,
// lm_head.weight).
enum class TextLayout { Text, LegacyMultimodal, Multimodal };
TextLayout textLayoutOf(const ModelConfig& config, const io::SafetensorsCheckpoint& checkpoint);
// The stored name of the model's parameter `name` ("model.layers.0.mlp.up_proj.weight").
std::string storedTensorName(const std::string& name, TextLayout layout);
// Whether a stored tensor belongs to the text model (not to a vision tower or projector).
bool isTextTensor(const std::string& storedName, TextLayout layout);

// The path of DIR/config.json; an ft::Error when DIR is not a folder or has none.
std::string requireModelFolder(const std::string& dir);

// Reads config.json, every weight (each checked by name and shape against the
// config; errors name the tensor, the file and both shapes) and generation_config.json.
LoadedModel loadModelFolder(const std::string& dir, const LoadOptions& options = {});

// Copies every parameter of `model` from `checkpoint`; returns the unused names of the
// text model's tensors. `afterEach` runs after each parameter is filled, which the
// loader no longer holds by then.
std::vector<std::string> loadWeights(torch::nn::Module& model, const io::SafetensorsCheckpoint& checkpoint,
                                     TextLayout layout = TextLayout::Text,
                                     const std::function<void(const at::Tensor&)>& afterEach = {});

// Writes config.json, the weights converted to `storeDtype` and generation_config.json
// into `dir` (created if needed); each file atomically. Weights above maxShardBytes
// are split like Hugging Face's save_pretrained: model-00001-of-00003.safetensors ...
// plus model.safetensors.index.json; otherwise one model.safetensors.
// The text part of a multimodal model is written back into the whole model: the
// multimodalBase folder it came from gives config.json, the processor files and the
// other modality's tensors (copied byte for byte), and the text weights keep its layout.
void saveModelFolder(const std::string& dir, CausalLM& model, const GenerationDefaults& generation,
                     c10::ScalarType storeDtype = c10::kFloat, int64_t maxShardBytes = int64_t(5) << 30,
                     const std::string& multimodalBase = {});

// Copies the tokenizer files a model folder may have (tokenizer.model,
// tokenizer.json, tokenizer_config.json, special_tokens_map.json, added_tokens.json,
// chat_template.jinja / .json)
// from `fromDir` to `toDir`; returns the names copied.
std::vector<std::string> copyTokenizerFiles(const std::string& fromDir, const std::string& toDir);

// View over a safetensors tensor -> an owned tensor of the given dtype.
at::Tensor tensorFromView(const io::TensorView& view, c10::ScalarType dtype);
io::DType toSafetensorsDType(c10::ScalarType t);

GenerationDefaults readGenerationDefaults(const std::string& dir, const ModelConfig& config);

} // namespace ft::model
