// The RLVR verifiers and the JSON Schema subset: every verifier and extraction mode
// with passing and failing completions (rewards and details), number formats and
// tolerance edges, Unicode in regex and string lengths, each schema keyword with
// its JSONPath message, composite weighting, and each error message a user can meet.
// A few strings are escaped instead of raw: moc (Qt 6.4) reads raw strings as plain
// ones and loses the class when a quote inside one is followed by # ( or [.
#include "eval/json_schema.h"
#include "eval/verifiers.h"
#include "test_support.h"

#include "test_main.h"

#include <QtTest>

#include <cmath>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_verifiers {

using namespace ft::eval;
using nlohmann::json;

namespace {

json parsed(const QString& text) { return json::parse(text.toStdString()); }

QString joinedViolations(const std::vector<std::string>& v)
{
    QStringList out;
    for (const std::string& s : v)
        out << QString::fromStdString(s);
    return out.join(" | ");
}

} // namespace

class TestVerifiers : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void scores_data()
    {
        QTest::addColumn<QString>("verifier");
        QTest::addColumn<QString>("settings");
        QTest::addColumn<QString>("completion");
        QTest::addColumn<QString>("reference");
        QTest::addColumn<double>("reward");
        QTest::addColumn<bool>("passed");
        QTest::addColumn<QString>("detail");  // a substring of the detail; "" = not checked
        const auto row = [](const char* name, const char* v, const char* s, const QString& c, const QString& r,
                            double reward, bool passed, const QString& detail = {}) {
            QTest::newRow(name) << v << s << c << r << reward << passed << detail;
        };
        // exact_match: normalization
        row("exact plain", "exact_match", "{}", "Paris", "Paris", 1, true, "matches \"Paris\"");
        row("exact case folded", "exact_match", "{}", "PARIS", "paris", 1, true);
        row("exact case sensitive", "exact_match", R"({"case_sensitive": true})", "PARIS", "Paris", 0, false,
            "expected \"Paris\", found \"PARIS\"");
        row("exact unicode case", "exact_match", "{}", "ÉCOLE", "école", 1, true);
        row("exact whitespace", "exact_match", "{}", "  The  capital\n of France\tis Paris. ",
            "The capital of France is Paris.", 1, true);
        row("exact punctuation stripped", "exact_match", "{}", "Paris!", "Paris.", 1, true);
        row("exact punctuation kept", "exact_match", R"({"strip_punctuation": false})", "Paris", "Paris.", 0, false);
        row("exact wrong", "exact_match", "{}", "Rome.", "Paris.", 0, false, "expected \"Paris.\", found \"Rome.\"");
        row("exact empty", "exact_match", "{}", "", "9", 0, false);
        // extraction modes
        row("first_line", "exact_match", R"({"extract": "first_line"})", "\n 9\n### Instruction:", "9", 1, true);
        row("first_line other", "exact_match", R"({"extract": "first_line"})", "9 apples\n9", "9", 0, false);
        row("answer_tag last", "exact_match", R"({"extract": "answer_tag"})",
            "<answer>3</answer> no, <answer> 12 </answer>", "12", 1, true);
        row("answer_tag none", "exact_match", R"({"extract": "answer_tag"})", "12", "12", 0, false, "no <answer> tag");
        row("boxed nested", "exact_match", R"({"extract": "boxed"})", R"(so \boxed{\frac{1}{2}}.)", R"(\frac{1}{2})", 1,
            true);
        row("boxed last", "exact_match", R"({"extract": "boxed"})", R"(\boxed{1} then \boxed{2})", "2", 1, true);
        row("boxed unbalanced", "exact_match", R"({"extract": "boxed"})", R"(\boxed{12)", "12", 0, false,
            R"(no \boxed{...})");
        row("last_number", "exact_match", R"({"extract": "last_number"})", "It is 3, no 4.", "4", 1, true);
        row("last_number none", "exact_match", R"({"extract": "last_number"})", "four", "4", 0, false,
            "no number in the answer");
        row("after", "exact_match", R"({"after": "Answer:"})", "Answer: 2\nAnswer: 4", "4", 1, true);
        row("after explicit", "exact_match", R"({"extract": "after", "after": "####"})", "so 70+2 #### 72", "72", 1, true);
        row("after missing", "exact_match", R"({"after": "Answer:"})", "4", "4", 0, false,
            "no \"Answer:\" in the answer");
        // numeric: number formats
        row("numeric last", "numeric", "{}", "3 + 4 = 7", "7", 1, true, "found 7 (expected 7)");
        row("numeric first", "numeric", R"({"pick": "first"})", "7 it is, not 8", "7", 1, true);
        row("numeric last wrong", "numeric", "{}", "7 it is, not 8", "7", 0, false, "expected 7, found 8");
        row("numeric commas", "numeric", "{}", "The total is 1,234,567.", "1234567", 1, true);
        row("numeric commas in reference", "numeric", "{}", "1234", "1,234", 1, true);
        row("numeric bad grouping", "numeric", "{}", "1,23", "123", 0, false, "expected 123, found 23");
        row("numeric negative", "numeric", "{}", "It is -3.5 degrees.", "-3.5", 1, true);
        row("numeric minus operator", "numeric", "{}", "10-3", "3", 1, true);
        row("numeric exponent", "numeric", "{}", "1e3", "1000", 1, true);
        row("numeric exponent signed", "numeric", "{}", "2.5E-2", "0.025", 1, true);
        row("numeric leading point", "numeric", "{}", "about .5", "0.5", 1, true);
        row("numeric percent", "numeric", "{}", "50%", "50", 1, true);
        row("numeric first_line", "numeric", R"({"extract": "first_line"})", "9\n10 11", "9", 1, true);
        row("numeric none", "numeric", "{}", "I don't know.", "5", 0, false, "no number in the answer");
        // numeric: tolerances, |a - r| <= max(abs_tol, rel_tol * max(|a|, |r|))
        row("abs_tol default inside", "numeric", "{}", "0.1000001", "0.1", 1, true);
        row("abs_tol default outside", "numeric", "{}", "0.10001", "0.1", 0, false);
        row("abs_tol edge", "numeric", R"({"abs_tol": 0.5})", "100.5", "100", 1, true);
        row("abs_tol past edge", "numeric", R"({"abs_tol": 0.5})", "100.51", "100", 0, false);
        row("rel_tol inside", "numeric", R"({"rel_tol": 0.01})", "202", "200", 1, true);
        row("rel_tol outside", "numeric", R"({"rel_tol": 0.01})", "203", "200", 0, false);
        // regex
        row("regex search", "regex", R"({"pattern": "\\d+ apples"})", "I have 12 apples.", "-", 1, true);
        row("regex full fails", "regex", R"({"pattern": "\\d+", "full_match": true})", "12 apples", "-", 0, false,
            "does not fully match");
        row("regex full trimmed", "regex", R"({"pattern": "\\d+", "full_match": true})", " 12\n", "-", 1, true);
        row("regex unicode letters", "regex", R"({"pattern": "\\p{L}+", "full_match": true})", "Ærøskøbing", "-", 1,
            true);
        row("regex unicode non-letter", "regex", R"({"pattern": "\\p{L}+", "full_match": true})", "Ærø1", "-", 0, false);
        row("regex from reference", "regex", "{}", "The capital is Paris.", "Paris|Lyon", 1, true);
        row("regex inline flag", "regex", "{}", "PARIS", "(?i)paris", 1, true);
        // json
        row("json valid", "json", "{}", R"({"a": 1})", "-", 1, true, "valid JSON");
        row("json code fence", "json", "{}", "```json\n{\"a\": 1}\n```", "-", 1, true);
        row("json invalid", "json", "{}", "{a: 1}", "-", 0, false, "not valid JSON");
        row("json number overflow", "json", "{}", "[1e999]", "-", 0, false, "out of range");
        row("json schema ok", "json", R"({"schema": {"type": "object", "required": ["answer"]}})", R"({"answer": 3})",
            "-", 1, true, "conforms");
        row("json schema fails", "json", R"({"schema": {"type": "object", "required": ["answer"]}})", R"({"x": 3})",
            "-", 0, false, "$: missing required property \"answer\"");
        row("json schema_from_reference", "json", R"({"schema_from_reference": true})", R"({"legs": "four"})",
            R"({"type": "object", "properties": {"legs": {"type": "integer"}}})", 0, false,
            "$.legs: expected integer, found string");
        row("json equal", "json", R"({"equal_to_reference": true})", R"({"capital": "Paris", "country": "France"})",
            R"({"country": "France", "capital": "Paris"})", 1, true);
        row("json not equal", "json", R"({"equal_to_reference": true})", R"({"capital": "Rome"})",
            R"({"capital": "Paris"})", 0, false, "not equal to the reference");
        row("json answer_tag", "json", R"({"extract": "answer_tag"})", "<answer>[1, 2]</answer>", "-", 1, true);
        // json_schema
        row("json_schema reference", "json_schema", "{}", "[1, 2, 3]", R"({"type": "array", "items": {"type": "integer"}})",
            1, true);
        row("json_schema reference fails", "json_schema", "{}", R"([1, "x", 2.5])",
            R"({"type": "array", "items": {"type": "integer"}})", 0, false,
            "$[1]: expected integer, found string; $[2]: expected integer, found number");
        row("json_schema setting", "json_schema", R"({"schema": {"type": "string", "maxLength": 3}})", R"("abcd")",
            "ignored", 0, false, "$: expected at most 3 characters, found 4");
        // format
        row("format tag", "format", R"({"tag": "answer"})", "think <answer>4</answer>", "-", 1, true, "well-formed");
        row("format tag missing", "format", R"({"tag": "answer"})", "4", "-", 0, false, "no <answer> tag");
        row("format tag twice", "format", R"({"tag": "answer"})", "<answer>4</answer><answer>5</answer>", "-", 0, false,
            "found 2 <answer> tags");
        row("format tag empty", "format", R"({"tag": "answer"})", "<answer> </answer>", "-", 0, false, "empty <answer>");
        row("format tag unclosed", "format", R"({"tag": "answer"})", "<answer>4", "-", 0, false, "not closed");
        row("format pattern", "format", R"({"pattern": "\\d+"})", " 42\n", "-", 1, true);
        row("format pattern fails", "format", R"({"pattern": "\\d+"})", "42.", "-", 0, false, "required form");
        row("format both", "format", R"({"tag": "answer", "pattern": "<answer>\\d+</answer>"})", "<answer>7</answer>",
            "-", 1, true);
        // length: 1 within max, linear to 0 at max * (1 + slack)
        row("length within", "length", R"({"max": 10})", "short", "-", 1, true, "5 characters (max 10)");
        row("length over", "length", R"({"max": 10})", "fifteen chars!!", "-", 0.5, false, "15 characters (max 10)");
        row("length past slack", "length", R"({"max": 10})", QString(25, 'x'), "-", 0, false);
        row("length slack", "length", R"({"max": 10, "slack": 0.5})", QString(12, 'x'), "-", 0.6, false);
        row("length code points", "length", R"({"max": 3})", "äöü\n", "-", 1, true, "3 characters");
        row("length words", "length", R"({"max": 3, "unit": "words"})", "one two  three\nfour", "-", 2.0 / 3, false,
            "4 words (max 3)");
        // composite: sum(w r) / sum(w); passed when every part passed
        const char* weighted = R"({"verifiers": [{"name": "numeric", "weight": 3},
                                  {"name": "format", "weight": 1, "settings": {"tag": "answer"}}]})";
        row("composite all", "composite", weighted, "<answer>12</answer>", "12", 1, true);
        row("composite format missing", "composite", weighted, "12", "12", 0.75, false,
            "numeric: found 12 (expected 12); format: no <answer> tag");
        row("composite wrong number", "composite", weighted, "<answer>13</answer>", "12", 0.25, false);
        row("composite nested", "composite",
            R"({"verifiers": [{"name": "composite", "settings": {"verifiers": [
                {"name": "length", "settings": {"max": 4}}, {"name": "exact_match"}]}},
                {"name": "regex", "settings": {"pattern": "^\\d"}}]})",
            "123456", "123456", 0.875, false, "composite: length: 6 characters (max 4); exact_match: matches");
    }

    void scores()
    {
        QFETCH(QString, verifier);
        QFETCH(QString, settings);
        QFETCH(QString, completion);
        QFETCH(QString, reference);
        QFETCH(double, reward);
        QFETCH(bool, passed);
        QFETCH(QString, detail);
        const auto v = makeVerifier(verifier.toStdString(), parsed(settings));
        const VerifyResult r = v->score(completion.toStdString(), reference.toStdString());
        const QString got = QString::fromStdString(r.detail);
        QVERIFY2(std::abs(r.reward - reward) < 1e-9,
                 qPrintable(QString("reward %1, expected %2 (%3)").arg(r.reward).arg(reward).arg(got)));
        QVERIFY2(r.passed == passed, qPrintable(got));
        QVERIFY2(got.contains(detail), qPrintable("detail: " + got));
    }

    void schemaKeywords_data()
    {
        QTest::addColumn<QString>("schema");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("violations");  // joined with " | "; "" = conforms
        const auto row = [](const char* name, const char* schema, const char* value, const char* expected = "") {
            QTest::newRow(name) << schema << value << expected;
        };
        row("type ok", R"({"type": "string"})", R"("x")");
        row("type", R"({"type": "string"})", "3", "$: expected string, found integer");
        row("type list ok", R"({"type": ["string", "null"]})", "null");
        row("type list", R"({"type": ["string", "null"]})", "1.5", "$: expected string or null, found number");
        row("integer 3.0", R"({"type": "integer"})", "3.0");
        row("integer 3.5", R"({"type": "integer"})", "3.5", "$: expected integer, found number");
        row("number accepts integer", R"({"type": "number"})", "3");
        row("enum ok", R"({"enum": ["a", 1]})", "1.0");
        row("enum", R"({"enum": ["a", "b"]})", R"("c")", R"($: must be one of ["a","b"], found "c")");
        row("const", R"({"const": 1})", "2", "$: must be 1, found 2");
        row("nested properties", R"({"properties": {"a": {"properties": {"b": {"type": "integer"}}}}})",
            R"({"a": {"b": "x"}})", "$.a.b: expected integer, found string");
        row("items path", R"({"properties": {"items": {"items": {"type": "integer"}}}})", R"({"items": [1, 2, "3"]})",
            "$.items[2]: expected integer, found string");
        row("odd key path", R"({"properties": {"a b": {"type": "string"}}})", R"({"a b": 1})",
            "$['a b']: expected string, found integer");
        row("required", R"({"type": "object", "required": ["a", "b"]})", R"({"b": 1})",
            R"($: missing required property "a")");
        row("required two", R"({"required": ["a", "b"]})", "{}",
            R"($: missing required property "a" | $: missing required property "b")");
        row("required ignores non-objects", R"({"required": ["a"]})", "[]");
        row("additionalProperties false", R"({"properties": {"a": {}}, "additionalProperties": false})",
            R"({"a": 1, "b": 2})", "$.b: property not allowed (additionalProperties is false)");
        row("additionalProperties schema", R"({"additionalProperties": {"type": "integer"}})", R"({"x": 1, "y": "z"})",
            "$.y: expected integer, found string");
        row("false schema", R"({"properties": {"x": false}})", R"({"x": 1})",
            "$.x: no value is allowed here (the schema is false)");
        row("minItems", R"({"minItems": 2})", "[1]", "$: expected at least 2 items, found 1");
        row("maxItems", R"({"maxItems": 1})", "[1, 2]", "$: expected at most 1 items, found 2");
        row("uniqueItems", R"({"uniqueItems": true})", "[1, 2, 1.0]", "$: items 0 and 2 are equal, expected unique items");
        row("uniqueItems ok", R"({"uniqueItems": true})", R"([1, "1", [1]])");
        row("maxLength code points", R"({"maxLength": 3})", R"("äöü")");
        row("maxLength", R"({"maxLength": 3})", R"("äöüß")", "$: expected at most 3 characters, found 4");
        row("minLength", R"({"minLength": 2})", R"("é")", "$: expected at least 2 characters, found 1");
        row("pattern", R"({"pattern": "^[A-Z]{2}\\d+$"})", R"("ab12")", R"($: does not match the pattern "^[A-Z]{2}\\d+$")");
        row("pattern search unicode", R"({"pattern": "\\p{Lu}"})", R"("élan Été")");
        row("minimum", R"({"minimum": 0})", "-1", "$: must be >= 0, found -1");
        row("minimum edge", R"({"minimum": 0})", "0");
        row("maximum", R"({"maximum": 5})", "5.5", "$: must be <= 5, found 5.5");
        row("exclusiveMinimum", R"({"exclusiveMinimum": 0})", "0", "$: must be > 0, found 0");
        row("exclusiveMaximum", R"({"exclusiveMaximum": 10})", "10", "$: must be < 10, found 10");
        row("multipleOf", R"({"multipleOf": 5})", "7", "$: must be a multiple of 5, found 7");
        row("multipleOf float", R"({"multipleOf": 0.1})", "0.3");
        row("multipleOf past 2^53", R"({"multipleOf": 2})", "9007199254740993",
            "$: must be a multiple of 2, found 9007199254740993");
        row("anyOf", R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})", "1.5",
            "$: matches none of the anyOf schemas (#0: $: expected string, found number; "
            "#1: $: expected integer, found number)");
        row("anyOf ok", R"({"anyOf": [{"type": "string"}, {"type": "integer"}]})", "2");
        row("allOf", R"({"allOf": [{"minimum": 0}, {"maximum": 5}]})", "7", "$: must be <= 5, found 7");
        row("oneOf two", R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})", "3",
            "$: matches oneOf schemas #0 and #1, expected exactly one");
        row("oneOf one", R"({"oneOf": [{"type": "integer"}, {"minimum": 0}]})", "-2");
        row("not", R"({"not": {"type": "null"}})", "null", R"($: must not match the schema under "not")");
        row("annotations", "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"t\", \"type\": \"object\"}", "{}");
    }

    void schemaKeywords()
    {
        QFETCH(QString, schema);
        QFETCH(QString, value);
        QFETCH(QString, violations);
        QCOMPARE(joinedViolations(schemaViolations(parsed(value), parsed(schema))), violations);
    }

    void schemaErrors_data()
    {
        QTest::addColumn<QString>("schema");
        QTest::addColumn<QString>("error");
        QTest::newRow("$ref") << "{\"$ref\": \"#/$defs/x\"}"
                              << R"(JSON schema keyword "$ref" (at #/$ref) is not supported; supported keywords: type, enum)";
        QTest::newRow("format nested") << R"({"properties": {"a": {"format": "email"}}})"
                                       << R"("format" (at #/properties/a/format) is not supported)";
        QTest::newRow("minLength string") << R"({"minLength": "3"})"
                                          << R"(at #/minLength: "minLength" must be a non-negative integer (found "3"))";
        QTest::newRow("type name") << R"({"type": "str"})" << "must be one of null, boolean, object";
        QTest::newRow("items tuple") << R"({"items": [{}]})" << "tuple form";
        QTest::newRow("draft 4 exclusive") << R"({"exclusiveMinimum": true})" << "draft 4";
        QTest::newRow("bad pattern") << "{\"anyOf\": [{\"pattern\": \"(a\"}]}"
                                     << "JSON schema at #/anyOf/0/pattern: the regular expression \"(a\" does not compile";
        QTest::newRow("not a schema") << "[1]" << "a schema must be an object or true/false";
    }

    void schemaErrors()
    {
        QFETCH(QString, schema);
        QFETCH(QString, error);
        const QString got = fttest::errorOf([&] { JsonSchema s(parsed(schema)); });
        QVERIFY2(got.contains(error), qPrintable(got));
    }

    void settingErrors_data()
    {
        QTest::addColumn<QString>("verifier");
        QTest::addColumn<QString>("settings");
        QTest::addColumn<QString>("error");
        const auto row = [](const char* name, const char* v, const char* s, const char* e) {
            QTest::newRow(name) << v << s << e;
        };
        row("unknown verifier", "exact", "{}",
            R"(unknown verifier "exact"; known verifiers: exact_match, numeric, regex, json, json_schema, format, length, composite)");
        row("unknown key", "numeric", R"({"abs_tl": 1})",
            R"(verifier "numeric": unknown setting "abs_tl" (allowed: abs_tol, after, extract, pick, rel_tol))");
        row("wrong type", "numeric", R"({"abs_tol": "x"})", R"(verifier "numeric": setting "abs_tol" must be a number >= 0 (found "x"))");
        row("negative tolerance", "numeric", R"({"rel_tol": -1})", R"(setting "rel_tol" must be a number >= 0 (found -1))");
        row("bad extract", "exact_match", R"({"extract": "last"})",
            R"(setting "extract" must be one of all, first_line, answer_tag, boxed, last_number, after (found "last"))");
        row("after without prefix", "exact_match", R"({"extract": "after"})", R"(needs the prefix in setting "after")");
        row("after conflicts", "numeric", R"({"extract": "boxed", "after": "A:"})", R"(but "extract" is "boxed")");
        row("settings not object", "exact_match", "[]", R"(verifier "exact_match": settings must be a JSON object (found array))");
        row("bad regex", "regex", "{\"pattern\": \"(ab\"}",
            "verifier \"regex\": setting \"pattern\": the regular expression \"(ab\" does not compile (PCRE2: missing closing parenthesis, at offset 3)");
        row("format needs a rule", "format", "{}", R"(verifier "format": needs setting "tag")");
        row("length needs max", "length", R"({"unit": "words"})", R"(verifier "length": setting "max" is required)");
        row("length bad unit", "length", R"({"max": 3, "unit": "tokens"})", "must be one of chars, words");
        row("json_schema unsupported", "json_schema", "{\"schema\": {\"$ref\": \"#\"}}",
            R"(verifier "json_schema": setting "schema": JSON schema keyword "$ref")");
        row("json two schemas", "json", R"({"schema": {}, "schema_from_reference": true})", "not both");
        row("composite missing", "composite", "{}", R"(verifier "composite": setting "verifiers" is required)");
        row("composite unknown part", "composite", R"({"verifiers": [{"name": "nope"}]})",
            R"(verifier "composite": part 0: unknown verifier "nope")");
        row("composite part key", "composite", R"({"verifiers": [{"name": "numeric", "wieght": 2}]})",
            R"(verifier "composite": part 0: unknown setting "wieght" (allowed: name, settings, weight))");
        row("composite part settings", "composite", R"({"verifiers": [{"name": "numeric"}, {"name": "length"}]})",
            R"(verifier "composite": part 1: verifier "length": setting "max" is required)");
        row("composite zero weights", "composite", R"({"verifiers": [{"name": "numeric", "weight": 0}]})", "sum to 0");
    }

    void settingErrors()
    {
        QFETCH(QString, verifier);
        QFETCH(QString, settings);
        QFETCH(QString, error);
        const QString got = fttest::errorOf([&] { makeVerifier(verifier.toStdString(), parsed(settings)); });
        QVERIFY2(got.contains(error), qPrintable(got));
    }

    // A row's bad reference is an ft::Error at scoring time, and referenceProblem finds it first.
    void referenceProblems()
    {
        const auto numeric = makeVerifier("numeric", json::object());
        QCOMPARE(QString::fromStdString(numeric->referenceProblem("1,234")), QString());
        QCOMPARE(QString::fromStdString(numeric->referenceProblem("abc")),
                 QString(R"(verifier "numeric": the reference "abc" holds no number)"));
        QVERIFY(fttest::errorOf([&] { numeric->score("5", "abc"); }).contains("holds no number"));

        const auto regex = makeVerifier("regex", json::object());
        QVERIFY(QString::fromStdString(regex->referenceProblem("[a")).contains("does not compile"));
        QVERIFY(fttest::errorOf([&] { regex->score("a", "[a"); }).contains("the reference as pattern"));

        const auto schema = makeVerifier("json_schema", json::object());
        QVERIFY(QString::fromStdString(schema->referenceProblem("{oops")).contains("the reference is not valid JSON"));
        QVERIFY(fttest::errorOf([&] { schema->score("1", R"({"format": "date"})"); })
                    .contains(R"(the reference as schema: JSON schema keyword "format")"));
        QCOMPARE(QString::fromStdString(schema->referenceProblem(R"({"type": "integer"})")), QString());
    }

    // Every registered name builds with its minimal settings and scores without throwing.
    void everyVerifierBuilds()
    {
        const std::vector<std::string> expected = {"exact_match", "numeric", "regex",  "json",
                                                   "json_schema", "format",  "length", "composite"};
        QCOMPARE(verifierNames(), expected);
        const json minimal = {{"format", {{"tag", "answer"}}},
                              {"length", {{"max", 5}}},
                              {"composite", {{"verifiers", json::array({{{"name", "exact_match"}}})}}}};
        for (const std::string& name : verifierNames()) {
            const auto v = makeVerifier(name, minimal.value(name, json::object()));
            const VerifyResult r = v->score("<answer>1</answer>", name == "json_schema" ? "{}" : "1");
            QVERIFY2(r.reward >= 0 && r.reward <= 1 && !r.detail.empty(), name.c_str());
        }
    }

    // Invalid UTF-8 (a completion cut mid-character) is scored, never an error.
    void invalidUtf8Completion()
    {
        const std::string cut = "Ær\xC3";
        QVERIFY(makeVerifier("regex", {{"pattern", "\\p{L}"}})->score(cut, "").passed);
        QVERIFY(!makeVerifier("exact_match", json::object())->score(cut, "Ær").passed);
        QCOMPARE(makeVerifier("length", {{"max", 3}})->score(cut, "").detail, std::string("3 characters (max 3)"));
    }
};

FT_TEST_MAIN(TestVerifiers)

} // namespace test_verifiers

#include "test_verifiers.moc"
