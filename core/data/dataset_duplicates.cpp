// Exact and near-duplicate detection for dataset_tools.h: text normalization,
// identity hashing confirmed against the stored rows, and MinHash/LSH for
// similar-but-not-identical rows. Not here: splits, sampling, token statistics
// (dataset_tools.cpp).
#include "data/dataset_tools.h"
#include "util/random.h"

#include <algorithm>
#include <array>
#include <map>
#include <numeric>
#include <unordered_map>

namespace ft::data {

namespace {

uint64_t hashBytes(std::string_view s, uint64_t seed = 0)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;  // FNV-1a, then mixed
    for (unsigned char c : s) {
        h ^= c;
        h *= 0x100000001b3ULL;
    }
    return util::mix64(h);
}

bool isAsciiPunct(unsigned char c)
{
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

void collectStrings(const nlohmann::json& j, std::vector<std::string>& out)
{
    if (j.is_string())
        out.push_back(normalizeString(j.get_ref<const std::string&>()));
    else if (j.is_array() || j.is_object())  // objects iterate in sorted key order
        for (const auto& v : j)
            collectStrings(v, out);
}

// Union-find over row indexes, joining toward the smaller index.
struct DisjointSets {
    std::vector<uint32_t> parent;
    explicit DisjointSets(size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0u); }
    uint32_t find(uint32_t x)
    {
        while (parent[x] != x)
            x = parent[x] = parent[parent[x]];
        return x;
    }
    void join(uint32_t a, uint32_t b)
    {
        a = find(a);
        b = find(b);
        if (a != b)
            parent[std::max(a, b)] = std::min(a, b);
    }
};

constexpr int kMinHashes = 64;
constexpr int kBands = 16;
constexpr int kRowsPerBand = kMinHashes / kBands;
using Signature = std::array<uint32_t, kMinHashes>;

Signature minHash(const std::string& normalized)
{
    std::vector<std::string_view> words;
    for (size_t i = 0; i < normalized.size();) {
        size_t j = normalized.find(' ', i);
        if (j == std::string::npos)
            j = normalized.size();
        if (j > i)
            words.emplace_back(normalized.data() + i, j - i);
        i = j + 1;
    }
    // Word 3-shingles; a text of fewer words is one shingle.
    std::vector<uint64_t> shingles;
    if (words.size() < 3) {
        shingles.push_back(hashBytes(normalized));
    } else {
        for (size_t i = 0; i + 2 < words.size(); ++i)
            shingles.push_back(hashBytes(words[i + 2], hashBytes(words[i + 1], hashBytes(words[i]))));
        std::sort(shingles.begin(), shingles.end());
        shingles.erase(std::unique(shingles.begin(), shingles.end()), shingles.end());
    }
    Signature sig;
    sig.fill(UINT32_MAX);
    for (uint64_t s : shingles)
        for (int k = 0; k < kMinHashes; ++k) {
            const auto v = static_cast<uint32_t>(util::mix64(s ^ (0x9e3779b97f4a7c15ULL * uint64_t(k + 1))) >> 32);
            sig[k] = std::min(sig[k], v);
        }
    return sig;
}

double estimatedJaccard(const Signature& a, const Signature& b)
{
    int same = 0;
    for (int k = 0; k < kMinHashes; ++k)
        same += a[k] == b[k];
    return double(same) / kMinHashes;
}

// Indexes sharing a hash, as candidate groups of two or more.
std::vector<std::vector<uint32_t>> hashGroups(const std::vector<uint64_t>& hashes)
{
    std::vector<uint32_t> order(hashes.size());
    std::iota(order.begin(), order.end(), 0u);
    std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) { return hashes[a] < hashes[b]; });
    std::vector<std::vector<uint32_t>> groups;
    for (size_t i = 0; i < order.size();) {
        size_t j = i + 1;
        while (j < order.size() && hashes[order[j]] == hashes[order[i]])
            ++j;
        if (j - i > 1)
            groups.emplace_back(order.begin() + i, order.begin() + j);
        i = j;
    }
    return groups;
}

} // namespace

std::string normalizeString(std::string_view text)
{
    std::string out;
    out.reserve(text.size());
    bool pendingSpace = false;
    auto emit = [&](char c) {
        if (pendingSpace && !out.empty())
            out += ' ';
        pendingSpace = false;
        out += c;
    };
    for (size_t i = 0; i < text.size(); ++i) {
        const auto c = static_cast<unsigned char>(text[i]);
        if (c <= ' ' || c == 0x7f) {  // whitespace and control characters
            pendingSpace = true;
        } else if (c < 0x80) {
            if (!isAsciiPunct(c))
                emit(static_cast<char>(c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c));
        } else if (c == 0xC2 && i + 1 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0xA0) {
            pendingSpace = true;  // U+00A0 no-break space
            ++i;
        } else if (c == 0xE2 && i + 2 < text.size() && (static_cast<unsigned char>(text[i + 1]) & 0xFE) == 0x80) {
            // U+2000..U+207F: spaces become a space, general punctuation goes.
            const unsigned cp = 0x2000 + ((static_cast<unsigned char>(text[i + 1]) & 0x01) << 6) +
                                (static_cast<unsigned char>(text[i + 2]) & 0x3F);
            if (cp <= 0x206F) {
                if (cp <= 0x200B || cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F)
                    pendingSpace = true;
                i += 2;
            } else {
                emit(text[i]);
            }
        } else if (c == 0xE3 && i + 2 < text.size() && static_cast<unsigned char>(text[i + 1]) == 0x80 &&
                   static_cast<unsigned char>(text[i + 2]) == 0x80) {
            pendingSpace = true;  // U+3000 ideographic space
            i += 2;
        } else {
            emit(static_cast<char>(c));
        }
    }
    return out;
}

