// Jinja values with Python semantics (see jinja_value.h).
#include "jinja/value.h"

#include "jinja/error.h"
#include "jinja/text.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ft::tok::jinja {
namespace {

const std::string kEmpty;

// Exact comparison of an int64 with a double, as Python does it.
int compareIntDouble(int64_t i, double d)
{
    if (std::isnan(d))
        return 2; // unordered
    if (d >= 9.3e18)
        return -1;
    if (d <= -9.3e18)
        return 1;
    const long double li = static_cast<long double>(i);
    const long double ld = static_cast<long double>(d);
    return li < ld ? -1 : li > ld ? 1 : 0;
}

// -1, 0, 1 for numbers; 2 when unordered (NaN).
int compareNumbers(const Value& a, const Value& b)
{
    if (a.isIntegral() && b.isIntegral()) {
        const int64_t x = a.asInt(), y = b.asInt();
        return x < y ? -1 : x > y ? 1 : 0;
    }
    if (a.isIntegral())
        return compareIntDouble(a.asInt(), b.asDouble());
    if (b.isIntegral()) {
        const int c = compareIntDouble(b.asInt(), a.asDouble());
        return c == 2 ? 2 : -c;
    }
    const double x = a.asDouble(), y = b.asDouble();
    if (std::isnan(x) || std::isnan(y))
        return 2;
    return x < y ? -1 : x > y ? 1 : 0;
}

} // namespace

const Value* Object::find(std::string_view name) const
{
    for (const auto& [key, value] : attributes)
        if (key == name)
            return &value;
    return nullptr;
}

void Object::set(const std::string& name, Value value)
{
    for (auto& [key, existing] : attributes)
        if (key == name) {
            existing = std::move(value);
            return;
        }
    attributes.emplace_back(name, std::move(value));
}

Value Value::none()
{
    Value v;
    v.m_data = NoneTag{};
    return v;
}

Value Value::undefined(std::string message)
{
    Value v;
    v.m_data = UndefinedTag{std::make_shared<const std::string>(std::move(message))};
    return v;
}

Value Value::list(std::vector<Value> items)
{
    Value v;
    v.m_data = std::make_shared<const ListData>(ListData{std::move(items), Shape::List, {}});
    return v;
}

Value Value::tuple(std::vector<Value> items)
{
    Value v;
    v.m_data = std::make_shared<const ListData>(ListData{std::move(items), Shape::Tuple, {}});
    return v;
}

Value Value::range(std::vector<Value> items, std::string repr)
{
    Value v;
    v.m_data = std::make_shared<const ListData>(ListData{std::move(items), Shape::Range, std::move(repr)});
    return v;
}

Value Value::generator(std::vector<Value> items)
{
    Value v;
    v.m_data = std::make_shared<const ListData>(ListData{std::move(items), Shape::Generator, {}});
    return v;
}

Value Value::dict(Entries entries)
{
    Value v;
    v.m_data = std::make_shared<const Entries>(std::move(entries));
    return v;
}

Value Value::function(std::string name, std::function<Value(CallArgs&)> call, std::string printed)
{
    Value v;
    v.m_data = std::make_shared<const Function>(Function{std::move(name), std::move(call), std::move(printed)});
    return v;
}

Value Value::object(std::shared_ptr<Object> object)
{
    Value v;
    v.m_data = std::move(object);
    return v;
}

Value Value::fromJson(const nlohmann::ordered_json& json)
{
    switch (json.type()) {
    case nlohmann::ordered_json::value_t::null: return none();
    case nlohmann::ordered_json::value_t::boolean: return Value(json.get<bool>());
    case nlohmann::ordered_json::value_t::number_integer: return Value(json.get<int64_t>());
    case nlohmann::ordered_json::value_t::number_unsigned: {
        const uint64_t u = json.get<uint64_t>();
        if (u > uint64_t(std::numeric_limits<int64_t>::max()))
            throw EvalError("the integer " + std::to_string(u) + " is too large for the template interpreter");
        return Value(int64_t(u));
    }
    case nlohmann::ordered_json::value_t::number_float: return Value(json.get<double>());
    case nlohmann::ordered_json::value_t::string: return Value(json.get<std::string>());
    case nlohmann::ordered_json::value_t::array: {
        std::vector<Value> items;
        for (const auto& item : json)
            items.push_back(fromJson(item));
        return list(std::move(items));
    }
    case nlohmann::ordered_json::value_t::object: {
        Entries entries;
        for (const auto& [key, item] : json.items())
            entries.emplace_back(key, fromJson(item));
        return dict(std::move(entries));
    }
    default: throw EvalError("unsupported JSON value of type " + std::string(json.type_name()));
    }
}

