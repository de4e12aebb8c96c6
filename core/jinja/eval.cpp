// Tree-walking evaluator of parsed chat templates (see jinja_eval.h).
#include "jinja/eval.h"

#include "jinja/builtins.h"
#include "jinja/lexer.h"
#include "jinja/parser.h"

#include <algorithm>
#include <optional>

namespace ft::tok::jinja {
namespace {

// Variables of one scope; lookups walk up to the globals. Scopes live until the end
// of the render (the interpreter owns them), so macros can refer to the scope they
// were defined in by plain pointer.
struct Scope {
    Scope* parent = nullptr;
    Entries vars;

    const Value* find(const std::string& name) const
    {
        for (const Scope* s = this; s; s = s->parent)
            for (const auto& [key, value] : s->vars)
                if (key == name)
                    return &value;
        return nullptr;
    }
    void set(const std::string& name, Value value)
    {
        for (auto& [key, existing] : vars)
            if (key == name) {
                existing = std::move(value);
                return;
            }
        vars.emplace_back(name, std::move(value));
    }
};

enum class Flow { Normal, Break, Continue };

constexpr int kMaxCallDepth = 200;
// A template is untrusted code: rendering is bounded. Statements executed plus loop
// iterations (a real chat template over a long conversation takes tens of thousands),
// and the size of what it writes.
constexpr int64_t kMaxSteps = 2'000'000;
constexpr size_t kMaxOutputBytes = size_t{16} << 20;

class Interpreter {
public:
    Interpreter(const std::string& source, std::vector<std::pair<size_t, size_t>>* spans)
        : m_source(source), m_spans(spans)
    {
    }

    std::string run(const StmtList& body, const Entries& variables)
    {
        Scope* globals = newScope(nullptr);
        globals->vars = globalFunctions();
        Scope* root = newScope(globals);
        for (const auto& [name, value] : variables)
            root->set(name, value);
        std::string out;
        m_root = &out;
        exec(body, root, out);
        return out;
    }

private:
    const std::string& m_source;
    std::vector<std::pair<size_t, size_t>>* m_spans;
    std::string* m_root = nullptr;
    std::vector<std::unique_ptr<Scope>> m_scopes;
    int m_callDepth = 0;

    int64_t m_steps = 0;
    int64_t m_captures = 0;  // macros made so far (each holds a pointer to its scope)

    // One more statement or loop iteration; a Render error past kMaxSteps.
    void step(const Loc& loc)
    {
        if (++m_steps > kMaxSteps)
            fail(ErrorKind::Render, loc,
                 "the template ran more than " + std::to_string(kMaxSteps) +
                     " steps (statements and loop iterations); rendering stopped");
    }

    Scope* newScope(Scope* parent)
    {
        m_scopes.push_back(std::make_unique<Scope>());
        m_scopes.back()->parent = parent;
        return m_scopes.back().get();
    }

    [[noreturn]] void fail(ErrorKind kind, const Loc& loc, const std::string& message) const
    {
        throw TemplateError(kind, message, m_source, loc.line, loc.column);
    }

    // ---- statements -------------------------------------------------------

    Flow exec(const StmtList& body, Scope* scope, std::string& out)
    {
        for (const auto& stmt : body) {
            const Flow flow = execStmt(*stmt, scope, out);
            if (flow != Flow::Normal)
                return flow;
        }
        return Flow::Normal;
    }

    Flow execStmt(const Stmt& s, Scope* scope, std::string& out)
    {
        step(s.loc);
        try {
            const Flow flow = execUnchecked(s, scope, out);
            if (out.size() > kMaxOutputBytes)
                fail(ErrorKind::Render, s.loc,
                     "the template wrote more than " + std::to_string(kMaxOutputBytes >> 20) +
                         " MiB; rendering stopped");
            return flow;
        } catch (const EvalError& e) {
            fail(ErrorKind::Render, s.loc, e.what());
        } catch (const RaisedError& e) {
            fail(ErrorKind::Raised, s.loc, e.what());
        }
    }