std::string normalizedText(const Row& row)
{
    std::vector<std::string> parts;
    collectStrings(row.fields, parts);
    std::string out;
    for (size_t i = 0; i < parts.size(); ++i)
        out += (i ? " | " : "") + parts[i];
    return out;
}

DuplicateGroups findDuplicates(const ProjectStore& store, int64_t datasetId, bool near, double jaccardThreshold)
{
    const bool useMinHash = near && jaccardThreshold > 0.0;
    auto keyOf = [near](const Row& r) { return near ? normalizedText(r) : r.fields.dump(); };

    std::vector<int64_t> ids;
    std::vector<uint64_t> hashes;
    std::vector<Signature> signatures;
    forEachRow(store, datasetId, [&](const Row& r) {
        const std::string key = keyOf(r);
        ids.push_back(r.id);
        hashes.push_back(hashBytes(key));
        if (useMinHash)
            signatures.push_back(minHash(key));
    });

    DisjointSets sets(ids.size());
    // Identity: confirm each hash group against the stored rows.
    for (const auto& group : hashGroups(hashes)) {
        std::map<std::string, uint32_t> firstWithKey;
        for (uint32_t index : group) {
            const auto r = store.row(ids[index]);
            if (!r)
                continue;  // deleted meanwhile
            const auto [it, inserted] = firstWithKey.emplace(keyOf(*r), index);
            if (!inserted)
                sets.join(it->second, index);
        }
    }
    if (useMinHash) {
        // LSH: rows agreeing on all values of a band become candidates.
        std::vector<std::pair<uint64_t, uint32_t>> buckets;
        buckets.reserve(size_t(kBands) * ids.size());
        for (uint32_t i = 0; i < ids.size(); ++i)
            for (int b = 0; b < kBands; ++b) {
                std::string_view band(reinterpret_cast<const char*>(&signatures[i][b * kRowsPerBand]),
                                      sizeof(uint32_t) * kRowsPerBand);
                buckets.emplace_back(hashBytes(band, uint64_t(b)), i);
            }
        std::sort(buckets.begin(), buckets.end());
        auto tryJoin = [&](uint32_t a, uint32_t b) {
            if (estimatedJaccard(signatures[a], signatures[b]) >= jaccardThreshold)
                sets.join(a, b);
        };
        for (size_t i = 0; i < buckets.size();) {
            size_t j = i + 1;
            while (j < buckets.size() && buckets[j].first == buckets[i].first)
                ++j;
            // Small buckets: every pair. Large ones (boilerplate shared by many
            // rows): each member against the bucket's first and its predecessor,
            // which keeps the work linear.
            if (j - i <= 32) {
                for (size_t a = i; a < j; ++a)
                    for (size_t b = a + 1; b < j; ++b)
                        tryJoin(buckets[a].second, buckets[b].second);
            } else {
                for (size_t a = i + 1; a < j; ++a) {
                    tryJoin(buckets[i].second, buckets[a].second);
                    tryJoin(buckets[a - 1].second, buckets[a].second);
                }
            }
            i = j;
        }
    }

    std::unordered_map<uint32_t, std::vector<int64_t>> byRoot;
    for (uint32_t i = 0; i < ids.size(); ++i)
        byRoot[sets.find(i)].push_back(ids[i]);
    DuplicateGroups groups;
    for (auto& [root, members] : byRoot)
        if (members.size() > 1) {
            std::sort(members.begin(), members.end());
            groups.push_back(std::move(members));
        }
    std::sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) { return a.front() < b.front(); });
    return groups;
}

int64_t removeDuplicates(ProjectStore& store, const DuplicateGroups& groups)
{
    std::vector<int64_t> doomed;
    for (const auto& group : groups) {
        const int64_t keep = *std::min_element(group.begin(), group.end());
        for (int64_t id : group)
            if (id != keep)
                doomed.push_back(id);
    }
    std::sort(doomed.begin(), doomed.end());
    doomed.erase(std::unique(doomed.begin(), doomed.end()), doomed.end());
    if (!doomed.empty())
        store.deleteRows(doomed);
    return static_cast<int64_t>(doomed.size());
}

} // namespace ft::data
