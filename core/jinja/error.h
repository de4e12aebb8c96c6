// Errors of the chat-template Jinja interpreter. A TemplateError says where in the
// template it happened (line, column, an excerpt with a caret) and what kind it is,
// so that callers can tell "this template uses something we do not support" from
// "the template itself refused the conversation" (raise_exception). EvalError is the
// interpreter's internal, location-free error; the evaluator turns it into a
// TemplateError naming the expression being evaluated. Nothing here parses or renders.
#pragma once

#include "util/error.h"

#include <stdexcept>
#include <string>
#include <string_view>

namespace ft::tok::jinja {

enum class ErrorKind {
    Syntax,      // the template is not valid Jinja
    Unsupported, // valid Jinja that this interpreter deliberately does not implement
    Render,      // rendering failed (undefined value misused, type error, ...)
    Raised,      // the template called raise_exception(message)
};

class TemplateError : public ft::Error {
public:
    // `source` is the (normalized) template text, used only to build the excerpt.
    TemplateError(ErrorKind kind, const std::string& message, std::string_view source, int line, int column);

    ErrorKind kind() const { return m_kind; }
    // The bare message (for Raised: exactly what the template passed to raise_exception).
    const std::string& message() const { return m_message; }
    int line() const { return m_line; }
    int column() const { return m_column; }

private:
    ErrorKind m_kind;
    std::string m_message;
    int m_line;
    int m_column;
};

// Thrown by values, filters and methods; carries no location.
class EvalError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Thrown by raise_exception(); the evaluator turns it into a TemplateError of kind Raised.
class RaisedError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// "    {% if x %}..." followed by a caret line under `column` (1-based, in characters);
// long lines are cut to a window around the column.
std::string excerptAt(std::string_view source, int line, int column);

} // namespace ft::tok::jinja
