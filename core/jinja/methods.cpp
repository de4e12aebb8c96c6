// Attribute and item lookup with jinja2's sandbox rules, and the methods of str,
// dict and list values a template may call ('x'.strip(), d.items(), l.index(x)).
// Mutating methods are refused as transformers' ImmutableSandboxedEnvironment does.
#include "jinja/builtins.h"

#include "jinja/error.h"
#include "jinja/text.h"

#include <algorithm>
#include <climits>
#include <optional>
#include <unordered_map>

namespace ft::tok::jinja {
namespace {

using Method = Value (*)(const Value& self, CallArgs& args);

// What jinja2's sandbox returns for a mutating method: an undefined value that
// refuses to be called.
Value unsafe(const Value& object, const std::string& name)
{
    return Value::undefined("access to attribute " + q(name) + " of " + q(object.typeName()) + " object is unsafe.");
}

Value noAttribute(const Value& object, const std::string& name)
{
    return Value::undefined(q(object.typeName() + " object") + " has no attribute " + q(name));
}

Value notSupported(const std::string& type, const std::string& name)
{
    return Value::function(type + "." + name, [type, name](CallArgs&) -> Value {
        throw EvalError("the " + type + " method " + q(name) + " is not supported by this template interpreter");
    });
}

size_t cpOffset(const std::string& s, size_t byteOffset)
{
    return text::length(std::string_view(s).substr(0, byteOffset));
}

// ---- str methods -----------------------------------------------------------

Value strStrip(const Value& self, CallArgs& a, bool left, bool right, const char* name)
{
    auto v = bindArguments(name, a, {{"chars", false, Value::none()}});
    const std::string* chars = v[0].isNone() ? nullptr : &argString(v[0], "strip arg");
    return text::strip(self.asString(), chars, left, right);
}

Value splitImpl(const Value& self, CallArgs& a, bool fromRight)
{
    auto v = bindArguments(fromRight ? "rsplit" : "split", a,
                           {{"sep", false, Value::none()}, {"maxsplit", false, Value(-1)}});
    int64_t maxSplit = argInt(v[1], "maxsplit");
    if (maxSplit < 0)
        maxSplit = INT64_MAX;
    std::vector<std::u32string> parts;
    const std::u32string s = text::decode(self.asString());
    if (v[0].isNone()) {
        // Runs of whitespace separate; leading and trailing whitespace is dropped.
        if (!fromRight) {
            size_t i = 0;
            while (true) {
                while (i < s.size() && text::isSpace(s[i]))
                    ++i;
                if (i >= s.size())
                    break;
                if (int64_t(parts.size()) == maxSplit) {
                    parts.push_back(s.substr(i)); // the rest keeps its trailing whitespace
                    break;
                }
                size_t j = i;
                while (j < s.size() && !text::isSpace(s[j]))
                    ++j;
                parts.push_back(s.substr(i, j - i));
                i = j;
            }
        } else {
            size_t i = s.size();
            while (true) {
                while (i > 0 && text::isSpace(s[i - 1]))
                    --i;
                if (i == 0)
                    break;
                if (int64_t(parts.size()) == maxSplit) {
                    parts.push_back(s.substr(0, i)); // the rest keeps its leading whitespace
                    break;
                }
                size_t j = i;
                while (j > 0 && !text::isSpace(s[j - 1]))
                    --j;
                parts.push_back(s.substr(j, i - j));
                i = j;
            }
            std::reverse(parts.begin(), parts.end());
        }
    } else {
        const std::u32string sep = text::decode(argString(v[0], "separator"));
        if (sep.empty())
            throw EvalError("empty separator");
        if (!fromRight) {
            size_t start = 0;
            while (true) {
                const size_t hit = int64_t(parts.size()) < maxSplit ? s.find(sep, start) : std::u32string::npos;
                if (hit == std::u32string::npos) {
                    parts.push_back(s.substr(start));
                    break;
                }
                parts.push_back(s.substr(start, hit - start));
                start = hit + sep.size();
            }
        } else {
            size_t end = s.size();
            while (true) {
                size_t hit = std::u32string::npos;
                if (int64_t(parts.size()) < maxSplit && end >= sep.size())
                    hit = s.rfind(sep, end - sep.size());
                if (hit == std::u32string::npos) {
                    parts.push_back(s.substr(0, end));
                    break;
                }
                parts.push_back(s.substr(hit + sep.size(), end - hit - sep.size()));
                end = hit;
            }
            std::reverse(parts.begin(), parts.end());
        }
    }
    std::vector<Value> out;
    for (const auto& p : parts)
        out.emplace_back(text::encode(p));
    return Value::list(std::move(out));
}

Value strReplace(const std::string& s, const std::string& from, const std::string& to, int64_t count)
{
    if (count < 0)
        count = INT64_MAX;
    std::string out;
    if (from.empty()) {
        // Python inserts the replacement before every character and at the end.
        const std::u32string cps = text::decode(s);
        int64_t n = 0;
        for (char32_t cp : cps) {
            if (n++ < count)
                out += to;
            text::append(out, cp);
        }
        if (n++ < count)
            out += to;
        return out;
    }
    size_t start = 0;
    for (int64_t n = 0; n < count; ++n) {
        const size_t hit = s.find(from, start);
        if (hit == std::string::npos)
            break;
        out.append(s, start, hit - start);
        out += to;
        start = hit + from.size();
    }
    out.append(s, start, std::string::npos);
    return out;
}

bool affixMatch(const Value& self, CallArgs& a, bool prefix)
{
    auto v = bindArguments(prefix ? "startswith" : "endswith", a, {{"prefix", true}});
    std::vector<Value> options = v[0].isTuple() ? v[0].items() : std::vector<Value>{v[0]};
    const std::string& s = self.asString();
    for (const Value& o : options) {
        const std::string& p = argString(o, prefix ? "startswith arg" : "endswith arg");
        if (p.size() <= s.size() &&
            (prefix ? s.compare(0, p.size(), p) : s.compare(s.size() - p.size(), p.size(), p)) == 0)
            return true;
    }
    return false;
}

Value findImpl(const Value& self, CallArgs& a, const char* name, bool fromRight, bool raise)
{
    auto v = bindArguments(name, a, {{"sub", true}});
    const std::string& s = self.asString();
    const std::string& sub = argString(v[0], "substring");
    const size_t hit = fromRight ? s.rfind(sub) : s.find(sub);
    if (hit == std::string::npos) {
        if (raise)
            throw EvalError("substring not found");
        return Value(-1);
    }
    return Value(int64_t(cpOffset(s, hit)));
}

// ASCII-exact character classes; other characters would need Unicode tables.
Value charClass(const Value& self, CallArgs& a, const char* name, bool (*pred)(char))
{
    bindArguments(name, a, {});
    const std::string& s = self.asString();
    if (!text::isAscii(s))
        throw EvalError(std::string("str.") + name +
                        "() on non-ASCII text is not supported by this template interpreter");
    if (s.empty())
        return Value(false);
    for (char c : s)
        if (!pred(c))
            return Value(false);
    return Value(true);
}

const std::unordered_map<std::string, Method>& strMethods()
{
    static const std::unordered_map<std::string, Method> kMethods = {
        {"strip", [](const Value& s, CallArgs& a) { return strStrip(s, a, true, true, "strip"); }},
        {"lstrip", [](const Value& s, CallArgs& a) { return strStrip(s, a, true, false, "lstrip"); }},
        {"rstrip", [](const Value& s, CallArgs& a) { return strStrip(s, a, false, true, "rstrip"); }},
        {"lower",
         [](const Value& s, CallArgs& a) {
             bindArguments("lower", a, {});
             return Value(text::lower(s.asString()));
         }},
        {"upper",
         [](const Value& s, CallArgs& a) {
             bindArguments("upper", a, {});
             return Value(text::upper(s.asString()));
         }},
        {"title",
         [](const Value& s, CallArgs& a) {
             bindArguments("title", a, {});
             return Value(text::pyTitle(s.asString()));
         }},
        {"capitalize",
         [](const Value& s, CallArgs& a) {
             bindArguments("capitalize", a, {});
             return Value(text::capitalize(s.asString()));
         }},
        {"startswith", [](const Value& s, CallArgs& a) { return Value(affixMatch(s, a, true)); }},
        {"endswith", [](const Value& s, CallArgs& a) { return Value(affixMatch(s, a, false)); }},
        {"split", [](const Value& s, CallArgs& a) { return splitImpl(s, a, false); }},
        {"rsplit", [](const Value& s, CallArgs& a) { return splitImpl(s, a, true); }},
        {"splitlines",
         [](const Value& s, CallArgs& a) {
             auto v = bindArguments("splitlines", a, {{"keepends", false, Value(false)}});
             std::vector<Value> out;
             for (auto& line : text::splitLines(s.asString(), v[0].truthy()))
                 out.emplace_back(std::move(line));
             return Value::list(std::move(out));
         }},
        {"replace",
         [](const Value& s, CallArgs& a) {
             auto v = bindArguments("replace", a, {{"old", true}, {"new", true}, {"count", false, Value(-1)}});
             return strReplace(s.asString(), argString(v[0], "replace arg"), argString(v[1], "replace arg"),
                               argInt(v[2], "count"));
         }},
        {"find", [](const Value& s, CallArgs& a) { return findImpl(s, a, "find", false, false); }},
        {"rfind", [](const Value& s, CallArgs& a) { return findImpl(s, a, "rfind", true, false); }},
        {"index", [](const Value& s, CallArgs& a) { return findImpl(s, a, "index", false, true); }},
        {"rindex", [](const Value& s, CallArgs& a) { return findImpl(s, a, "rindex", true, true); }},
        {"count",
         [](const Value& s, CallArgs& a) {
             auto v = bindArguments("count", a, {{"sub", true}});
             const std::string& sub = argString(v[0], "count arg");
             if (sub.empty())
                 return Value(int64_t(text::length(s.asString()) + 1));
             int64_t n = 0;
             for (size_t at = s.asString().find(sub); at != std::string::npos;
                  at = s.asString().find(sub, at + sub.size()))
                 ++n;
             return Value(n);
         }},
        {"join",
         [](const Value& s, CallArgs& a) {
             auto v = bindArguments("join", a, {{"iterable", true}});
             std::string out;
             size_t i = 0;
             for (const Value& item : v[0].iterate()) {
                 if (!item.isString())
                     throw EvalError("sequence item " + std::to_string(i) + ": expected str instance, " +
                                     item.typeName() + " found");
                 if (i++)
                     out += s.asString();
                 out += item.asString();
             }
             return Value(out);
         }},
        {"isdigit",
         [](const Value& s, CallArgs& a) {
             return charClass(s, a, "isdigit", [](char c) { return c >= '0' && c <= '9'; });
         }},
        {"isnumeric",
         [](const Value& s, CallArgs& a) {
             return charClass(s, a, "isnumeric", [](char c) { return c >= '0' && c <= '9'; });
         }},
        {"isdecimal",
         [](const Value& s, CallArgs& a) {
             return charClass(s, a, "isdecimal", [](char c) { return c >= '0' && c <= '9'; });
         }},
        {"isalpha",
         [](const Value& s, CallArgs& a) {
             return charClass(s, a, "isalpha", [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); });
         }},
        {"isalnum",
         [](const Value& s, CallArgs& a) {
             return charClass(s, a, "isalnum", [](char c) {
                 return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
             });
         }},
        {"isspace",
         [](const Value& s, CallArgs& a) {
             bindArguments("isspace", a, {});
             const std::u32string cps = text::decode(s.asString());
             if (cps.empty())
                 return Value(false);
             for (char32_t cp : cps)
                 if (!text::isSpace(cp))
                     return Value(false);
             return Value(true);
         }},
        {"islower",
         [](const Value& s, CallArgs& a) {
             bindArguments("islower", a, {});
             const std::string& t = s.asString();
             return Value(text::upper(t) != t && text::lower(t) == t);
         }},
        {"isupper",
         [](const Value& s, CallArgs& a) {
             bindArguments("isupper", a, {});
             const std::string& t = s.asString();
             return Value(text::lower(t) != t && text::upper(t) == t);
         }},
        {"removeprefix",
         [](const Value& s, CallArgs& a) {
             auto v = bindArguments("removeprefix", a, {{"prefix", true}});
             const std::string& p = argString(v[0], "removeprefix arg");
             const std::string& t = s.asString();
             return Value(t.compare(0, p.size(), p) == 0 ? t.substr(p.size()) : t);
         }},
        {"removesuffix",
         [](const Value& s, CallArgs& a) {
             auto v = bindArguments("removesuffix", a, {{"suffix", true}});
             const std::string& p = argString(v[0], "removesuffix arg");
             const std::string& t = s.asString();
             const bool ends = !p.empty() && p.size() <= t.size() && t.compare(t.size() - p.size(), p.size(), p) == 0;
             return Value(ends ? t.substr(0, t.size() - p.size()) : t);
         }},
    };
    return kMethods;
}

bool isKnownStrMethod(const std::string& name)
{
    static const char* kOthers[] = {"casefold",  "center",       "encode",      "expandtabs", "format",    "format_map",
                                    "isascii",   "isidentifier", "isprintable", "istitle",    "ljust",     "maketrans",
                                    "partition", "rjust",        "rpartition",  "swapcase",   "translate", "zfill"};
    for (const char* n : kOthers)
        if (name == n)
            return true;
    return false;
}

// ---- dict and list methods -------------------------------------------------

std::optional<Value> dictMethod(const Value& d, const std::string& name)
{
    if (name == "items" || name == "keys" || name == "values")
        return Value::function("dict." + name, [d, name](CallArgs& a) {
            bindArguments(name, a, {});
            std::vector<Value> out;
            for (const auto& [k, v] : d.entries())
                out.push_back(name == "items" ? Value::tuple({Value(k), v}) : name == "keys" ? Value(k) : v);
            return Value::generator(std::move(out));
        });
    if (name == "get")
        return Value::function("dict.get", [d](CallArgs& a) {
            auto v = bindArguments("get", a, {{"key", true}, {"default", false, Value::none()}});
            if (v[0].isString())
                if (const Value* found = d.find(v[0].asString()))
                    return *found;
            return v[1];
        });
    if (name == "clear" || name == "pop" || name == "popitem" || name == "setdefault" || name == "update")
        return unsafe(d, name);
    if (name == "copy" || name == "fromkeys")
        return notSupported("dict", name);
    return std::nullopt;
}

std::optional<Value> listMethod(const Value& l, const std::string& name)
{
    if (name == "count")
        return Value::function("list.count", [l](CallArgs& a) {
            auto v = bindArguments("count", a, {{"value", true}});
            int64_t n = 0;
            for (const Value& item : l.items())
                n += equals(item, v[0]) ? 1 : 0;
            return Value(n);
        });
    if (name == "index")
        return Value::function("list.index", [l](CallArgs& a) {
            auto v = bindArguments("index", a, {{"value", true}});
            for (size_t i = 0; i < l.items().size(); ++i)
                if (equals(l.items()[i], v[0]))
                    return Value(int64_t(i));
            throw EvalError(v[0].repr() + " is not in list");
        });
    if (!l.isTuple() && (name == "append" || name == "clear" || name == "extend" || name == "insert" || name == "pop" ||
                         name == "remove" || name == "reverse" || name == "sort"))
        return unsafe(l, name);
    if (name == "copy")
        return notSupported("list", name);
    return std::nullopt;
}

// Python floor division and modulo for floats (CPython's float_divmod).
} // namespace