Value::Kind Value::kind() const
{
    switch (m_data.index()) {
    case 0: return Kind::Undefined;
    case 1: return Kind::None;
    case 2: return Kind::Bool;
    case 3: return Kind::Int;
    case 4: return Kind::Float;
    case 5: return Kind::String;
    case 6: return Kind::List;
    case 7: return Kind::Dict;
    case 8: return Kind::Function;
    default: return Kind::Object;
    }
}

bool Value::isTuple() const
{
    return isList() && std::get<std::shared_ptr<const ListData>>(m_data)->shape == Shape::Tuple;
}

bool Value::isRange() const
{
    return isList() && std::get<std::shared_ptr<const ListData>>(m_data)->shape == Shape::Range;
}

bool Value::isGenerator() const
{
    return isList() && std::get<std::shared_ptr<const ListData>>(m_data)->shape == Shape::Generator;
}
bool Value::isNamespace() const
{
    return isObject() && object().typeName == "Namespace";
}

int64_t Value::asInt() const
{
    return isBool() ? int64_t(asBool()) : std::get<int64_t>(m_data);
}

double Value::asDouble() const
{
    return isFloat() ? std::get<double>(m_data) : double(asInt());
}

const std::vector<Value>& Value::items() const
{
    return std::get<std::shared_ptr<const ListData>>(m_data)->items;
}
const Entries& Value::entries() const
{
    return *std::get<std::shared_ptr<const Entries>>(m_data);
}
const Function& Value::function() const
{
    return *std::get<std::shared_ptr<const Function>>(m_data);
}
Object& Value::object() const
{
    return *std::get<std::shared_ptr<Object>>(m_data);
}

const Value* Value::find(std::string_view key) const
{
    for (const auto& [k, v] : entries())
        if (k == key)
            return &v;
    return nullptr;
}

const std::string& Value::undefinedMessage() const
{
    static const std::string kGeneric = "a value is undefined";
    const auto& message = std::get<UndefinedTag>(m_data).message;
    return message ? *message : kGeneric;
}

void Value::failUndefined() const
{
    throw EvalError(undefinedMessage());
}

bool Value::truthy() const
{
    switch (kind()) {
    case Kind::Undefined:
    case Kind::None: return false;
    case Kind::Bool: return asBool();
    case Kind::Int: return asInt() != 0;
    case Kind::Float: return asDouble() != 0.0;
    case Kind::String: return !asString().empty();
    case Kind::List: return isGenerator() || !items().empty();
    case Kind::Dict: return !entries().empty();
    default: return true;
    }
}

std::string Value::str() const
{
    switch (kind()) {
    case Kind::Undefined: return kEmpty;
    case Kind::String: return asString();
    default: return repr();
    }
}

std::string Value::repr() const
{
    switch (kind()) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "None";
    case Kind::Bool: return asBool() ? "True" : "False";
    case Kind::Int: return std::to_string(asInt());
    case Kind::Float: return text::formatFloat(asDouble());
    case Kind::String: return text::reprString(asString());
    case Kind::List: {
        if (isGenerator())
            throw EvalError("cannot print a generator (what map, select, reject, selectattr, rejectattr, unique "
                            "and items return); apply |list or |join first");
        if (isRange())
            return std::get<std::shared_ptr<const ListData>>(m_data)->rangeRepr;
        const bool tuple = isTuple();
        std::string out = tuple ? "(" : "[";
        for (size_t i = 0; i < items().size(); ++i) {
            if (i)
                out += ", ";
            out += items()[i].repr();
        }
        if (tuple && items().size() == 1)
            out += ',';
        return out + (tuple ? ")" : "]");
    }
    case Kind::Dict: {
        std::string out = "{";
        bool first = true;
        for (const auto& [k, v] : entries()) {
            if (!first)
                out += ", ";
            first = false;
            out += text::reprString(k) + ": " + v.repr();
        }
        return out + "}";
    }
    case Kind::Object: {
        const Object& o = object();
        if (o.typeName == "Namespace")
            return "<Namespace " + Value::dict(o.attributes).repr() + ">";
        const Value* index = o.find("index");
        const Value* length = o.find("length");
        return "<LoopContext " + (index ? index->repr() : "?") + "/" + (length ? length->repr() : "?") + ">";
    }
    case Kind::Function:
        if (!function().printed.empty())
            return function().printed;
        throw EvalError("cannot print the function '" + function().name +
                        "' (Python would print its memory address); call it instead");
    }
    return kEmpty;
}