    Flow execUnchecked(const Stmt& s, Scope* scope, std::string& out)
    {
        switch (s.kind) {
        case StmtKind::Output: out += s.text; return Flow::Normal;
        case StmtKind::Print: out += eval(*s.expr, scope).str(); return Flow::Normal;
        case StmtKind::If:
            for (const auto& [test, body] : s.branches)
                if (eval(*test, scope).truthy())
                    return exec(body, scope, out);
            return exec(s.elseBody, scope, out);
        case StmtKind::For: return execFor(s, scope, out);
        case StmtKind::Set: assign(*s.target, eval(*s.expr, scope), scope); return Flow::Normal;
        case StmtKind::SetBlock: {
            std::string captured;
            exec(s.body, newScope(scope), captured);
            Value v(std::move(captured));
            if (s.filter)
                v = applyFilterChain(*s.filter, v, scope);
            assign(*s.target, v, scope);
            return Flow::Normal;
        }
        case StmtKind::Macro: scope->set(s.text, makeMacro(s, scope, s.text)); return Flow::Normal;
        case StmtKind::CallBlock: {
            const Expr& call = *s.expr;
            const Value callee = eval(*call.operands[0], scope);
            CallArgs args = evalArgs(call, scope);
            args.keywords.emplace_back("caller", makeMacro(s, scope, "caller"));
            out += callValue(callee, args).str();
            return Flow::Normal;
        }
        case StmtKind::FilterBlock: {
            std::string captured;
            exec(s.body, newScope(scope), captured);
            out += applyFilterChain(*s.filter, Value(std::move(captured)), scope).str();
            return Flow::Normal;
        }
        case StmtKind::With: {
            Scope* inner = newScope(scope);
            for (const auto& [target, value] : s.assignments)
                assign(*target, eval(*value, scope), inner);
            return exec(s.body, inner, out);
        }
        case StmtKind::Break: return Flow::Break;
        case StmtKind::Continue: return Flow::Continue;
        case StmtKind::Generation: {
            const size_t start = out.size();
            const Flow flow = exec(s.body, scope, out);
            if (m_spans && &out == m_root)
                m_spans->emplace_back(start, out.size());
            return flow;
        }
        }
        return Flow::Normal;
    }

    Flow execFor(const Stmt& s, Scope* scope, std::string& out)
    {
        const std::vector<Value> all = eval(*s.expr, scope).iterate();
        std::vector<Value> items;
        if (s.condition) {
            for (const Value& item : all) {
                Scope* probe = newScope(scope);
                assign(*s.target, item, probe);
                if (eval(*s.condition, probe).truthy())
                    items.push_back(item);
            }
        } else {
            items = all;
        }
        if (items.empty())
            return exec(s.elseBody, newScope(scope), out);
        const int64_t n = int64_t(items.size());
        auto lastChanged = std::make_shared<std::optional<Value>>(); // loop.changed() state
        for (int64_t i = 0; i < n; ++i) {
            step(s.loc);
            // An iteration's scopes (its own, macro calls' and blocks' inside it) are
            // freed when it ends unless a macro defined meanwhile may still refer to them:
            // memory stays flat over long loops.
            const size_t mark = m_scopes.size();
            const int64_t captures = m_captures;
            Scope* iteration = newScope(scope);
            assign(*s.target, items[size_t(i)], iteration);
            iteration->set("loop", makeLoop(items, i, lastChanged));
            const Flow flow = exec(s.body, iteration, out);
            if (m_captures == captures)
                m_scopes.resize(mark);
            if (flow == Flow::Break)
                break;
        }
        return Flow::Normal;
    }

    static Value makeLoop(const std::vector<Value>& items, int64_t i,
                          const std::shared_ptr<std::optional<Value>>& lastChanged)
    {
        const int64_t n = int64_t(items.size());
        auto loop = std::make_shared<Object>();
        loop->typeName = "LoopContext";
        loop->attributes = {
            {"index", Value(i + 1)},
            {"index0", Value(i)},
            {"revindex", Value(n - i)},
            {"revindex0", Value(n - i - 1)},
            {"first", Value(i == 0)},
            {"last", Value(i == n - 1)},
            {"length", Value(n)},
            {"depth", Value(1)},
            {"depth0", Value(0)},
            {"previtem", i > 0 ? items[size_t(i - 1)] : Value::undefined("there is no previous item")},
            {"nextitem", i + 1 < n ? items[size_t(i + 1)] : Value::undefined("there is no next item")},
            {"cycle", Value::function("loop.cycle",
                                      [i](CallArgs& a) {
                                          if (!a.keywords.empty())
                                              throw EvalError("loop.cycle() takes no keyword arguments");
                                          if (a.positional.empty())
                                              throw EvalError("no items for cycling given");
                                          return a.positional[size_t(i) % a.positional.size()];
                                      })},
            {"changed", Value::function("loop.changed",
                                        [lastChanged](CallArgs& a) {
                                            if (!a.keywords.empty())
                                                throw EvalError("loop.changed() takes no keyword arguments");
                                            Value current = Value::tuple(a.positional);
                                            if (*lastChanged && equals(**lastChanged, current))
                                                return Value(false);
                                            *lastChanged = std::move(current);
                                            return Value(true);
                                        })},
        };
        return Value::object(loop);
    }

