#include "io/gguf.h"

#include "util/error.h"

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <unistd.h>

namespace ft::io {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian u32
constexpr int kMaxDims = 4;               // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 4;

template <typename T>
void putLE(std::vector<uint8_t>& out, T v)
{
    uint8_t bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));  // this project builds for little-endian hosts only
    out.insert(out.end(), bytes, bytes + sizeof(T));
}

void putString(std::vector<uint8_t>& out, const std::string& s)
{
    putLE<uint64_t>(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

void putValue(std::vector<uint8_t>& out, const GgufValue& value);

void putPayload(std::vector<uint8_t>& out, const GgufValue& value)
{
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>)
                putString(out, x);
            else if constexpr (std::is_same_v<T, GgufArray>) {
                putLE<uint32_t>(out, uint32_t(x.type));
                putLE<uint64_t>(out, x.items.size());
                for (const auto& item : x.items) {
                    if (item.type() != x.type)
                        fail(std::string("internal: a GGUF array of ") + ggufValueTypeName(x.type) + " holds a " +
                             ggufValueTypeName(item.type()));
                    putPayload(out, item);
                }
            } else if constexpr (std::is_same_v<T, bool>)
                putLE<uint8_t>(out, x ? 1 : 0);
            else
                putLE<T>(out, x);
        },
        value.v);
}

void putValue(std::vector<uint8_t>& out, const GgufValue& value)
{
    putLE<uint32_t>(out, uint32_t(value.type()));
    putPayload(out, value);
}

uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Bounds-checked little-endian reading of the mapped header.
class Cursor {
public:
    Cursor(const uint8_t* data, size_t size, const std::string& path) : m_data(data), m_size(size), m_path(path) {}

    [[noreturn]] void error(const std::string& what) const
    {
        fail(m_path + ": not a valid GGUF file: at byte offset " + std::to_string(m_at) + ": " + what);
    }
    size_t at() const { return m_at; }
    size_t left() const { return m_size - m_at; }

    template <typename T>
    T get(const std::string& what)
    {
        if (left() < sizeof(T))
            error(what + " is cut off (the file ends after " + std::to_string(m_size) + " bytes)");
        T v;
        std::memcpy(&v, m_data + m_at, sizeof(T));
        m_at += sizeof(T);
        return v;
    }
    std::string string(const std::string& what)
    {
        const uint64_t n = get<uint64_t>(what + " (length)");
        if (n > left())
            error(what + " claims " + std::to_string(n) + " bytes but only " + std::to_string(left()) + " remain");
        std::string s(reinterpret_cast<const char*>(m_data + m_at), size_t(n));
        m_at += size_t(n);
        return s;
    }

private:
    const uint8_t* m_data;
    size_t m_size;
    std::string m_path;
    size_t m_at = 0;
};

GgufValueType readType(Cursor& c, const std::string& what)
{
    const uint32_t t = c.get<uint32_t>(what);
    if (t > uint32_t(GgufValueType::F64))
        c.error(what + " has unknown value type " + std::to_string(t) + " (0-12 are defined)");
    return GgufValueType(t);
}

GgufValue readPayload(Cursor& c, GgufValueType type, const std::string& what, int depth)
{
    GgufValue v;
    switch (type) {
    case GgufValueType::U8: v.v = c.get<uint8_t>(what); break;
    case GgufValueType::I8: v.v = c.get<int8_t>(what); break;
    case GgufValueType::U16: v.v = c.get<uint16_t>(what); break;
    case GgufValueType::I16: v.v = c.get<int16_t>(what); break;
    case GgufValueType::U32: v.v = c.get<uint32_t>(what); break;
    case GgufValueType::I32: v.v = c.get<int32_t>(what); break;
    case GgufValueType::F32: v.v = c.get<float>(what); break;
    case GgufValueType::Bool: {
        const uint8_t b = c.get<uint8_t>(what);
        if (b > 1)
            c.error(what + " is a bool stored as " + std::to_string(b) + " (0 or 1 expected)");
        v.v = b == 1;
        break;
    }
    case GgufValueType::String: v.v = c.string(what); break;
    case GgufValueType::U64: v.v = c.get<uint64_t>(what); break;
    case GgufValueType::I64: v.v = c.get<int64_t>(what); break;
    case GgufValueType::F64: v.v = c.get<double>(what); break;
    case GgufValueType::Array: {
        if (depth >= kMaxArrayDepth)
            c.error(what + " nests arrays deeper than " + std::to_string(kMaxArrayDepth));
        GgufArray a;
        a.type = readType(c, what + " (element type)");
        const uint64_t n = c.get<uint64_t>(what + " (element count)");
        if (n > c.left())  // every element takes at least one byte
            c.error(what + " claims " + std::to_string(n) + " elements but only " + std::to_string(c.left()) +
                    " bytes remain");
        a.items.reserve(size_t(n));
        for (uint64_t i = 0; i < n; ++i)
            a.items.push_back(readPayload(c, a.type, what + "[" + std::to_string(i) + "]", depth + 1));
        v.v = std::move(a);
        break;
    }
    }
    return v;
}

} // namespace

