// The normalizers of tokenizer.json (see normalizer.h), each with the semantics of the
// Hugging Face `tokenizers` crate's normalizers/*.rs.
#include "tokenizer/normalizer.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/unicode_text.h"

#include <vector>

namespace ft::tok {
namespace {

using jsonf::Json;

class SequenceNormalizer final : public Normalizer {
public:
    explicit SequenceNormalizer(std::vector<std::unique_ptr<Normalizer>> parts) : m_parts(std::move(parts)) {}
    void normalize(std::string& text) const override
    {
        for (const auto& part : m_parts)
            part->normalize(text);
    }

private:
    std::vector<std::unique_ptr<Normalizer>> m_parts;
};

// Prepend/Append leave an empty string empty.
class PrependNormalizer final : public Normalizer {
public:
    PrependNormalizer(std::string prefix, bool append) : m_text(std::move(prefix)), m_append(append) {}
    void normalize(std::string& text) const override
    {
        if (text.empty())
            return;
        if (m_append)
            text += m_text;
        else
            text.insert(0, m_text);
    }

private:
    std::string m_text;
    bool m_append;
};

class ReplaceNormalizer final : public Normalizer {
public:
    ReplaceNormalizer(SplitRegex pattern, std::string content) : m_pattern(std::move(pattern)), m_content(std::move(content)) {}
    void normalize(std::string& text) const override { text = replaceAll(m_pattern, text, m_content); }

private:
    SplitRegex m_pattern;
    std::string m_content;
};

class UnicodeNormalizer final : public Normalizer {
public:
    explicit UnicodeNormalizer(unicode::Form form) : m_form(form) {}
    void normalize(std::string& text) const override { text = unicode::normalize(text, m_form); }

private:
    unicode::Form m_form;
};

class LowercaseNormalizer final : public Normalizer {
public:
    void normalize(std::string& text) const override { text = unicode::lowercase(text); }
};

// Strips White_Space characters at either end.
class StripNormalizer final : public Normalizer {
public:
    StripNormalizer(bool left, bool right) : m_left(left), m_right(right) {}
    void normalize(std::string& text) const override
    {
        size_t begin = 0, end = text.size();
        if (m_left)
            while (begin < end) {
                size_t i = begin;
                if (!unicode::isWhiteSpace(utf8::next(text, i)))
                    break;
                begin = i;
            }
        if (m_right)
            while (end > begin) {
                size_t start = end - 1;
                while (start > begin && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
                    --start;
                size_t i = start;
                if (!unicode::isWhiteSpace(utf8::next(text, i)))
                    break;
                end = start;
            }
        text = text.substr(begin, end - begin);
    }

private:
    bool m_left, m_right;
};

class StripAccentsNormalizer final : public Normalizer {
public:
    void normalize(std::string& text) const override
    {
        std::string out;
        out.reserve(text.size());
        size_t i = 0;
        while (i < text.size()) {
            const size_t start = i;
            if (!unicode::isNonSpacingMark(utf8::next(text, i)))
                out.append(text, start, i - start);
        }
        text = std::move(out);
    }
};

class ByteLevelNormalizer final : public Normalizer {
public:
    void normalize(std::string& text) const override { text = byte_level::encode(text); }
};

} // namespace

SplitRegex patternFromJson(const Json& json, const std::string& where)
{
    jsonf::requireObject(json, where);
    if (const Json* s = jsonf::find(json, "String")) {
        if (!s->is_string())
            jsonf::failAt(jsonf::at(where, "String"), "expected a string, found " + s->dump());
        return SplitRegex::literal(s->get<std::string>(), jsonf::at(where, "String"));
    }
    if (const Json* r = jsonf::find(json, "Regex")) {
        if (!r->is_string())
            jsonf::failAt(jsonf::at(where, "Regex"), "expected a string, found " + r->dump());
        return SplitRegex(r->get<std::string>(), jsonf::at(where, "Regex"));
    }
    jsonf::failAt(where, "expected {\"String\": ...} or {\"Regex\": ...}, found " + json.dump());
}

std::string replaceAll(const SplitRegex& pattern, const std::string& text, const std::string& content)
{
    std::vector<std::pair<size_t, size_t>> matches;
    pattern.findAll(text, matches);
    if (matches.empty())
        return text;
    std::string out;
    out.reserve(text.size() + matches.size() * content.size());
    size_t last = 0;
    for (const auto& [begin, end] : matches) {
        out.append(text, last, begin - last);
        out += content;
        last = end;
    }
    out.append(text, last, std::string::npos);
    return out;
}

std::unique_ptr<Normalizer> makeNormalizer(const Json& json, const std::string& where)
{
    const std::string type = jsonf::typeOf(json, where);
    if (type == "Sequence") {
        const Json& list = jsonf::requiredArray(json, "normalizers", where);
        std::vector<std::unique_ptr<Normalizer>> parts;
        for (size_t i = 0; i < list.size(); ++i)
            parts.push_back(makeNormalizer(list[i], jsonf::at(jsonf::at(where, "normalizers"), i)));
        return std::make_unique<SequenceNormalizer>(std::move(parts));
    }
    if (type == "Prepend")
        return std::make_unique<PrependNormalizer>(jsonf::requiredString(json, "prepend", where), false);
    if (type == "Append")
        return std::make_unique<PrependNormalizer>(jsonf::requiredString(json, "append", where), true);
    if (type == "Replace") {
        const Json* pattern = jsonf::find(json, "pattern");
        if (!pattern)
            jsonf::failAt(where, "the field \"pattern\" is missing");
        return std::make_unique<ReplaceNormalizer>(patternFromJson(*pattern, jsonf::at(where, "pattern")),
                                                   jsonf::requiredString(json, "content", where));
    }
    if (type == "NFC")
        return std::make_unique<UnicodeNormalizer>(unicode::Form::NFC);
    if (type == "NFD")
        return std::make_unique<UnicodeNormalizer>(unicode::Form::NFD);
    if (type == "NFKC")
        return std::make_unique<UnicodeNormalizer>(unicode::Form::NFKC);
    if (type == "NFKD")
        return std::make_unique<UnicodeNormalizer>(unicode::Form::NFKD);
    if (type == "Lowercase")
        return std::make_unique<LowercaseNormalizer>();
    if (type == "Strip")
        return std::make_unique<StripNormalizer>(jsonf::boolOr(json, "strip_left", true, where),
                                                 jsonf::boolOr(json, "strip_right", true, where));
    if (type == "StripAccents")
        return std::make_unique<StripAccentsNormalizer>();
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelNormalizer>();
    jsonf::failAt(where, "the normalizer type \"" + type +
                             "\" is not supported (supported: Sequence, Prepend, Append, Replace, NFC, NFD, NFKC, "
                             "NFKD, Lowercase, Strip, StripAccents, ByteLevel)");
}

} // namespace ft::tok
