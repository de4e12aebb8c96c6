// Leftmost-longest search for added tokens and their flags (see added_tokens.h); the
// rules follow AddedVocabulary::find_matches of the Rust crate.
#include "tokenizer/added_tokens.h"

#include "tokenizer/unicode_text.h"

#include <algorithm>

namespace ft::tok {
namespace {

// The last character of text[0, end) (end > 0).
char32_t lastChar(std::string_view text, size_t end)
{
    size_t start = end - 1;
    while (start > 0 && (static_cast<unsigned char>(text[start]) & 0xC0) == 0x80)
        --start;
    return utf8::next(text, start);
}

} // namespace

AddedTokenSplitter::AddedTokenSplitter(const std::vector<std::string>& patterns, const std::vector<AddedToken>& tokens)
    : m_tokens(tokens)
{
    for (size_t t = 0; t < patterns.size() && t < tokens.size(); ++t) {
        const std::string& pattern = patterns[t];
        if (pattern.empty())
            continue;
        int node = 0;
        for (char ch : pattern) {
            const auto byte = static_cast<unsigned char>(ch);
            int next = child(node, byte);
            if (next < 0) {
                next = int(m_nodes.size());
                m_nodes.emplace_back();
                auto& children = m_nodes[size_t(node)].children;
                children.insert(std::lower_bound(children.begin(), children.end(), std::make_pair(byte, 0)),
                                {byte, next});
            }
            node = next;
        }
        if (m_nodes[size_t(node)].token < 0)
            m_nodes[size_t(node)].token = int(t);
        m_firstByte[static_cast<unsigned char>(pattern[0])] = true;
    }
}

int AddedTokenSplitter::child(int node, unsigned char byte) const
{
    const auto& children = m_nodes[size_t(node)].children;
    const auto it = std::lower_bound(children.begin(), children.end(), std::make_pair(byte, 0));
    return it != children.end() && it->first == byte ? it->second : -1;
}

size_t AddedTokenSplitter::longestAt(std::string_view text, size_t pos, int& token) const
{
    size_t best = 0;
    int node = 0;
    for (size_t i = pos; i < text.size(); ++i) {
        node = child(node, static_cast<unsigned char>(text[i]));
        if (node < 0)
            break;
        if (m_nodes[size_t(node)].token >= 0) {
            best = i + 1 - pos;
            token = m_nodes[size_t(node)].token;
        }
    }
    return best;
}

void AddedTokenSplitter::split(std::string_view text, std::vector<TextSegment>& out, bool skipSpecial) const
{
    size_t startOffset = 0; // end of what the previous kept match consumed
    size_t pos = 0;
    while (!empty() && pos < text.size()) {
        if (!m_firstByte[static_cast<unsigned char>(text[pos])]) {
            ++pos;
            continue;
        }
        int index = -1;
        const size_t length = longestAt(text, pos, index);
        if (length == 0) {
            ++pos;
            continue;
        }
        size_t start = pos, stop = pos + length;
        pos = stop; // the search resumes after the match, kept or not
        const AddedToken& token = m_tokens[size_t(index)];
        if (skipSpecial && token.special)
            continue;
        if (token.singleWord) {
            const bool wordBefore = start > 0 && unicode::isWordChar(lastChar(text, start));
            size_t after = stop;
            const bool wordAfter = stop < text.size() && unicode::isWordChar(utf8::next(text, after));
            if (wordBefore || wordAfter)
                continue;
        }
        if (token.lstrip) {
            size_t newStart = start;
            while (newStart > 0 && unicode::isWhiteSpace(lastChar(text, newStart))) {
                size_t back = newStart - 1;
                while (back > 0 && (static_cast<unsigned char>(text[back]) & 0xC0) == 0x80)
                    --back;
                newStart = back;
            }
            start = std::max(newStart, startOffset);
        }
        if (token.rstrip) {
            while (stop < text.size()) {
                size_t next = stop;
                if (!unicode::isWhiteSpace(utf8::next(text, next)))
                    break;
                stop = next;
            }
        }
        start = std::max(start, startOffset); // a pattern that starts inside stripped space
        if (stop <= start)
            continue;
        if (startOffset < start)
            out.push_back({startOffset, start, -1});
        out.push_back({start, stop, token.id});
        startOffset = stop;
    }
    if (startOffset < text.size())
        out.push_back({startOffset, text.size(), -1});
}

} // namespace ft::tok