const char* ggufValueTypeName(GgufValueType type)
{
    static const char* names[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64"};
    return uint32_t(type) <= 12 ? names[uint32_t(type)] : "unknown";
}

int64_t GgufValue::asInt(const std::string& key) const
{
    return std::visit(
        [&](const auto& x) -> int64_t {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool>)
                return int64_t(x);
            else
                fail("GGUF key '" + key + "' is a " + ggufValueTypeName(type()) + ", an integer was expected");
        },
        v);
}

double GgufValue::asDouble(const std::string& key) const
{
    return std::visit(
        [&](const auto& x) -> double {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
                return double(x);
            else
                fail("GGUF key '" + key + "' is a " + ggufValueTypeName(type()) + ", a number was expected");
        },
        v);
}

const std::string& GgufValue::asString(const std::string& key) const
{
    if (const auto* s = std::get_if<std::string>(&v))
        return *s;
    fail("GGUF key '" + key + "' is a " + ggufValueTypeName(type()) + ", a string was expected");
}

const GgufArray& GgufValue::asArray(const std::string& key) const
{
    if (const auto* a = std::get_if<GgufArray>(&v))
        return *a;
    fail("GGUF key '" + key + "' is a " + ggufValueTypeName(type()) + ", an array was expected");
}

std::string GgufValue::summary(size_t maxItems) const
{
    std::ostringstream o;
    std::visit(
        [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, std::string>) {
                std::string s = x.size() > 80 ? x.substr(0, 77) + "..." : x;
                for (char& ch : s)
                    if (ch == '\n')
                        ch = ' ';
                o << '"' << s << '"';
            } else if constexpr (std::is_same_v<T, GgufArray>) {
                o << "[" << x.items.size() << " x " << ggufValueTypeName(x.type) << "]";
                for (size_t i = 0; i < std::min(maxItems, x.items.size()); ++i)
                    o << (i ? ", " : " ") << x.items[i].summary(0);
                if (x.items.size() > maxItems)
                    o << ", ...";
            } else if constexpr (std::is_same_v<T, bool>)
                o << (x ? "true" : "false");
            else if constexpr (std::is_same_v<T, uint8_t> || std::is_same_v<T, int8_t>)
                o << int(x);
            else
                o << x;
        },
        v);
    return o.str();
}

GgufValue ggufStrings(const std::vector<std::string>& items)
{
    GgufArray a{GgufValueType::String, {}};
    a.items.reserve(items.size());
    for (const auto& s : items)
        a.items.push_back(GgufValue{s});
    return GgufValue{std::move(a)};
}

GgufValue ggufF32s(const std::vector<float>& items)
{
    GgufArray a{GgufValueType::F32, {}};
    a.items.reserve(items.size());
    for (float f : items)
        a.items.push_back(GgufValue{f});
    return GgufValue{std::move(a)};
}

GgufValue ggufI32s(const std::vector<int32_t>& items)
{
    GgufArray a{GgufValueType::I32, {}};
    a.items.reserve(items.size());
    for (int32_t i : items)
        a.items.push_back(GgufValue{i});
    return GgufValue{std::move(a)};
}

int64_t GgufTensorInfo::numel() const
{
    int64_t n = 1;
    for (int64_t d : dims)
        n *= d;
    return n;
}

size_t GgufTensorInfo::nbytes() const
{
    if (dims.empty())
        return ggmlRowBytes(type, 1);
    return ggmlRowBytes(type, dims[0]) * size_t(numel() / std::max<int64_t>(1, dims[0]));
}

// ---------------------------------------------------------------- writer

GgufWriter::GgufWriter(uint32_t alignment) : m_alignment(alignment)
{
    if (alignment == 0 || (alignment & (alignment - 1)) != 0)
        fail("internal: GGUF alignment must be a power of two");
    if (alignment != 32)
        set("general.alignment", GgufValue{alignment});
}

void GgufWriter::set(const std::string& key, GgufValue value)
{
    for (auto& [k, v] : m_kv)
        if (k == key) {
            v = std::move(value);
            return;
        }
    m_kv.emplace_back(key, std::move(value));
}