    void assign(const Expr& target, const Value& value, Scope* scope)
    {
        if (target.kind == ExprKind::Name) {
            scope->set(target.name, value);
            return;
        }
        if (target.kind == ExprKind::Getattr) {
            const std::string& nsName = target.operands[0]->name;
            const Value* ns = scope->find(nsName);
            if (!ns || !ns->isNamespace())
                throw EvalError("cannot assign attribute on non-namespace object '" + nsName +
                                "'; create it with namespace()");
            ns->object().set(target.name, value);
            return;
        }
        // Tuple unpacking.
        const std::vector<Value> parts = value.iterate();
        const size_t want = target.operands.size();
        if (parts.size() > want)
            throw EvalError("too many values to unpack (expected " + std::to_string(want) + ")");
        if (parts.size() < want)
            throw EvalError("not enough values to unpack (expected " + std::to_string(want) + ", got " +
                            std::to_string(parts.size()) + ")");
        for (size_t i = 0; i < want; ++i)
            assign(*target.operands[i], parts[i], scope);
    }

    Value makeMacro(const Stmt& m, Scope* definedIn, const std::string& name)
    {
        const std::string printed = m.kind == StmtKind::CallBlock ? "<Macro anonymous>" : "<Macro '" + name + "'>";
        ++m_captures;  // the macro keeps `definedIn` alive: scopes made so far must stay
        return Value::function(
            name, [this, &m, definedIn, name](CallArgs& args) { return callMacro(m, definedIn, name, args); }, printed);
    }

    Value callMacro(const Stmt& m, Scope* definedIn, const std::string& name, CallArgs& args)
    {
        if (m_callDepth >= kMaxCallDepth)
            throw EvalError("maximum macro recursion depth (" + std::to_string(kMaxCallDepth) + ") exceeded");
        if (args.positional.size() > m.params.size())
            throw EvalError("macro '" + name + "' takes not more than " + std::to_string(m.params.size()) +
                            " argument(s)");
        Scope* scope = newScope(definedIn);
        std::vector<bool> bound(m.params.size(), false);
        for (size_t i = 0; i < args.positional.size(); ++i) {
            scope->set(m.params[i].name, args.positional[i]);
            bound[i] = true;
        }
        for (const auto& [key, value] : args.keywords) {
            size_t i = 0;
            while (i < m.params.size() && m.params[i].name != key)
                ++i;
            if (i == m.params.size()) {
                if (key == "caller") {
                    scope->set(key, value);
                    continue;
                }
                throw EvalError("macro '" + name + "' takes no keyword argument '" + key + "'");
            }
            if (bound[i])
                throw EvalError("macro '" + name + "' got multiple values for argument '" + key + "'");
            scope->set(key, value);
            bound[i] = true;
        }
        for (size_t i = 0; i < m.params.size(); ++i) {
            if (bound[i])
                continue;
            if (m.params[i].defaultValue)
                scope->set(m.params[i].name, eval(*m.params[i].defaultValue, scope));
            else
                scope->set(m.params[i].name, Value::undefined("parameter '" + m.params[i].name + "' was not provided"));
        }
        std::string out;
        ++m_callDepth;
        try {
            exec(m.body, scope, out);
        } catch (...) {
            --m_callDepth;
            throw;
        }
        --m_callDepth;
        return out;
    }

    Value applyFilterChain(const Expr& f, const Value& input, Scope* scope)
    {
        const Value inner = f.operands[0] ? applyFilterChain(*f.operands[0], input, scope) : input;
        CallArgs args = evalArgs(f, scope);
        try {
            return applyFilter(f.name, inner, args);
        } catch (const EvalError& e) {
            fail(ErrorKind::Render, f.loc, e.what());
        }
    }

    // ---- expressions ------------------------------------------------------

    Value eval(const Expr& e, Scope* scope)
    {
        try {
            return evalUnchecked(e, scope);
        } catch (const EvalError& err) {
            fail(ErrorKind::Render, e.loc, err.what());
        } catch (const RaisedError& err) {
            fail(ErrorKind::Raised, e.loc, err.what());
        }
    }

    CallArgs evalArgs(const Expr& e, Scope* scope)
    {
        CallArgs args;
        for (size_t i = 1; i < e.operands.size(); ++i)
            args.positional.push_back(eval(*e.operands[i], scope));
        for (const auto& [key, value] : e.keywords)
            args.keywords.emplace_back(key, eval(*value, scope));
        return args;
    }

