// Values of the chat-template Jinja interpreter, with the Python semantics that
// jinja2 gives them: truthiness, str()/repr() rendering (True, None, 1.0, ['a']),
// equality across int/float/bool, ordering, and json.dumps as transformers' tojson
// calls it. Lists, tuples and dicts are immutable and shared (transformers renders in
// an ImmutableSandboxedEnvironment); dicts keep insertion order and have string keys.
// Namespaces (namespace()) are the one mutable kind. Not here: operators, filters,
// attribute lookup (jinja_builtins.h) and evaluation (jinja_eval.h).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ft::tok::jinja {

class Value;
using Entries = std::vector<std::pair<std::string, Value>>;

struct CallArgs {
    std::vector<Value> positional;
    Entries keywords;
};

// A callable: a global (range, namespace ...), a bound method ('x'.strip), a macro.
struct Function {
    std::string name;
    std::function<Value(CallArgs&)> call;
    std::string printed; // what {{ f }} shows (macros: "<Macro 'f'>"); empty: printing is an error
};

// An attribute bag: namespace() objects (assignable with {% set ns.x = ... %}) and
// the loop variable.
struct Object {
    std::string typeName; // "Namespace" or "LoopContext"
    Entries attributes;
    const Value* find(std::string_view name) const;
    void set(const std::string& name, Value value);
};

class Value {
public:
    enum class Kind { Undefined, None, Bool, Int, Float, String, List, Dict, Function, Object };

    Value() = default; // undefined
    Value(bool b) : m_data(b) {}
    Value(int i) : m_data(int64_t(i)) {}
    Value(int64_t i) : m_data(i) {}
    Value(double d) : m_data(d) {}
    Value(std::string s) : m_data(std::move(s)) {}
    Value(const char* s) : m_data(std::string(s)) {}

    static Value none();
    // An undefined value that explains itself when misused ("'foo' is undefined").
    static Value undefined(std::string message);
    static Value list(std::vector<Value> items);
    static Value tuple(std::vector<Value> items);
    // What map/select/reject/... return in jinja2: iterable once, no len(), no
    // subscript, prints as <generator object> (here: an error), always truthy.
    static Value generator(std::vector<Value> items);
    // range(): a list of ints that prints as "range(0, 3)" and is not JSON.
    static Value range(std::vector<Value> items, std::string repr);
    static Value dict(Entries entries);
    static Value function(std::string name, std::function<Value(CallArgs&)> call, std::string printed = {});
    static Value object(std::shared_ptr<Object> object);
    // JSON null/bool/number/string/array/object -> None/bool/int or float/str/list/dict.
    static Value fromJson(const nlohmann::ordered_json& json);

    Kind kind() const;
    bool isUndefined() const { return kind() == Kind::Undefined; }
    bool isNone() const { return kind() == Kind::None; }
    bool isBool() const { return kind() == Kind::Bool; }
    bool isInt() const { return kind() == Kind::Int; } // not bool
    bool isFloat() const { return kind() == Kind::Float; }
    bool isNumber() const { return isBool() || isInt() || isFloat(); } // Python: bool is an int
    bool isIntegral() const { return isBool() || isInt(); }
    bool isString() const { return kind() == Kind::String; }
    bool isList() const { return kind() == Kind::List; } // list, tuple or generator
    bool isTuple() const;
    bool isGenerator() const;
    bool isRange() const;
    bool isSequenceList() const { return isList() && !isGenerator(); }
    bool isDict() const { return kind() == Kind::Dict; }
    bool isFunction() const { return kind() == Kind::Function; }
    bool isObject() const { return kind() == Kind::Object; }
    bool isNamespace() const;

    bool asBool() const { return std::get<bool>(m_data); }
    int64_t asInt() const;   // bool or int
    double asDouble() const; // bool, int or float
    const std::string& asString() const { return std::get<std::string>(m_data); }
    const std::vector<Value>& items() const;
    const Entries& entries() const;
    const Value* find(std::string_view key) const; // dict key lookup
    const Function& function() const;
    Object& object() const;
    const std::string& undefinedMessage() const;
    // Throws EvalError with the undefined value's message.
    [[noreturn]] void failUndefined() const;

    bool truthy() const;
    // Python str(): what {{ value }} prints. Undefined prints "".
    std::string str() const;
    // Python repr(): how the value appears inside a printed list or dict.
    std::string repr() const;
    // Python's type name as error messages use it: 'str', 'int', 'dict', 'NoneType' ...
    std::string typeName() const;

    // Items of `for x in value` / list(value): list items, dict keys, string
    // characters; undefined gives none. Throws EvalError for other kinds.
    std::vector<Value> iterate() const;

private:
    struct NoneTag {};
    struct UndefinedTag {
        std::shared_ptr<const std::string> message;
    };
    enum class Shape { List, Tuple, Generator, Range };
    struct ListData {
        std::vector<Value> items;
        Shape shape = Shape::List;
        std::string rangeRepr;
    };
    std::variant<UndefinedTag, NoneTag, bool, int64_t, double, std::string, std::shared_ptr<const ListData>,
                 std::shared_ptr<const Entries>, std::shared_ptr<const Function>, std::shared_ptr<Object>>
        m_data;
};

// Python ==, with 1 == 1.0 == True, tuples unequal to lists, dicts compared by content.
bool equals(const Value& a, const Value& b);
// Python <; throws EvalError for unorderable types (and for undefined values).
bool lessThan(const Value& a, const Value& b);

// json.dumps(value, ensure_ascii, indent, separators, sort_keys) as transformers'
// tojson filter calls it; throws EvalError for values JSON cannot represent.
struct JsonOptions {
    bool ensureAscii = false;
    std::optional<std::string> indent; // nullopt: one line
    std::optional<std::pair<std::string, std::string>> separators;
    bool sortKeys = false;
};
std::string toJson(const Value& value, const JsonOptions& options);

} // namespace ft::tok::jinja
