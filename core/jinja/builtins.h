// The library a chat template can call: filters (trim, tojson, selectattr ...),
// tests (defined, string, even ...), methods of str/dict/list values ('x'.strip(),
// d.items(), d.get(k)), attribute and item lookup with jinja2's sandbox rules, the
// operators, and the globals transformers provides (range, dict, namespace,
// raise_exception, strftime_now). Everything throws EvalError without a location;
// the evaluator adds it. Implemented in jinja_builtins.cpp (operators, globals),
// jinja_methods.cpp (lookup, methods), jinja_filters.cpp and jinja_is_tests.cpp.
// Not here: statements, scopes, macros (jinja_eval.cpp).
#pragma once

#include "jinja/value.h"

#include <string>
#include <string_view>

namespace ft::tok::jinja {

enum class Support {
    Supported,
    Unsupported, // a jinja2 builtin that this interpreter does not implement
    Unknown,     // not a jinja2 builtin either
};
// True when name is one of names (the filter, test and attribute tables).
template <size_t N>
bool listed(const char* (&names)[N], std::string_view name)
{
    for (const char* n : names)
        if (name == n)
            return true;
    return false;
}

// 'name', as Python quotes a name in an error message.
inline std::string q(const std::string& s) { return "'" + s + "'"; }

Support filterSupport(std::string_view name);
Support testSupport(std::string_view name);

Value applyFilter(const std::string& name, const Value& value, CallArgs& args);
bool applyTest(const std::string& name, const Value& value, CallArgs& args);

// obj.name and obj[key] with jinja2's ImmutableSandboxedEnvironment rules: methods of
// str/dict/list first for attributes, then items; missing -> undefined. Misusing an
// undefined value throws.
Value getAttribute(const Value& object, const std::string& name);
Value getItem(const Value& object, const Value& key);
// obj[start:stop:step] on lists, tuples and strings.
Value getSlice(const Value& object, const Value& start, const Value& stop, const Value& step);

// Python semantics of + - * / // % ** for numbers, strings and lists; op is the
// operator text. Unary: "-", "+".
Value binaryOp(const std::string& op, const Value& a, const Value& b);
Value unaryOp(const std::string& op, const Value& a);
// a in b
bool contains(const Value& container, const Value& item);

// Calls a function value; throws for undefined and other non-callables.
Value callValue(const Value& callee, CallArgs& args);

// range, dict, namespace, raise_exception, strftime_now.
Entries globalFunctions();

// Matches positional and keyword arguments to parameter names; missing optional
// parameters get their defaults. Throws EvalError naming `what` on unexpected or
// missing arguments.
struct ParamSpec {
    const char* name;
    bool required = false;
    Value defaultValue = Value();
};
std::vector<Value> bindArguments(const std::string& what, CallArgs& args, const std::vector<ParamSpec>& params);

// An argument that must be a str / an int (bool counts, as in Python); throws
// EvalError naming `what` otherwise.
const std::string& argString(const Value& v, const char* what);
int64_t argInt(const Value& v, const char* what);

} // namespace ft::tok::jinja
