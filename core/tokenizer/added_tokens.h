// Added and special tokens of tokenizer.json ("<|eot_id|>", "<s>", ...), found in the
// text before pre-tokenization so that each becomes exactly one id, as Hugging Face's
// AddedVocabulary does: leftmost-longest matching over all token contents, then the
// per-token flags: single_word (not glued to a word character on either side), lstrip /
// rstrip (swallow the White_Space before / after), normalized (matched in normalized
// text, against the normalized content; otherwise in the raw text). Not here: which
// normalizer is applied (tokenizer_json.cpp) or decoding.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tok {

struct AddedToken {
    int id = -1;
    std::string content;
    bool singleWord = false;
    bool lstrip = false;
    bool rstrip = false;
    bool normalized = true;
    bool special = false;
};

// A stretch of text: plain text (token == -1) or one added token, as byte offsets.
struct TextSegment {
    size_t begin = 0;
    size_t end = 0;
    int token = -1; // id of the added token
};

class AddedTokenSplitter {
public:
    AddedTokenSplitter() = default;
    // `patterns[i]` is what is searched for `tokens[i]` (its content, or its normalized
    // content). Empty patterns are ignored; of two equal patterns the first wins.
    AddedTokenSplitter(const std::vector<std::string>& patterns, const std::vector<AddedToken>& tokens);

    bool empty() const { return m_nodes.size() <= 1; }

    // Cuts `text` (valid UTF-8) into segments covering it; plain segments are never empty.
    // skipSpecial: special tokens are not looked for (Hugging Face's encode_special_tokens).
    void split(std::string_view text, std::vector<TextSegment>& out, bool skipSpecial = false) const;

private:
    struct Node {
        std::vector<std::pair<unsigned char, int>> children; // sorted by byte
        int token = -1;                                     // index into m_tokens
    };
    int child(int node, unsigned char byte) const;
    // Length of the longest pattern starting at `pos`, and which token it is.
    size_t longestAt(std::string_view text, size_t pos, int& token) const;

    std::vector<Node> m_nodes{1};
    std::vector<AddedToken> m_tokens;
    bool m_firstByte[256] = {};
};

} // namespace ft::tok
