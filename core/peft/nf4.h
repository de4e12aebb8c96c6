// 4-bit NormalFloat (NF4) storage of frozen weights, as in QLoRA (Dettmers et al.
// 2023, arXiv:2305.14314) and bitsandbytes: blocks of 64 values share one absmax,
// each value is the index of the nearest of 16 code values, two indices per byte;
// optionally the absmax values are themselves quantized to 8 bits (double
// quantization). Nf4Linear is a projection that keeps its weight in that form and
// dequantizes it on the fly, forward and backward.
// Not here: LoRA on top (lora.h), mixed-precision kernels; dequantization is plain
// ATen, fast enough on a CPU, not tuned for a GPU.
#pragma once

#include "model/llama.h"

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ft::peft {

// The dtype weight arithmetic (quantizing, merging) runs in: fp64 stays fp64,
// everything else is computed in fp32 and cast back.
inline c10::ScalarType workType(c10::ScalarType t) { return t == at::kDouble ? at::kDouble : at::kFloat; }

// The 16 NF4 code values, ascending, exactly as bitsandbytes lists them
// (bitsandbytes/functional.py, get_4bit_type("nf4"); built by create_normal_map with
// offset 0.9677083: quantiles of N(0, 1), normalized to [-1, 1], with an exact 0).
const std::array<float, 16>& nf4Codes();

// A tensor in NF4. Packing order (the same as bitsandbytes): element 2i of the
// flattened, zero-padded tensor sits in the HIGH nibble of byte i, element 2i+1 in
// the low nibble. The flattened tensor is padded with zeros to whole blocks.
struct Nf4Tensor {
    std::vector<int64_t> shape;
    int64_t numel = 0;
    int64_t blockSize = 64;
    at::Tensor packed;  // (nBlocks * blockSize / 2,) uint8

    // Without double quantization: one fp32 absmax per block.
    at::Tensor absmax;  // (nBlocks,) fp32, undefined with double quantization

    // With double quantization (QLoRA section 2): absmax - offset, in blocks of 256,
    // as int8 codes with one fp32 scale per block. The paper and bitsandbytes use an
    // 8-bit float map for these codes; we use symmetric linear int8 (scale = block
    // absmax / 127): the same storage, and an error bound of scale / 2 per absmax.
    bool doubleQuant = false;
    int64_t absmaxBlockSize = 256;
    at::Tensor absmaxCodes;   // (nBlocks,) int8
    at::Tensor absmaxScales;  // (ceil(nBlocks / 256),) fp32
    at::Tensor absmaxOffset;  // () fp32, the mean of the absmax values

    int64_t blocks() const { return (numel + blockSize - 1) / blockSize; }
    // Bytes held for the weight: codes, absmax or quantized absmax, scales, offset.
    int64_t storageBytes() const;
    Nf4Tensor clone() const;
};

// Quantizes `w` (any floating dtype; computed in fp32, fp64 stays fp64). blockSize
// must be even and positive. An all-zero block gets absmax 0 and decodes to zeros.
Nf4Tensor quantizeNf4(const at::Tensor& w, int64_t blockSize = 64, bool doubleQuant = true);
// The weight back in `dtype`, shaped like the original.
at::Tensor dequantizeNf4(const Nf4Tensor& q, c10::ScalarType dtype);
// The per-block absmax the decoder uses (after double quantization, when on). (nBlocks,) fp32
at::Tensor nf4BlockAbsmax(const Nf4Tensor& q);
// The code index (0..15) of every element, unpacked, (numel,) uint8; for tests and tools.
at::Tensor nf4Indices(const Nf4Tensor& q);

// A frozen projection with its weight in NF4 and its bias (if any) dense. The
// quantized tensors are buffers (weight_nf4, weight_absmax or weight_absmax_codes +
// weight_absmax_scales + weight_absmax_offset), and Module::to(dtype) leaves them as
// they are (it converts only the bias). Backward gives the gradient with respect to
// the input only; it saves the 4-bit codes, never the dequantized matrix.
class Nf4LinearImpl : public model::LinearLayerImpl {
public:
    Nf4LinearImpl(const model::DenseLinearImpl& dense, int64_t blockSize = 64, bool doubleQuant = true);
    at::Tensor forward(const at::Tensor& x) override;  // (..., in) -> (..., out), in x's dtype
    at::Tensor forwardNoBias(const at::Tensor& x);     // x W^T only
    int64_t inFeatures() const override { return m_q.shape[1]; }
    int64_t outFeatures() const override { return m_q.shape[0]; }

    at::Tensor dequantizedWeight(c10::ScalarType dtype) const;  // (out, in)
    int64_t storageBytes() const { return m_q.storageBytes(); }
    const Nf4Tensor& quantized() const { return m_q; }
    // Replaces the stored weight by the quantization of `w` (out, in) (merging LoRA
    // into a 4-bit base), or by a saved quantized state of the same layout (unmerge).
    void requantize(const at::Tensor& w);
    void restore(const Nf4Tensor& saved);

    void to(torch::Device device, torch::Dtype dtype, bool nonBlocking = false) override;
    void to(torch::Dtype dtype, bool nonBlocking = false) override;
    void to(torch::Device device, bool nonBlocking = false) override;

    at::Tensor bias;  // (out,) or undefined

private:
    void copyInto(const Nf4Tensor& source);
    Nf4Tensor m_q;  // its tensors are this module's buffers
};
using Nf4Linear = std::shared_ptr<Nf4LinearImpl>;

// QLoRA's base: every dense projection of every decoder layer (q, k, v, o, gate, up,
// down) becomes an Nf4Linear; embeddings, norms and lm_head stay as they are.
// Returns how many projections were replaced (layers already wrapped are skipped).
int64_t quantizeDecoderProjections(model::CausalLM& model, int64_t blockSize = 64, bool doubleQuant = true);
// QLoRA's base built while loading (model::LoadOptions::afterParameter): each decoder
// projection becomes an Nf4Linear as soon as its last parameter (weight, then bias) is
// read, exactly as quantizeDecoderProjections would make it afterwards, so that the
// base never holds more than one projection in full precision. The counts say what
// was replaced (for the figures a run reports "as loaded").
struct StreamingQuantization {
    int64_t projections = 0;
    int64_t weightElements = 0;  // of the dense weights replaced
    int64_t weightBytes = 0;     // their bytes in the load dtype
    int64_t nf4Bytes = 0;        // what replaced them (codes and scales)
};
std::function<void(model::CausalLM&, const at::Tensor&)> quantizeWhileLoading(
    std::shared_ptr<StreamingQuantization> counts, int64_t blockSize = 64, bool doubleQuant = true);
// The inverse, for merge-and-unload: every Nf4Linear sitting directly in a projection
// slot becomes a frozen DenseLinear holding its dequantized weight in `dtype`.
int64_t dequantizeDecoderProjections(model::CausalLM& model, c10::ScalarType dtype);

} // namespace ft::peft
