// Safetensors reading (header validation), sharded checkpoints and writing.
// The header is untrusted input: every offset and size is checked against the file
// before a view is created, so a corrupt file yields ft::Error, never a stray read.
#include "io/safetensors.h"

#include "io/json_file.h"
#include "io/mapped_file.h"
#include "util/error.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <limits>
#include <span>
#include <tuple>
#include <unordered_set>

namespace ft::io {

namespace {

using nlohmann::json;

constexpr uint64_t kMaxHeaderBytes = 100'000'000; // the reference reader's limit
constexpr const char* kMetadataKey = "__metadata__";

struct DtypeInfo {
    DType dtype;
    const char* name;
    size_t size;
};

constexpr DtypeInfo kDtypes[] = {
    {DType::F32, "F32", 4}, {DType::F16, "F16", 2}, {DType::BF16, "BF16", 2},
    {DType::F64, "F64", 8}, {DType::I64, "I64", 8}, {DType::I32, "I32", 4},
    {DType::I16, "I16", 2}, {DType::I8, "I8", 1},   {DType::U8, "U8", 1},
    {DType::BOOL, "BOOL", 1},
};

const DtypeInfo& infoOf(DType dtype) {
    for (const auto& info : kDtypes)
        if (info.dtype == dtype)
            return info;
    fail("internal error: unknown DType value " + std::to_string(static_cast<int>(dtype)));
}

[[noreturn]] void failFile(const std::string& path, const std::string& what) {
    fail("safetensors file " + path + ": " + what);
}

[[noreturn]] void failTensor(const std::string& path, const std::string& name,
                             const std::string& what) {
    fail("safetensors file " + path + ": tensor '" + name + "': " + what);
}

// Number of elements of `shape`, or nullopt on a negative dimension or overflow
// (the reason goes to `why`). Used by the reader and the writer alike.
std::optional<int64_t> checkedNumel(const std::vector<int64_t>& shape, size_t elementSize,
                                    std::string& why) {
    int64_t numel = 1;
    for (int64_t dim : shape) {
        if (dim < 0) {
            why = "negative dimension " + std::to_string(dim) + " in shape";
            return std::nullopt;
        }
        if (__builtin_mul_overflow(numel, dim, &numel)) {
            why = "shape has more elements than a 64-bit count can hold";
            return std::nullopt;
        }
    }
    int64_t bytes = 0;
    if (__builtin_mul_overflow(numel, static_cast<int64_t>(elementSize), &bytes)) {
        why = "shape times element size overflows a 64-bit byte count";
        return std::nullopt;
    }
    return numel;
}

// Parses the header, additionally reporting the first duplicated key: nlohmann
// silently keeps the last of two equal keys, which would hide a duplicated tensor.
json parseHeader(const std::string& path, const char* begin, const char* end) {
    std::vector<std::unordered_set<std::string>> openObjects;
    std::string currentTensor, duplicate, duplicateTensor;
    int duplicateDepth = 0;
    auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
        if (event == json::parse_event_t::object_start) {
            openObjects.emplace_back();
        } else if (event == json::parse_event_t::object_end) {
            if (!openObjects.empty())
                openObjects.pop_back();
        } else if (event == json::parse_event_t::key && !openObjects.empty()) {
            const auto& key = parsed.get_ref<const std::string&>();
            if (depth == 1)
                currentTensor = key;
            if (!openObjects.back().insert(key).second && duplicate.empty()) {
                duplicate = key;
                duplicateTensor = currentTensor;
                duplicateDepth = depth;
            }
        }
        return true;
    };
    json header;
    try {
        header = json::parse(begin, end, callback);
    } catch (const json::exception& e) {
        failFile(path, std::string("header is not valid JSON: ") + e.what());
    }
    if (duplicateDepth == 1)
        failTensor(path, duplicate, "the name appears twice in the header");
    if (duplicateDepth > 1 && duplicateTensor == kMetadataKey)
        failFile(path, "'__metadata__' key '" + duplicate + "' appears twice");
    if (duplicateDepth > 1)
        failTensor(path, duplicateTensor, "key '" + duplicate + "' appears twice in its entry");
    return header;
}

std::map<std::string, std::string> readMetadata(const std::string& path, const json& value) {
    if (!value.is_object())
        failFile(path, std::string("'__metadata__' is a ") + value.type_name() +
                           ", expected an object of strings");
    std::map<std::string, std::string> metadata;
    for (const auto& [key, v] : value.items()) {
        if (!v.is_string())
            failFile(path, "'__metadata__' entry '" + key + "' is a " + v.type_name() +
                               ", expected a string (safetensors metadata is string to string)");
        metadata[key] = v.get<std::string>();
    }
    return metadata;
}

struct ParsedEntry {
    TensorView view;
    uint64_t begin = 0, end = 0;
};

ParsedEntry parseEntry(const std::string& path, const std::string& name, const json& entry,
                       const uint8_t* dataSection, uint64_t dataSize) {
    if (!entry.is_object())
        failTensor(path, name, std::string("entry is a ") + entry.type_name() +
                                   ", expected an object with dtype, shape and data_offsets");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(key))
            failTensor(path, name, std::string("entry has no '") + key + "'");

