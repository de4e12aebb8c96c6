// PCRE2-backed regular expressions with Oniguruma's reading of a pattern (see split_regex.h).
#include "tokenizer/split_regex.h"

#include "util/error.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace ft::tok {
namespace {

// Unicode White_Space, which is what Oniguruma's \s matches in UTF-8 patterns.
constexpr const char* kWhiteSpace =
    "\\t-\\r\\x{20}\\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}";
constexpr const char* kHexDigit = "0-9A-Fa-f";

std::string pcre2Message(int code)
{
    PCRE2_UCHAR buffer[256];
    pcre2_get_error_message(code, buffer, sizeof buffer);
    return reinterpret_cast<const char*>(buffer);
}

} // namespace

std::string onigurumaToPcre2(std::string_view pattern)
{
    std::string out;
    out.reserve(pattern.size() + 32);
    bool inClass = false;
    for (size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '\\' && i + 1 < pattern.size()) {
            const char e = pattern[++i];
            if (e == 's')
                out += inClass ? std::string(kWhiteSpace) : "[" + std::string(kWhiteSpace) + "]";
            else if (e == 'S' && !inClass)
                out += "[^" + std::string(kWhiteSpace) + "]";
            else if (e == 'h')
                out += inClass ? std::string(kHexDigit) : "[" + std::string(kHexDigit) + "]";
            else if (e == 'H' && !inClass)
                out += "[^" + std::string(kHexDigit) + "]";
            else {
                out += '\\';
                out += e;
            }
            continue;
        }
        if (!inClass && c == '[') {
            inClass = true;
            out += c;
            // A ']' right after '[' or '[^' is a literal member, not the end.
            if (i + 1 < pattern.size() && pattern[i + 1] == '^')
                out += pattern[++i];
            if (i + 1 < pattern.size() && pattern[i + 1] == ']')
                out += pattern[++i];
            continue;
        }
        if (inClass && c == '[' && i + 1 < pattern.size() && pattern[i + 1] == ':') {
            const size_t close = pattern.find(":]", i + 2);
            if (close != std::string_view::npos) {
                out.append(pattern.substr(i, close + 2 - i));
                i = close + 1;
                continue;
            }
        }
        if (inClass && c == ']')
            inClass = false;
        out += c;
    }
    return out;
}

struct SplitRegex::Impl {
    pcre2_code* code = nullptr;
    ~Impl() { pcre2_code_free(code); }
};

SplitRegex::SplitRegex(std::string_view pattern, const std::string& where)
    : m_pattern(pattern), m_impl(std::make_unique<Impl>())
{
    const std::string translated = onigurumaToPcre2(pattern);
    int error = 0;
    PCRE2_SIZE offset = 0;
    m_impl->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(translated.data()), translated.size(),
                                 PCRE2_UTF | PCRE2_UCP | PCRE2_MULTILINE, &error, &offset, nullptr);
    if (!m_impl->code)
        fail(where + ": the regular expression \"" + std::string(pattern) + "\" does not compile (PCRE2: " +
             pcre2Message(error) + ", at offset " + std::to_string(offset) + " of \"" + translated + "\")");
    // Without JIT (an unsupported CPU) PCRE2 falls back to its interpreter: slower, same results.
    pcre2_jit_compile(m_impl->code, PCRE2_JIT_COMPLETE);
}

SplitRegex SplitRegex::literal(std::string_view literal, const std::string& where)
{
    if (literal.empty())
        fail(where + ": an empty string cannot be used as a split or replace pattern");
    SplitRegex regex;
    regex.m_pattern = std::string(literal);
    regex.m_literal = true;
    return regex;
}

SplitRegex::~SplitRegex() = default;
SplitRegex::SplitRegex(SplitRegex&&) noexcept = default;
SplitRegex& SplitRegex::operator=(SplitRegex&&) noexcept = default;

void SplitRegex::findAll(std::string_view subject, std::vector<std::pair<size_t, size_t>>& matches) const
{
    if (m_literal) {
        for (size_t at = subject.find(m_pattern); at != std::string_view::npos;
             at = subject.find(m_pattern, at + m_pattern.size()))
            matches.emplace_back(at, at + m_pattern.size());
        return;
    }
    pcre2_match_data* data = pcre2_match_data_create_from_pattern(m_impl->code, nullptr);
    pcre2_match_context* context = nullptr;
    pcre2_jit_stack* stack = nullptr;
    const auto cleanup = [&] {
        pcre2_match_data_free(data);
        pcre2_match_context_free(context);
        pcre2_jit_stack_free(stack);
    };
    const auto* text = reinterpret_cast<PCRE2_SPTR>(subject.data());
    size_t start = 0;
    while (start <= subject.size()) {
        int rc = pcre2_match(m_impl->code, text, subject.size(), start, PCRE2_NO_UTF_CHECK, data, context);
        if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !stack) {
            // Long runs of one class (e.g. 100k spaces) can outgrow the default 32 KiB.
            stack = pcre2_jit_stack_create(64 * 1024, 256 * 1024 * 1024, nullptr);
            context = pcre2_match_context_create(nullptr);
            pcre2_jit_stack_assign(context, nullptr, stack);
            continue;
        }
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            cleanup();
            fail("matching the regular expression \"" + m_pattern + "\" failed: " + pcre2Message(rc));
        }
        const PCRE2_SIZE* ovector = pcre2_get_ovector_pointer(data);
        const size_t begin = ovector[0], end = ovector[1];
        if (end > begin) {
            matches.emplace_back(begin, end);
            start = end;
        } else {
            // An empty match splits nothing; step over one character and go on.
            if (begin >= subject.size())
                break;
            start = begin + 1;
            while (start < subject.size() && (static_cast<unsigned char>(subject[start]) & 0xC0) == 0x80)
                ++start;
        }
    }
    cleanup();
}

} // namespace ft::tok