Value getAttribute(const Value& object, const std::string& name)
{
    switch (object.kind()) {
    case Value::Kind::Undefined: object.failUndefined();
    case Value::Kind::String: {
        const auto& methods = strMethods();
        if (auto it = methods.find(name); it != methods.end()) {
            const Method m = it->second;
            return Value::function("str." + name, [object, m](CallArgs& a) { return m(object, a); });
        }
        if (isKnownStrMethod(name))
            return notSupported("str", name);
        return noAttribute(object, name);
    }
    case Value::Kind::Dict: {
        if (name.rfind("__", 0) == 0)
            return unsafe(object, name);
        if (std::optional<Value> m = dictMethod(object, name))
            return *m;
        if (const Value* v = object.find(name))
            return *v;
        return noAttribute(object, name);
    }
    case Value::Kind::List: {
        if (!object.isGenerator())
            if (std::optional<Value> m = listMethod(object, name))
                return *m;
        return noAttribute(object, name);
    }
    case Value::Kind::Object:
        if (const Value* v = object.object().find(name))
            return *v;
        return noAttribute(object, name);
    case Value::Kind::Bool:
    case Value::Kind::Int:
    case Value::Kind::Float:
        if (name == "real")
            return object.isFloat() ? object : Value(object.asInt());
        if (name == "imag")
            return object.isFloat() ? Value(0.0) : Value(0);
        if (object.isIntegral() && name == "numerator")
            return object.asInt();
        if (object.isIntegral() && name == "denominator")
            return Value(1);
        if (name.rfind("__", 0) == 0 || name == "conjugate" || name == "bit_length" || name == "is_integer" ||
            name == "hex" || name == "as_integer_ratio" || name == "to_bytes" || name == "bit_count")
            return notSupported(object.typeName(), name);
        return noAttribute(object, name);
    default: return noAttribute(object, name);
    }
}

