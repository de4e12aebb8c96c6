// The BPE merge loop of tokenizer.json models (see bpe_tokenizer.h). The word is a
// linked list of symbols; a min-heap holds candidate merges keyed by (rank, position);
// entries made stale by an earlier merge are recognised and skipped when popped, as in
// the Rust crate's Word::merge_all, so the result is identical to it.
#include "tokenizer/bpe_tokenizer.h"

#include "tokenizer/unicode_text.h"
#include "util/error.h"

#include <cstdio>
#include <mutex>
#include <queue>

namespace ft::tok {
namespace {

struct Symbol {
    int id;
    int prev;
    int next;
    int len; // bytes of the word it covers; 0 once merged into its left neighbour
};

struct Candidate {
    int pos;
    int rank;
    int newId;
};

// priority_queue keeps the "largest" on top: make that the lowest rank, then leftmost.
struct LowerPriority {
    bool operator()(const Candidate& a, const Candidate& b) const
    {
        return a.rank != b.rank ? a.rank > b.rank : a.pos > b.pos;
    }
};

constexpr int kMaxId = 1 << 26;

} // namespace

BpeModel::BpeModel(const std::vector<std::pair<std::string, int>>& vocab,
                   const std::vector<std::pair<std::string, std::string>>& merges, BpeOptions options,
                   std::string where)
    : m_options(std::move(options)), m_where(std::move(where))
{
    m_vocab.reserve(vocab.size());
    int limit = 0;
    for (const auto& [token, id] : vocab) {
        if (id < 0 || id >= kMaxId)
            fail(m_where + ".vocab: the token \"" + token + "\" has the id " + std::to_string(id) +
                 ", outside 0.." + std::to_string(kMaxId - 1));
        m_vocab.emplace(token, id);
        limit = std::max(limit, id + 1);
    }
    m_idToToken.resize(size_t(limit));
    m_hasId.assign(size_t(limit), false);
    for (const auto& [token, id] : vocab)
        if (!m_hasId[size_t(id)]) {
            m_idToToken[size_t(id)] = token;
            m_hasId[size_t(id)] = true;
        }

    const size_t prefixLength = m_options.continuingSubwordPrefix ? m_options.continuingSubwordPrefix->size() : 0;
    m_merges.reserve(merges.size());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const auto& [a, b] = merges[rank];
        const auto missing = [&](const std::string& token) {
            fail(m_where + ".merges[" + std::to_string(rank) + "]: the merge \"" + a + " " + b + "\" uses \"" + token +
                 "\", which is not in the vocabulary");
        };
        const auto ia = tokenToId(a), ib = tokenToId(b);
        if (!ia)
            missing(a);
        if (!ib)
            missing(b);
        if (b.size() < prefixLength)
            missing(b);
        const std::string merged = a + b.substr(prefixLength);
        const auto in = tokenToId(merged);
        if (!in)
            missing(merged);
        m_merges[pairKey(*ia, *ib)] = Merge{int(rank), *in}; // a repeated pair keeps its last rank
    }

    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        m_byteIds[size_t(b)] = tokenToId(name).value_or(-1);
    }

    // Where long words may be cut (see the header). Merges that involve byte or unk
    // tokens, or decorated subwords, would break the reasoning: then never cut.
    m_canChunk = !m_options.continuingSubwordPrefix && !m_options.endOfWordSuffix;
    const auto special = [&](const std::string& token) {
        return (token.size() == 6 && token.rfind("<0x", 0) == 0 && token[5] == '>') ||
               (m_options.unkToken && token == *m_options.unkToken);
    };
    for (size_t rank = 0; rank < merges.size() && m_canChunk; ++rank) {
        const auto& [a, b] = merges[rank];
        if (a.empty() || b.empty() || special(a) || special(b)) {
            m_canChunk = false;
            break;
        }
        size_t last = a.size() - 1;
        while (last > 0 && (static_cast<unsigned char>(a[last]) & 0xC0) == 0x80)
            --last;
        size_t i = 0;
        const char32_t first = utf8::next(b, i);
        m_joinable.insert((uint64_t(utf8::next(a, last)) << 32) | first);
    }
}

std::optional<int> BpeModel::tokenToId(std::string_view token) const
{
    const auto it = m_vocab.find(token);
    return it == m_vocab.end() ? std::nullopt : std::optional<int>(it->second);
}

const std::string* BpeModel::idToToken(int id) const
{
    return id >= 0 && id < idLimit() && m_hasId[size_t(id)] ? &m_idToToken[size_t(id)] : nullptr;
}

const BpeModel::Merge* BpeModel::findMerge(int a, int b) const
{
    const auto it = m_merges.find(pairKey(a, b));
    return it == m_merges.end() ? nullptr : &it->second;
}

int BpeModel::unkId() const
{
    const auto id = tokenToId(*m_options.unkToken);
    if (!id)
        fail(m_where + ".unk_token: the text has a character the vocabulary lacks, and the unknown token \"" +
             *m_options.unkToken + "\" is not in the vocabulary either");
    return *id;
}

void BpeModel::tokenize(std::string_view word, std::vector<int>& out) const
{
    if (word.empty())
        return;
    if (m_options.ignoreMerges)
        if (const auto id = tokenToId(word)) {
            out.push_back(*id);
            return;
        }
    if (m_canChunk && word.size() >= kChunkMinWordBytes)
        mergeInChunks(word, out);
    else
        mergeCached(word, out);
}

