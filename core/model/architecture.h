// The architecture registry: which Hugging Face model families the engine can run
// and how they differ. Adding an architecture:
//   1. add an Arch value and its row in kArchitectures (architecture.cpp);
//   2. answer its capabilities in archTraits();
//   3. if its module layout differs from Llama's, teach model/llama.cpp;
//   4. tests/test_model.cpp loops over every registered architecture — run it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ft::model {

enum class Arch { Llama, Mistral, Qwen2, Unknown };

struct ArchTraits {
    bool qkvBias = false;        // q/k/v projections carry biases (Qwen2)
    bool slidingWindow = false;  // attention limited to a window of recent keys (Mistral)
};

// "LlamaForCausalLM" or "llama" -> Arch::Llama; Unknown when not registered.
Arch archFromString(std::string_view name);
const char* archName(Arch a);            // the model_type spelling: "llama"
const char* archClassName(Arch a);       // the architectures[] spelling: "LlamaForCausalLM"
ArchTraits archTraits(Arch a);
std::vector<Arch> registeredArchs();
std::string supportedArchList();         // "LlamaForCausalLM, MistralForCausalLM, Qwen2ForCausalLM"

} // namespace ft::model
