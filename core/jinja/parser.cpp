// Statement half of the Jinja parser, following jinja2's parser.py (see
// jinja_parser.h); expressions are parsed by ExpressionParser.
#include "jinja/parser.h"

#include "jinja/expr_parser.h"

#include <algorithm>

namespace ft::tok::jinja {
namespace {

struct OpenTag {
    std::string name;
    Loc loc;
};

class Parser : public ExpressionParser {
public:
    explicit Parser(const std::string& source) : ExpressionParser(source) {}

    StmtList run()
    {
        StmtList body = subparse({});
        if (cur().type != TokenType::End)
            fail(cur(), "unexpected " + describe(cur()));
        return body;
    }

private:
    std::vector<OpenTag> m_open;
    int m_loopDepth = 0;

    StmtList subparse(const std::vector<std::string>& endTags)
    {
        StmtList body;
        while (cur().type != TokenType::End) {
            const Token& t = cur();
            if (t.type == TokenType::Data) {
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::Output;
                s->loc = {t.line, t.column};
                s->text = t.value;
                body.push_back(std::move(s));
                next();
            } else if (t.type == TokenType::VariableBegin) {
                next();
                auto s = std::make_unique<Stmt>();
                s->kind = StmtKind::Print;
                s->loc = {t.line, t.column};
                s->expr = parseTuple(false, true, {}, false);
                expectType(TokenType::VariableEnd, "end of print statement '}}'");
                body.push_back(std::move(s));
            } else if (t.type == TokenType::BlockBegin) {
                next();
                if (cur().type == TokenType::Name &&
                    std::find(endTags.begin(), endTags.end(), cur().value) != endTags.end())
                    return body;
                parseStatement(body);
                expectType(TokenType::BlockEnd, "end of statement block '%}'");
            } else {
                fail(t, "unexpected " + describe(t));
            }
        }
        return body;
    }

    // Expects the "%}" that ends the opening tag, then the body up to one of endTags.
    StmtList parseStatements(const std::vector<std::string>& endTags, bool dropNeedle)
    {
        NestingGuard guard(*this);  // blocks inside blocks: as deep as expressions may nest
        skipOp(":");
        expectType(TokenType::BlockEnd, "end of statement block '%}'");
        StmtList body = subparse(endTags);
        if (cur().type == TokenType::End) {
            const OpenTag& open = m_open.back();
            std::string wanted;
            for (size_t i = 0; i < endTags.size(); ++i)
                wanted += (i ? (i + 1 == endTags.size() ? " or '" : ", '") : "'") + endTags[i] + "'";
            throw TemplateError(ErrorKind::Syntax,
                                "the '" + open.name + "' tag opened here is never closed; expected " + wanted +
                                    " before the end of the template",
                                m_source, open.loc.line, open.loc.column);
        }
        if (dropNeedle)
            next();
        return body;
    }

    std::unique_ptr<Stmt> makeStmt(StmtKind kind, const Token& at)
    {
        auto s = std::make_unique<Stmt>();
        s->kind = kind;
        s->loc = {at.line, at.column};
        return s;
    }

    void parseStatement(StmtList& out)
    {
        const Token tag = cur();
        if (tag.type != TokenType::Name)
            fail(tag, "expected a tag name after '{%', got " + describe(tag));
        static const char* kUnsupported[] = {"extends", "block", "include", "import", "from", "autoescape"};
        for (const char* name : kUnsupported)
            if (tag.value == name)
                unsupported(tag, "{% " + tag.value +
                                     " %} (template inheritance, includes, imports, autoescape) "
                                     "cannot be used in a chat template here");
        m_open.push_back({tag.value, {tag.line, tag.column}});
        const std::string& v = tag.value;
        if (v == "for")
            out.push_back(parseFor());
        else if (v == "if")
            out.push_back(parseIf());
        else if (v == "set")
            out.push_back(parseSet());
        else if (v == "macro")
            out.push_back(parseMacro());
        else if (v == "call")
            out.push_back(parseCallBlock());
        else if (v == "filter")
            out.push_back(parseFilterBlock());
        else if (v == "with")
            out.push_back(parseWith());
        else if (v == "print")
            parsePrint(out);
        else if (v == "generation") {
            next();
            auto s = makeStmt(StmtKind::Generation, tag);
            s->body = parseStatements({"endgeneration"}, true);
            out.push_back(std::move(s));
        } else if (v == "break" || v == "continue") {
            if (m_loopDepth == 0)
                fail(tag, "'" + v + "' outside of a for loop");
            next();
            out.push_back(makeStmt(v == "break" ? StmtKind::Break : StmtKind::Continue, tag));
        } else if (v == "do") {
            fail(tag, "unknown tag 'do' (transformers does not enable the jinja2 'do' extension)");
        } else {
            fail(tag, "unknown tag '" + v + "'" +
                          (m_open.size() > 1 ? "; the innermost open tag is '" + m_open[m_open.size() - 2].name + "'"
                                             : std::string()));
        }
        m_open.pop_back();
    }

    std::unique_ptr<Stmt> parseFor()
    {
        auto s = makeStmt(StmtKind::For, next());
        s->target = parseAssignTarget(true, false, {"in"}, false);
        expectName("in");
        s->expr = parseTuple(false, false, {"recursive"}, false);
        if (skipName("if"))
            s->condition = parseExpression(true);
        if (isName(cur(), "recursive"))
            unsupported(cur(), "recursive loops are not supported");
        ++m_loopDepth;
        s->body = parseStatements({"endfor", "else"}, false);
        --m_loopDepth;
        if (next().value == "else")
            s->elseBody = parseStatements({"endfor"}, true);
        return s;
    }

