// JSON Schema checks for the json / json_schema verifiers of RLVR (verifiers.h):
// the commonly used subset of draft 2020-12, and the small PCRE2 regular-expression
// class both files use (schema "pattern", the regex and format verifiers).
// Not here: anything about scoring completions, or a full JSON Schema
// implementation: $ref, $defs, patternProperties, prefixItems, if/then/else,
// dependent*, unevaluated*, contains and format are refused with an ft::Error,
// never skipped, so a schema never passes a value it was meant to reject.
//
// Supported keywords:
//   type (a name or a list of names; "integer" accepts any number with a zero
//   fractional part, so 3.0 is an integer, as the spec says), enum, const
//   (numbers compare by value: 1 == 1.0), properties, required,
//   additionalProperties (bool or schema), items (one schema for every item),
//   minItems, maxItems, uniqueItems, minLength, maxLength (Unicode code points),
//   pattern (PCRE2 search, not anchored), minimum, maximum, exclusiveMinimum,
//   exclusiveMaximum (numbers, the 2020-12 form), multipleOf, anyOf, allOf, oneOf,
//   not, and the boolean schemas true and false.
// Annotations that validate nothing are accepted and ignored: $schema, $id,
// $comment, title, description, default, examples, deprecated, readOnly, writeOnly.
#pragma once

#include "util/regex.h"

#include <nlohmann/json.hpp>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ft::eval {

// A pattern of a schema or a verifier (util/regex.h: PCRE2, UTF + UCP, under PCRE2's
// match limits), whose subjects may be cut mid-character.
class Regex {
public:
    // ft::Error naming `where`, the pattern, PCRE2's message and the offset when the
    // pattern does not compile.
    Regex(std::string_view pattern, const std::string& where);

    // Whether the pattern matches somewhere in `subject` / matches all of it.
    // Invalid UTF-8 in `subject` is read as U+FFFD, never an error.
    bool search(std::string_view subject) const;
    bool fullMatch(std::string_view subject) const;

    const std::string& pattern() const { return m_regex.pattern(); }

private:
    static std::string validUtf8(std::string_view subject);
    util::Regex m_regex;
};

// A schema checked once (keywords, their value types, patterns compiled) and then
// used for any number of values.
class JsonSchema {
public:
    // ft::Error when the schema uses a keyword outside the subset above or gives
    // one a value of the wrong kind, e.g. "minLength" : "3"; the message names the
    // keyword and where it is in the schema (#/properties/name/minLength).
    explicit JsonSchema(const nlohmann::json& schema);

    // Empty when `value` conforms; otherwise one "path: problem" entry per problem,
    // paths in JSONPath form: "$.items[2]: expected integer, found string".
    std::vector<std::string> violations(const nlohmann::json& value) const;

    const nlohmann::json& schema() const { return m_schema; }

private:
    void check(const nlohmann::json& schema, const std::string& where);
    void validate(const nlohmann::json& value, const nlohmann::json& schema, const std::string& path,
                  std::vector<std::string>& out) const;
    nlohmann::json m_schema;
    std::map<std::string, Regex> m_patterns;  // by pattern text
};

// The same in one call (the schema is checked on every call).
std::vector<std::string> schemaViolations(const nlohmann::json& value, const nlohmann::json& schema);

// The supported validation keywords, in the order listed above (for messages and docs).
const std::vector<std::string>& supportedSchemaKeywords();

} // namespace ft::eval