std::string Value::typeName() const
{
    switch (kind()) {
    case Kind::Undefined: return "Undefined";
    case Kind::None: return "NoneType";
    case Kind::Bool: return "bool";
    case Kind::Int: return "int";
    case Kind::Float: return "float";
    case Kind::String: return "str";
    case Kind::List: return isTuple() ? "tuple" : isGenerator() ? "generator" : isRange() ? "range" : "list";
    case Kind::Dict: return "dict";
    case Kind::Function: return "function";
    case Kind::Object: return object().typeName;
    }
    return "object";
}

std::vector<Value> Value::iterate() const
{
    switch (kind()) {
    case Kind::Undefined: return {};
    case Kind::List: return items();
    case Kind::Dict: {
        std::vector<Value> keys;
        for (const auto& e : entries())
            keys.emplace_back(e.first);
        return keys;
    }
    case Kind::String: {
        std::vector<Value> chars;
        for (char32_t cp : text::decode(asString())) {
            std::string s;
            text::append(s, cp);
            chars.emplace_back(std::move(s));
        }
        return chars;
    }
    default: throw EvalError("'" + typeName() + "' object is not iterable");
    }
}

bool equals(const Value& a, const Value& b)
{
    if (a.isNumber() && b.isNumber())
        return compareNumbers(a, b) == 0;
    if (a.kind() != b.kind())
        return false;
    switch (a.kind()) {
    case Value::Kind::Undefined:
    case Value::Kind::None: return true;
    case Value::Kind::String: return a.asString() == b.asString();
    case Value::Kind::List: {
        if (a.isGenerator() || b.isGenerator())
            return &a.items() == &b.items();
        if (a.isTuple() != b.isTuple() || a.isRange() != b.isRange() || a.items().size() != b.items().size())
            return false;
        for (size_t i = 0; i < a.items().size(); ++i)
            if (!equals(a.items()[i], b.items()[i]))
                return false;
        return true;
    }
    case Value::Kind::Dict: {
        if (a.entries().size() != b.entries().size())
            return false;
        for (const auto& [key, value] : a.entries()) {
            const Value* other = b.find(key);
            if (!other || !equals(value, *other))
                return false;
        }
        return true;
    }
    case Value::Kind::Function: return &a.function() == &b.function();
    case Value::Kind::Object: return &a.object() == &b.object();
    default: return false;
    }
}

bool lessThan(const Value& a, const Value& b)
{
    if (a.isUndefined())
        a.failUndefined();
    if (b.isUndefined())
        b.failUndefined();
    if (a.isNumber() && b.isNumber())
        return compareNumbers(a, b) == -1;
    if (a.isString() && b.isString())
        return a.asString() < b.asString(); // UTF-8 byte order is code-point order
    if (a.isSequenceList() && b.isSequenceList() && a.isTuple() == b.isTuple() && !a.isRange() && !b.isRange()) {
        const auto& x = a.items();
        const auto& y = b.items();
        for (size_t i = 0; i < x.size() && i < y.size(); ++i)
            if (!equals(x[i], y[i]))
                return lessThan(x[i], y[i]);
        return x.size() < y.size();
    }
    throw EvalError("'<' not supported between instances of '" + a.typeName() + "' and '" + b.typeName() + "'");
}

} // namespace ft::tok::jinja
