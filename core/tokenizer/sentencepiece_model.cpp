#include "tokenizer/sentencepiece_model.h"

#include "io/mapped_file.h"
#include "util/error.h"

#include <cstring>

namespace ft::tok {
namespace {

// Protobuf wire format, only what ModelProto uses: varints, fixed32, length-delimited.
class Reader {
public:
    Reader(const uint8_t* begin, const uint8_t* end, const std::string& path, const uint8_t* base)
        : m_p(begin), m_end(end), m_path(path), m_base(base) {}

    bool done() const { return m_p >= m_end; }
    [[noreturn]] void error(const std::string& what) const
    {
        fail(m_path + ": not a valid sentencepiece model: at byte offset " + std::to_string(m_p - m_base) + ": " + what);
    }
    uint64_t varint()
    {
        uint64_t v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (m_p >= m_end)
                error("a varint is cut off");
            const uint8_t b = *m_p++;
            v |= uint64_t(b & 0x7f) << shift;
            if (!(b & 0x80))
                return v;
        }
        error("a varint is longer than 10 bytes");
    }
    float fixed32()
    {
        if (m_end - m_p < 4)
            error("a 32-bit field is cut off");
        float f;
        std::memcpy(&f, m_p, 4);
        m_p += 4;
        return f;
    }
    Reader sub()
    {
        const uint64_t n = varint();
        if (n > uint64_t(m_end - m_p))
            error("a field claims " + std::to_string(n) + " bytes but only " + std::to_string(m_end - m_p) + " remain");
        Reader r(m_p, m_p + n, m_path, m_base);
        m_p += n;
        return r;
    }
    std::string bytes()
    {
        Reader r = sub();
        return std::string(reinterpret_cast<const char*>(r.m_p), size_t(r.m_end - r.m_p));
    }
    void skip(uint32_t wire)
    {
        switch (wire) {
        case 0: varint(); return;
        case 1:
            if (m_end - m_p < 8)
                error("a 64-bit field is cut off");
            m_p += 8;
            return;
        case 2: sub(); return;
        case 5: fixed32(); return;
        default: error("unsupported wire type " + std::to_string(wire));
        }
    }

private:
    const uint8_t* m_p;
    const uint8_t* m_end;
    const std::string& m_path;
    const uint8_t* m_base;
};

SentencePieceModel::Piece readPiece(Reader r)
{
    SentencePieceModel::Piece piece;
    while (!r.done()) {
        const uint64_t tag = r.varint();
        const uint32_t field = uint32_t(tag >> 3), wire = uint32_t(tag & 7);
        if (field == 1 && wire == 2)
            piece.text = r.bytes();
        else if (field == 2 && wire == 5)
            piece.score = r.fixed32();
        else if (field == 3 && wire == 0) {
            const uint64_t t = r.varint();
            if (t < 1 || t > 6)
                r.error("piece '" + piece.text + "' has unknown type " + std::to_string(t));
            piece.type = SentencePieceModel::PieceType(t);
        } else
            r.skip(wire);
    }
    return piece;
}

void readTrainerSpec(Reader r, SentencePieceModel& m)
{
    static const char* kTypes[] = {"", "unigram", "bpe", "word", "char"};
    while (!r.done()) {
        const uint64_t tag = r.varint();
        const uint32_t field = uint32_t(tag >> 3), wire = uint32_t(tag & 7);
        if (wire != 0) {
            r.skip(wire);
            continue;
        }
        const uint64_t v = r.varint();
        switch (field) {
        case 3:
            if (v < 1 || v > 4)
                r.error("unknown model type " + std::to_string(v));
            m.modelType = kTypes[v];
            break;
        case 35: m.byteFallback = v != 0; break;
        case 40: m.unkId = int32_t(v); break;
        case 41: m.bosId = int32_t(v); break;
        case 42: m.eosId = int32_t(v); break;
        case 43: m.padId = int32_t(v); break;
        default: break;
        }
    }
}

void readNormalizerSpec(Reader r, SentencePieceModel& m)
{
    while (!r.done()) {
        const uint64_t tag = r.varint();
        const uint32_t field = uint32_t(tag >> 3), wire = uint32_t(tag & 7);
        if (field == 1 && wire == 2)
            m.normalizerName = r.bytes();
        else if (field == 3 && wire == 0)
            m.addDummyPrefix = r.varint() != 0;
        else if (field == 4 && wire == 0)
            m.removeExtraWhitespaces = r.varint() != 0;
        else
            r.skip(wire);
    }
}

} // namespace

SentencePieceModel readSentencePieceModel(const std::string& path)
{
    const io::MappedFile file = io::MappedFile::open(path);
    SentencePieceModel m;
    Reader r(file.data(), file.data() + file.size(), path, file.data());
    while (!r.done()) {
        const uint64_t tag = r.varint();
        const uint32_t field = uint32_t(tag >> 3), wire = uint32_t(tag & 7);
        if (field == 1 && wire == 2)
            m.pieces.push_back(readPiece(r.sub()));
        else if (field == 2 && wire == 2)
            readTrainerSpec(r.sub(), m);
        else if (field == 3 && wire == 2)
            readNormalizerSpec(r.sub(), m);
        else
            r.skip(wire);
    }
    if (m.pieces.empty())
        fail(path + ": not a valid sentencepiece model: it has no pieces");
    return m;
}

} // namespace ft::tok