    Value evalUnchecked(const Expr& e, Scope* scope)
    {
        switch (e.kind) {
        case ExprKind::Const: return e.constant;
        case ExprKind::Name: {
            if (const Value* v = scope->find(e.name))
                return *v;
            return Value::undefined("'" + e.name + "' is undefined");
        }
        case ExprKind::Getattr: return getAttribute(eval(*e.operands[0], scope), e.name);
        case ExprKind::Getitem: {
            const Value object = eval(*e.operands[0], scope);
            const Expr& key = *e.operands[1];
            if (key.kind != ExprKind::Slice)
                return getItem(object, eval(key, scope));
            auto part = [&](size_t i) { return key.operands[i] ? eval(*key.operands[i], scope) : Value::none(); };
            return getSlice(object, part(0), part(1), part(2));
        }
        case ExprKind::Slice: throw EvalError("a slice can only appear inside [ ]");
        case ExprKind::List:
        case ExprKind::Tuple: {
            std::vector<Value> items;
            for (const auto& op : e.operands)
                items.push_back(eval(*op, scope));
            return e.kind == ExprKind::List ? Value::list(std::move(items)) : Value::tuple(std::move(items));
        }
        case ExprKind::Dict: {
            Entries entries;
            for (size_t i = 0; i + 1 < e.operands.size(); i += 2) {
                const Value key = eval(*e.operands[i], scope);
                if (!key.isString())
                    throw EvalError("dict keys must be strings in chat templates here, got " + key.typeName());
                Value value = eval(*e.operands[i + 1], scope);
                auto it =
                    std::find_if(entries.begin(), entries.end(), [&](auto& kv) { return kv.first == key.asString(); });
                if (it != entries.end())
                    it->second = std::move(value);
                else
                    entries.emplace_back(key.asString(), std::move(value));
            }
            return Value::dict(std::move(entries));
        }
        case ExprKind::Unary: {
            const Value v = eval(*e.operands[0], scope);
            if (e.name == "not")
                return !v.truthy();
            return unaryOp(e.name, v);
        }
        case ExprKind::Binary: {
            const Value left = eval(*e.operands[0], scope);
            if (e.name == "and")
                return left.truthy() ? eval(*e.operands[1], scope) : left;
            if (e.name == "or")
                return left.truthy() ? left : eval(*e.operands[1], scope);
            return binaryOp(e.name, left, eval(*e.operands[1], scope));
        }
        case ExprKind::Concat: {
            std::string s;
            for (const auto& op : e.operands) {
                s += eval(*op, scope).str();
                if (s.size() > kMaxOutputBytes)
                    throw EvalError("the string would be longer than " + std::to_string(kMaxOutputBytes >> 20) +
                                    " MiB");
            }
            return s;
        }
        case ExprKind::Compare: {
            Value left = eval(*e.operands[0], scope);
            for (size_t i = 0; i < e.compareOps.size(); ++i) {
                Value right = eval(*e.operands[i + 1], scope);
                const std::string& op = e.compareOps[i];
                bool ok;
                if (op == "==")
                    ok = equals(left, right);
                else if (op == "!=")
                    ok = !equals(left, right);
                else if (op == "<")
                    ok = lessThan(left, right);
                else if (op == ">")
                    ok = lessThan(right, left);
                else if (op == "<=")
                    ok = lessThan(left, right) || equals(left, right);
                else if (op == ">=")
                    ok = lessThan(right, left) || equals(left, right);
                else if (op == "in")
                    ok = contains(right, left);
                else
                    ok = !contains(right, left);
                if (!ok)
                    return false;
                left = std::move(right);
            }
            return true;
        }
        case ExprKind::CondExpr:
            if (eval(*e.operands[1], scope).truthy())
                return eval(*e.operands[0], scope);
            if (e.operands[2])
                return eval(*e.operands[2], scope);
            return Value::undefined("the inline if-expression on line " + std::to_string(e.loc.line) +
                                    " evaluated to false and no else section was defined.");
        case ExprKind::Filter: {
            const Value v = eval(*e.operands[0], scope);
            CallArgs args = evalArgs(e, scope);
            return applyFilter(e.name, v, args);
        }
        case ExprKind::Test: {
            const Value v = eval(*e.operands[0], scope);
            CallArgs args = evalArgs(e, scope);
            const bool result = applyTest(e.name, v, args);
            return e.negated ? !result : result;
        }
        case ExprKind::Call: {
            const Value callee = eval(*e.operands[0], scope);
            CallArgs args = evalArgs(e, scope);
            return callValue(callee, args);
        }
        }
        throw EvalError("unknown expression");
    }
};

} // namespace

Template::Template(std::string_view source)
    : m_source(normalizeSource(source)), m_body(std::make_shared<const StmtList>(parseTemplate(m_source)))
{
}

std::string Template::render(const Entries& variables, std::vector<std::pair<size_t, size_t>>* generationSpans) const
{
    if (generationSpans)
        generationSpans->clear();
    return Interpreter(m_source, generationSpans).run(*m_body, variables);
}

} // namespace ft::tok::jinja
