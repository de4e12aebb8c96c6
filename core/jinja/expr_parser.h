// Internal to the parser: the token cursor shared by statement and expression
// parsing, and the expression half of the grammar (jinja2's parse_tuple, parse_or ...
// parse_primary, filters, tests, calls, subscripts). jinja_parser.cpp builds the
// statement parser on top of it. Not part of the interpreter's interface.
#pragma once

#include "jinja/error.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tok::jinja {

// "'for'", "end of print statement '}}'", ... for error messages.
std::string describe(const Token& t);
ExprPtr makeExpr(ExprKind kind, const Token& at);

class ExpressionParser {
public:
    // Tokenizes `source` (which must outlive the parser).
    explicit ExpressionParser(const std::string& source) : m_source(source), m_tokens(tokenize(source)) {}

    ExprPtr parseExpression(bool withCondexpr);
    // jinja2's parse_tuple: "a, b" is a tuple, "a" stays a; simplified parses only
    // primaries (assignment targets); extraEnd names end a tuple early ("in").
    ExprPtr parseTuple(bool simplified, bool withCondexpr, const std::vector<std::string>& extraEnd,
                       bool explicitParentheses);
    ExprPtr parsePrimary();
    ExprPtr parsePostfix(ExprPtr node);
    // "| name(args) | ..." applied to node (null for filter blocks).
    ExprPtr parseFilter(ExprPtr node, bool startInline);

    // parent.operands.push_back(child), keeping parent.height and refusing a tree taller
    // than kMaxExprHeight (a Syntax error at the parent).
    void addOperand(Expr& parent, ExprPtr child);
    // Recomputes parent.height from all its operands and keywords (after a bulk assignment).
    void refreshHeight(Expr& parent);

protected:
    const std::string& m_source;
    std::vector<Token> m_tokens;
    size_t m_pos = 0;
    int m_nesting = 0;  // recursion depth of parseExpression/parseNot/parseUnary

    // Counts one level of recursive descent; a Syntax error past kMaxNesting.
    struct NestingGuard {
        NestingGuard(ExpressionParser& p);
        ~NestingGuard() { --parser.m_nesting; }
        ExpressionParser& parser;
    };

    const Token& cur() const { return m_tokens[m_pos]; }
    const Token& look() const { return m_tokens[std::min(m_pos + 1, m_tokens.size() - 1)]; }
    const Token& next()
    {
        const Token& t = m_tokens[m_pos];
        if (m_pos + 1 < m_tokens.size())
            ++m_pos;
        return t;
    }
    static bool isName(const Token& t, std::string_view v) { return t.type == TokenType::Name && t.value == v; }
    static bool isOp(const Token& t, std::string_view v) { return t.type == TokenType::Operator && t.value == v; }
    bool skipName(std::string_view v);
    bool skipOp(std::string_view v);
    [[noreturn]] void fail(const Token& at, const std::string& message) const;
    [[noreturn]] void unsupported(const Token& at, const std::string& message) const;
    const Token& expectOp(std::string_view op);
    const Token& expectType(TokenType type, const char* what);
    const Token& expectName(std::string_view v);

private:
    bool isTupleEnd(const std::vector<std::string>& extraEnd) const;
    ExprPtr parseCondexpr();
    ExprPtr binary(const Token& at, std::string op, ExprPtr left, ExprPtr right);
    ExprPtr parseOr();
    ExprPtr parseAnd();
    ExprPtr parseNot();
    ExprPtr parseCompare();
    ExprPtr parseMath1();
    ExprPtr parseConcat();
    ExprPtr parseMath2();
    ExprPtr parsePow();
    ExprPtr parseUnary(bool withFilter);
    ExprPtr parseList();
    ExprPtr parseDict();
    ExprPtr parseFilterExpr(ExprPtr node);
    ExprPtr parseSubscript(ExprPtr node);
    ExprPtr parseSubscribed();
    void parseCallArgs(Expr& call);
    ExprPtr parseCall(ExprPtr node);
    std::string dottedName();
    ExprPtr parseTest(ExprPtr node);
};

} // namespace ft::tok::jinja
