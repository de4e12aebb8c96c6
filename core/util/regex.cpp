#include "util/regex.h"

#include "util/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace ft::util {

namespace {

std::string pcre2ErrorText(int code)
{
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof buffer);
    return reinterpret_cast<const char*>(buffer);
}

} // namespace

Regex::Regex(std::string_view pattern, const std::string& where) : m_pattern(pattern), m_where(where)
{
    int error = 0;
    PCRE2_SIZE offset = 0;
    pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(m_pattern.c_str()), m_pattern.size(),
                                     PCRE2_UTF | PCRE2_UCP, &error, &offset, nullptr);
    if (!code)
        fail(where + ": the regular expression \"" + m_pattern + "\" does not compile (PCRE2: " +
             pcre2ErrorText(error) + ", at offset " + std::to_string(offset) + ")");
    m_code.reset(code, pcre2_code_free);
}

bool Regex::search(std::string_view subject) const { return match(subject, false); }

bool Regex::fullMatch(std::string_view subject) const { return match(subject, true); }

bool Regex::match(std::string_view subject, bool whole) const
{
    std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> data(
        pcre2_match_data_create_from_pattern(m_code.get(), nullptr), pcre2_match_data_free);
    // PCRE2's default limits (10 million backtracking steps, 20 MB of backtracking
    // memory) end a runaway match in well under a second.
    const int rc = pcre2_match(m_code.get(), reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(), 0,
                               whole ? PCRE2_ANCHORED | PCRE2_ENDANCHORED : 0, data.get(), nullptr);
    if (rc == PCRE2_ERROR_NOMATCH)
        return false;
    if (rc < 0)
        fail(m_where + ": matching the regular expression \"" + m_pattern + "\" failed (PCRE2: " +
             pcre2ErrorText(rc) + "); simplify the pattern");
    return true;
}

} // namespace ft::util
