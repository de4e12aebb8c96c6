// The decoders of tokenizer.json (see decoder.h), each following decoders/*.rs of the
// Hugging Face `tokenizers` crate.
#include "tokenizer/decoder.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/unicode_text.h"

#include <algorithm>
#include <utility>

namespace ft::tok {
namespace {

using jsonf::Json;

class SequenceDecoder final : public Decoder {
public:
    explicit SequenceDecoder(std::vector<std::unique_ptr<Decoder>> parts) : m_parts(std::move(parts)) {}
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (const auto& part : m_parts)
            part->decodeChain(tokens);
    }

private:
    std::vector<std::unique_ptr<Decoder>> m_parts;
};

// All tokens back to bytes, then one lossily decoded string.
class ByteLevelDecoder final : public Decoder {
public:
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        std::string bytes;
        for (const std::string& token : tokens)
            byte_level::decodeTokenAppend(token, bytes);
        tokens.assign(1, utf8::isValid(bytes) ? std::move(bytes) : utf8::sanitize(bytes));
    }
};

// The replacement character becomes a space, except that the first token drops it
// entirely unless nothing was prepended when encoding (prepend_scheme "never").
class MetaspaceDecoder final : public Decoder {
public:
    MetaspaceDecoder(char32_t replacement, bool prependNever) : m_prependNever(prependNever)
    {
        utf8::append(m_rep, replacement);
    }
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (size_t t = 0; t < tokens.size(); ++t) {
            const std::string& token = tokens[t];
            std::string out;
            out.reserve(token.size());
            for (size_t i = 0; i < token.size();) {
                if (token.compare(i, m_rep.size(), m_rep) == 0) {
                    if (t != 0 || m_prependNever)
                        out += ' ';
                    i += m_rep.size();
                } else {
                    out += token[i++];
                }
            }
            tokens[t] = std::move(out);
        }
    }

private:
    std::string m_rep;
    bool m_prependNever;
};

// Runs of <0xNN> tokens become their bytes when those form valid UTF-8, else one
// U+FFFD per byte.
class ByteFallbackDecoder final : public Decoder {
public:
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        std::vector<std::string> out;
        out.reserve(tokens.size());
        std::string pending;
        const auto flush = [&] {
            if (pending.empty())
                return;
            if (utf8::isValid(pending))
                out.push_back(pending);
            else
                for (size_t i = 0; i < pending.size(); ++i)
                    out.emplace_back("\xEF\xBF\xBD");
            pending.clear();
        };
        for (std::string& token : tokens) {
            const int byte = byteToken(token);
            if (byte >= 0) {
                pending += char(byte);
                continue;
            }
            flush();
            out.push_back(std::move(token));
        }
        flush();
        tokens = std::move(out);
    }

private:
    static int hexDigit(char c)
    {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    }
    static int byteToken(const std::string& token)
    {
        if (token.size() != 6 || token.compare(0, 3, "<0x") != 0 || token[5] != '>')
            return -1;
        const int hi = hexDigit(token[3]), lo = hexDigit(token[4]);
        return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
    }
};

class FuseDecoder final : public Decoder {
public:
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        std::string all;
        for (const std::string& token : tokens)
            all += token;
        tokens.assign(1, std::move(all));
    }
};

// Removes up to `start` leading and `stop` trailing `content` characters of each token.
class StripDecoder final : public Decoder {
public:
    StripDecoder(char32_t content, size_t start, size_t stop) : m_content(content), m_start(start), m_stop(stop) {}
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (std::string& token : tokens) {
            std::vector<std::pair<size_t, char32_t>> chars; // (byte offset, character)
            for (size_t i = 0; i < token.size();) {
                const size_t at = i;
                chars.emplace_back(at, utf8::next(token, i));
            }
            size_t startCut = 0;
            for (size_t i = 0; i < m_start && i < chars.size() && chars[i].second == m_content; ++i)
                startCut = i + 1;
            size_t stopCut = chars.size();
            for (size_t i = 0; i < std::min(m_stop, chars.size() - startCut); ++i) {
                const size_t index = chars.size() - i - 1;
                if (chars[index].second != m_content)
                    break;
                stopCut = index;
            }
            const size_t begin = startCut < chars.size() ? chars[startCut].first : token.size();
            const size_t end = stopCut < chars.size() ? chars[stopCut].first : token.size();
            token = token.substr(begin, end - begin);
        }
    }

