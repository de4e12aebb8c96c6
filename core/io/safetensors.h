// The safetensors format: read a file by memory-mapping it and validating its header,
// read a model's weights spread over several shards, write a file atomically.
// Format: 8 bytes little-endian u64 N, N bytes of JSON header
// {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//  "__metadata__": {"key": "value"}}, then the data section; offsets count from
// the start of the data section.
// Not a tensor library: views are raw bytes plus dtype and shape; turning them into
// torch tensors (and converting dtypes) belongs to core/model.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ft::io {

class MappedFile;

// The element types this project reads and writes; safetensors also defines U16,
// U32, U64 and the F8 variants, which are rejected with a clear error.
enum class DType { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL };

size_t dtypeSize(DType dtype);
// The safetensors spelling: "F32", "BF16", "BOOL" ...
const char* dtypeName(DType dtype);
std::optional<DType> dtypeFromName(std::string_view name);
// "F32, F16, BF16, ..." for error messages.
std::string supportedDtypeNames();

// One tensor inside a mapped file; `data` points into the mapping (no copy) and stays
// valid while the SafetensorsFile (or SafetensorsCheckpoint) that produced it lives.
// The data section starts 8-aligned in files from this writer, but tensors are packed
// back to back (and foreign writers may not pad at all), so `data` may be unaligned
// for its dtype: memcpy rather than reinterpret it as a typed array.
struct TensorView {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape; // empty for a 0-d scalar
    const uint8_t* data = nullptr;
    size_t nbytes = 0;

    int64_t numel() const; // 1 for a 0-d scalar, 0 when any dimension is 0
};

// Transparent hashing so that lookups by string_view do not allocate.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

class SafetensorsFile {
public:
    // Maps and validates the whole header; throws ft::Error naming the file (and the
    // tensor) on any inconsistency. Gaps between tensors' byte ranges are accepted
    // (some writers align tensors); overlaps are not.
    static SafetensorsFile open(const std::string& path);

    SafetensorsFile(SafetensorsFile&&) noexcept = default;
    SafetensorsFile& operator=(SafetensorsFile&&) noexcept = default;
    SafetensorsFile(const SafetensorsFile&) = delete;
    SafetensorsFile& operator=(const SafetensorsFile&) = delete;
    ~SafetensorsFile();

    // In file order: sorted by data offset (ties, i.e. empty tensors, by name).
    const std::vector<TensorView>& tensors() const { return m_tensors; }
    const TensorView* find(std::string_view name) const;
    const std::map<std::string, std::string>& metadata() const { return m_metadata; }
    const std::string& path() const { return m_path; }

private:
    SafetensorsFile() = default;

    std::string m_path;
    std::shared_ptr<MappedFile> m_file;
    std::vector<TensorView> m_tensors;
    std::unordered_map<std::string, size_t, StringHash, std::equal_to<>> m_index;
    std::map<std::string, std::string> m_metadata;
};

// A model's weights as one file or as shards listed by model.safetensors.index.json.
class SafetensorsCheckpoint {
public:
    // `dirOrFile`: a .safetensors file, or a model folder holding
    // model.safetensors.index.json (preferred) or model.safetensors.
    // Tensors present in a shard but absent from the index are still served;
    // a tensor in two shards, a missing shard, or an index entry that its shard
    // does not hold is an error.
    static SafetensorsCheckpoint open(const std::string& dirOrFile);

    std::vector<std::string> names() const; // sorted
    const TensorView* find(std::string_view name) const;
    const TensorView& get(std::string_view name) const; // throws ft::Error if absent
    // Full paths of the files read, sorted.
    const std::vector<std::string>& files() const { return m_files; }
    const std::string& path() const { return m_path; }

private:
    SafetensorsCheckpoint() = default;
    void addShard(SafetensorsFile shard);

    std::string m_path;
    std::vector<std::string> m_files;
    std::vector<SafetensorsFile> m_shards;
    // Points into m_shards[i].tensors(); those vectors' buffers never move.
    std::unordered_map<std::string, const TensorView*, StringHash, std::equal_to<>> m_index;
};

struct TensorToWrite {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    const void* data = nullptr;
    size_t nbytes = 0;
};

// Writes tensors (data contiguous, in the given order) and string metadata.
// Validates each tensor's byte count against its shape and dtype, rejects duplicate
// or reserved names; the header is padded with spaces so the data section starts
// at a multiple of 8. Written to path + ".tmp", fsynced, renamed into place.
void writeSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

} // namespace ft::io
