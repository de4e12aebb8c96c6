// TemplateError's message and the excerpt with a caret (see jinja_error.h).
#include "jinja/error.h"

#include "jinja/text.h"

#include <algorithm>

namespace ft::tok::jinja {
namespace {

const char* kindPhrase(ErrorKind kind)
{
    switch (kind) {
    case ErrorKind::Syntax: return "Chat template syntax error";
    case ErrorKind::Unsupported: return "Chat template uses a construct this interpreter does not support";
    case ErrorKind::Render: return "Chat template failed to render";
    case ErrorKind::Raised: return "Chat template raised an exception";
    }
    return "Chat template error";
}

std::string fullMessage(ErrorKind kind, const std::string& message, std::string_view source, int line, int column)
{
    return std::string(kindPhrase(kind)) + " at line " + std::to_string(line) + ", column " + std::to_string(column) +
           ": " + message + "\n" + excerptAt(source, line, column);
}

} // namespace

TemplateError::TemplateError(ErrorKind kind, const std::string& message, std::string_view source, int line, int column)
    : ft::Error(fullMessage(kind, message, source, line, column)), m_kind(kind), m_message(message), m_line(line),
      m_column(column)
{
}

std::string excerptAt(std::string_view source, int line, int column)
{
    size_t start = 0;
    for (int l = 1; l < line; ++l) {
        const size_t nl = source.find('\n', start);
        if (nl == std::string_view::npos)
            return {};
        start = nl + 1;
    }
    const size_t end = source.find('\n', start);
    const std::u32string text = text::decode(source.substr(start, end == std::string_view::npos ? end : end - start));
    constexpr size_t kBefore = 40, kAfter = 40;
    const size_t col = size_t(column > 0 ? column - 1 : 0);
    const size_t from = col > kBefore ? col - kBefore : 0;
    const size_t to = std::min(text.size(), col + kAfter);
    std::string shown = (from > 0 ? "..." : "") + text::encode(std::u32string_view(text).substr(from, to - from)) +
                        (to < text.size() ? "..." : "");
    const size_t caret = (from > 0 ? 3 : 0) + (col - from);
    return "    " + shown + "\n    " + std::string(caret, ' ') + "^";
}

} // namespace ft::tok::jinja