private:
    char32_t m_content;
    size_t m_start, m_stop;
};

class ReplaceDecoder final : public Decoder {
public:
    ReplaceDecoder(SplitRegex pattern, std::string content) : m_pattern(std::move(pattern)), m_content(std::move(content)) {}
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        for (std::string& token : tokens)
            token = replaceAll(m_pattern, token, m_content);
    }

private:
    SplitRegex m_pattern;
    std::string m_content;
};

// The end-of-word suffix becomes a space, or nothing in the last token.
class BpeSuffixDecoder final : public Decoder {
public:
    explicit BpeSuffixDecoder(std::string suffix) : m_suffix(std::move(suffix)) {}
    void decodeChain(std::vector<std::string>& tokens) const override
    {
        if (m_suffix.empty())
            return;
        for (size_t t = 0; t < tokens.size(); ++t) {
            const std::string replacement = t + 1 == tokens.size() ? "" : " ";
            std::string& token = tokens[t];
            for (size_t at = token.find(m_suffix); at != std::string::npos;
                 at = token.find(m_suffix, at + replacement.size())) {
                token.replace(at, m_suffix.size(), replacement);
            }
        }
    }

private:
    std::string m_suffix;
};

} // namespace

size_t streamableLength(std::string_view decoded)
{
    size_t end = decoded.size();
    // An incomplete sequence at the very end (a decoder that kept raw bytes).
    size_t lead = end;
    while (lead > 0 && end - lead < 3 && (static_cast<unsigned char>(decoded[lead - 1]) & 0xC0) == 0x80)
        --lead;
    if (lead > 0) {
        const auto c = static_cast<unsigned char>(decoded[lead - 1]);
        if (c >= 0xC0 && utf8::sequenceLength(c) > end - lead + 1)
            end = lead - 1;
    }
    static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
    for (int k = 0; k < 3 && end >= kReplacement.size() &&
                    decoded.substr(end - kReplacement.size(), kReplacement.size()) == kReplacement;
         ++k)
        end -= kReplacement.size();
    return end;
}

std::unique_ptr<Decoder> makeDecoder(const Json& json, const std::string& where)
{
    const std::string type = jsonf::typeOf(json, where);
    if (type == "Sequence") {
        const Json& list = jsonf::requiredArray(json, "decoders", where);
        std::vector<std::unique_ptr<Decoder>> parts;
        for (size_t i = 0; i < list.size(); ++i)
            parts.push_back(makeDecoder(list[i], jsonf::at(jsonf::at(where, "decoders"), i)));
        return std::make_unique<SequenceDecoder>(std::move(parts));
    }
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelDecoder>();
    if (type == "Metaspace") {
        const auto scheme = jsonf::optionalString(json, "prepend_scheme", where);
        const bool never = (scheme && *scheme == "never") || !jsonf::boolOr(json, "add_prefix_space", true, where);
        return std::make_unique<MetaspaceDecoder>(jsonf::requiredChar(json, "replacement", where), never);
    }
    if (type == "ByteFallback")
        return std::make_unique<ByteFallbackDecoder>();
    if (type == "Fuse")
        return std::make_unique<FuseDecoder>();
    if (type == "Strip") {
        const long long start = jsonf::intOr(json, "start", 0, where), stop = jsonf::intOr(json, "stop", 0, where);
        if (start < 0 || stop < 0)
            jsonf::failAt(where, "start and stop must not be negative");
        return std::make_unique<StripDecoder>(jsonf::requiredChar(json, "content", where), size_t(start),
                                              size_t(stop));
    }
    if (type == "Replace") {
        const Json* pattern = jsonf::find(json, "pattern");
        if (!pattern)
            jsonf::failAt(where, "the field \"pattern\" is missing");
        return std::make_unique<ReplaceDecoder>(patternFromJson(*pattern, jsonf::at(where, "pattern")),
                                                jsonf::requiredString(json, "content", where));
    }
    if (type == "BPEDecoder")
        return std::make_unique<BpeSuffixDecoder>(
            jsonf::optionalString(json, "suffix", where).value_or("</w>"));
    jsonf::failAt(where, "the decoder type \"" + type +
                             "\" is not supported (supported: ByteLevel, Metaspace, ByteFallback, Fuse, Strip, "
                             "Replace, BPEDecoder, Sequence)");
}

} // namespace ft::tok
