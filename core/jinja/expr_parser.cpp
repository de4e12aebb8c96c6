// The expression half of the Jinja parser, following jinja2's parser.py (see
// jinja_expr_parser.h and jinja_parser.h for the grammar).
#include "jinja/expr_parser.h"

#include "jinja/builtins.h"

namespace ft::tok::jinja {

std::string describe(const Token& t)
{
    switch (t.type) {
    case TokenType::Data: return "template data";
    case TokenType::VariableBegin: return "'{{'";
    case TokenType::VariableEnd: return "end of print statement '}}'";
    case TokenType::BlockBegin: return "'{%'";
    case TokenType::BlockEnd: return "end of statement block '%}'";
    case TokenType::Name: return "'" + t.value + "'";
    case TokenType::String: return "string literal";
    case TokenType::Integer: return "integer literal";
    case TokenType::Float: return "float literal";
    case TokenType::Operator: return "'" + t.value + "'";
    case TokenType::End: return "end of template";
    }
    return "token";
}

ExprPtr makeExpr(ExprKind kind, const Token& at)
{
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->loc = {at.line, at.column};
    return e;
}

bool ExpressionParser::skipName(std::string_view v)
{
    if (!isName(cur(), v))
        return false;
    next();
    return true;
}

bool ExpressionParser::skipOp(std::string_view v)
{
    if (!isOp(cur(), v))
        return false;
    next();
    return true;
}

void ExpressionParser::fail(const Token& at, const std::string& message) const
{
    throw TemplateError(ErrorKind::Syntax, message, m_source, at.line, at.column);
}

void ExpressionParser::unsupported(const Token& at, const std::string& message) const
{
    throw TemplateError(ErrorKind::Unsupported, message, m_source, at.line, at.column);
}

const Token& ExpressionParser::expectOp(std::string_view op)
{
    if (!isOp(cur(), op))
        fail(cur(), "expected '" + std::string(op) + "', got " + describe(cur()));
    return next();
}

const Token& ExpressionParser::expectType(TokenType type, const char* what)
{
    if (cur().type != type)
        fail(cur(), std::string("expected ") + what + ", got " + describe(cur()));
    return next();
}

const Token& ExpressionParser::expectName(std::string_view v)
{
    if (!isName(cur(), v))
        fail(cur(), "expected '" + std::string(v) + "', got " + describe(cur()));
    return next();
}

bool ExpressionParser::isTupleEnd(const std::vector<std::string>& extraEnd) const
{
    const Token& t = cur();
    if (t.type == TokenType::VariableEnd || t.type == TokenType::BlockEnd || isOp(t, ")"))
        return true;
    return t.type == TokenType::Name && std::find(extraEnd.begin(), extraEnd.end(), t.value) != extraEnd.end();
}

ExprPtr ExpressionParser::parseTuple(bool simplified, bool withCondexpr, const std::vector<std::string>& extraEnd,
                                     bool explicitParentheses)
{
    const Token start = cur();
    std::vector<ExprPtr> items;
    bool isTuple = false;
    while (true) {
        if (!items.empty())
            expectOp(",");
        if (isTupleEnd(extraEnd))
            break;
        items.push_back(simplified ? parsePrimary() : parseExpression(withCondexpr));
        if (isOp(cur(), ","))
            isTuple = true;
        else
            break;
    }
    if (!isTuple) {
        if (!items.empty())
            return std::move(items.front());
        if (!explicitParentheses)
            fail(cur(), "expected an expression, got " + describe(cur()));
    }
    auto t = makeExpr(ExprKind::Tuple, start);
    t->operands = std::move(items);
    refreshHeight(*t);
    return t;
}

ExpressionParser::NestingGuard::NestingGuard(ExpressionParser& p) : parser(p)
{
    if (++parser.m_nesting > kMaxNesting) {
        --parser.m_nesting;
        parser.fail(parser.cur(), "expression nested too deeply (more than " + std::to_string(kMaxNesting) +
                                      " levels)");
    }
}

void ExpressionParser::refreshHeight(Expr& parent)
{
    int height = 1;
    for (const auto& o : parent.operands)
        if (o)
            height = std::max(height, o->height + 1);
    for (const auto& [name, value] : parent.keywords)
        if (value)
            height = std::max(height, value->height + 1);
    parent.height = height;
    if (height > kMaxExprHeight)
        throw TemplateError(ErrorKind::Syntax,
                            "expression too deeply nested (more than " + std::to_string(kMaxExprHeight) +
                                " operations inside one another)",
                            m_source, parent.loc.line, parent.loc.column);
}

void ExpressionParser::addOperand(Expr& parent, ExprPtr child)
{
    const int height = child ? child->height + 1 : 1;
    parent.operands.push_back(std::move(child));
    if (height > parent.height) {
        parent.height = height;
        if (height > kMaxExprHeight)
            refreshHeight(parent);  // throws
    }
}

ExprPtr ExpressionParser::parseExpression(bool withCondexpr)
{
    NestingGuard guard(*this);
    return withCondexpr ? parseCondexpr() : parseOr();
}

ExprPtr ExpressionParser::parseCondexpr()
{
    ExprPtr expr = parseOr();
    while (isName(cur(), "if")) {
        const Token& at = next();
        ExprPtr cond = parseOr();
        ExprPtr otherwise = skipName("else") ? parseCondexpr() : nullptr;
        auto c = makeExpr(ExprKind::CondExpr, at);
        addOperand(*c, std::move(expr));
        addOperand(*c, std::move(cond));
        addOperand(*c, std::move(otherwise));
        expr = std::move(c);
    }
    return expr;
}

ExprPtr ExpressionParser::binary(const Token& at, std::string op, ExprPtr left, ExprPtr right)
{
    auto b = makeExpr(ExprKind::Binary, at);
    b->name = std::move(op);
    addOperand(*b, std::move(left));
    addOperand(*b, std::move(right));
    return b;
}

ExprPtr ExpressionParser::parseOr()
{
    ExprPtr left = parseAnd();
    while (isName(cur(), "or")) {
        const Token& at = next();
        left = binary(at, "or", std::move(left), parseAnd());
    }
    return left;
}

ExprPtr ExpressionParser::parseAnd()
{
    ExprPtr left = parseNot();
    while (isName(cur(), "and")) {
        const Token& at = next();
        left = binary(at, "and", std::move(left), parseNot());
    }
    return left;
}

ExprPtr ExpressionParser::parseNot()
{
    NestingGuard guard(*this);
    if (isName(cur(), "not")) {
        const Token& at = next();
        auto n = makeExpr(ExprKind::Unary, at);
        n->name = "not";
        addOperand(*n, parseNot());
        return n;
    }
    return parseCompare();
}

ExprPtr ExpressionParser::parseCompare()
{
    const Token start = cur();
    ExprPtr first = parseMath1();
    auto cmp = makeExpr(ExprKind::Compare, start);
    while (true) {
        const Token& t = cur();
        if (t.type == TokenType::Operator && (t.value == "==" || t.value == "!=" || t.value == "<" || t.value == "<=" ||
                                              t.value == ">" || t.value == ">=")) {
            cmp->compareOps.push_back(next().value);
        } else if (isName(t, "in")) {
            next();
            cmp->compareOps.push_back("in");
        } else if (isName(t, "not") && isName(look(), "in")) {
            next();
            next();
            cmp->compareOps.push_back("notin");
        } else {
            break;
        }
        addOperand(*cmp, parseMath1());
    }
    if (cmp->compareOps.empty())
        return first;
    cmp->operands.insert(cmp->operands.begin(), std::move(first));
    refreshHeight(*cmp);
    return cmp;
}

ExprPtr ExpressionParser::parseMath1()
{
    ExprPtr left = parseConcat();
    while (isOp(cur(), "+") || isOp(cur(), "-")) {
        const Token& at = next();
        left = binary(at, at.value, std::move(left), parseConcat());
    }
    return left;
}

ExprPtr ExpressionParser::parseConcat()
{
    const Token start = cur();
    ExprPtr first = parseMath2();
    if (!isOp(cur(), "~"))
        return first;
    auto c = makeExpr(ExprKind::Concat, start);
    addOperand(*c, std::move(first));
    while (skipOp("~"))
        addOperand(*c, parseMath2());
    return c;
}

ExprPtr ExpressionParser::parseMath2()
{
    ExprPtr left = parsePow();
    while (isOp(cur(), "*") || isOp(cur(), "/") || isOp(cur(), "//") || isOp(cur(), "%")) {
        const Token& at = next();
        left = binary(at, at.value, std::move(left), parsePow());
    }
    return left;
}

ExprPtr ExpressionParser::parsePow()
{
    ExprPtr left = parseUnary(true);
    while (isOp(cur(), "**")) {
        const Token& at = next();
        left = binary(at, "**", std::move(left), parseUnary(true));
    }
    return left;
}

ExprPtr ExpressionParser::parseUnary(bool withFilter)
{
    NestingGuard guard(*this);
    ExprPtr node;
    if (isOp(cur(), "-") || isOp(cur(), "+")) {
        const Token& at = next();
        node = makeExpr(ExprKind::Unary, at);
        node->name = at.value;
        addOperand(*node, parseUnary(false));
    } else {
        node = parsePrimary();
    }
    node = parsePostfix(std::move(node));
    if (withFilter)
        node = parseFilterExpr(std::move(node));
    return node;
}

ExprPtr ExpressionParser::parsePrimary()
{
    const Token& t = cur();
    switch (t.type) {
    case TokenType::Name: {
        next();
        auto e = makeExpr(ExprKind::Const, t);
        if (t.value == "true" || t.value == "True")
            e->constant = Value(true);
        else if (t.value == "false" || t.value == "False")
            e->constant = Value(false);
        else if (t.value == "none" || t.value == "None")
            e->constant = Value::none();
        else {
            e->kind = ExprKind::Name;
            e->name = t.value;
        }
        return e;
    }
    case TokenType::String: {
        auto e = makeExpr(ExprKind::Const, t);
        std::string s;
        while (cur().type == TokenType::String)
            s += next().value;
        e->constant = Value(std::move(s));
        return e;
    }
    case TokenType::Integer: {
        auto e = makeExpr(ExprKind::Const, next());
        e->constant = Value(t.integer);
        return e;
    }
    case TokenType::Float: {
        auto e = makeExpr(ExprKind::Const, next());
        e->constant = Value(t.real);
        return e;
    }
    case TokenType::Operator:
        if (t.value == "(") {
            next();
            ExprPtr e = parseTuple(false, true, {}, true);
            expectOp(")");
            return e;
        }
        if (t.value == "[")
            return parseList();
        if (t.value == "{")
            return parseDict();
        break;
    default: break;
    }
    fail(t, "unexpected " + describe(t));
}

ExprPtr ExpressionParser::parseList()
{
    auto l = makeExpr(ExprKind::List, next());
    while (!isOp(cur(), "]")) {
        if (!l->operands.empty())
            expectOp(",");
        if (isOp(cur(), "]"))
            break;
        addOperand(*l, parseExpression(true));
    }
    expectOp("]");
    return l;
}

ExprPtr ExpressionParser::parseDict()
{
    auto d = makeExpr(ExprKind::Dict, next());
    while (!isOp(cur(), "}")) {
        if (!d->operands.empty())
            expectOp(",");
        if (isOp(cur(), "}"))
            break;
        addOperand(*d, parseExpression(true));
        expectOp(":");
        addOperand(*d, parseExpression(true));
    }
    expectOp("}");
    return d;
}

ExprPtr ExpressionParser::parsePostfix(ExprPtr node)
{
    while (true) {
        if (isOp(cur(), ".") || isOp(cur(), "["))
            node = parseSubscript(std::move(node));
        else if (isOp(cur(), "("))
            node = parseCall(std::move(node));
        else
            return node;
    }
}

ExprPtr ExpressionParser::parseFilterExpr(ExprPtr node)
{
    while (true) {
        if (isOp(cur(), "|"))
            node = parseFilter(std::move(node), false);
        else if (isName(cur(), "is"))
            node = parseTest(std::move(node));
        else if (isOp(cur(), "("))
            node = parseCall(std::move(node));
        else
            return node;
    }
}

ExprPtr ExpressionParser::parseSubscript(ExprPtr node)
{
    const Token& t = next();
    if (t.value == ".") {
        const Token& attr = next();
        if (attr.type == TokenType::Name) {
            auto g = makeExpr(ExprKind::Getattr, t);
            g->name = attr.value;
            addOperand(*g, std::move(node));
            return g;
        }
        if (attr.type != TokenType::Integer)
            fail(attr, "expected an attribute name or number after '.', got " + describe(attr));
        auto g = makeExpr(ExprKind::Getitem, t);
        auto key = makeExpr(ExprKind::Const, attr);
        key->constant = Value(attr.integer);
        addOperand(*g, std::move(node));
        addOperand(*g, std::move(key));
        return g;
    }
    std::vector<ExprPtr> args;
    while (!isOp(cur(), "]")) {
        if (!args.empty())
            expectOp(",");
        args.push_back(parseSubscribed());
    }
    expectOp("]");
    auto g = makeExpr(ExprKind::Getitem, t);
    addOperand(*g, std::move(node));
    if (args.size() == 1) {
        addOperand(*g, std::move(args.front()));
    } else {
        auto tuple = makeExpr(ExprKind::Tuple, t);
        tuple->operands = std::move(args);
        refreshHeight(*tuple);
        addOperand(*g, std::move(tuple));
    }
    return g;
}

ExprPtr ExpressionParser::parseSubscribed()
{
    const Token start = cur();
    std::vector<ExprPtr> parts;
    if (skipOp(":")) {
        parts.push_back(nullptr);
    } else {
        ExprPtr e = parseExpression(true);
        if (!skipOp(":"))
            return e;
        parts.push_back(std::move(e));
    }
    if (isOp(cur(), ":") || isOp(cur(), "]") || isOp(cur(), ","))
        parts.push_back(nullptr);
    else
        parts.push_back(parseExpression(true));
    if (skipOp(":")) {
        if (isOp(cur(), "]") || isOp(cur(), ","))
            parts.push_back(nullptr);
        else
            parts.push_back(parseExpression(true));
    } else {
        parts.push_back(nullptr);
    }
    auto slice = makeExpr(ExprKind::Slice, start);
    slice->operands = std::move(parts);
    refreshHeight(*slice);
    return slice;
}

void ExpressionParser::parseCallArgs(Expr& call)
{
    const Token& open = expectOp("(");
    bool requireComma = false;
    while (!isOp(cur(), ")")) {
        if (requireComma) {
            expectOp(",");
            if (isOp(cur(), ")"))
                break;
        }
        if (isOp(cur(), "*") || isOp(cur(), "**"))
            unsupported(cur(), "*args and **kwargs in calls are not supported");
        if (cur().type == TokenType::Name && isOp(look(), "=")) {
            std::string key = next().value;
            next();
            {
                ExprPtr value = parseExpression(true);
                call.keywords.emplace_back(std::move(key), std::move(value));
                refreshHeight(call);
            }
        } else {
            if (!call.keywords.empty())
                fail(open, "positional argument follows keyword argument");
            addOperand(call, parseExpression(true));
        }
        requireComma = true;
    }
    expectOp(")");
}

ExprPtr ExpressionParser::parseCall(ExprPtr node)
{
    auto c = makeExpr(ExprKind::Call, cur());
    c->loc = node->loc;  // errors point at the callee, e.g. raise_exception
    addOperand(*c, std::move(node));
    parseCallArgs(*c);
    return c;
}

std::string ExpressionParser::dottedName()
{
    std::string name = expectType(TokenType::Name, "a name").value;
    while (skipOp("."))
        name += "." + expectType(TokenType::Name, "a name").value;
    return name;
}

ExprPtr ExpressionParser::parseFilter(ExprPtr node, bool startInline)
{
    while (isOp(cur(), "|") || startInline) {
        if (!startInline)
            next();
        startInline = false;
        const Token at = cur();
        auto f = makeExpr(ExprKind::Filter, at);
        f->name = dottedName();
        if (const Support s = filterSupport(f->name); s == Support::Unknown)
            fail(at, "no filter named '" + f->name + "'");
        else if (s == Support::Unsupported)
            unsupported(at, "the filter '" + f->name + "' is not supported");
        addOperand(*f, std::move(node));
        if (isOp(cur(), "("))
            parseCallArgs(*f);
        node = std::move(f);
    }
    return node;
}

ExprPtr ExpressionParser::parseTest(ExprPtr node)
{
    const Token& is = next();
    auto t = makeExpr(ExprKind::Test, is);
    t->negated = skipName("not");
    const Token at = cur();
    t->name = dottedName();
    if (const Support s = testSupport(t->name); s == Support::Unknown)
        fail(at, "no test named '" + t->name + "'");
    else if (s == Support::Unsupported)
        unsupported(at, "the test '" + t->name + "' is not supported");
    addOperand(*t, std::move(node));
    const Token& c = cur();
    if (isOp(c, "(")) {
        parseCallArgs(*t);
    } else if ((c.type == TokenType::Name || c.type == TokenType::String || c.type == TokenType::Integer ||
                c.type == TokenType::Float || isOp(c, "(") || isOp(c, "[") || isOp(c, "{")) &&
               !isName(c, "else") && !isName(c, "or") && !isName(c, "and")) {
        if (isName(c, "is"))
            fail(c, "you cannot chain multiple tests with 'is'");
        addOperand(*t, parsePostfix(parsePrimary()));
    }
    return t;
}

} // namespace ft::tok::jinja