Value getItem(const Value& object, const Value& key)
{
    switch (object.kind()) {
    case Value::Kind::Undefined: object.failUndefined();
    case Value::Kind::List:
    case Value::Kind::String: {
        if (object.isGenerator())
            return Value::undefined(q("generator object") + " is not subscriptable");
        if (key.isIntegral()) {
            const bool isStr = object.isString();
            std::u32string cps;
            if (isStr)
                cps = text::decode(object.asString());
            const int64_t n = isStr ? int64_t(cps.size()) : int64_t(object.items().size());
            int64_t i = key.asInt();
            if (i < 0)
                i += n;
            if (i < 0 || i >= n)
                return Value::undefined(object.typeName() + " object has no element " + key.repr());
            if (!isStr)
                return object.items()[size_t(i)];
            std::string ch;
            text::append(ch, cps[size_t(i)]);
            return ch;
        }
        if (key.isString())
            return getAttribute(object, key.asString());
        return Value::undefined(object.typeName() + " object has no element " + key.repr());
    }
    case Value::Kind::Dict:
        if (key.isString()) {
            if (const Value* v = object.find(key.asString()))
                return *v;
            return getAttribute(object, key.asString());
        }
        return Value::undefined(object.typeName() + " object has no element " + key.repr());
    case Value::Kind::Object:
        if (key.isString())
            return getAttribute(object, key.asString());
        return Value::undefined(object.typeName() + " object has no element " + key.repr());
    default: return Value::undefined(object.typeName() + " object has no element " + key.repr());
    }
}

