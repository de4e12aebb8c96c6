// Tokenizer of Jinja template text, with exactly the whitespace behaviour of the
// environment transformers renders chat templates in: trim_blocks=True (a newline
// right after a block or comment tag is dropped), lstrip_blocks=True (spaces and tabs
// before a block or comment tag at the start of a line are dropped), the "-" and "+"
// modifiers on tags, {% raw %} blocks, and keep_trailing_newline=False (one trailing
// newline of the template is dropped). Not here: what the tokens mean (the parser).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tok::jinja {

enum class TokenType {
    Data,          // literal text between tags
    VariableBegin, // {{
    VariableEnd,   // }}
    BlockBegin,    // {%
    BlockEnd,      // %}
    Name,          // identifier (keywords included: for, if, and, not, true ...)
    String,        // value holds the decoded string
    Integer,
    Float,
    Operator, // value holds the operator: + - * / // % ** ~ == != < <= > >= = . : | , ( ) [ ] { }
    End,      // end of template
};

struct Token {
    TokenType type = TokenType::End;
    std::string value;
    int64_t integer = 0;
    double real = 0.0;
    int line = 1;   // 1-based
    int column = 1; // 1-based, in characters
};

// Newlines (\r\n, \r) become \n and one trailing newline is removed, as jinja2 does
// before lexing. Positions in errors refer to this normalized text.
std::string normalizeSource(std::string_view source);

// Tokens of a normalized template, ending with an End token. Throws TemplateError
// (Syntax) for unterminated tags, comments, strings and unbalanced brackets.
std::vector<Token> tokenize(const std::string& source);

} // namespace ft::tok::jinja
