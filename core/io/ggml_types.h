// The tensor element types of GGUF files (ggml's `ggml_type`): their ids, names and
// block layouts, and conversion between float rows and the types the studio writes
// (F32, F16, BF16, Q8_0, Q4_0, Q5_0, Q4_K, Q6_K), following ggml's reference quantizers
// (ggml-quants.c `quantize_row_*_ref`) block by block and byte by byte.
// Quantized types store a row as consecutive blocks; a row's length must be a multiple
// of the block size. Not here: the GGUF container (gguf.h), which tensors get which
// type (core/deploy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace ft::io {

// The ids are ggml's and are written into files: never renumber.
enum class GgmlType : uint32_t {
    F32 = 0,
    F16 = 1,
    Q4_0 = 2,
    Q4_1 = 3,
    Q5_0 = 6,
    Q5_1 = 7,
    Q8_0 = 8,
    Q8_1 = 9,
    Q2_K = 10,
    Q3_K = 11,
    Q4_K = 12,
    Q5_K = 13,
    Q6_K = 14,
    Q8_K = 15,
    IQ4_NL = 20,
    IQ4_XS = 23,
    I8 = 24,
    I16 = 25,
    I32 = 26,
    I64 = 27,
    F64 = 28,
    BF16 = 30,
};

struct GgmlTypeInfo {
    GgmlType type;
    const char* name;      // ggml's spelling: "f32", "q4_K" ...
    int64_t blockSize;     // elements per block (1 for plain types)
    size_t blockBytes;     // bytes per block
    bool canWrite;         // quantizeRow supports it
};

// Known types only; std::nullopt for an id this project does not know.
std::optional<GgmlTypeInfo> ggmlTypeInfo(uint32_t id);
const GgmlTypeInfo& ggmlTypeInfo(GgmlType type);
std::optional<GgmlType> ggmlTypeFromName(std::string_view name); // case-insensitive
// Bytes of a row of `n` elements; ft::Error when n is not a multiple of the block size.
size_t ggmlRowBytes(GgmlType type, int64_t n);

// IEEE half and bfloat16, rounding to nearest even (NaN stays NaN, overflow -> inf for half).
uint16_t floatToHalf(float f);
float halfToFloat(uint16_t h);
uint16_t floatToBf16(float f);
float bf16ToFloat(uint16_t b);

// Encodes `row` (length a multiple of the block size) into `out`, which must hold
// ggmlRowBytes(type, row.size()) bytes. ft::Error for a type it cannot write.
void quantizeRow(GgmlType type, std::span<const float> row, uint8_t* out);
// Decodes ggmlRowBytes(type, out.size()) bytes at `in` into `out`.
void dequantizeRow(GgmlType type, const uint8_t* in, std::span<float> out);

} // namespace ft::io
