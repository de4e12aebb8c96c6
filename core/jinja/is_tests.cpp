// Tests of the chat-template interpreter ("x is defined", "n is even" ...), following
// jinja2's tests.py. See jinja_builtins.h.
#include "jinja/builtins.h"

#include "jinja/error.h"
#include "jinja/text.h"

namespace ft::tok::jinja {
namespace {

const char* kTests[] = {"boolean", "callable", "defined",  "divisibleby", "eq",          "equalto",
                        "even",    "false",    "float",    "ge",          "greaterthan", "gt",
                        "in",      "integer",  "iterable", "le",          "lessthan",    "lower",
                        "lt",      "mapping",  "ne",       "none",        "number",      "odd",
                        "sameas",  "sequence", "string",   "true",        "undefined",   "upper"};
const char* kUnsupportedTests[] = {"escaped", "filter", "test"};

} // namespace

Support testSupport(std::string_view name)
{
    if (listed(kTests, name))
        return Support::Supported;
    return listed(kUnsupportedTests, name) ? Support::Unsupported : Support::Unknown;
}

bool applyTest(const std::string& name, const Value& value, CallArgs& args)
{
    const std::string what = "test " + name;
    static const char* kWithoutArguments[] = {"defined",  "undefined", "none",   "boolean", "true",    "false",
                                              "integer",  "float",     "number", "string",  "mapping", "callable",
                                              "iterable", "sequence",  "even",   "odd",     "lower",   "upper"};
    if (listed(kWithoutArguments, name))
        bindArguments(what, args, {});
    auto other = [&] { return bindArguments(what, args, {{"other", true}})[0]; };
    if (name == "defined")
        return !value.isUndefined();
    if (name == "undefined")
        return value.isUndefined();
    if (name == "none")
        return value.isNone();
    if (name == "boolean")
        return value.isBool();
    if (name == "true")
        return value.isBool() && value.asBool();
    if (name == "false")
        return value.isBool() && !value.asBool();
    if (name == "integer")
        return value.isInt();
    if (name == "float")
        return value.isFloat();
    if (name == "number")
        return value.isNumber();
    if (name == "string")
        return value.isString();
    if (name == "mapping")
        return value.isDict();
    if (name == "callable")
        return value.isFunction();
    if (name == "iterable")
        return value.isUndefined() || value.isString() || value.isList() || value.isDict();
    if (name == "sequence")
        return value.isUndefined() || value.isString() || value.isSequenceList() || value.isDict();
    if (name == "even" || name == "odd") {
        const Value r = binaryOp("%", value, Value(2));
        return (name == "even") == !r.truthy();
    }
    if (name == "divisibleby") {
        const Value r = binaryOp("%", value, bindArguments(what, args, {{"num", true}})[0]);
        return !r.truthy();
    }
    if (name == "lower" || name == "upper") {
        const std::string s = value.str();
        return name == "lower" ? (text::upper(s) != s && text::lower(s) == s)
                               : (text::lower(s) != s && text::upper(s) == s);
    }
    if (name == "eq" || name == "equalto")
        return equals(value, other());
    if (name == "ne")
        return !equals(value, other());
    if (name == "lt" || name == "lessthan")
        return lessThan(value, other());
    if (name == "gt" || name == "greaterthan")
        return lessThan(other(), value);
    if (name == "le") {
        const Value o = other();
        return lessThan(value, o) || equals(value, o);
    }
    if (name == "ge") {
        const Value o = other();
        return lessThan(o, value) || equals(value, o);
    }
    if (name == "in")
        return contains(bindArguments(what, args, {{"seq", true}})[0], value);
    if (name == "sameas") {
        const Value o = other();
        if (value.kind() != o.kind())
            return false;
        if (value.isNone() || value.isUndefined() || value.isBool() || value.isInt() || value.isFloat() ||
            value.isString())
            return equals(value, o);
        return equals(value, o) &&
               (value.isFunction() || value.isObject() || (value.isList() && &value.items() == &o.items()) ||
                (value.isDict() && &value.entries() == &o.entries()));
    }
    throw EvalError("no test named '" + name + "'");
}

} // namespace ft::tok::jinja
