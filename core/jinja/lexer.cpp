// Jinja tokenizer mirroring jinja2's lexer with trim_blocks and lstrip_blocks on
// (see jinja_lexer.h).
#include "jinja/lexer.h"

#include "jinja/error.h"
#include "jinja/literals.h"
#include "jinja/text.h"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>

namespace ft::tok::jinja {
namespace {

bool isDigit(char c)
{
    return c >= '0' && c <= '9';
}
bool isNameStart(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isNameChar(char c)
{
    return isNameStart(c) || isDigit(c);
}
bool isHex(char c)
{
    return isDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

class Lexer {
public:
    explicit Lexer(const std::string& source) : s(source)
    {
        lineStarts.push_back(0);
        for (size_t i = 0; i < s.size(); ++i)
            if (s[i] == '\n')
                lineStarts.push_back(i + 1);
    }

    std::vector<Token> run()
    {
        while (pos < s.size()) {
            const size_t tag = findTag(pos);
            if (tag == std::string::npos) {
                emitData(s.substr(pos), pos);
                break;
            }
            lexTag(tag);
        }
        tokens.push_back(make(TokenType::End, s.size()));
        return std::move(tokens);
    }

private:
    const std::string& s;
    size_t pos = 0;
    bool lineStarting = true; // the previous match ended with a newline (or nothing was matched yet)
    std::vector<size_t> lineStarts;
    std::vector<Token> tokens;
    std::vector<char> closers; // brackets open inside the current tag

    [[noreturn]] void fail(size_t at, const std::string& message)
    {
        int line, column;
        locate(at, line, column);
        throw TemplateError(ErrorKind::Syntax, message, s, line, column);
    }

    // Line and column (in code points) of byte `at`. Tokens come in order, so the
    // column continues from the previous token on the same line: linear in the source,
    // also for one very long line (counting from the line start each time was quadratic,
    // found by fuzzing).
    void locate(size_t at, int& line, int& column) const
    {
        const size_t l = size_t(std::upper_bound(lineStarts.begin(), lineStarts.end(), at) - lineStarts.begin()) - 1;
        size_t from = lineStarts[l];
        int col = 1;
        if (l == m_lastLine && at >= m_lastAt && m_lastAt >= from) {
            from = m_lastAt;
            col = m_lastColumn;
        }
        for (size_t i = from; i < at && i < s.size(); ++i)
            if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80)
                ++col;
        m_lastLine = l;
        m_lastAt = at;
        m_lastColumn = col;
        line = int(l) + 1;
        column = col;
    }
    mutable size_t m_lastLine = 0, m_lastAt = 0;
    mutable int m_lastColumn = 1;

    Token make(TokenType type, size_t at, std::string value = {})
    {
        Token t;
        t.type = type;
        t.value = std::move(value);
        locate(at, t.line, t.column);
        return t;
    }

    bool startsWith(size_t i, std::string_view what) const { return s.compare(i, what.size(), what) == 0; }

    // Byte length of the Python whitespace character at i, 0 if none.
    size_t spaceLen(size_t i) const
    {
        if (i >= s.size())
            return 0;
        const unsigned char c = s[i];
        if (c < 0x80)
            return text::isSpace(c) ? 1 : 0;
        const size_t len = (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        const std::u32string cp = text::decode(std::string_view(s).substr(i, len));
        return cp.size() == 1 && text::isSpace(cp[0]) ? len : 0;
    }

    size_t skipSpaces(size_t i) const
    {
        while (size_t n = spaceLen(i))
            i += n;
        return i;
    }

    size_t findTag(size_t from) const
    {
        for (size_t i = s.find('{', from); i != std::string::npos; i = s.find('{', i + 1))
            if (i + 1 < s.size() && (s[i + 1] == '%' || s[i + 1] == '{' || s[i + 1] == '#'))
                return i;
        return std::string::npos;
    }

    void emitData(std::string text, size_t at)
    {
        if (!text.empty())
            tokens.push_back(make(TokenType::Data, at, std::move(text)));
    }

    // jinja2's OptionalLStrip: "-" strips all whitespace before the tag; otherwise,
    // for block and comment tags, lstrip_blocks removes the indentation of a tag that
    // starts its line.
    std::string stripBefore(std::string text, char sign, bool isVariable) const
    {
        if (sign == '-')
            return text::strip(text, nullptr, false, true);
        if (sign == '+' || isVariable)
            return text;
        const size_t nl = text.rfind('\n');
        const size_t lineStart = nl == std::string::npos ? 0 : nl + 1;
        if ((lineStart > 0 || lineStarting) && lineStart < text.size() && skipSpacesIn(text, lineStart) == text.size())
            text.erase(lineStart);
        return text;
    }

    static size_t skipSpacesIn(const std::string& t, size_t i)
    {
        const std::u32string rest = text::decode(std::string_view(t).substr(i));
        for (char32_t cp : rest)
            if (!text::isSpace(cp))
                return std::string::npos;
        return t.size();
    }

    char signAt(size_t i) const { return (i < s.size() && (s[i] == '-' || s[i] == '+')) ? s[i] : 0; }

    // {%[-+]? raw %} (or -%} followed by whitespace); returns the end or npos.
    size_t matchRawBegin(size_t tag) const
    {
        size_t i = tag + 2 + (signAt(tag + 2) ? 1 : 0);
        i = skipSpaces(i);
        if (!startsWith(i, "raw"))
            return std::string::npos;
        i = skipSpaces(i + 3);
        if (startsWith(i, "-%}"))
            return skipSpaces(i + 3);
        if (startsWith(i, "%}"))
            return i + 2;
        return std::string::npos;
    }

    // {%[-+]? endraw [+-]?%} at i; returns the end of the match or npos, and the sign.
    size_t matchEndRaw(size_t i, char& sign) const
    {
        sign = signAt(i + 2);
        size_t j = skipSpaces(i + 2 + (sign ? 1 : 0));
        if (!startsWith(j, "endraw"))
            return std::string::npos;
        j = skipSpaces(j + 6);
        return matchBlockEnd(j);
    }

    // +%}  |  -%} and following whitespace  |  %} and one newline (trim_blocks)
    size_t matchBlockEnd(size_t i) const
    {
        if (startsWith(i, "+%}"))
            return i + 3;
        if (startsWith(i, "-%}"))
            return skipSpaces(i + 3);
        if (startsWith(i, "%}"))
            return (i + 2 < s.size() && s[i + 2] == '\n') ? i + 3 : i + 2;
        return std::string::npos;
    }

    void finishMatch(size_t end)
    {
        lineStarting = end > 0 && s[end - 1] == '\n';
        pos = end;
    }

    void lexTag(size_t tag)
    {
        const char kind = s[tag + 1];
        const char sign = signAt(tag + 2);
        const size_t rawEnd = kind == '%' ? matchRawBegin(tag) : std::string::npos;
        emitData(stripBefore(s.substr(pos, tag - pos), sign, kind == '{'), pos);
        if (rawEnd != std::string::npos)
            return lexRaw(tag, rawEnd);
        if (kind == '#')
            return lexComment(tag, tag + 2 + (sign ? 1 : 0));
        tokens.push_back(make(kind == '%' ? TokenType::BlockBegin : TokenType::VariableBegin, tag));
        lexInside(tag, kind == '%');
    }

    void lexRaw(size_t tag, size_t contentStart)
    {
        finishMatch(contentStart);
        for (size_t i = s.find("{%", contentStart); i != std::string::npos; i = s.find("{%", i + 1)) {
            char sign = 0;
            const size_t end = matchEndRaw(i, sign);
            if (end == std::string::npos)
                continue;
            emitData(stripBefore(s.substr(contentStart, i - contentStart), sign, false), contentStart);
            finishMatch(end);
            return;
        }
        fail(tag, "missing {% endraw %} for the {% raw %} block opened here");
    }

    void lexComment(size_t tag, size_t contentStart)
    {
        const size_t close = s.find("#}", contentStart);
        if (close == std::string::npos)
            fail(tag, "missing end of comment tag '#}' for the comment opened here");
        const char sign = (close > contentStart) ? signAt(close - 1) : 0;
        size_t end = close + 2;
        if (sign == '-')
            end = skipSpaces(end);
        else if (sign != '+' && end < s.size() && s[end] == '\n')
            ++end;
        finishMatch(end);
    }

    void lexInside(size_t tag, bool block)
    {
        size_t i = tag + 2 + (signAt(tag + 2) ? 1 : 0);
        closers.clear();
        while (true) {
            if (i >= s.size())
                fail(tag, std::string("the tag opened here is never closed with '") + (block ? "%}" : "}}") + "'");
            if (closers.empty()) {
                size_t end = std::string::npos;
                if (block)
                    end = matchBlockEnd(i);
                else if (startsWith(i, "-}}"))
                    end = skipSpaces(i + 3);
                else if (startsWith(i, "}}"))
                    end = i + 2;
                if (end != std::string::npos) {
                    tokens.push_back(make(block ? TokenType::BlockEnd : TokenType::VariableEnd, i));
                    finishMatch(end);
                    return;
                }
            }
            if (const size_t n = spaceLen(i)) {
                i = skipSpaces(i + n);
                continue;
            }
            const char c = s[i];
            if (isDigit(c))
                i = lexNumber(i);
            else if (isNameStart(c)) {
                size_t j = i;
                while (j < s.size() && isNameChar(s[j]))
                    ++j;
                tokens.push_back(make(TokenType::Name, i, s.substr(i, j - i)));
                i = j;
            } else if (c == '\'' || c == '"')
                i = lexString(i);
            else
                i = lexOperator(i);
        }
    }

    // (\d+_)*\d+ starting at i; npos if no digit there.
    size_t digitRun(size_t i) const
    {
        if (i >= s.size() || !isDigit(s[i]))
            return std::string::npos;
        while (true) {
            while (i < s.size() && isDigit(s[i]))
                ++i;
            if (i + 1 < s.size() && s[i] == '_' && isDigit(s[i + 1]))
                ++i;
            else
                return i;
        }
    }

    size_t matchFloat(size_t i) const
    {
        if (i > 0 && s[i - 1] == '.')
            return std::string::npos;
        const size_t intEnd = digitRun(i);
        // Alternative 1: optional fraction, required exponent.
        size_t j = intEnd;
        if (j < s.size() && s[j] == '.' && digitRun(j + 1) != std::string::npos)
            j = digitRun(j + 1);
        if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
            size_t k = j + 1;
            if (k < s.size() && (s[k] == '+' || s[k] == '-'))
                ++k;
            if (digitRun(k) != std::string::npos)
                return digitRun(k);
        }
        // Alternative 2: required fraction.
        if (intEnd < s.size() && s[intEnd] == '.' && digitRun(intEnd + 1) != std::string::npos)
            return digitRun(intEnd + 1);
        return std::string::npos;
    }

    static std::string withoutUnderscores(std::string t)
    {
        std::string out;
        for (char c : t)
            if (c != '_')
                out += c;
        return out;
    }

    size_t lexNumber(size_t i)
    {
        if (const size_t end = matchFloat(i); end != std::string::npos) {
            Token t = make(TokenType::Float, i, s.substr(i, end - i));
            t.real = std::strtod(withoutUnderscores(t.value).c_str(), nullptr);
            tokens.push_back(std::move(t));
            return end;
        }
        size_t end = i;
        int base = 10;
        auto prefixed = [&](char p, auto isDigitOf) {
            if (s[i] != '0' || i + 1 >= s.size() || (s[i + 1] | 0x20) != p)
                return false;
            size_t j = i + 2, last = std::string::npos;
            while (j < s.size()) {
                const size_t k = (s[j] == '_') ? j + 1 : j;
                if (k < s.size() && isDigitOf(s[k]))
                    last = j = k + 1;
                else
                    break;
            }
            if (last == std::string::npos)
                return false;
            end = last;
            return true;
        };
        if (prefixed('b', [](char c) { return c == '0' || c == '1'; }))
            base = 2;
        else if (prefixed('o', [](char c) { return c >= '0' && c <= '7'; }))
            base = 8;
        else if (prefixed('x', [](char c) { return isHex(c); }))
            base = 16;
        else if (s[i] != '0') {
            end = i + 1;
            while (end < s.size() && (isDigit(s[end]) || (s[end] == '_' && end + 1 < s.size() && isDigit(s[end + 1]))))
                ++end;
        } else {
            end = i + 1;
            while (end < s.size() && (s[end] == '0' || (s[end] == '_' && end + 1 < s.size() && s[end + 1] == '0')))
                ++end;
        }
        Token t = make(TokenType::Integer, i, s.substr(i, end - i));
        std::string digits = withoutUnderscores(t.value);
        if (base != 10)
            digits = digits.substr(2);
        errno = 0;
        char* stop = nullptr;
        t.integer = std::strtoll(digits.c_str(), &stop, base);
        if (errno == ERANGE)
            fail(i, "the integer literal " + t.value + " is too large");
        tokens.push_back(std::move(t));
        return end;
    }

    size_t lexString(size_t i)
    {
        const char quote = s[i];
        size_t j = i + 1;
        while (j < s.size() && s[j] != quote)
            j += (s[j] == '\\') ? 2 : 1;
        if (j >= s.size())
            fail(i, "unterminated string literal");
        try {
            tokens.push_back(make(TokenType::String, i, text::unescapePython(s.substr(i + 1, j - i - 1))));
        } catch (const EvalError& e) {
            fail(i, e.what());
        }
        return j + 1;
    }

    size_t lexOperator(size_t i)
    {
        static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
        for (const char* op : kTwo)
            if (startsWith(i, op)) {
                tokens.push_back(make(TokenType::Operator, i, op));
                return i + 2;
            }
        const char c = s[i];
        if (std::string_view("+-/*%~[](){}><=.:|,;").find(c) == std::string_view::npos) {
            std::string ch;
            text::append(ch, text::decode(std::string_view(s).substr(i, 4)).front());
            fail(i, "unexpected character '" + ch + "'");
        }
        if (c == '(' || c == '[' || c == '{')
            closers.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
        else if (c == ')' || c == ']' || c == '}') {
            if (closers.empty())
                fail(i, std::string("unexpected '") + c + "'");
            if (closers.back() != c)
                fail(i, std::string("unexpected '") + c + "', expected '" + closers.back() + "'");
            closers.pop_back();
        }
        tokens.push_back(make(TokenType::Operator, i, std::string(1, c)));
        return i + 1;
    }
};

} // namespace

std::string normalizeSource(std::string_view source)
{
    std::string out;
    out.reserve(source.size());
    for (size_t i = 0; i < source.size(); ++i) {
        if (source[i] == '\r') {
            out += '\n';
            if (i + 1 < source.size() && source[i + 1] == '\n')
                ++i;
        } else {
            out += source[i];
        }
    }
    if (!out.empty() && out.back() == '\n')
        out.pop_back();
    return out;
}

std::vector<Token> tokenize(const std::string& source)
{
    return Lexer(source).run();
}

} // namespace ft::tok::jinja