    std::unique_ptr<Stmt> parseIf()
    {
        auto s = makeStmt(StmtKind::If, next());
        while (true) {
            ExprPtr test = parseTuple(false, false, {}, false);
            StmtList body = parseStatements({"elif", "else", "endif"}, false);
            s->branches.emplace_back(std::move(test), std::move(body));
            const Token& t = next();
            if (t.value == "elif")
                continue;
            if (t.value == "else")
                s->elseBody = parseStatements({"endif"}, true);
            break;
        }
        return s;
    }

    std::unique_ptr<Stmt> parseSet()
    {
        const Token& tag = next();
        ExprPtr target = parseAssignTarget(true, false, {}, true);
        if (skipOp("=")) {
            auto s = makeStmt(StmtKind::Set, tag);
            s->target = std::move(target);
            s->expr = parseTuple(false, true, {}, false);
            return s;
        }
        auto s = makeStmt(StmtKind::SetBlock, tag);
        if (target->kind != ExprKind::Name)
            fail(tag, "a block {% set %} needs a plain variable name");
        s->target = std::move(target);
        if (isOp(cur(), "|"))
            s->filter = parseFilter(nullptr, false);
        s->body = parseStatements({"endset"}, true);
        return s;
    }

    void parseSignature(Stmt& s)
    {
        expectOp("(");
        bool sawDefault = false;
        while (!isOp(cur(), ")")) {
            if (!s.params.empty())
                expectOp(",");
            const Token& name = expectType(TokenType::Name, "a parameter name");
            Param p{name.value, nullptr};
            if (skipOp("=")) {
                p.defaultValue = parseExpression(true);
                sawDefault = true;
            } else if (sawDefault) {
                fail(name, "non-default argument follows default argument");
            }
            s.params.push_back(std::move(p));
        }
        expectOp(")");
    }

    std::unique_ptr<Stmt> parseMacro()
    {
        auto s = makeStmt(StmtKind::Macro, next());
        s->text = expectType(TokenType::Name, "a macro name").value;
        parseSignature(*s);
        const int depth = m_loopDepth;
        m_loopDepth = 0;
        s->body = parseStatements({"endmacro"}, true);
        m_loopDepth = depth;
        return s;
    }

    std::unique_ptr<Stmt> parseCallBlock()
    {
        auto s = makeStmt(StmtKind::CallBlock, next());
        if (isOp(cur(), "("))
            parseSignature(*s);
        const Token& at = cur();
        s->expr = parseExpression(true);
        if (s->expr->kind != ExprKind::Call)
            fail(at, "{% call %} expects a macro call");
        const int depth = m_loopDepth;
        m_loopDepth = 0;
        s->body = parseStatements({"endcall"}, true);
        m_loopDepth = depth;
        return s;
    }

    std::unique_ptr<Stmt> parseFilterBlock()
    {
        auto s = makeStmt(StmtKind::FilterBlock, next());
        s->filter = parseFilter(nullptr, true);
        s->body = parseStatements({"endfilter"}, true);
        return s;
    }

    std::unique_ptr<Stmt> parseWith()
    {
        auto s = makeStmt(StmtKind::With, next());
        while (cur().type != TokenType::BlockEnd) {
            if (!s->assignments.empty())
                expectOp(",");
            ExprPtr target = parseAssignTarget(true, false, {}, false);
            expectOp("=");
            s->assignments.emplace_back(std::move(target), parseExpression(true));
        }
        s->body = parseStatements({"endwith"}, true);
        return s;
    }

    void parsePrint(StmtList& out)
    {
        const Token& tag = next();
        bool first = true;
        while (cur().type != TokenType::BlockEnd) {
            if (!first)
                expectOp(",");
            first = false;
            auto s = makeStmt(StmtKind::Print, tag);
            s->expr = parseExpression(true);
            out.push_back(std::move(s));
        }
    }

    ExprPtr parseAssignTarget(bool withTuple, bool nameOnly, const std::vector<std::string>& extraEnd,
                              bool withNamespace)
    {
        if (withNamespace && look().type == TokenType::Operator && look().value == ".") {
            const Token& ns = expectType(TokenType::Name, "a namespace name");
            auto base = makeExpr(ExprKind::Name, ns);
            base->name = ns.value;
            next(); // '.'
            const Token& attr = expectType(TokenType::Name, "an attribute name");
            auto target = makeExpr(ExprKind::Getattr, ns);
            target->name = attr.value;
            target->operands.push_back(std::move(base));
            return target;
        }
        const Token at = cur();
        ExprPtr target = nameOnly || !withTuple ? parsePrimary() : parseTuple(true, true, extraEnd, false);
        checkAssignable(*target, at);
        return target;
    }

    void checkAssignable(const Expr& e, const Token& at)
    {
        if (e.kind == ExprKind::Name) {
            if (e.name == "true" || e.name == "false" || e.name == "none" || e.name == "True" || e.name == "False" ||
                e.name == "None")
                fail(at, "cannot assign to '" + e.name + "'");
            return;
        }
        if (e.kind == ExprKind::Tuple) {
            for (const auto& item : e.operands)
                checkAssignable(*item, at);
            return;
        }
        fail(at, "cannot assign to this expression; expected a variable name");
    }
};

} // namespace

StmtList parseTemplate(const std::string& source)
{
    return Parser(source).run();
}

} // namespace ft::tok::jinja
