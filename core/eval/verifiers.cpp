// The verifiers of verifiers.h: a settings reader that refuses unknown keys, answer
// extraction, number scanning, and one small class per verifier behind a name table.
#include "eval/verifiers.h"

#include "eval/json_schema.h"
#include "tokenizer/unicode_text.h"
#include "util/error.h"
#include "util/text.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <locale>
#include <optional>
#include <sstream>

namespace ft::eval {

namespace {

using nlohmann::json;

// ---- text -------------------------------------------------------------------

std::string validUtf8(std::string_view s) { return tok::utf8::isValid(s) ? std::string(s) : tok::utf8::sanitize(s); }

// Unicode whitespace runs become one space; leading and trailing ones go.
std::string collapseWhitespace(std::string_view text)
{
    const std::string s = validUtf8(text);
    std::string out;
    bool pending = false;
    for (size_t i = 0; i < s.size();) {
        const size_t at = i;
        if (tok::unicode::isWhiteSpace(tok::utf8::next(s, i))) {
            pending = !out.empty();
            continue;
        }
        if (pending)
            out += ' ';
        pending = false;
        out.append(s, at, i - at);
    }
    return out;
}

// A text as a detail quotes it: at most 40 characters, JSON-escaped (one line).
std::string shownText(std::string_view text)
{
    std::string s = validUtf8(text);
    size_t chars = 0, cut = 0;
    while (cut < s.size() && chars < 40)
        chars += ((s[cut++] & 0xC0) != 0x80);
    while (cut < s.size() && (s[cut] & 0xC0) == 0x80)
        ++cut;
    const bool clipped = cut < s.size();
    s.resize(cut);
    return json(s).dump() + (clipped ? "..." : "");
}

std::string formatNumber(double x)
{
    if (std::isfinite(x) && std::floor(x) == x && std::fabs(x) < 1e15)
        return std::to_string(static_cast<long long>(x));
    std::ostringstream out;
    out.imbue(std::locale::classic());
    out.precision(12);
    out << x;
    return out.str();
}

// ---- numbers ----------------------------------------------------------------

struct Number {
    size_t begin = 0, end = 0;  // byte range in the text, as written
    double value = 0;
};

bool isDigit(char c) { return c >= '0' && c <= '9'; }
bool isAlnum(char c) { return isDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Optional sign (not after a letter or digit: "5-3" is two numbers), digits with
// optional thousands commas (1-3 digits, then groups of exactly 3), decimals, exponent.
std::vector<Number> findNumbers(std::string_view t)
{
    std::vector<Number> out;
    const size_t n = t.size();
    const auto digitsFrom = [&](size_t j) {
        while (j < n && isDigit(t[j]))
            ++j;
        return j;
    };
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        if ((t[i] == '-' || t[i] == '+') && (i == 0 || (!isAlnum(t[i - 1]) && t[i - 1] != '.')))
            ++j;
        const bool startsDigit = j < n && isDigit(t[j]);
        const bool startsPoint = j + 1 < n && t[j] == '.' && isDigit(t[j + 1]) && (j == 0 || !isDigit(t[j - 1]));
        if (!startsDigit && !startsPoint) {
            ++i;
            continue;
        }
        size_t end = digitsFrom(j);
        if (startsDigit && end - j <= 3)
            while (end + 3 < n && t[end] == ',' && isDigit(t[end + 1]) && isDigit(t[end + 2]) &&
                   isDigit(t[end + 3]) && (end + 4 == n || !isDigit(t[end + 4])))
                end += 4;
        if (end + 1 < n && t[end] == '.' && isDigit(t[end + 1]))
            end = digitsFrom(end + 1);
        if (end < n && (t[end] == 'e' || t[end] == 'E')) {
            size_t k = end + 1;
            if (k < n && (t[k] == '+' || t[k] == '-'))
                ++k;
            if (k < n && isDigit(t[k]))
                end = digitsFrom(k);
        }
        std::string clean;
        for (size_t k = i; k < end; ++k)
            if (t[k] != ',' && !(k == i && t[k] == '+'))
                clean += t[k];
        Number number{i, end, 0};
        const auto [ptr, ec] = std::from_chars(clean.data(), clean.data() + clean.size(), number.value);
        if (ec == std::errc::result_out_of_range)
            number.value = clean[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        out.push_back(number);
        i = end;
    }
    return out;
}

// ---- settings -----------------------------------------------------------------

// One verifier's settings: refuses unknown keys up front, then typed reads whose
// errors name the verifier, the key, what was expected and what was found.
class Settings {
public:
    // `where` replaces "verifier \"NAME\"" at the start of messages (a composite's parts).
    Settings(std::string verifier, const json& settings, std::vector<std::string> allowed, std::string where = "")
        : m_verifier(std::move(verifier)),
          m_where(where.empty() ? "verifier \"" + m_verifier + "\"" : std::move(where)),
          m_settings(settings.is_null() ? json::object() : settings)
    {
        if (!m_settings.is_object())
            fail(prefix() + "settings must be a JSON object (found " + m_settings.type_name() + ")");
        std::sort(allowed.begin(), allowed.end());
        for (const auto& [key, value] : m_settings.items())
            if (std::find(allowed.begin(), allowed.end(), key) == allowed.end())
                fail(prefix() + "unknown setting \"" + key + "\" (allowed: " +
                     (allowed.empty() ? std::string("none") : util::joinList(allowed)) + ")");
    }

    const std::string& verifier() const { return m_verifier; }
    std::string prefix() const { return m_where + ": "; }
    const json* find(const std::string& key) const
    {
        const auto it = m_settings.find(key);
        return it == m_settings.end() || it->is_null() ? nullptr : &*it;
    }
    [[noreturn]] void bad(const std::string& key, const std::string& expected) const
    {
        fail(prefix() + "setting \"" + key + "\" must be " + expected + " (found " +
             find(key)->dump(-1, ' ', false, json::error_handler_t::replace) + ")");
    }
    bool flag(const std::string& key, bool fallback) const
    {
        const json* v = find(key);
        if (v && !v->is_boolean())
            bad(key, "true or false");
        return v ? v->get<bool>() : fallback;
    }
    double number(const std::string& key, double fallback, double min) const
    {
        const json* v = find(key);
        if (v && (!v->is_number() || !std::isfinite(v->get<double>()) || v->get<double>() < min))
            bad(key, "a number >= " + formatNumber(min));
        return v ? v->get<double>() : fallback;
    }
    std::optional<std::string> text(const std::string& key) const
    {
        const json* v = find(key);
        if (v && (!v->is_string() || v->get_ref<const std::string&>().empty()))
            bad(key, "a non-empty string");
        return v ? std::optional<std::string>(v->get<std::string>()) : std::nullopt;
    }
    std::string choice(const std::string& key, const std::string& fallback,
                       const std::vector<std::string>& choices) const
    {
        const json* v = find(key);
        if (v && (!v->is_string() || std::find(choices.begin(), choices.end(), v->get<std::string>()) == choices.end()))
            bad(key, "one of " + util::joinList(choices));
        return v ? v->get<std::string>() : fallback;
    }

private:
    std::string m_verifier, m_where;
    json m_settings;
};

// ---- extraction -------------------------------------------------------------

const std::vector<std::string> kExtractModes = {"all", "first_line", "answer_tag", "boxed", "last_number", "after"};

struct Extraction {
    std::string mode = "all";
    std::string prefix;  // mode "after"
};

Extraction readExtraction(const Settings& s)
{
    Extraction e;
    e.mode = s.choice("extract", "all", kExtractModes);
    if (const auto after = s.text("after")) {
        if (s.find("extract") && e.mode != "after")
            fail(s.prefix() + "setting \"after\" selects extract mode \"after\", but \"extract\" is \"" + e.mode +
                 "\"");
        e.mode = "after";
        e.prefix = *after;
    } else if (e.mode == "after") {
        fail(s.prefix() + "extract mode \"after\" needs the prefix in setting \"after\", e.g. \"after\": \"Answer:\"");
    }
    return e;
}

// The selected answer, or nullopt with `why` set.
std::optional<std::string> extract(const Extraction& e, const std::string& completion, std::string& why)
{
    if (e.mode == "first_line") {
        for (size_t start = 0; start <= completion.size();) {
            const size_t end = std::min(completion.find('\n', start), completion.size());
            if (std::string line = util::trim(std::string_view(completion).substr(start, end - start)); !line.empty())
                return line;
            start = end + 1;
        }
        why = "empty answer";
        return std::nullopt;
    }
    if (e.mode == "answer_tag") {
        const size_t open = completion.rfind("<answer>");
        const size_t close = open == std::string::npos ? open : completion.find("</answer>", open);
        if (close == std::string::npos) {
            why = "no <answer> tag";
            return std::nullopt;
        }
        return completion.substr(open + 8, close - open - 8);
    }
    if (e.mode == "boxed") {
        // The last \boxed{ whose braces close; nested braces ("\frac{1}{2}") count.
        for (size_t at = completion.rfind("\\boxed{"); at != std::string::npos;
             at = at == 0 ? std::string::npos : completion.rfind("\\boxed{", at - 1)) {
            int depth = 0;
            for (size_t i = at + 6; i < completion.size(); ++i) {
                depth += completion[i] == '{' ? 1 : completion[i] == '}' ? -1 : 0;
                if (depth == 0)
                    return completion.substr(at + 7, i - at - 7);
            }
        }
        why = "no \\boxed{...}";
        return std::nullopt;
    }
    if (e.mode == "last_number") {
        const std::vector<Number> numbers = findNumbers(completion);
        if (numbers.empty()) {
            why = "no number in the answer";
            return std::nullopt;
        }
        return completion.substr(numbers.back().begin, numbers.back().end - numbers.back().begin);
    }
    if (e.mode == "after") {
        const size_t at = completion.rfind(e.prefix);
        if (at == std::string::npos) {
            why = "no " + shownText(e.prefix) + " in the answer";
            return std::nullopt;
        }
        return util::trim(std::string_view(completion).substr(at + e.prefix.size()));
    }
    return completion;
}

VerifyResult failed(std::string detail) { return {0.0, false, std::move(detail)}; }
VerifyResult passed(std::string detail) { return {1.0, true, std::move(detail)}; }

// ---- verifiers --------------------------------------------------------------

class ExactMatch : public Verifier {
public:
    explicit ExactMatch(const Settings& s)
        : m_extract(readExtraction(s)), m_caseSensitive(s.flag("case_sensitive", false)),
          m_stripPunctuation(s.flag("strip_punctuation", true))
    {
    }
    VerifyResult score(const std::string& completion, const std::string& reference) const override
    {
        std::string why;
        const auto answer = extract(m_extract, completion, why);
        if (!answer)
            return failed(why);
        if (normalized(*answer) == normalized(reference))
            return passed("matches " + shownText(util::trim(reference)));
        return failed("expected " + shownText(util::trim(reference)) + ", found " + shownText(util::trim(*answer)));
    }

private:
    std::string normalized(const std::string& text) const
    {
        std::string s = collapseWhitespace(text);
        const auto strippable = [](char c) { return c == '.' || c == '!' || c == '?' || c == ' '; };
        while (m_stripPunctuation && !s.empty() && strippable(s.back()))
            s.pop_back();
        return m_caseSensitive ? s : tok::unicode::lowercase(s);
    }
    Extraction m_extract;
    bool m_caseSensitive, m_stripPunctuation;
};

class Numeric : public Verifier {
public:
    explicit Numeric(const Settings& s)
        : m_extract(readExtraction(s)), m_pickFirst(s.choice("pick", "last", {"last", "first"}) == "first"),
          m_absTol(s.number("abs_tol", 1e-6, 0)), m_relTol(s.number("rel_tol", 0, 0))
    {
    }
    std::string referenceProblem(const std::string& reference) const override
    {
        return findNumbers(reference).empty() ? "verifier \"numeric\": the reference " + shownText(reference) +
                                                    " holds no number"
                                              : "";
    }
    VerifyResult score(const std::string& completion, const std::string& reference) const override
    {
        if (const std::string problem = referenceProblem(reference); !problem.empty())
            fail(problem);
        const double expected = findNumbers(reference).back().value;
        std::string why;
        const auto answer = extract(m_extract, completion, why);
        if (!answer)
            return failed(why);
        const std::vector<Number> numbers = findNumbers(*answer);
        if (numbers.empty())
            return failed("no number in the answer");
        const double found = m_pickFirst ? numbers.front().value : numbers.back().value;
        const double tolerance = std::max(m_absTol, m_relTol * std::max(std::fabs(found), std::fabs(expected)));
        if (std::fabs(found - expected) <= tolerance)
            return passed("found " + formatNumber(found) + " (expected " + formatNumber(expected) + ")");
        return failed("expected " + formatNumber(expected) + ", found " + formatNumber(found));
    }

private:
    Extraction m_extract;
    bool m_pickFirst;
    double m_absTol, m_relTol;
};

class RegexVerifier : public Verifier {
public:
    explicit RegexVerifier(const Settings& s) : m_fullMatch(s.flag("full_match", false))
    {
        if (const auto pattern = s.text("pattern"))
            m_pattern.emplace(*pattern, s.prefix() + "setting \"pattern\"");
    }
    std::string referenceProblem(const std::string& reference) const override
    {
        try {
            compiled(reference);
        } catch (const Error& e) {
            return e.what();
        }
        return {};
    }
    VerifyResult score(const std::string& completion, const std::string& reference) const override
    {
        const Regex regex = compiled(reference);
        const bool ok = m_fullMatch ? regex.fullMatch(util::trim(completion)) : regex.search(completion);
        return ok ? passed("matches " + shownText(regex.pattern()))
                  : failed(std::string(m_fullMatch ? "does not fully match " : "does not match ") +
                           shownText(regex.pattern()));
    }

private:
    Regex compiled(const std::string& reference) const
    {
        return m_pattern ? *m_pattern : Regex(reference, "verifier \"regex\", the reference as pattern");
    }
    std::optional<Regex> m_pattern;
    bool m_fullMatch;
};

// json and json_schema: the answer must parse; optionally conform and/or equal the reference.
class JsonVerifier : public Verifier {
public:
    JsonVerifier(const Settings& s, bool schemaRequired)
        : m_name(s.verifier()), m_extract(readExtraction(s)), m_schemaFromReference(schemaRequired),
          m_equalToReference(!schemaRequired && s.flag("equal_to_reference", false))
    {
        if (!schemaRequired && s.flag("schema_from_reference", false))
            m_schemaFromReference = true;
        if (const json* schema = s.find("schema")) {
            if (!schema->is_object() && !schema->is_boolean())
                s.bad("schema", "a JSON Schema object");
            if (m_schemaFromReference && !schemaRequired)
                fail(s.prefix() + "give either \"schema\" or \"schema_from_reference\", not both");
            try {
                m_schema.emplace(*schema);
            } catch (const Error& e) {
                fail(s.prefix() + "setting \"schema\": " + e.what());
            }
            m_schemaFromReference = false;
        }
    }
    std::string referenceProblem(const std::string& reference) const override
    {
        try {
            referenceSchema(reference);
            if (m_equalToReference)
                referenceValue(reference);
        } catch (const Error& e) {
            return e.what();
        }
        return {};
    }
    VerifyResult score(const std::string& completion, const std::string& reference) const override
    {
        const std::optional<JsonSchema> fromReference = referenceSchema(reference);
        std::string why;
        const auto answer = extract(m_extract, completion, why);
        if (!answer)
            return failed(why);
        json value;
        try {
            value = json::parse(withoutCodeFence(*answer));
        } catch (const json::parse_error& e) {
            return failed("not valid JSON (error at byte " + std::to_string(e.byte) + ")");
        } catch (const json::exception&) {  // e.g. a number too large for a double
            return failed("not usable JSON (a number out of range)");
        }
        if (const JsonSchema* schema = m_schema ? &*m_schema : fromReference ? &*fromReference : nullptr) {
            const std::vector<std::string> problems = schema->violations(value);
            if (!problems.empty()) {
                const size_t n = std::min<size_t>(2, problems.size());
                std::vector<std::string> shown(problems.begin(), problems.begin() + static_cast<std::ptrdiff_t>(n));
                return failed(util::joinList(shown, "; ") +
                              (problems.size() > 2 ? " (+" + std::to_string(problems.size() - 2) + " more)" : ""));
            }
        }
        if (m_equalToReference && value != referenceValue(reference))
            return failed("valid JSON but not equal to the reference " + shownText(reference));
        return passed(std::string("valid JSON") + (m_schema || fromReference ? ", conforms to the schema" : "") +
                      (m_equalToReference ? ", equals the reference" : ""));
    }

private:
    static std::string withoutCodeFence(const std::string& text)
    {
        std::string s = util::trim(text);
        if (s.rfind("```", 0) != 0)
            return s;
        const size_t firstLineEnd = s.find('\n');
        s = firstLineEnd == std::string::npos ? "" : s.substr(firstLineEnd + 1);
        s = util::trim(s);
        if (s.size() >= 3 && s.compare(s.size() - 3, 3, "```") == 0)
            s.resize(s.size() - 3);
        return s;
    }
    json referenceValue(const std::string& reference) const
    {
        try {
            return json::parse(reference);
        } catch (const json::exception& e) {
            fail("verifier \"" + m_name + "\": the reference is not valid JSON (" + e.what() + ")");
        }
    }
    std::optional<JsonSchema> referenceSchema(const std::string& reference) const
    {
        if (!m_schemaFromReference)
            return std::nullopt;
        const json schema = referenceValue(reference);
        try {
            return JsonSchema(schema);
        } catch (const Error& e) {
            fail("verifier \"" + m_name + "\": the reference as schema: " + e.what());
        }
    }
    std::string m_name;
    Extraction m_extract;
    std::optional<JsonSchema> m_schema;
    bool m_schemaFromReference, m_equalToReference;
};

class Format : public Verifier {
public:
    explicit Format(const Settings& s) : m_tag(s.text("tag").value_or(""))
    {
        if (const auto pattern = s.text("pattern"))
            m_pattern.emplace(*pattern, s.prefix() + "setting \"pattern\"");
        if (m_tag.empty() && !m_pattern)
            fail(s.prefix() + "needs setting \"tag\" (e.g. \"answer\") or \"pattern\" (a regular expression)");
        if (m_tag.find_first_of("<> \t\n") != std::string::npos)
            s.bad("tag", "a tag name without <, > or spaces");
    }
    VerifyResult score(const std::string& completion, const std::string&) const override
    {
        if (!m_tag.empty()) {
            const std::string open = "<" + m_tag + ">", close = "</" + m_tag + ">";
            const auto count = [&](const std::string& what) {
                size_t n = 0;
                for (size_t at = completion.find(what); at != std::string::npos; at = completion.find(what, at + 1))
                    ++n;
                return n;
            };
            const size_t opens = count(open), closes = count(close);
            if (opens == 0)
                return failed("no " + open + " tag");
            if (opens > 1 || closes > 1)
                return failed("found " + std::to_string(std::max(opens, closes)) + " " + open + " tags, expected one");
            const size_t begin = completion.find(open) + open.size(), end = completion.find(close);
            if (closes == 0 || end < begin)
                return failed(open + " is not closed by " + close);
            if (util::trim(std::string_view(completion).substr(begin, end - begin)).empty())
                return failed("empty " + open + " tag");
        }
        if (m_pattern && !m_pattern->fullMatch(util::trim(completion)))
            return failed("does not have the required form " + shownText(m_pattern->pattern()));
        return passed("well-formed");
    }

private:
    std::string m_tag;
    std::optional<Regex> m_pattern;
};

class Length : public Verifier {
public:
    explicit Length(const Settings& s)
        : m_max(s.number("max", 0, 0)), m_slack(s.number("slack", 1.0, 0)),
          m_words(s.choice("unit", "chars", {"chars", "words"}) == "words")
    {
        if (!s.find("max"))
            fail(s.prefix() + "setting \"max\" is required (the longest completion that earns the full reward)");
        if (m_max <= 0)
            s.bad("max", "a number > 0");
    }
    VerifyResult score(const std::string& completion, const std::string&) const override
    {
        const std::string text = m_words ? collapseWhitespace(completion) : util::trim(completion);
        const double length = m_words ? (text.empty() ? 0.0 : 1.0 + std::count(text.begin(), text.end(), ' '))
                                      : static_cast<double>(tok::utf8::codePointCount(text));
        const std::string detail = formatNumber(length) + (m_words ? " words" : " characters") + " (max " +
                                   formatNumber(m_max) + ")";
        if (length <= m_max)
            return {1.0, true, detail};
        const double over = (length - m_max) / (m_max * m_slack);
        return {m_slack > 0 ? std::max(0.0, 1.0 - over) : 0.0, false, detail};
    }

private:
    double m_max, m_slack;
    bool m_words;
};

class Composite : public Verifier {
public:
    explicit Composite(const Settings& s)
    {
        const json* parts = s.find("verifiers");
        if (!parts)
            fail(s.prefix() +
                 "setting \"verifiers\" is required: [{\"name\": ..., \"weight\": 1, \"settings\": {...}}, ...]");
        if (!parts->is_array() || parts->empty())
            s.bad("verifiers", "a non-empty list of {\"name\", \"weight\", \"settings\"} objects");
        double total = 0;
        for (size_t i = 0; i < parts->size(); ++i) {
            const std::string where = "part " + std::to_string(i);
            const json& part = (*parts)[i];
            if (!part.is_object())
                s.bad("verifiers", "a list of objects, but " + where + " is not");
            const Settings p("composite", part, {"name", "weight", "settings"}, s.prefix() + where);
            const auto name = p.text("name");
            if (!name)
                fail(p.prefix() + "setting \"name\" is required (one of " + util::joinList(verifierNames()) + ")");
            const double weight = p.number("weight", 1.0, 0);
            const json* settings = p.find("settings");
            try {
                m_parts.push_back({*name, weight, makeVerifier(*name, settings ? *settings : json::object())});
            } catch (const Error& e) {
                fail(p.prefix() + e.what());
            }
            total += weight;
        }
        if (total <= 0)
            fail(s.prefix() + "the weights of \"verifiers\" sum to 0; give at least one a weight > 0");
        m_total = total;
    }
    std::string referenceProblem(const std::string& reference) const override
    {
        for (const Part& p : m_parts)
            if (std::string problem = p.verifier->referenceProblem(reference); !problem.empty())
                return problem;
        return {};
    }
    VerifyResult score(const std::string& completion, const std::string& reference) const override
    {
        VerifyResult out{0.0, true, ""};
        std::vector<std::string> details;
        for (const Part& p : m_parts) {
            const VerifyResult r = p.verifier->score(completion, reference);
            out.reward += p.weight * r.reward / m_total;
            out.passed = out.passed && r.passed;
            details.push_back(p.name + ": " + r.detail);
        }
        out.detail = util::joinList(details, "; ");
        return out;
    }

private:
    struct Part {
        std::string name;
        double weight;
        std::unique_ptr<Verifier> verifier;
    };
    std::vector<Part> m_parts;
    double m_total = 1;
};

// ---- the table --------------------------------------------------------------

struct Entry {
    const char* name;
    std::vector<std::string> keys;
    std::unique_ptr<Verifier> (*make)(const Settings&);
};

const std::vector<Entry>& table()
{
    static const std::vector<Entry> entries = {
        {"exact_match", {"extract", "after", "case_sensitive", "strip_punctuation"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<ExactMatch>(s); }},
        {"numeric", {"extract", "after", "pick", "abs_tol", "rel_tol"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<Numeric>(s); }},
        {"regex", {"pattern", "full_match"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<RegexVerifier>(s); }},
        {"json", {"extract", "after", "schema", "schema_from_reference", "equal_to_reference"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<JsonVerifier>(s, false); }},
        {"json_schema", {"extract", "after", "schema"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<JsonVerifier>(s, true); }},
        {"format", {"tag", "pattern"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<Format>(s); }},
        {"length", {"max", "unit", "slack"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<Length>(s); }},
        {"composite", {"verifiers"},
         [](const Settings& s) -> std::unique_ptr<Verifier> { return std::make_unique<Composite>(s); }},
    };
    return entries;
}

} // namespace

namespace {

// after_reasoning: the verifier sees only what follows the reasoning model's last
// </think>; a completion that opened <think> and never closed it has no answer yet.
class AfterReasoning : public Verifier {
public:
    explicit AfterReasoning(std::unique_ptr<Verifier> inner) : m_inner(std::move(inner)) {}
    VerifyResult score(const std::string& completion, const std::string& reference) const override
    {
        const size_t close = completion.rfind("</think>");
        if (close == std::string::npos) {
            if (completion.find("<think>") != std::string::npos)
                return {0.0, false, "the reasoning never ended (no </think>), so there is no final answer"};
            return m_inner->score(completion, reference);
        }
        return m_inner->score(completion.substr(close + 8), reference);
    }
    std::string referenceProblem(const std::string& reference) const override
    {
        return m_inner->referenceProblem(reference);
    }

private:
    std::unique_ptr<Verifier> m_inner;
};

} // namespace

std::unique_ptr<Verifier> makeVerifier(const std::string& name, const nlohmann::json& settingsIn)
{
    nlohmann::json settings = settingsIn;
    bool afterReasoning = false;
    if (settings.is_object() && settings.contains("after_reasoning")) {
        if (!settings["after_reasoning"].is_boolean())
            fail("verifier " + name + ": setting \"after_reasoning\" must be true or false");
        afterReasoning = settings["after_reasoning"].get<bool>();
        settings.erase("after_reasoning");
    }
    for (const Entry& e : table())
        if (name == e.name) {
            std::unique_ptr<Verifier> v = e.make(Settings(name, settings, e.keys));
            return afterReasoning ? std::make_unique<AfterReasoning>(std::move(v)) : std::move(v);
        }
    fail("unknown verifier \"" + name + "\"; known verifiers: " + util::joinList(verifierNames()));
}

std::vector<std::string> verifierNames()
{
    std::vector<std::string> names;
    for (const Entry& e : table())
        names.push_back(e.name);
    return names;
}

} // namespace ft::eval