    ParsedEntry out;
    out.view.name = name;
    const json& dtype = entry["dtype"];
    if (!dtype.is_string())
        failTensor(path, name, std::string("'dtype' is a ") + dtype.type_name() +
                                   ", expected a string such as \"F32\"");
    const auto parsedDtype = dtypeFromName(dtype.get_ref<const std::string&>());
    if (!parsedDtype)
        failTensor(path, name, "unknown dtype '" + dtype.get<std::string>() +
                                   "' (supported: " + supportedDtypeNames() + ")");
    out.view.dtype = *parsedDtype;

    const json& shape = entry["shape"];
    if (!shape.is_array())
        failTensor(path, name, std::string("'shape' is a ") + shape.type_name() +
                                   ", expected an array of integers");
    for (const json& dim : shape) {
        if (dim.is_number_unsigned()) {
            if (dim.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
                failTensor(path, name, "shape " + shape.dump() + " has a dimension too large");
            out.view.shape.push_back(int64_t(dim.get<uint64_t>()));
        } else if (dim.is_number_integer()) {
            out.view.shape.push_back(dim.get<int64_t>());
        } else {
            failTensor(path, name, "shape " + shape.dump() + " holds a " + dim.type_name() +
                                       ", expected integers");
        }
    }
    std::string why;
    const size_t elementSize = dtypeSize(out.view.dtype);
    const auto numel = checkedNumel(out.view.shape, elementSize, why);
    if (!numel)
        failTensor(path, name, why + " " + shape.dump());

    const json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
        failTensor(path, name, "'data_offsets' is " + offsets.dump() +
                                   ", expected [begin, end] with non-negative integers");
    out.begin = offsets[0].get<uint64_t>();
    out.end = offsets[1].get<uint64_t>();
    if (out.begin > out.end)
        failTensor(path, name, "data_offsets [" + std::to_string(out.begin) + ", " +
                                   std::to_string(out.end) + "] has begin after end");
    if (out.end > dataSize)
        failTensor(path, name, "data_offsets end " + std::to_string(out.end) +
                                   " is beyond the data section of " +
                                   std::to_string(dataSize) + " bytes (truncated file?)");
    const uint64_t expected = uint64_t(*numel) * elementSize;
    if (out.end - out.begin != expected)
        failTensor(path, name, "data_offsets cover " + std::to_string(out.end - out.begin) +
                                   " bytes, but shape " + util::shapeString(out.view.shape) + " of " +
                                   dtypeName(out.view.dtype) + " needs " +
                                   std::to_string(expected) + " bytes");
    out.view.data = dataSection + out.begin;
    out.view.nbytes = size_t(expected);
    return out;
}

[[noreturn]] void failWriteTensor(const std::string& path, const std::string& tensor,
                                  const std::string& what) {
    fail("cannot write safetensors file " + path + ": tensor '" + tensor + "': " + what);
}

// Empty ranges hold no bytes and cannot overlap anything.
void rejectOverlaps(const std::string& path, std::vector<ParsedEntry>& entries) {
    std::sort(entries.begin(), entries.end(), [](const ParsedEntry& a, const ParsedEntry& b) {
        return std::tie(a.begin, a.end, a.view.name) < std::tie(b.begin, b.end, b.view.name);
    });
    const ParsedEntry* furthest = nullptr; // the non-empty range reaching furthest so far
    for (const auto& e : entries) {
        if (e.begin == e.end)
            continue;
        if (furthest && e.begin < furthest->end)
            failTensor(path, e.view.name,
                       "bytes [" + std::to_string(e.begin) + ", " + std::to_string(e.end) +
                           ") overlap tensor '" + furthest->view.name + "' at [" +
                           std::to_string(furthest->begin) + ", " +
                           std::to_string(furthest->end) + ")");
        if (!furthest || e.end > furthest->end)
            furthest = &e;
    }
}

} // namespace

size_t dtypeSize(DType dtype) { return infoOf(dtype).size; }

const char* dtypeName(DType dtype) { return infoOf(dtype).name; }

std::optional<DType> dtypeFromName(std::string_view name) {
    for (const auto& info : kDtypes)
        if (name == info.name)
            return info.dtype;
    return std::nullopt;
}

std::string supportedDtypeNames() {
    std::string names;
    for (const auto& info : kDtypes)
        names += (names.empty() ? "" : ", ") + std::string(info.name);
    return names;
}

