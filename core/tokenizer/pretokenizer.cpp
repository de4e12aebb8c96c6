// The pre-tokenizers of tokenizer.json (see pretokenizer.h). Splitting follows
// NormalizedString::split of the Rust crate: the text is cut into alternating
// (match / not match) ranges, the behaviour merges or drops ranges, empty ones vanish.
#include "tokenizer/pretokenizer.h"

#include "tokenizer/byte_level.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/split_regex.h"
#include "tokenizer/unicode_text.h"

#include <algorithm>
#include <utility>

namespace ft::tok {

const char* const kGpt2SplitPattern = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";

namespace {

using jsonf::Json;
using Ranges = std::vector<std::pair<size_t, size_t>>;

enum class Behavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

struct Range {
    size_t begin, end;
    bool flag; // "is a match" going in, "remove" coming out
};

// Cuts `piece` at `matches` (sorted, non-overlapping) and appends the kept pieces.
void splitPiece(const PreToken& piece, const Ranges& matches, bool invert, Behavior behavior, std::vector<PreToken>& out)
{
    const std::string& text = piece.text;
    if (behavior == Behavior::Isolated) { // the common case, without the bookkeeping
        size_t last = 0;
        for (const auto& [begin, end] : matches) {
            if (last < begin)
                out.push_back({text.substr(last, begin - last), piece.atStart && last == 0});
            out.push_back({text.substr(begin, end - begin), piece.atStart && begin == 0});
            last = end;
        }
        if (last < text.size())
            out.push_back({text.substr(last), piece.atStart && last == 0});
        return;
    }
    std::vector<Range> ranges;
    ranges.reserve(matches.size() * 2 + 1);
    size_t last = 0;
    for (const auto& [begin, end] : matches) {
        if (last < begin)
            ranges.push_back({last, begin, invert});
        ranges.push_back({begin, end, !invert});
        last = end;
    }
    if (last < text.size())
        ranges.push_back({last, text.size(), invert});

    std::vector<Range> kept;
    kept.reserve(ranges.size());
    bool previousMatch = false;
    switch (behavior) {
    case Behavior::Isolated: // handled above
    case Behavior::Removed:
        kept = ranges;
        break;
    case Behavior::Contiguous:
        for (const Range& r : ranges) {
            if (r.flag == previousMatch && !kept.empty())
                kept.back().end = r.end;
            else
                kept.push_back({r.begin, r.end, false});
            previousMatch = r.flag;
        }
        break;
    case Behavior::MergedWithPrevious:
        for (const Range& r : ranges) {
            if (r.flag && !previousMatch && !kept.empty())
                kept.back().end = r.end;
            else
                kept.push_back({r.begin, r.end, false});
            previousMatch = r.flag;
        }
        break;
    case Behavior::MergedWithNext:
        for (auto it = ranges.rbegin(); it != ranges.rend(); ++it) {
            if (it->flag && !previousMatch && !kept.empty())
                kept.back().begin = it->begin;
            else
                kept.push_back({it->begin, it->end, false});
            previousMatch = it->flag;
        }
        std::reverse(kept.begin(), kept.end());
        break;
    }
    for (const Range& r : kept)
        if (!r.flag && r.end > r.begin)
            out.push_back({text.substr(r.begin, r.end - r.begin), piece.atStart && r.begin == 0});
}

// Each character for which `pred` holds is a match of its own (Rust's char patterns).
template <typename Pred>
Ranges charMatches(const std::string& text, Pred pred)
{
    Ranges matches;
    size_t i = 0;
    while (i < text.size()) {
        const size_t start = i;
        if (pred(utf8::next(text, i)))
            matches.emplace_back(start, i);
    }
    return matches;
}

class SequencePreTokenizer final : public PreTokenizer {
public:
    explicit SequencePreTokenizer(std::vector<std::unique_ptr<PreTokenizer>> parts) : m_parts(std::move(parts)) {}
    void split(std::vector<PreToken>& pieces) const override
    {
        for (const auto& part : m_parts)
            part->split(pieces);
    }

private:
    std::vector<std::unique_ptr<PreTokenizer>> m_parts;
};

class SplitPreTokenizer final : public PreTokenizer {
public:
    SplitPreTokenizer(SplitRegex pattern, Behavior behavior, bool invert)
        : m_pattern(std::move(pattern)), m_behavior(behavior), m_invert(invert)
    {
    }
    void split(std::vector<PreToken>& pieces) const override
    {
        std::vector<PreToken> out;
        out.reserve(pieces.size() * 4);
        Ranges matches;
        for (const PreToken& piece : pieces) {
            matches.clear();
            m_pattern.findAll(piece.text, matches);
            splitPiece(piece, matches, m_invert, m_behavior, out);
        }
        pieces = std::move(out);
    }

private:
    SplitRegex m_pattern;
    Behavior m_behavior;
    bool m_invert;
};

class ByteLevelPreTokenizer final : public PreTokenizer {
public:
    ByteLevelPreTokenizer(bool addPrefixSpace, bool useRegex, const std::string& where)
        : m_addPrefixSpace(addPrefixSpace)
    {
        if (useRegex)
            m_pattern = std::make_unique<SplitRegex>(kGpt2SplitPattern, where);
    }
    void split(std::vector<PreToken>& pieces) const override
    {
        std::vector<PreToken> out;
        out.reserve(m_pattern ? pieces.size() * 4 : pieces.size());
        Ranges matches;
        for (PreToken& piece : pieces) {
            if (m_addPrefixSpace && !piece.text.empty() && piece.text[0] != ' ')
                piece.text.insert(0, 1, ' ');
            if (m_pattern) {
                matches.clear();
                m_pattern->findAll(piece.text, matches);
                splitPiece(piece, matches, false, Behavior::Isolated, out);
            } else if (!piece.text.empty()) {
                out.push_back(std::move(piece));
            }
        }
        std::string mapped;
        for (PreToken& piece : out) {
            mapped.clear();
            byte_level::encodeAppend(piece.text, mapped);
            piece.text.swap(mapped);
        }
        pieces = std::move(out);
    }

private:
    bool m_addPrefixSpace;
    std::unique_ptr<SplitRegex> m_pattern;
};

enum class Prepend { Always, First, Never };

class MetaspacePreTokenizer final : public PreTokenizer {
public:
    MetaspacePreTokenizer(char32_t replacement, Prepend prepend, bool split)
        : m_replacement(replacement), m_prepend(prepend), m_split(split)
    {
        utf8::append(m_rep, replacement);
    }
    void split(std::vector<PreToken>& pieces) const override
    {
        std::vector<PreToken> out;
        out.reserve(pieces.size() * 4);
        for (PreToken& piece : pieces) {
            std::string text;
            text.reserve(piece.text.size() + 8);
            for (char c : piece.text) {
                if (c == ' ')
                    text += m_rep;
                else
                    text += c;
            }
            const bool startsWithRep = text.compare(0, m_rep.size(), m_rep) == 0;
            if (!text.empty() && !startsWithRep && (m_prepend == Prepend::Always || (m_prepend == Prepend::First && piece.atStart)))
                text.insert(0, m_rep);
            PreToken replaced{std::move(text), piece.atStart};
            if (!m_split) {
                if (!replaced.text.empty())
                    out.push_back(std::move(replaced));
                continue;
            }
            const char32_t rep = m_replacement;
            splitPiece(replaced, charMatches(replaced.text, [rep](char32_t c) { return c == rep; }), false,
                       Behavior::MergedWithNext, out);
        }
        pieces = std::move(out);
    }

private:
    char32_t m_replacement;
    std::string m_rep;
    Prepend m_prepend;
    bool m_split;
};

class DigitsPreTokenizer final : public PreTokenizer {
public:
    explicit DigitsPreTokenizer(bool individual) : m_individual(individual) {}
    void split(std::vector<PreToken>& pieces) const override
    {
        std::vector<PreToken> out;
        out.reserve(pieces.size() * 2);
        for (const PreToken& piece : pieces)
            splitPiece(piece, charMatches(piece.text, unicode::isNumeric), false,
                       m_individual ? Behavior::Isolated : Behavior::Contiguous, out);
        pieces = std::move(out);
    }

private:
    bool m_individual;
};

Behavior behaviorFromJson(const Json& json, const std::string& where)
{
    const std::string name = jsonf::requiredString(json, "behavior", where);
    if (name == "Removed") return Behavior::Removed;
    if (name == "Isolated") return Behavior::Isolated;
    if (name == "MergedWithPrevious") return Behavior::MergedWithPrevious;
    if (name == "MergedWithNext") return Behavior::MergedWithNext;
    if (name == "Contiguous") return Behavior::Contiguous;
    jsonf::failAt(jsonf::at(where, "behavior"),
                  "unknown split behavior \"" + name +
                      "\" (expected Removed, Isolated, MergedWithPrevious, MergedWithNext or Contiguous)");
}

Prepend prependFromJson(const Json& json, const std::string& where)
{
    // Older files carry add_prefix_space instead of prepend_scheme (default "always").
    const std::optional<std::string> scheme = jsonf::optionalString(json, "prepend_scheme", where);
    Prepend prepend = Prepend::Always;
    if (scheme) {
        if (*scheme == "always") prepend = Prepend::Always;
        else if (*scheme == "first") prepend = Prepend::First;
        else if (*scheme == "never") prepend = Prepend::Never;
        else
            jsonf::failAt(jsonf::at(where, "prepend_scheme"),
                          "unknown prepend scheme \"" + *scheme + "\" (expected first, always or never)");
    }
    if (!jsonf::boolOr(json, "add_prefix_space", true, where)) {
        if (prepend != Prepend::Never && scheme)
            jsonf::failAt(where, "add_prefix_space is false but prepend_scheme is \"" + *scheme + "\"");
        prepend = Prepend::Never;
    }
    return prepend;
}

} // namespace

std::unique_ptr<PreTokenizer> makePreTokenizer(const Json& json, const std::string& where)
{
    const std::string type = jsonf::typeOf(json, where);
    if (type == "Sequence") {
        const Json& list = jsonf::requiredArray(json, "pretokenizers", where);
        std::vector<std::unique_ptr<PreTokenizer>> parts;
        for (size_t i = 0; i < list.size(); ++i)
            parts.push_back(makePreTokenizer(list[i], jsonf::at(jsonf::at(where, "pretokenizers"), i)));
        return std::make_unique<SequencePreTokenizer>(std::move(parts));
    }
    if (type == "ByteLevel")
        return std::make_unique<ByteLevelPreTokenizer>(jsonf::boolOr(json, "add_prefix_space", true, where),
                                                       jsonf::boolOr(json, "use_regex", true, where), where);
    if (type == "Split") {
        const Json* pattern = jsonf::find(json, "pattern");
        if (!pattern)
            jsonf::failAt(where, "the field \"pattern\" is missing");
        return std::make_unique<SplitPreTokenizer>(patternFromJson(*pattern, jsonf::at(where, "pattern")),
                                                   behaviorFromJson(json, where),
                                                   jsonf::boolOr(json, "invert", false, where));
    }
    if (type == "Metaspace")
        return std::make_unique<MetaspacePreTokenizer>(jsonf::requiredChar(json, "replacement", where),
                                                       prependFromJson(json, where),
                                                       jsonf::boolOr(json, "split", true, where));
    if (type == "Digits")
        return std::make_unique<DigitsPreTokenizer>(jsonf::boolOr(json, "individual_digits", false, where));
    jsonf::failAt(where, "the pre-tokenizer type \"" + type +
                             "\" is not supported (supported: ByteLevel, Split, Metaspace, Digits, Sequence)");
}

} // namespace ft::tok