Value getSlice(const Value& object, const Value& startV, const Value& stopV, const Value& stepV)
{
    // jinja2 compiles slices to a plain Python subscript (no sandbox getitem), so
    // slicing something unsliceable is an error, not an undefined value.
    if (object.isUndefined())
        object.failUndefined();
    if (!(object.isString() || object.isSequenceList()))
        throw EvalError(q(object.typeName()) + " object is not subscriptable");
    for (const Value* v : {&startV, &stopV, &stepV})
        if (v->isUndefined())
            v->failUndefined();
        else if (!v->isNone() && !v->isIntegral())
            throw EvalError("slice indices must be integers or None or have an __index__ method");
    const std::u32string cps = object.isString() ? text::decode(object.asString()) : std::u32string();
    const int64_t n = object.isString() ? int64_t(cps.size()) : int64_t(object.items().size());
    const int64_t step = stepV.isNone() ? 1 : stepV.asInt();
    if (step == 0)
        throw EvalError("slice step cannot be zero");
    auto adjust = [&](const Value& v, int64_t absent) {
        if (v.isNone())
            return absent;
        int64_t i = v.asInt();
        if (i < 0) {
            i += n;
            if (i < 0)
                i = step < 0 ? -1 : 0;
        } else if (i >= n) {
            i = step < 0 ? n - 1 : n;
        }
        return i;
    };
    const int64_t start = adjust(startV, step < 0 ? n - 1 : 0);
    const int64_t stop = adjust(stopV, step < 0 ? -1 : n);
    std::u32string outText;
    std::vector<Value> outItems;
    for (int64_t i = start; step > 0 ? i < stop : i > stop; i += step) {
        if (object.isString())
            outText += cps[size_t(i)];
        else
            outItems.push_back(object.items()[size_t(i)]);
    }
    if (object.isString())
        return text::encode(outText);
    return object.isTuple() ? Value::tuple(std::move(outItems)) : Value::list(std::move(outItems));
}

} // namespace ft::tok::jinja
