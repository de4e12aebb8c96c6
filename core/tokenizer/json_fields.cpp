// Typed field access for tokenizer.json components (see json_fields.h).
#include "tokenizer/json_fields.h"

#include "tokenizer/unicode_text.h"
#include "util/error.h"

namespace ft::tok::jsonf {

void failAt(const std::string& where, const std::string& message) { fail(where + ": " + message); }

const Json* find(const Json& object, const char* key)
{
    if (!object.is_object())
        return nullptr;
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

void requireObject(const Json& j, const std::string& where)
{
    if (!j.is_object())
        failAt(where, std::string("expected a JSON object, found ") + j.type_name());
}

std::string requiredString(const Json& object, const char* key, const std::string& where)
{
    const Json* value = find(object, key);
    if (!value)
        failAt(where, std::string("the field \"") + key + "\" is missing");
    if (!value->is_string())
        failAt(at(where, key), std::string("expected a string, found ") + value->dump());
    return value->get<std::string>();
}

std::optional<std::string> optionalString(const Json& object, const char* key, const std::string& where)
{
    const Json* value = find(object, key);
    if (!value)
        return std::nullopt;
    if (!value->is_string())
        failAt(at(where, key), std::string("expected a string or null, found ") + value->dump());
    return value->get<std::string>();
}

bool boolOr(const Json& object, const char* key, bool fallback, const std::string& where)
{
    const Json* value = find(object, key);
    if (!value)
        return fallback;
    if (!value->is_boolean())
        failAt(at(where, key), std::string("expected true or false, found ") + value->dump());
    return value->get<bool>();
}

long long intOr(const Json& object, const char* key, long long fallback, const std::string& where)
{
    const Json* value = find(object, key);
    if (!value)
        return fallback;
    if (!value->is_number_integer())
        failAt(at(where, key), std::string("expected an integer, found ") + value->dump());
    return value->get<long long>();
}

const Json& requiredArray(const Json& object, const char* key, const std::string& where)
{
    const Json* value = find(object, key);
    if (!value)
        failAt(where, std::string("the field \"") + key + "\" is missing");
    if (!value->is_array())
        failAt(at(where, key), std::string("expected an array, found ") + value->type_name());
    return *value;
}

char32_t requiredChar(const Json& object, const char* key, const std::string& where)
{
    const std::string text = requiredString(object, key, where);
    if (text.empty() || !utf8::isValid(text))
        failAt(at(where, key), "expected one character, found \"" + text + "\"");
    size_t i = 0;
    const char32_t c = utf8::next(text, i);
    if (i != text.size())
        failAt(at(where, key), "expected one character, found \"" + text + "\"");
    return c;
}

std::string typeOf(const Json& object, const std::string& where)
{
    requireObject(object, where);
    return requiredString(object, "type", where);
}

} // namespace ft::tok::jsonf
