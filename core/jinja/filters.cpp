// Filters of the chat-template interpreter, following jinja2's filters.py (and
// transformers' tojson override). See jinja_builtins.h; tests are in jinja_is_tests.cpp.
#include "jinja/builtins.h"

#include "jinja/error.h"
#include "jinja/literals.h"
#include "jinja/text.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>

namespace ft::tok::jinja {
namespace {

const char* kFilters[] = {"abs",    "attr",       "capitalize", "count",      "d",           "default", "dictsort",
                          "e",      "escape",     "first",      "float",      "forceescape", "indent",  "int",
                          "items",  "join",       "last",       "length",     "list",        "lower",   "map",
                          "max",    "min",        "reject",     "rejectattr", "replace",     "reverse", "safe",
                          "select", "selectattr", "sort",       "string",     "sum",         "title",   "tojson",
                          "trim",   "unique",     "upper"};
const char* kUnsupportedFilters[] = {"batch",  "center",    "filesizeformat", "format",    "groupby",  "pprint",
                                     "random", "round",     "slice",          "striptags", "truncate", "urlencode",
                                     "urlize", "wordcount", "wordwrap",       "xmlattr"};
std::string htmlEscape(const std::string& s)
{
    std::string out;
    for (char c : s) {
        switch (c) {
        case '&': out += "&amp;"; break;
        case '<': out += "&lt;"; break;
        case '>': out += "&gt;"; break;
        case '"': out += "&#34;"; break;
        case '\'': out += "&#39;"; break;
        default: out += c;
        }
    }
    return out;
}

// jinja2's make_attrgetter: "a.b.0" looks up item a, then b, then element 0.
Value lookupPath(Value item, const Value& attribute)
{
    if (attribute.isNone())
        return item;
    if (!attribute.isString())
        return getItem(item, attribute);
    const std::string& path = attribute.asString();
    size_t start = 0;
    while (true) {
        const size_t dot = path.find('.', start);
        const std::string part = path.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
        const bool digits =
            !part.empty() && std::all_of(part.begin(), part.end(), [](char c) { return c >= '0' && c <= '9'; });
        item = getItem(item, digits ? Value(int64_t(std::strtoll(part.c_str(), nullptr, 10))) : Value(part));
        if (dot == std::string::npos)
            return item;
        start = dot + 1;
    }
}

Value ignoreCase(const Value& v, bool caseSensitive)
{
    return (!caseSensitive && v.isString()) ? Value(text::lower(v.asString())) : v;
}

int64_t lengthOf(const Value& v)
{
    switch (v.kind()) {
    case Value::Kind::Undefined: return 0;
    case Value::Kind::String: return int64_t(text::length(v.asString()));
    case Value::Kind::List:
        if (!v.isGenerator())
            return int64_t(v.items().size());
        break;
    case Value::Kind::Dict: return int64_t(v.entries().size());
    default: break;
    }
    throw EvalError("object of type " + std::string("'") + v.typeName() + "' has no len()");
}

std::optional<double> toFloat(const Value& v)
{
    if (v.isUndefined())
        v.failUndefined();
    if (v.isNumber())
        return v.asDouble();
    if (v.isString())
        return text::parseFloat(v.asString());
    return std::nullopt;
}

Value intFilter(const Value& value, const Value& fallback, const Value& baseV)
{
    if (value.isUndefined())
        value.failUndefined();
    if (value.isIntegral())
        return value.asInt();
    if (value.isString()) {
        if (!baseV.isIntegral())
            throw EvalError("int() base must be an integer");
        if (auto i = text::parseInt(value.asString(), baseV.asInt()))
            return *i;
    }
    if (auto d = toFloat(value)) {
        if (std::isnan(*d))
            return fallback;
        if (std::isinf(*d))
            throw EvalError("cannot convert float infinity to integer");
        if (std::fabs(*d) >= 9.2e18)
            throw EvalError("the integer is too large for this template interpreter");
        return int64_t(std::trunc(*d));
    }
    return fallback;
}

std::string indentFilter(const std::string& s, const Value& width, bool first, bool blank)
{
    std::string indention;
    if (width.isString())
        indention = width.asString();
    else if (width.isIntegral())
        indention = std::string(size_t(std::max<int64_t>(0, width.asInt())), ' ');
    else
        throw EvalError("indent width must be an int or a str, not " + width.typeName());
    const std::vector<std::string> lines = text::splitLines(s + "\n", false);
    std::string rv;
    if (blank) {
        for (size_t i = 0; i < lines.size(); ++i)
            rv += (i ? "\n" + indention : "") + lines[i];
    } else {
        rv = lines.empty() ? std::string() : lines[0];
        for (size_t i = 1; i < lines.size(); ++i)
            rv += "\n" + (lines[i].empty() ? lines[i] : indention + lines[i]);
    }
    return first ? indention + rv : rv;
}

CallArgs rest(const CallArgs& args, size_t skip)
{
    CallArgs r;
    r.positional.assign(args.positional.begin() + std::min(skip, args.positional.size()), args.positional.end());
    r.keywords = args.keywords;
    return r;
}

// select/reject/selectattr/rejectattr
Value selectOrReject(const Value& value, CallArgs& args, bool select, bool byAttribute, const char* name)
{
    size_t off = 0;
    Value attribute = Value::none();
    if (byAttribute) {
        if (args.positional.empty())
            throw EvalError(std::string(name) + ": missing parameter for attribute name");
        attribute = args.positional[0];
        off = 1;
    }
    const bool hasTest = args.positional.size() > off;
    std::string testName;
    if (hasTest) {
        if (!args.positional[off].isString())
            throw EvalError(std::string(name) + ": the test name must be a string");
        testName = args.positional[off].asString();
    }
    std::vector<Value> out;
    for (const Value& item : value.iterate()) {
        const Value probe = byAttribute ? lookupPath(item, attribute) : item;
        bool passed;
        if (hasTest) {
            CallArgs testArgs = rest(args, off + 1);
            passed = applyTest(testName, probe, testArgs);
        } else {
            passed = probe.truthy();
        }
        if (passed == select)
            out.push_back(item);
    }
    return Value::generator(std::move(out));
}

std::vector<Value> sortKeys(const Value& item, const Value& attribute, bool caseSensitive)
{
    std::vector<Value> keys;
    if (attribute.isString() && attribute.asString().find(',') != std::string::npos) {
        const std::string& s = attribute.asString();
        size_t start = 0;
        while (true) {
            const size_t comma = s.find(',', start);
            keys.push_back(ignoreCase(lookupPath(item, Value(s.substr(start, comma - start))), caseSensitive));
            if (comma == std::string::npos)
                break;
            start = comma + 1;
        }
    } else {
        keys.push_back(ignoreCase(lookupPath(item, attribute), caseSensitive));
    }
    return keys;
}

Value minOrMax(const Value& value, CallArgs& args, bool wantMax, const char* name)
{
    auto v = bindArguments(name, args, {{"case_sensitive", false, Value(false)}, {"attribute", false, Value::none()}});
    const std::vector<Value> items = value.iterate();
    if (items.empty())
        return Value::undefined("No aggregated item, sequence was empty.");
    size_t best = 0;
    Value bestKey = ignoreCase(lookupPath(items[0], v[1]), v[0].truthy());
    for (size_t i = 1; i < items.size(); ++i) {
        Value key = ignoreCase(lookupPath(items[i], v[1]), v[0].truthy());
        if (wantMax ? lessThan(bestKey, key) : lessThan(key, bestKey)) {
            best = i;
            bestKey = key;
        }
    }
    return items[best];
}

} // namespace

Support filterSupport(std::string_view name)
{
    if (listed(kFilters, name))
        return Support::Supported;
    return listed(kUnsupportedFilters, name) ? Support::Unsupported : Support::Unknown;
}

Value applyFilter(const std::string& name, const Value& value, CallArgs& args)
{
    const std::string what = "filter " + name;
    if (name == "abs") {
        bindArguments(what, args, {});
        if (value.isUndefined())
            value.failUndefined();
        if (value.isIntegral())
            return value.asInt() < 0 ? unaryOp("-", value) : Value(value.asInt());
        if (value.isFloat())
            return std::fabs(value.asDouble());
        throw EvalError("bad operand type for abs(): '" + value.typeName() + "'");
    }
    if (name == "attr") {
        auto v = bindArguments(what, args, {{"name", true}});
        // getattr() only: dict keys are not attributes, dict methods are.
        static const char* kDictAttributes[] = {"items",   "keys",       "values", "get",  "clear",   "pop",
                                                "popitem", "setdefault", "update", "copy", "fromkeys"};
        const bool dictAttribute = v[0].isString() && listed(kDictAttributes, v[0].asString());
        if (!v[0].isString() || (value.isDict() && !dictAttribute))
            return Value::undefined("'" + value.typeName() + " object' has no attribute " + v[0].repr());
        return getAttribute(value, v[0].asString());
    }
    if (name == "capitalize" || name == "lower" || name == "upper" || name == "title") {
        bindArguments(what, args, {});
        const std::string s = value.str();
        return name == "capitalize" ? text::capitalize(s)
               : name == "lower"    ? text::lower(s)
               : name == "upper"    ? text::upper(s)
                                    : text::jinjaTitle(s);
    }
    if (name == "count" || name == "length") {
        bindArguments(what, args, {});
        return lengthOf(value);
    }
    if (name == "default" || name == "d") {
        auto v = bindArguments(what, args, {{"default_value", false, Value("")}, {"boolean", false, Value(false)}});
        if (value.isUndefined() || (v[1].truthy() && !value.truthy()))
            return v[0];
        return value;
    }
    if (name == "dictsort") {
        auto v = bindArguments(
            what, args,
            {{"case_sensitive", false, Value(false)}, {"by", false, Value("key")}, {"reverse", false, Value(false)}});
        if (!value.isDict())
            throw EvalError("You can only sort by either \"key\" or \"value\" of a dict (dictsort needs a dict)");
        if (!v[1].isString() || (v[1].asString() != "key" && v[1].asString() != "value"))
            throw EvalError("You can only sort by either \"key\" or \"value\"");
        const size_t pos = v[1].asString() == "key" ? 0 : 1;
        std::vector<Value> pairs;
        for (const auto& [k, val] : value.entries())
            pairs.push_back(Value::tuple({Value(k), val}));
        const bool reverse = v[2].truthy(), caseSensitive = v[0].truthy();
        std::stable_sort(pairs.begin(), pairs.end(), [&](const Value& a, const Value& b) {
            const Value x = ignoreCase(a.items()[pos], caseSensitive), y = ignoreCase(b.items()[pos], caseSensitive);
            return reverse ? lessThan(y, x) : lessThan(x, y);
        });
        return Value::list(std::move(pairs));
    }
    if (name == "escape" || name == "e" || name == "forceescape") {
        bindArguments(what, args, {});
        return htmlEscape(value.str());
    }
    if (name == "first") {
        bindArguments(what, args, {});
        const std::vector<Value> items = value.iterate();
        return items.empty() ? Value::undefined("No first item, sequence was empty.") : items.front();
    }
    if (name == "last") {
        bindArguments(what, args, {});
        if (value.isGenerator())
            throw EvalError("'generator' object is not reversible");
        const std::vector<Value> items = value.iterate();
        return items.empty() ? Value::undefined("No last item, sequence was empty.") : items.back();
    }
    if (name == "float") {
        auto v = bindArguments(what, args, {{"default", false, Value(0.0)}});
        if (auto d = toFloat(value))
            return *d;
        return v[0];
    }
    if (name == "int") {
        auto v = bindArguments(what, args, {{"default", false, Value(0)}, {"base", false, Value(10)}});
        return intFilter(value, v[0], v[1]);
    }
    if (name == "indent") {
        auto v = bindArguments(
            what, args, {{"width", false, Value(4)}, {"first", false, Value(false)}, {"blank", false, Value(false)}});
        if (value.isUndefined())
            value.failUndefined();
        return indentFilter(value.str(), v[0], v[1].truthy(), v[2].truthy());
    }
    if (name == "items") {
        bindArguments(what, args, {});
        if (value.isUndefined())
            return Value::generator({});
        if (!value.isDict())
            throw EvalError("Can only get item pairs from a mapping.");
        std::vector<Value> out;
        for (const auto& [k, v] : value.entries())
            out.push_back(Value::tuple({Value(k), v}));
        return Value::generator(std::move(out));
    }
    if (name == "join") {
        auto v = bindArguments(what, args, {{"d", false, Value("")}, {"attribute", false, Value::none()}});
        std::string out;
        const std::string sep = v[0].str();
        bool first = true;
        for (const Value& item : value.iterate()) {
            if (!first)
                out += sep;
            first = false;
            out += lookupPath(item, v[1]).str();
        }
        return out;
    }
    if (name == "list") {
        bindArguments(what, args, {});
        return Value::list(value.iterate());
    }
    if (name == "map") {
        std::vector<Value> out;
        const Value* attribute = nullptr;
        for (const auto& [k, v] : args.keywords)
            if (k == "attribute")
                attribute = &v;
        if (args.positional.empty() && attribute) {
            Value fallback = Value::none();
            for (const auto& [k, v] : args.keywords) {
                if (k == "default")
                    fallback = v;
                else if (k != "attribute")
                    throw EvalError("map: unexpected keyword argument '" + k + "'");
            }
            for (const Value& item : value.iterate()) {
                Value got = lookupPath(item, *attribute);
                out.push_back(got.isUndefined() && !fallback.isNone() ? fallback : got);
            }
            return Value::generator(std::move(out));
        }
        if (args.positional.empty() || !args.positional[0].isString())
            throw EvalError("map requires a filter name or attribute=...");
        const std::string filterName = args.positional[0].asString();
        if (filterSupport(filterName) != Support::Supported)
            throw EvalError("map: no supported filter named '" + filterName + "'");
        for (const Value& item : value.iterate()) {
            CallArgs filterArgs = rest(args, 1);
            out.push_back(applyFilter(filterName, item, filterArgs));
        }
        return Value::generator(std::move(out));
    }
    if (name == "max" || name == "min")
        return minOrMax(value, args, name == "max", what.c_str());
    if (name == "select" || name == "reject" || name == "selectattr" || name == "rejectattr")
        return selectOrReject(value, args, name == "select" || name == "selectattr",
                              name == "selectattr" || name == "rejectattr", name.c_str());
    if (name == "replace") {
        auto v = bindArguments(what, args, {{"old", true}, {"new", true}, {"count", false, Value::none()}});
        CallArgs methodArgs{{Value(v[0].str()), Value(v[1].str()), v[2].isNone() ? Value(-1) : v[2]}, {}};
        return callValue(getAttribute(Value(value.str()), "replace"), methodArgs);
    }
    if (name == "reverse") {
        bindArguments(what, args, {});
        if (value.isString()) {
            std::u32string cps = text::decode(value.asString());
            std::reverse(cps.begin(), cps.end());
            return text::encode(cps);
        }
        std::vector<Value> items = value.iterate();
        std::reverse(items.begin(), items.end());
        return Value::generator(std::move(items));
    }
    if (name == "safe") {
        bindArguments(what, args, {});
        return value.str();
    }
    if (name == "sort") {
        auto v = bindArguments(what, args,
                               {{"reverse", false, Value(false)},
                                {"case_sensitive", false, Value(false)},
                                {"attribute", false, Value::none()}});
        std::vector<Value> items = value.iterate();
        std::vector<std::pair<Value, Value>> keyed;
        for (Value& item : items)
            keyed.emplace_back(Value::list(sortKeys(item, v[2], v[1].truthy())), item);
        const bool reverse = v[0].truthy();
        std::stable_sort(keyed.begin(), keyed.end(), [reverse](const auto& a, const auto& b) {
            return reverse ? lessThan(b.first, a.first) : lessThan(a.first, b.first);
        });
        std::vector<Value> out;
        for (auto& kv : keyed)
            out.push_back(kv.second);
        return Value::list(std::move(out));
    }
    if (name == "string") {
        bindArguments(what, args, {});
        return value.str();
    }
    if (name == "sum") {
        auto v = bindArguments(what, args, {{"attribute", false, Value::none()}, {"start", false, Value(0)}});
        Value total = v[1];
        for (const Value& item : value.iterate())
            total = binaryOp("+", total, lookupPath(item, v[0]));
        return total;
    }
    if (name == "tojson") {
        auto v = bindArguments(what, args,
                               {{"ensure_ascii", false, Value(false)},
                                {"indent", false, Value::none()},
                                {"separators", false, Value::none()},
                                {"sort_keys", false, Value(false)}});
        JsonOptions o;
        o.ensureAscii = v[0].truthy();
        if (v[1].isString())
            o.indent = v[1].asString();
        else if (v[1].isIntegral())
            o.indent = std::string(size_t(std::max<int64_t>(0, v[1].asInt())), ' ');
        else if (!v[1].isNone())
            throw EvalError("tojson: indent must be an int, a str or none");
        if (!v[2].isNone()) {
            const std::vector<Value> seps = v[2].iterate();
            if (seps.size() != 2 || !seps[0].isString() || !seps[1].isString())
                throw EvalError("tojson: separators must be a pair of strings");
            o.separators = std::make_pair(seps[0].asString(), seps[1].asString());
        }
        o.sortKeys = v[3].truthy();
        return toJson(value, o);
    }
    if (name == "trim") {
        auto v = bindArguments(what, args, {{"chars", false, Value::none()}});
        const std::string chars = v[0].isNone() ? std::string() : v[0].str();
        return text::strip(value.str(), v[0].isNone() ? nullptr : &chars, true, true);
    }
    if (name == "unique") {
        auto v =
            bindArguments(what, args, {{"case_sensitive", false, Value(false)}, {"attribute", false, Value::none()}});
        std::vector<Value> seen, out;
        for (const Value& item : value.iterate()) {
            const Value key = ignoreCase(lookupPath(item, v[1]), v[0].truthy());
            if (key.isSequenceList() && !key.isTuple())
                throw EvalError("unhashable type: 'list'");
            if (key.isDict())
                throw EvalError("unhashable type: 'dict'");
            if (std::none_of(seen.begin(), seen.end(), [&](const Value& s) { return equals(s, key); })) {
                seen.push_back(key);
                out.push_back(item);
            }
        }
        return Value::generator(std::move(out));
    }
    throw EvalError("no filter named '" + name + "'");
}

} // namespace ft::tok::jinja
