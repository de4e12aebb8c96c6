// Operators with Python semantics, membership, calls, argument binding and the
// global functions of the chat-template interpreter (see jinja_builtins.h). Lookups
// and methods live in jinja_methods.cpp, filters in jinja_filters.cpp, tests in
// jinja_is_tests.cpp.
#include "jinja/builtins.h"

#include "jinja/error.h"
#include "jinja/text.h"

#include <climits>
#include <cmath>
#include <ctime>

namespace ft::tok::jinja {
namespace {

void floatDivmod(double x, double y, double& div, double& mod)
{
    mod = std::fmod(x, y);
    div = (x - mod) / y;
    if (mod != 0.0) {
        if ((y < 0) != (mod < 0)) {
            mod += y;
            div -= 1.0;
        }
    } else {
        mod = std::copysign(0.0, y);
    }
    if (div != 0.0) {
        const double floored = std::floor(div);
        div = (div - floored > 0.5) ? floored + 1.0 : floored;
    } else {
        div = std::copysign(0.0, x / y);
    }
}

[[noreturn]] void unsupportedOperands(const std::string& op, const Value& a, const Value& b)
{
    throw EvalError("unsupported operand type(s) for " + op + ": " + q(a.typeName()) + " and " + q(b.typeName()));
}

// Strings and lists that templates build are bounded like repetition's (below).
void checkResultSize(size_t size)
{
    if (size > (size_t(1) << 26))
        throw EvalError("the result would be too large (more than 64 Mi characters or items)");
}

Value repeat(const Value& seq, int64_t n)
{
    if (n <= 0)
        return seq.isString() ? Value(std::string()) : Value::list({});
    const size_t unit = seq.isString() ? seq.asString().size() : seq.items().size();
    if (unit > 0 && uint64_t(n) > (uint64_t(1) << 26) / unit)
        throw EvalError("the repeated sequence would be too large");
    if (seq.isString()) {
        std::string out;
        for (int64_t i = 0; i < n; ++i)
            out += seq.asString();
        return out;
    }
    std::vector<Value> out;
    for (int64_t i = 0; i < n; ++i)
        out.insert(out.end(), seq.items().begin(), seq.items().end());
    return seq.isTuple() ? Value::tuple(std::move(out)) : Value::list(std::move(out));
}

Value intPower(int64_t base, int64_t exp)
{
    int64_t result = 1;
    while (exp > 0) {
        if (exp & 1)
            if (__builtin_mul_overflow(result, base, &result))
                throw EvalError("integer result of ** is too large for this template interpreter");
        exp >>= 1;
        if (exp > 0 && __builtin_mul_overflow(base, base, &base))
            throw EvalError("integer result of ** is too large for this template interpreter");
    }
    return Value(result);
}

} // namespace

const std::string& argString(const Value& v, const char* what)
{
    if (!v.isString())
        throw EvalError(std::string(what) + " must be str, not " + v.typeName());
    return v.asString();
}

int64_t argInt(const Value& v, const char* what)
{
    if (v.isUndefined())
        v.failUndefined();
    if (!v.isIntegral())
        throw EvalError(q(v.typeName()) + " object cannot be interpreted as an integer (" + what + ")");
    return v.asInt();
}

std::vector<Value> bindArguments(const std::string& what, CallArgs& args, const std::vector<ParamSpec>& params)
{
    std::vector<Value> out(params.size());
    std::vector<bool> set(params.size(), false);
    if (args.positional.size() > params.size())
        throw EvalError(what + "() takes at most " + std::to_string(params.size()) + " argument(s) (" +
                        std::to_string(args.positional.size()) + " given)");
    for (size_t i = 0; i < args.positional.size(); ++i) {
        out[i] = args.positional[i];
        set[i] = true;
    }
    for (auto& [key, value] : args.keywords) {
        size_t i = 0;
        while (i < params.size() && key != params[i].name)
            ++i;
        if (i == params.size())
            throw EvalError(what + "() got an unexpected keyword argument " + q(key));
        if (set[i])
            throw EvalError(what + "() got multiple values for argument " + q(key));
        out[i] = value;
        set[i] = true;
    }
    for (size_t i = 0; i < params.size(); ++i)
        if (!set[i]) {
            if (params[i].required)
                throw EvalError(what + "() missing required argument " + q(params[i].name));
            out[i] = params[i].defaultValue;
        }
    return out;
}

Value binaryOp(const std::string& op, const Value& a, const Value& b)
{
    if (a.isUndefined())
        a.failUndefined();
    if (b.isUndefined())
        b.failUndefined();
    const bool numbers = a.isNumber() && b.isNumber();
    const bool ints = a.isIntegral() && b.isIntegral();
    if (op == "+") {
        if (ints) {
            int64_t r;
            if (__builtin_add_overflow(a.asInt(), b.asInt(), &r))
                throw EvalError("integer overflow in +");
            return r;
        }
        if (numbers)
            return a.asDouble() + b.asDouble();
        if (a.isString() && b.isString()) {
            checkResultSize(a.asString().size() + b.asString().size());
            return a.asString() + b.asString();
        }
        if (a.isSequenceList() && b.isSequenceList() && a.isTuple() == b.isTuple() && !a.isRange() && !b.isRange()) {
            checkResultSize(a.items().size() + b.items().size());
            std::vector<Value> items = a.items();
            items.insert(items.end(), b.items().begin(), b.items().end());
            return a.isTuple() ? Value::tuple(std::move(items)) : Value::list(std::move(items));
        }
        if (a.isString())
            throw EvalError("can only concatenate str (not \"" + b.typeName() + "\") to str");
        if (a.isSequenceList())
            throw EvalError("can only concatenate " + a.typeName() + " (not \"" + b.typeName() + "\") to " +
                            a.typeName());
        unsupportedOperands(op, a, b);
    }
    if (op == "-") {
        if (ints) {
            int64_t r;
            if (__builtin_sub_overflow(a.asInt(), b.asInt(), &r))
                throw EvalError("integer overflow in -");
            return r;
        }
        if (numbers)
            return a.asDouble() - b.asDouble();
        unsupportedOperands(op, a, b);
    }
    if (op == "*") {
        if (ints) {
            int64_t r;
            if (__builtin_mul_overflow(a.asInt(), b.asInt(), &r))
                throw EvalError("integer overflow in *");
            return r;
        }
        if (numbers)
            return a.asDouble() * b.asDouble();
        if ((a.isString() || (a.isSequenceList() && !a.isRange())) && b.isIntegral())
            return repeat(a, b.asInt());
        if ((b.isString() || (b.isSequenceList() && !b.isRange())) && a.isIntegral())
            return repeat(b, a.asInt());
        unsupportedOperands(op, a, b);
    }
    if (op == "/") {
        if (!numbers)
            unsupportedOperands(op, a, b);
        if (b.asDouble() == 0.0)
            throw EvalError(ints ? "division by zero" : "float division by zero");
        return a.asDouble() / b.asDouble();
    }
    if (op == "//" || op == "%") {
        if (a.isString() && op == "%")
            throw EvalError(
                "printf-style string formatting ('...' % values) is not supported by this template interpreter");
        if (!numbers)
            unsupportedOperands(op, a, b);
        if (ints) {
            const int64_t x = a.asInt(), y = b.asInt();
            if (y == 0)
                throw EvalError("integer division or modulo by zero");
            if (x == INT64_MIN && y == -1)
                throw EvalError("integer overflow in " + op);
            int64_t d = x / y, m = x % y;
            if (m != 0 && ((m < 0) != (y < 0))) {
                m += y;
                d -= 1;
            }
            return op == "//" ? d : m;
        }
        if (b.asDouble() == 0.0)
            throw EvalError(op == "//" ? "float floor division by zero" : "float modulo");
        double d, m;
        floatDivmod(a.asDouble(), b.asDouble(), d, m);
        return op == "//" ? d : m;
    }
    if (op == "**") {
        if (!numbers)
            unsupportedOperands("** or pow()", a, b);
        if (ints && b.asInt() >= 0)
            return intPower(a.asInt(), b.asInt());
        const double x = a.asDouble(), y = b.asDouble();
        if (x == 0.0 && y < 0)
            throw EvalError("0.0 cannot be raised to a negative power");
        if (x < 0 && y != std::floor(y))
            throw EvalError("a negative number raised to a fractional power is complex; not supported");
        return std::pow(x, y);
    }
    throw EvalError("unknown operator " + op);
}

Value unaryOp(const std::string& op, const Value& a)
{
    if (a.isUndefined())
        a.failUndefined();
    if (a.isIntegral()) {
        if (op == "+")
            return a.asInt();
        if (a.asInt() == INT64_MIN)
            throw EvalError("integer overflow in unary -");
        return -a.asInt();
    }
    if (a.isFloat())
        return op == "+" ? a.asDouble() : -a.asDouble();
    throw EvalError("bad operand type for unary " + op + ": " + q(a.typeName()));
}

bool contains(const Value& container, const Value& item)
{
    switch (container.kind()) {
    case Value::Kind::Undefined: return false;
    case Value::Kind::String:
        if (!item.isString())
            throw EvalError("'in <string>' requires string as left operand, not " + item.typeName());
        return container.asString().find(item.asString()) != std::string::npos;
    case Value::Kind::List:
        for (const Value& x : container.items())
            if (equals(x, item))
                return true;
        return false;
    case Value::Kind::Dict:
        if (item.isSequenceList() && !item.isTuple())
            throw EvalError("unhashable type: 'list'");
        if (item.isDict())
            throw EvalError("unhashable type: 'dict'");
        return item.isString() && container.find(item.asString()) != nullptr;
    default: throw EvalError("argument of type " + q(container.typeName()) + " is not iterable");
    }
}

Value callValue(const Value& callee, CallArgs& args)
{
    if (callee.isUndefined())
        callee.failUndefined();
    if (!callee.isFunction())
        throw EvalError(q(callee.typeName()) + " object is not callable");
    return callee.function().call(args);
}

Entries globalFunctions()
{
    Entries g;
    g.emplace_back(
        "range", Value::function("range", [](CallArgs& a) {
            if (!a.keywords.empty())
                throw EvalError("range() takes no keyword arguments");
            if (a.positional.empty() || a.positional.size() > 3)
                throw EvalError("range expected 1 to 3 arguments, got " + std::to_string(a.positional.size()));
            int64_t start = 0, stop, step = 1;
            if (a.positional.size() == 1) {
                stop = argInt(a.positional[0], "range");
            } else {
                start = argInt(a.positional[0], "range");
                stop = argInt(a.positional[1], "range");
                if (a.positional.size() == 3)
                    step = argInt(a.positional[2], "range");
            }
            if (step == 0)
                throw EvalError("range() arg 3 must not be zero");
            std::vector<Value> items;
            for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
                if (items.size() >= 100000)
                    throw EvalError("Range too big. The sandbox blocks ranges larger than MAX_RANGE (100000).");
                items.emplace_back(i);
            }
            std::string repr = "range(" + std::to_string(start) + ", " + std::to_string(stop);
            if (step != 1)
                repr += ", " + std::to_string(step);
            return Value::range(std::move(items), repr + ")");
        }));
    g.emplace_back("dict", Value::function("dict", [](CallArgs& a) {
                       Entries e;
                       auto put = [&e](const std::string& k, const Value& v) {
                           for (auto& [key, value] : e)
                               if (key == k) {
                                   value = v;
                                   return;
                               }
                           e.emplace_back(k, v);
                       };
                       if (a.positional.size() > 1)
                           throw EvalError("dict expected at most 1 argument, got " +
                                           std::to_string(a.positional.size()));
                       if (!a.positional.empty()) {
                           const Value& src = a.positional[0];
                           if (src.isDict()) {
                               for (const auto& [k, v] : src.entries())
                                   put(k, v);
                           } else {
                               for (const Value& pair : src.iterate()) {
                                   const auto kv = pair.iterate();
                                   if (kv.size() != 2 || !kv[0].isString())
                                       throw EvalError("dict() needs pairs of (string key, value)");
                                   put(kv[0].asString(), kv[1]);
                               }
                           }
                       }
                       for (const auto& [k, v] : a.keywords)
                           put(k, v);
                       return Value::dict(std::move(e));
                   }));
    g.emplace_back("namespace", Value::function("namespace", [](CallArgs& a) {
                       auto ns = std::make_shared<Object>();
                       ns->typeName = "Namespace";
                       if (a.positional.size() > 1)
                           throw EvalError("namespace() takes at most one positional argument (a dict)");
                       if (!a.positional.empty()) {
                           if (!a.positional[0].isDict())
                               throw EvalError("namespace() takes a dict as its positional argument");
                           for (const auto& [k, v] : a.positional[0].entries())
                               ns->set(k, v);
                       }
                       for (const auto& [k, v] : a.keywords)
                           ns->set(k, v);
                       return Value::object(ns);
                   }));
    g.emplace_back("raise_exception", Value::function("raise_exception", [](CallArgs& a) -> Value {
                       auto v = bindArguments("raise_exception", a, {{"message", true}});
                       throw RaisedError(v[0].str());
                   }));
    g.emplace_back("strftime_now", Value::function("strftime_now", [](CallArgs& a) {
                       auto v = bindArguments("strftime_now", a, {{"format", true}});
                       const std::string& format = argString(v[0], "strftime_now format");
                       const std::time_t now = std::time(nullptr);
                       std::tm local{};
                       localtime_r(&now, &local);
                       std::string buf(format.size() * 4 + 64, '\0');
                       const size_t n = std::strftime(buf.data(), buf.size(), format.c_str(), &local);
                       if (n == 0 && !format.empty())
                           throw EvalError("strftime_now(" + text::reprString(format) + ") produced no text");
                       buf.resize(n);
                       return Value(buf);
                   }));
    return g;
}

} // namespace ft::tok::jinja
