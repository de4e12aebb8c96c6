// The BPE model of tokenizer.json: vocabulary, ranked merges, and how one pre-token
// (a word, already normalized and, for byte-level models, mapped to GPT-2's byte
// alphabet) becomes ids. It follows models/bpe of the Hugging Face `tokenizers` crate:
// the word starts as its characters (unknown ones become <0xNN> byte tokens with
// byte_fallback, else the unk token, fused when fuse_unk, else dropped), then the
// lowest-ranked adjacent pair is merged (leftmost first on ties) until no pair has a
// merge; ignore_merges returns a word that is itself in the vocabulary as one id.
// continuing_subword_prefix / end_of_word_suffix are honoured; dropout is not (the
// loader rejects it). Results are cached per word (thread-safe).
// Not here: parsing tokenizer.json (tokenizer_json.h), pre-tokenization, added tokens.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace ft::tok {

struct BpeOptions {
    std::optional<std::string> unkToken;
    std::optional<std::string> continuingSubwordPrefix;
    std::optional<std::string> endOfWordSuffix;
    bool fuseUnk = false;
    bool byteFallback = false;
    bool ignoreMerges = false;
};

class BpeModel {
public:
    // `merges` in rank order (rank = index). ft::Error naming `where` (the file and JSON
    // path of the model) when a merge uses a token missing from the vocabulary, or an
    // id is negative or absurdly large.
    BpeModel(const std::vector<std::pair<std::string, int>>& vocab,
             const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options, std::string where);

    // Appends the ids of one pre-token. ft::Error when the unk token is needed but is
    // not in the vocabulary.
    void tokenize(std::string_view word, std::vector<int>& out) const;

    std::optional<int> tokenToId(std::string_view token) const;
    // nullptr when no vocabulary entry has this id.
    const std::string* idToToken(int id) const;
    // One past the largest id in the vocabulary.
    int idLimit() const { return int(m_idToToken.size()); }
    size_t vocabSize() const { return m_vocab.size(); }
    size_t mergeCount() const { return m_merges.size(); }
    const BpeOptions& options() const { return m_options; }

private:
    struct Hash {
        using is_transparent = void;
        size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
    };
    struct Merge {
        int rank;
        int newId;
    };
    static uint64_t pairKey(int a, int b) { return (uint64_t(uint32_t(a)) << 32) | uint32_t(b); }
    const Merge* findMerge(int a, int b) const;
    void mergeWord(std::string_view word, std::vector<int>& out) const;
    void mergeCached(std::string_view word, std::vector<int>& out) const;
    void mergeInChunks(std::string_view word, std::vector<int>& out) const;
    int unkId() const;

    std::unordered_map<std::string, int, Hash, std::equal_to<>> m_vocab;
    std::vector<std::string> m_idToToken;
    std::vector<bool> m_hasId;
    std::unordered_map<uint64_t, Merge> m_merges;
    std::array<int, 256> m_byteIds{}; // <0xNN> tokens, -1 when absent
    // Long words (sentencepiece-style files without a pre-tokenizer encode the whole
    // text as one word) are cut where no merge can ever join the two sides: between
    // characters X, Y that are both tokens and no merge (A, B) has A ending in X and B
    // starting with Y. Each piece then merges alone, with the same result.
    bool m_canChunk = false;
    std::unordered_set<uint64_t> m_joinable; // (last char of A, first char of B)
    BpeOptions m_options;
    std::string m_where;

    static constexpr size_t kChunkMinWordBytes = 48;
    static constexpr size_t kCacheMaxWordBytes = 256;
    static constexpr size_t kCacheMaxEntries = 1 << 17;
    mutable std::shared_mutex m_cacheMutex;
    mutable std::unordered_map<std::string, std::vector<int>, Hash, std::equal_to<>> m_cache;
};

} // namespace ft::tok
