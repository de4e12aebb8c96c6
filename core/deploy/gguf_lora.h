// A LoRA adapter alone as a GGUF LoRA adapter, the file llama.cpp applies to its base
// with --lora (and Ollama with ADAPTER): general.type "adapter", adapter.type "lora",
// adapter.lora.alpha, and per adapted projection "<gguf name>.lora_a" (ggml dims
// [in, r]) and ".lora_b" ([r, out]) -- PEFT's lora_A / lora_B as they are, with
// llama.cpp's Q/K row permutation on lora_B where the architecture needs it.
// llama.cpp scales every pair by alpha / r, so alpha is written as the adapter's scaling
// times r (under rsLoRA, scaling = lora_alpha / sqrt(r)).
// Not here: merged exports (gguf_export.h).
#pragma once

#include <functional>
#include <cstdint>
#include <string>
#include <vector>

namespace ft::deploy {

// The --type choices for an adapter: f32, f16, bf16, q8_0.
const std::vector<std::string>& ggufLoraFileTypes();

struct GgufLoraOptions {
    std::string modelDir;    // the base the adapter was trained on (architecture, heads)
    std::string adapterDir;  // PEFT layout, peft_type LORA (lora, rslora, qlora, loraplus, pissa...)
    std::string outPath;
    std::string fileType = "f16";
    std::function<void(size_t doneBytes, size_t totalBytes)> progress;
};

struct GgufLoraReport {
    std::string architecture;
    std::string fileType;
    size_t fileBytes = 0;
    int64_t modules = 0;  // adapted projections (two tensors each)
    int64_t rank = 0;
    double alpha = 0;     // adapter.lora.alpha
};

// ft::Error naming the adapter, tensor or field for what llama.cpp cannot apply:
// another peft_type, DoRA, embedding LoRA, modules_to_save, trained biases, per-module
// ranks or alphas.
GgufLoraReport exportGgufLora(const GgufLoraOptions& options);

} // namespace ft::deploy