int64_t TensorView::numel() const {
    int64_t n = 1;
    for (int64_t dim : shape)
        n *= dim;
    return n;
}

// ---- SafetensorsFile ----

SafetensorsFile::~SafetensorsFile() = default;

SafetensorsFile SafetensorsFile::open(const std::string& path) {
    auto file = std::make_shared<MappedFile>(MappedFile::open(path));
    const uint8_t* bytes = file->data();
    const uint64_t size = file->size();
    if (size < 8)
        failFile(path, "the file is " + std::to_string(size) +
                           " bytes, shorter than the 8-byte header length (truncated or "
                           "not a safetensors file)");
    uint64_t headerSize = 0;
    for (int i = 0; i < 8; ++i)
        headerSize |= uint64_t(bytes[i]) << (8 * i);
    // Checked before adding to 8, so a huge value cannot wrap around.
    if (headerSize > kMaxHeaderBytes)
        failFile(path, "header length " + std::to_string(headerSize) +
                           " bytes is implausibly large (limit " +
                           std::to_string(kMaxHeaderBytes) + "); not a safetensors file?");
    if (headerSize > size - 8)
        failFile(path, "header length " + std::to_string(headerSize) +
                           " bytes runs past the end of the file (" + std::to_string(size - 8) +
                           " bytes follow the length field); the file is truncated");

    const char* headerBegin = reinterpret_cast<const char*>(bytes + 8);
    const json header = parseHeader(path, headerBegin, headerBegin + headerSize);
    if (!header.is_object())
        failFile(path, std::string("header is a JSON ") + header.type_name() +
                           ", expected an object");

    SafetensorsFile out;
    out.m_path = path;
    const uint8_t* dataSection = bytes + 8 + headerSize;
    const uint64_t dataSize = size - 8 - headerSize;
    std::vector<ParsedEntry> entries;
    entries.reserve(header.size());
    for (const auto& [name, entry] : header.items()) {
        if (name == kMetadataKey)
            out.m_metadata = readMetadata(path, entry);
        else
            entries.push_back(parseEntry(path, name, entry, dataSection, dataSize));
    }
    rejectOverlaps(path, entries); // also sorts into file order

    out.m_tensors.reserve(entries.size());
    for (auto& e : entries) {
        out.m_index.emplace(e.view.name, out.m_tensors.size());
        out.m_tensors.push_back(std::move(e.view));
    }
    out.m_file = std::move(file);
    return out;
}

const TensorView* SafetensorsFile::find(std::string_view name) const {
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : &m_tensors[it->second];
}

// ---- SafetensorsCheckpoint ----

SafetensorsCheckpoint SafetensorsCheckpoint::open(const std::string& dirOrFile) {
    namespace fs = std::filesystem;
    SafetensorsCheckpoint out;
    out.m_path = dirOrFile;
    std::error_code ec;
    if (!fs::is_directory(dirOrFile, ec)) {
        out.addShard(SafetensorsFile::open(dirOrFile)); // names the path if missing
        return out;
    }

    const std::string indexPath = dirOrFile + "/model.safetensors.index.json";
    const std::string singlePath = dirOrFile + "/model.safetensors";
    if (!fs::exists(indexPath, ec)) {
        if (!fs::exists(singlePath, ec)) {
            // PyTorch pickles are never loaded: unpickling runs whatever code the file
            // names. Say so, and how to convert, instead of "no safetensors".
            for (const auto& entry : fs::directory_iterator(dirOrFile, ec)) {
                const std::string name = entry.path().filename().string();
                const std::string ext = entry.path().extension().string();
                if (name.rfind("pytorch_model", 0) == 0 || ext == ".bin" || ext == ".pt" || ext == ".pth" ||
                    ext == ".ckpt")
                    fail(dirOrFile + " holds PyTorch pickle weights (" + name +
                         ") and no model.safetensors. The studio never loads pickles, since loading one can run "
                         "code it carries. Convert the folder to safetensors first, e.g. in Python with "
                         "transformers: AutoModelForCausalLM.from_pretrained('" + dirOrFile +
                         "').save_pretrained('OUT', safe_serialization=True), then copy the tokenizer files.");
            }
            fail("no model.safetensors or model.safetensors.index.json in " + dirOrFile);
        }
        out.addShard(SafetensorsFile::open(singlePath));
        return out;
    }

    const nlohmann::json index = readJsonFile(indexPath);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
        fail("index file " + indexPath + ": expected an object with a 'weight_map' object "
             "(tensor name -> shard file name)");
    std::map<std::string, std::vector<std::string>> tensorsByShard;
    for (const auto& [tensor, shard] : index["weight_map"].items()) {
        if (!shard.is_string() || shard.get_ref<const std::string&>().empty())
            fail("index file " + indexPath + ": weight_map entry for tensor '" + tensor +
                 "' is " + shard.dump() + ", expected a shard file name");
        tensorsByShard[shard.get<std::string>()].push_back(tensor);
    }
    if (tensorsByShard.empty())
        fail("index file " + indexPath + ": 'weight_map' lists no tensors");

    for (const auto& [shardName, tensors] : tensorsByShard) {
        const std::string shardPath = dirOrFile + "/" + shardName;
        if (!fs::is_regular_file(shardPath, ec))
            fail("shard file " + shardPath + " listed in " + indexPath +
                 " does not exist (it should hold tensor '" + tensors.front() + "')");
        SafetensorsFile shard = SafetensorsFile::open(shardPath);
        for (const auto& tensor : tensors)
            if (!shard.find(tensor))
                fail("tensor '" + tensor + "' is listed in " + indexPath + " as stored in " +
                     shardPath + ", but that file does not contain it");
        out.addShard(std::move(shard));
    }
    return out;
}

