// A regular expression that a person or a file supplies (PEFT's target_modules, a JSON
// schema's "pattern", the regex verifier), compiled with PCRE2: Perl syntax, which is
// what Python's re (PEFT) and most users write, with UTF + UCP (\w, \d and \p{L} are
// Unicode-aware). Matching runs under PCRE2's match and depth limits, so a pattern that
// would backtrack for ever (ReDoS) gets an error naming it instead of a hang; libstdc++'s
// std::regex has neither the limits nor a bounded parser. Copies share the compiled
// code; matching is const and thread-safe.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct pcre2_real_code_8;

namespace ft::util {

class Regex {
public:
    // ft::Error naming `where`, the pattern, PCRE2's message and the offset when the
    // pattern does not compile.
    Regex(std::string_view pattern, const std::string& where);

    // Whether the pattern matches somewhere in `subject` / matches all of it (as
    // Python's re.search / re.fullmatch). `subject` must be valid UTF-8; ft::Error
    // naming the pattern when it is not, or when matching passes PCRE2's limits.
    bool search(std::string_view subject) const;
    bool fullMatch(std::string_view subject) const;

    const std::string& pattern() const { return m_pattern; }

private:
    bool match(std::string_view subject, bool whole) const;
    std::string m_pattern;
    std::string m_where;
    std::shared_ptr<pcre2_real_code_8> m_code;
};

} // namespace ft::util
