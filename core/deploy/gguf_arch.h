// What llama.cpp calls each supported family and its tensors: the GGUF architecture
// name, the hyper-parameters under that name's keys, Hugging Face -> GGUF tensor names
// (one table), and the Q/K row permutation llama.cpp's converter applies where the
// GGUF architecture uses interleaved RoPE (llama) instead of Hugging Face's halves.
// Not here: the tokenizer keys (gguf_vocab.h), which type each tensor gets (gguf_export.cpp).
#pragma once

#include "io/gguf.h"
#include "model/model_config.h"

#include <optional>
#include <string>

namespace ft::deploy {

struct GgufArch {
    model::Arch arch;
    const char* ggufName;  // general.architecture: "llama", "qwen2" ...
    bool permuteQK;        // q_proj/k_proj rows reordered for interleaved RoPE
    bool gemmaNorms;       // RMSNorm weights stored as (1 + w), the four-norm Gemma block names
    bool postNorms = false;  // OLMo 2: norms after attention and MLP only (post_attention_norm, post_ffw_norm)
};

// The mapping of a family; ft::Error naming the family and the supported ones when
// GGUF export does not know it yet.
const GgufArch& ggufArch(model::Arch arch);
std::string ggufSupportedArchs();

// Writes {arch}.context_length, embedding_length, block_count, feed_forward_length,
// attention.head_count(_kv), key/value_length, layer_norm_rms_epsilon, rope.* and
// vocab_size. ft::Error for a setting llama.cpp cannot express for that family.
void writeHyperParameters(io::GgufWriter& w, const GgufArch& arch, const model::ModelConfig& c);

// "model.layers.3.self_attn.q_proj.weight" -> "blk.3.attn_q.weight"; std::nullopt for
// a tensor GGUF does not carry (lm_head when tied is dropped by the caller). With a
// Gemma `arch`, the block's four norms take llama.cpp's Gemma names.
std::optional<std::string> ggufTensorName(const std::string& hfName, const GgufArch* arch = nullptr);

// The heads to permute a tensor's rows by (permuteRowsForInterleavedRope) when it is a
// query or key projection (weight, bias, LoRA B) of an architecture that needs it; 0 otherwise.
int64_t ggufPermuteHeads(const GgufArch& arch, const model::ModelConfig& c, const std::string& ggufName);
// The block index of "blk.N.…", -1 for tensors outside the blocks.
int64_t ggufLayerOf(const std::string& ggufName);

// llama.cpp's converter permutation of q_proj/k_proj rows (weights or biases) from
// Hugging Face's rotate-half layout to interleaved pairs: per head, row r of the
// first half and row r of the second half become rows 2r and 2r+1.
// `rows` x `cols` row-major data, `heads` heads of rows/heads rows each; in place.
void permuteRowsForInterleavedRope(float* data, int64_t rows, int64_t cols, int64_t heads);

// llama.cpp's rope_freqs for "llama3" RoPE scaling: one factor per rotated pair that
// divides the base frequency (1 for high frequencies, `factor` for low ones, smoothed between).
std::vector<float> llama3RopeFactors(const model::ModelConfig& c);

} // namespace ft::deploy