void BpeModel::mergeInChunks(std::string_view word, std::vector<int>& out) const
{
    size_t chunkStart = 0, i = 0;
    char32_t previous = 0;
    bool previousIsToken = false;
    while (i < word.size()) {
        const size_t start = i;
        const char32_t c = utf8::next(word, i);
        const bool isToken = tokenToId(word.substr(start, i - start)).has_value();
        if (start > chunkStart && previousIsToken && isToken && !m_joinable.count((uint64_t(previous) << 32) | c)) {
            mergeCached(word.substr(chunkStart, start - chunkStart), out);
            chunkStart = start;
        }
        previous = c;
        previousIsToken = isToken;
    }
    mergeCached(word.substr(chunkStart), out);
}

void BpeModel::mergeCached(std::string_view word, std::vector<int>& out) const
{
    const bool cacheable = word.size() < kCacheMaxWordBytes;
    if (cacheable) {
        std::shared_lock lock(m_cacheMutex);
        const auto it = m_cache.find(word);
        if (it != m_cache.end()) {
            out.insert(out.end(), it->second.begin(), it->second.end());
            return;
        }
    }
    const size_t first = out.size();
    mergeWord(word, out);
    if (cacheable) {
        std::unique_lock lock(m_cacheMutex);
        if (m_cache.size() < kCacheMaxEntries)
            m_cache.emplace(std::string(word), std::vector<int>(out.begin() + std::ptrdiff_t(first), out.end()));
    }
}

void BpeModel::mergeWord(std::string_view word, std::vector<int>& out) const
{
    std::vector<Symbol> symbols;
    symbols.reserve(word.size());
    const auto add = [&](int id, int len) {
        const int n = int(symbols.size());
        if (n > 0)
            symbols.back().next = n;
        symbols.push_back({id, n - 1, -1, len});
    };

    // The initial symbols: one per character, or its bytes, or (fused) unknowns.
    int pendingUnk = -1, pendingUnkLen = 0;
    std::string decorated;
    for (size_t i = 0; i < word.size();) {
        const size_t start = i;
        utf8::next(word, i);
        const int byteLen = int(i - start);
        std::string_view piece = word.substr(start, i - start);
        const bool prefixed = start > 0 && m_options.continuingSubwordPrefix;
        const bool suffixed = i == word.size() && m_options.endOfWordSuffix;
        if (prefixed || suffixed) {
            decorated = (prefixed ? *m_options.continuingSubwordPrefix : std::string()) + std::string(piece) +
                        (suffixed ? *m_options.endOfWordSuffix : std::string());
            piece = decorated;
        }
        if (const auto id = tokenToId(piece)) {
            if (pendingUnk >= 0) {
                add(pendingUnk, pendingUnkLen);
                pendingUnk = -1;
            }
            add(*id, byteLen);
            continue;
        }
        if (m_options.byteFallback) {
            bool all = true;
            for (char c : piece)
                all = all && m_byteIds[static_cast<unsigned char>(c)] >= 0;
            if (all) { // (a pending unknown is not flushed first: the Rust crate does the same)
                for (char c : piece)
                    add(m_byteIds[static_cast<unsigned char>(c)], 1);
                continue;
            }
        }
        if (!m_options.unkToken)
            continue; // no unk token: the character is dropped, as in Hugging Face
        if (pendingUnk >= 0 && m_options.fuseUnk) {
            pendingUnkLen += byteLen;
        } else {
            if (pendingUnk >= 0)
                add(pendingUnk, pendingUnkLen);
            pendingUnk = unkId();
            pendingUnkLen = byteLen;
        }
    }
    if (pendingUnk >= 0)
        add(pendingUnk, pendingUnkLen);

    std::vector<Candidate> storage;
    storage.reserve(symbols.size() * 2);
    std::priority_queue<Candidate, std::vector<Candidate>, LowerPriority> queue(LowerPriority{}, std::move(storage));
    for (size_t i = 0; i + 1 < symbols.size(); ++i)
        if (const Merge* m = findMerge(symbols[i].id, symbols[i + 1].id))
            queue.push({int(i), m->rank, m->newId});

    while (!queue.empty()) {
        const Candidate top = queue.top();
        queue.pop();
        Symbol& left = symbols[size_t(top.pos)];
        if (left.len == 0 || left.next < 0)
            continue;
        const int rightPos = left.next;
        const Symbol right = symbols[size_t(rightPos)];
        const Merge* current = findMerge(left.id, right.id);
        if (!current || current->newId != top.newId)
            continue; // stale: one side was merged with something else meanwhile
        left.id = top.newId;
        left.len += right.len;
        left.next = right.next;
        symbols[size_t(rightPos)].len = 0;
        if (right.next >= 0)
            symbols[size_t(right.next)].prev = top.pos;
        if (left.prev >= 0)
            if (const Merge* m = findMerge(symbols[size_t(left.prev)].id, left.id))
                queue.push({left.prev, m->rank, m->newId});
        if (left.next >= 0)
            if (const Merge* m = findMerge(left.id, symbols[size_t(left.next)].id))
                queue.push({top.pos, m->rank, m->newId});
    }
    for (const Symbol& s : symbols)
        if (s.len != 0)
            out.push_back(s.id);
}

} // namespace ft::tok