void GgufWriter::addTensor(const std::string& name, std::vector<int64_t> dims, GgmlType type, Fill fill)
{
    for (const auto& t : m_tensors)
        if (t.info.name == name)
            fail("internal: GGUF tensor '" + name + "' added twice");
    if (dims.empty() || int(dims.size()) > kMaxDims)
        fail("internal: GGUF tensor '" + name + "' must have 1 to 4 dimensions");
    GgufTensorInfo info{name, std::move(dims), type, 0};
    info.nbytes();  // checks the row length against the block size
    uint64_t offset = 0;
    if (!m_tensors.empty()) {
        const auto& last = m_tensors.back().info;
        offset = alignUp(last.offset + last.nbytes(), m_alignment);
    }
    info.offset = offset;
    m_tensors.push_back({std::move(info), std::move(fill)});
}

size_t GgufWriter::tensorBytes() const
{
    size_t n = 0;
    for (const auto& t : m_tensors)
        n += t.info.nbytes();
    return n;
}

void GgufWriter::write(const std::string& path, const std::function<void(size_t, size_t)>& progress) const
{
    std::vector<uint8_t> head;
    putLE<uint32_t>(head, kMagic);
    putLE<uint32_t>(head, 3);
    putLE<uint64_t>(head, m_tensors.size());
    putLE<uint64_t>(head, m_kv.size());
    for (const auto& [key, value] : m_kv) {
        putString(head, key);
        putValue(head, value);
    }
    for (const auto& t : m_tensors) {
        putString(head, t.info.name);
        putLE<uint32_t>(head, uint32_t(t.info.dims.size()));
        for (int64_t d : t.info.dims)
            putLE<uint64_t>(head, uint64_t(d));
        putLE<uint32_t>(head, uint32_t(t.info.type));
        putLE<uint64_t>(head, t.info.offset);
    }
    head.resize(alignUp(head.size(), m_alignment), 0);

    const std::string tmp = path + ".tmp";
    FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
        fail("cannot write '" + tmp + "': " + std::strerror(errno));
    auto abort = [&](const std::string& why) {
        std::fclose(f);
        std::remove(tmp.c_str());
        fail(why);
    };
    auto put = [&](const uint8_t* data, size_t n) {
        if (n && std::fwrite(data, 1, n, f) != n)
            abort("cannot write '" + tmp + "': " + std::strerror(errno));
    };
    put(head.data(), head.size());
    const size_t total = tensorBytes();
    size_t done = 0, written = 0;
    static const uint8_t zeros[64] = {};
    for (const auto& t : m_tensors) {
        // Pad to this tensor's offset (the previous one may end unaligned).
        while (written < t.info.offset) {
            const size_t n = std::min<size_t>(sizeof zeros, t.info.offset - written);
            put(zeros, n);
            written += n;
        }
        size_t got = 0;
        const size_t want = t.info.nbytes();
        try {
            t.fill([&](const uint8_t* data, size_t n) {
                if (got + n > want)
                    fail("internal: tensor '" + t.info.name + "' produced more than its " + std::to_string(want) + " bytes");
                put(data, n);
                got += n;
            });
        } catch (const std::exception& e) {
            abort(e.what());
        }
        if (got != want)
            abort("internal: tensor '" + t.info.name + "' produced " + std::to_string(got) + " of its " +
                  std::to_string(want) + " bytes");
        written += got;
        done += got;
        if (progress)
            progress(done, total);
    }
    if (std::fflush(f) != 0 || ::fsync(fileno(f)) != 0)
        abort("cannot write '" + tmp + "': " + std::strerror(errno));
    if (std::fclose(f) != 0) {
        std::remove(tmp.c_str());
        fail("cannot write '" + tmp + "': " + std::strerror(errno));
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::remove(tmp.c_str());
        fail("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
    }
}

// ---------------------------------------------------------------- reader

GgufFile GgufFile::open(const std::string& path)
{
    GgufFile g;
    g.m_file = std::make_unique<MappedFile>(MappedFile::open(path));
    Cursor c(g.m_file->data(), g.m_file->size(), path);
    if (c.get<uint32_t>("the magic number") != kMagic)
        c.error("the file does not start with \"GGUF\"");
    g.m_version = c.get<uint32_t>("the version");
    if (g.m_version != 2 && g.m_version != 3)
        c.error("format version " + std::to_string(g.m_version) + " is not supported (2 and 3 are)");
    const uint64_t nTensors = c.get<uint64_t>("the tensor count");
    const uint64_t nKv = c.get<uint64_t>("the metadata count");
    if (nKv > c.left() / 13)  // key length (8) + at least 1 byte, type (4)
        c.error("the metadata count " + std::to_string(nKv) + " is more than the file can hold");
    if (nTensors > c.left() / 24)
        c.error("the tensor count " + std::to_string(nTensors) + " is more than the file can hold");
    for (uint64_t i = 0; i < nKv; ++i) {
        const std::string key = c.string("metadata key #" + std::to_string(i));
        for (const auto& [k, v] : g.m_kv)
            if (k == key)
                c.error("metadata key '" + key + "' appears twice");
        const GgufValueType type = readType(c, "the type of key '" + key + "'");
        g.m_kv.emplace_back(key, readPayload(c, type, "the value of key '" + key + "'", 0));
    }
    if (const GgufValue* a = g.find("general.alignment")) {
        if (a->type() != GgufValueType::U32)
            c.error("key 'general.alignment' is a " + std::string(ggufValueTypeName(a->type())) + ", u32 expected");
        const uint32_t al = std::get<uint32_t>(a->v);
        if (al == 0 || (al & (al - 1)) != 0)
            c.error("key 'general.alignment' is " + std::to_string(al) + ", not a power of two");
        g.m_alignment = al;
    }
    for (uint64_t i = 0; i < nTensors; ++i) {
        GgufTensorInfo t;
        t.name = c.string("the name of tensor #" + std::to_string(i));
        const std::string what = "tensor '" + t.name + "'";
        const uint32_t nDims = c.get<uint32_t>(what + " (dimension count)");
        if (nDims == 0 || nDims > uint32_t(kMaxDims))
            c.error(what + " has " + std::to_string(nDims) + " dimensions (1 to 4 allowed)");
        int64_t numel = 1;
        for (uint32_t d = 0; d < nDims; ++d) {
            const uint64_t dim = c.get<uint64_t>(what + " (dimension " + std::to_string(d) + ")");
            // numel <= 2^50 here, so compare by division: the product could wrap (found by fuzzing).
            if (dim == 0 || dim > (uint64_t(1) << 40) || dim > (uint64_t(1) << 50) / uint64_t(numel))
                c.error(what + " has an impossible dimension " + std::to_string(dim));
            t.dims.push_back(int64_t(dim));
            numel *= int64_t(dim);
        }
        const uint32_t typeId = c.get<uint32_t>(what + " (type)");
        const auto info = ggmlTypeInfo(typeId);
        if (!info)
            c.error(what + " has ggml type " + std::to_string(typeId) + ", which this reader does not know");
        t.type = info->type;
        if (t.dims[0] % info->blockSize != 0)
            c.error(what + " has rows of " + std::to_string(t.dims[0]) + " elements, not a multiple of " + info->name +
                    "'s block of " + std::to_string(info->blockSize));
        t.offset = c.get<uint64_t>(what + " (data offset)");
        if (t.offset % g.m_alignment != 0)
            c.error(what + " starts at data offset " + std::to_string(t.offset) + ", not a multiple of the alignment " +
                    std::to_string(g.m_alignment));
        for (const auto& other : g.m_tensors)
            if (other.name == t.name)
                c.error(what + " appears twice");
        g.m_tensors.push_back(std::move(t));
    }
    g.m_dataOffset = alignUp(c.at(), g.m_alignment);
    const uint64_t fileSize = g.m_file->size();
    for (const auto& t : g.m_tensors) {
        const uint64_t end = g.m_dataOffset + t.offset + t.nbytes();
        if (g.m_dataOffset + t.offset < g.m_dataOffset || end > fileSize)
            fail(path + ": not a valid GGUF file: tensor '" + t.name + "' needs bytes " +
                 std::to_string(g.m_dataOffset + t.offset) + " to " + std::to_string(end) + " but the file has " +
                 std::to_string(fileSize));
    }
    return g;
}

const GgufValue* GgufFile::find(const std::string& key) const
{
    for (const auto& [k, v] : m_kv)
        if (k == key)
            return &v;
    return nullptr;
}

const GgufTensorInfo* GgufFile::findTensor(const std::string& name) const
{
    for (const auto& t : m_tensors)
        if (t.name == name)
            return &t;
    return nullptr;
}

const uint8_t* GgufFile::tensorData(const GgufTensorInfo& info) const
{
    return m_file->data() + m_dataOffset + info.offset;
}

std::vector<float> GgufFile::dequantize(const GgufTensorInfo& info) const
{
    std::vector<float> out(size_t(info.numel()));
    const int64_t row = info.dims[0];
    const size_t rowBytes = ggmlRowBytes(info.type, row);
    const uint8_t* data = tensorData(info);
    for (int64_t r = 0; r < info.numel() / row; ++r)
        dequantizeRow(info.type, data + size_t(r) * rowBytes, std::span<float>(out.data() + r * row, size_t(row)));
    return out;
}

} // namespace ft::io
