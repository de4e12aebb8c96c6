// Syntax tree and parser of the Jinja subset chat templates use. The grammar and
// operator precedence are jinja2's (parser.py): or < and < not < comparisons/in <
// + - < ~ < * / // % < ** < unary - + < filters |, tests "is", calls, subscripts.
// Statements: for (else, "if" filter, tuple targets), if/elif/else, set (also
// namespace attributes and block set), macro, call blocks, filter blocks, with,
// print, raw, break/continue (loopcontrols) and transformers' {% generation %}.
// Template inheritance, include/import and autoescape give an Unsupported error with
// the tag's line and column, as do filters and tests this interpreter lacks; other
// malformed input gives a Syntax error. Not here: evaluation (jinja_eval.h).
#pragma once

#include "jinja/value.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace ft::tok::jinja {

struct Loc {
    int line = 1;
    int column = 1;
};

enum class ExprKind {
    Const,    // constant
    Name,     // name
    Getattr,  // operands[0].name
    Getitem,  // operands[0][operands[1]]
    Slice,    // operands: start, stop, step (each may be null); only inside Getitem
    List,     // operands
    Tuple,    // operands
    Dict,     // operands: key0, value0, key1, value1 ...
    Unary,    // name: "-", "+", "not"; operands[0]
    Binary,   // name: + - * / // % ** and or; operands[0], operands[1]
    Concat,   // operands joined with ~
    Compare,  // operands[0] compareOps[i] operands[i + 1] ...
    CondExpr, // operands: then, condition, else (may be null)
    Filter,   // operands[0] | name(operands[1..], keywords); operands[0] null in filter blocks
    Test,     // operands[0] is [not] name(operands[1..], keywords)
    Call,     // operands[0](operands[1..], keywords)
};

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
    ExprKind kind = ExprKind::Const;
    Loc loc;
    Value constant;
    std::string name;
    std::vector<ExprPtr> operands;
    std::vector<std::pair<std::string, ExprPtr>> keywords;
    std::vector<std::string> compareOps; // == != < <= > >= in notin
    bool negated = false;                // Test: "is not"
    int height = 1;                      // of the tree under it: bounded (kMaxExprHeight)
};

// Templates are untrusted input: an expression tree may be at most this tall and
// expressions and blocks nest at most this deep, so that parsing, rendering and freeing
// a template never recurse deeper than the stack allows (jinja2 itself has no such
// limit but runs in Python, which stops at its recursion limit).
inline constexpr int kMaxExprHeight = 200;
inline constexpr int kMaxNesting = 100;

enum class StmtKind {
    Output,      // text
    Print,       // {{ expr }}
    If,          // branches, elseBody
    For,         // target in expr [if condition]: body, elseBody
    Set,         // target = expr (target: Name, Tuple of names, or Getattr on a namespace name)
    SetBlock,    // {% set target [| filters] %}body{% endset %}
    Macro,       // text = name, params, body
    CallBlock,   // {% call(params) expr %}body{% endcall %}
    FilterBlock, // {% filter f %}body{% endfilter %}
    With,        // assignments, body
    Break,
    Continue,
    Generation, // transformers' {% generation %}body{% endgeneration %}
};

struct Stmt;
using StmtList = std::vector<std::unique_ptr<Stmt>>;

struct Param {
    std::string name;
    ExprPtr defaultValue; // may be null
};

struct Stmt {
    StmtKind kind = StmtKind::Output;
    Loc loc;
    std::string text;
    ExprPtr expr;
    ExprPtr target;
    ExprPtr condition;
    ExprPtr filter; // chain of Filter nodes whose innermost operand is null
    std::vector<std::pair<ExprPtr, StmtList>> branches;
    StmtList body;
    StmtList elseBody;
    std::vector<Param> params;
    std::vector<std::pair<ExprPtr, ExprPtr>> assignments;
};

// Parses a normalized template (see normalizeSource). Throws TemplateError.
StmtList parseTemplate(const std::string& source);

} // namespace ft::tok::jinja
