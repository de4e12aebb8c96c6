// The regular expressions of tokenizer.json (Split pre-tokenizer, Replace normalizer
// and decoder, the GPT-2 ByteLevel pattern), run with PCRE2 (UTF + UCP, JIT-compiled).
// Hugging Face compiles them with Oniguruma (Ruby syntax); the few places where the two
// engines read a pattern differently are translated before compiling: \s and \S mean
// Unicode White_Space (PCRE2 would also count U+180E), \h means a hex digit, and ^ $
// match at line boundaries. Not here: what a match means to a pre-tokenizer.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ft::tok {

class SplitRegex {
public:
    // Compiles an Oniguruma-style pattern; ft::Error naming `where`, the pattern and
    // PCRE2's message (with the offset) when it does not compile.
    SplitRegex(std::string_view pattern, const std::string& where);
    // A pattern that matches `literal` exactly (plain substring search, no regex).
    static SplitRegex literal(std::string_view literal, const std::string& where);
    ~SplitRegex();
    SplitRegex(SplitRegex&&) noexcept;
    SplitRegex& operator=(SplitRegex&&) noexcept;

    // Appends the byte ranges [begin, end) of the successive non-overlapping, non-empty
    // matches in `subject` (valid UTF-8), leftmost first, as Oniguruma's find_iter.
    void findAll(std::string_view subject, std::vector<std::pair<size_t, size_t>>& matches) const;

    const std::string& pattern() const { return m_pattern; }

private:
    SplitRegex() = default;
    struct Impl;
    std::string m_pattern;
    bool m_literal = false;
    std::unique_ptr<Impl> m_impl;
};

// The translation described above, exposed for tests.
std::string onigurumaToPcre2(std::string_view pattern);

} // namespace ft::tok
