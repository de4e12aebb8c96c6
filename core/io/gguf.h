// The GGUF container of llama.cpp and Ollama (format version 3, little-endian):
//   "GGUF" u32 version, u64 tensor count, u64 metadata count,
//   metadata: string key, u32 value type, value (arrays: u32 element type, u64 count, elements),
//   tensor infos: string name, u32 n_dims, u64 dims[n_dims] (innermost first), u32 ggml type,
//                 u64 offset from the start of the data section,
//   padding to `general.alignment` (default 32), then each tensor's data, aligned likewise.
// Strings are u64 length + UTF-8 bytes. A writer that streams the data (one tensor's
// bytes at a time, made by a callback) and a validating reader over a mapped file.
// Not here: what the keys mean for a model (core/deploy), block layouts (ggml_types.h).
#pragma once

#include "io/ggml_types.h"
#include "io/mapped_file.h"

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace ft::io {

// The value types; the ids are the format's.
enum class GgufValueType : uint32_t {
    U8 = 0, I8 = 1, U16 = 2, I16 = 3, U32 = 4, I32 = 5, F32 = 6, Bool = 7,
    String = 8, Array = 9, U64 = 10, I64 = 11, F64 = 12,
};
const char* ggufValueTypeName(GgufValueType type);

struct GgufValue;
// Elements all of `type` (nested arrays are allowed by the format, unused by models).
struct GgufArray {
    GgufValueType type = GgufValueType::U8;
    std::vector<GgufValue> items;
};

// The variant's alternatives follow GgufValueType's numbering, so index() is the type id.
struct GgufValue {
    std::variant<uint8_t, int8_t, uint16_t, int16_t, uint32_t, int32_t, float, bool, std::string, GgufArray,
                 uint64_t, int64_t, double>
        v;

    GgufValueType type() const { return GgufValueType(v.index()); }
    // Numbers of any integer type as int64 / any number as double; ft::Error otherwise.
    int64_t asInt(const std::string& key) const;
    double asDouble(const std::string& key) const;
    const std::string& asString(const std::string& key) const;
    const GgufArray& asArray(const std::string& key) const;
    std::string summary(size_t maxItems = 8) const; // for `info`: a short readable form
};

GgufValue ggufStrings(const std::vector<std::string>& items);
GgufValue ggufF32s(const std::vector<float>& items);
GgufValue ggufI32s(const std::vector<int32_t>& items);

struct GgufTensorInfo {
    std::string name;
    std::vector<int64_t> dims;  // ggml order: dims[0] is the row length
    GgmlType type = GgmlType::F32;
    uint64_t offset = 0;        // from the start of the data section
    int64_t numel() const;
    size_t nbytes() const;      // rows * ggmlRowBytes(type, dims[0])
};

// Writes a GGUF file under `path + ".tmp"`, fsyncs and renames it over `path`.
class GgufWriter {
public:
    explicit GgufWriter(uint32_t alignment = 32);

    // Insertion order is kept (llama.cpp's converter writes general.* first).
    void set(const std::string& key, GgufValue value);
    // Tensors are written in the order added; `fill` writes exactly info.nbytes() bytes
    // to its sink, in as many calls as it likes (so a quantizer holds one slice at a time).
    using Sink = std::function<void(const uint8_t* data, size_t bytes)>;
    using Fill = std::function<void(const Sink& sink)>;
    void addTensor(const std::string& name, std::vector<int64_t> dims, GgmlType type, Fill fill);

    // `progress(done, total)` after each tensor, counting tensor bytes. ft::Error naming
    // the path (or the tensor whose fill misbehaved); the temporary file is removed then.
    void write(const std::string& path, const std::function<void(size_t, size_t)>& progress = {}) const;
    size_t tensorBytes() const;

private:
    struct Pending {
        GgufTensorInfo info;
        Fill fill;
    };
    uint32_t m_alignment;
    std::vector<std::pair<std::string, GgufValue>> m_kv;
    std::vector<Pending> m_tensors;
};

// A parsed, validated GGUF file; tensor data stays in the mapping.
class GgufFile {
public:
    // ft::Error naming the file, the byte offset and the key or tensor at fault for
    // a bad magic, an unsupported version, a truncated or oversized field, an unknown
    // value or tensor type, a misaligned or out-of-file tensor.
    static GgufFile open(const std::string& path);

    uint32_t version() const { return m_version; }
    uint32_t alignment() const { return m_alignment; }
    const std::vector<std::pair<std::string, GgufValue>>& metadata() const { return m_kv; }
    const GgufValue* find(const std::string& key) const;
    const std::vector<GgufTensorInfo>& tensors() const { return m_tensors; }
    const GgufTensorInfo* findTensor(const std::string& name) const;
    const uint8_t* tensorData(const GgufTensorInfo& info) const;
    // Every element of a tensor as floats (any type dequantizeRow reads).
    std::vector<float> dequantize(const GgufTensorInfo& info) const;
    const std::string& path() const { return m_file->path(); }
    size_t fileSize() const { return m_file->size(); }

private:
    GgufFile() = default;
    std::unique_ptr<MappedFile> m_file;
    uint32_t m_version = 0;
    uint32_t m_alignment = 32;
    uint64_t m_dataOffset = 0;
    std::vector<std::pair<std::string, GgufValue>> m_kv;
    std::vector<GgufTensorInfo> m_tensors;
};

} // namespace ft::io