void SafetensorsCheckpoint::addShard(SafetensorsFile shard) {
    for (const auto& view : shard.tensors()) {
        const auto [it, inserted] = m_index.emplace(view.name, &view);
        if (!inserted) {
            const TensorView* other = it->second;
            std::string otherFile;
            for (const auto& s : m_shards)
                if (s.find(other->name) == other)
                    otherFile = s.path();
            fail("tensor '" + view.name + "' appears in two files: " + otherFile + " and " +
                 shard.path());
        }
    }
    m_files.push_back(shard.path());
    std::sort(m_files.begin(), m_files.end());
    // Moving the file object moves its tensor vector's buffer, so the pointers
    // stored in m_index above stay valid.
    m_shards.push_back(std::move(shard));
}

std::vector<std::string> SafetensorsCheckpoint::names() const {
    std::vector<std::string> names;
    names.reserve(m_index.size());
    for (const auto& [name, view] : m_index)
        names.push_back(name);
    std::sort(names.begin(), names.end());
    return names;
}

const TensorView* SafetensorsCheckpoint::find(std::string_view name) const {
    const auto it = m_index.find(name);
    return it == m_index.end() ? nullptr : it->second;
}

const TensorView& SafetensorsCheckpoint::get(std::string_view name) const {
    if (const TensorView* view = find(name))
        return *view;
    fail("tensor '" + std::string(name) + "' not found in " + m_path);
}

// ---- writing ----

void writeSafetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                      const std::map<std::string, std::string>& metadata) {
    json header = json::object();
    std::unordered_set<std::string> seen;
    uint64_t offset = 0;
    for (const auto& t : tensors) {
        if (t.name.empty() || t.name == kMetadataKey)
            failWriteTensor(path, t.name, "the name is empty or reserved");
        if (!seen.insert(t.name).second)
            failWriteTensor(path, t.name, "the name is given twice");
        std::string why;
        const auto numel = checkedNumel(t.shape, dtypeSize(t.dtype), why);
        if (!numel)
            failWriteTensor(path, t.name, why + " " + util::shapeString(t.shape));
        const uint64_t expected = uint64_t(*numel) * dtypeSize(t.dtype);
        if (t.nbytes != expected)
            failWriteTensor(path, t.name, "has " + std::to_string(t.nbytes) + " bytes, but shape " +
                                  util::shapeString(t.shape) + " of " + dtypeName(t.dtype) +
                                  " needs " + std::to_string(expected) + " bytes");
        if (t.nbytes > 0 && !t.data)
            failWriteTensor(path, t.name, "data pointer is null");
        header[t.name] = {{"dtype", dtypeName(t.dtype)},
                          {"shape", t.shape},
                          {"data_offsets", json::array({offset, offset + t.nbytes})}};
        offset += t.nbytes;
    }
    if (!metadata.empty())
        header[kMetadataKey] = metadata;

    std::string text;
    try {
        text = header.dump();
    } catch (const json::exception& e) {
        fail("cannot write safetensors file " + path +
             ": a tensor name or metadata entry is not valid UTF-8: " + e.what());
    }
    // Same padding as the reference writer: the data section starts 8-aligned, so
    // a mapped reader can view the data as typed arrays.
    text.append((8 - text.size() % 8) % 8, ' ');
    uint8_t lengthField[8];
    for (int i = 0; i < 8; ++i)
        lengthField[i] = uint8_t(uint64_t(text.size()) >> (8 * i));

    std::vector<std::span<const uint8_t>> pieces;
    pieces.reserve(tensors.size() + 2);
    pieces.emplace_back(lengthField, 8);
    pieces.emplace_back(reinterpret_cast<const uint8_t*>(text.data()), text.size());
    for (const auto& t : tensors)
        if (t.nbytes > 0)
            pieces.emplace_back(static_cast<const uint8_t*>(t.data), t.nbytes);
    writeFileAtomic(path, pieces);
}

} // namespace ft::io
