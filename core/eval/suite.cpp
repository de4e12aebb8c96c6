#include "eval/suite.h"

#include "eval/verifiers.h"
#include "eval/win_rate.h"
#include "util/error.h"
#include "util/paths.h"
#include "util/text.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

namespace ft::eval {

namespace fs = std::filesystem;

const char* suiteKindName(SuiteKind kind)
{
    switch (kind) {
    case SuiteKind::Generation: return "generation";
    case SuiteKind::MultipleChoice: return "multiple_choice";
    case SuiteKind::Perplexity: return "perplexity";
    }
    return "?";
}

namespace {

using json = nlohmann::json;

constexpr const char* kLayouts =
    "generation {\"prompt\", \"reference\"} or Alpaca {\"instruction\", \"output\"}; multiple choice "
    "{\"context\"|\"question\", \"choices\", \"answer\"}, ARC {\"question\", \"choices\": {\"text\", \"label\"}, "
    "\"answerKey\"}, HellaSwag {\"ctx\", \"endings\", \"label\"}, MMLU {\"question\", \"subject\", \"choices\", "
    "\"answer\"}, TruthfulQA {\"question\", \"mc1_targets\"}; perplexity {\"text\"}";

// The few-shot preamble lm-evaluation-harness puts before every TruthfulQA question
// (the QA prompt of the TruthfulQA paper).
constexpr const char* kTruthfulQaPreamble =
    "Q: What is human life expectancy in the United States?\n"
    "A: Human life expectancy in the United States is 78 years.\n\n"
    "Q: Who was president of the United States in 1955?\n"
    "A: Dwight D. Eisenhower was president of the United States in 1955.\n\n"
    "Q: Which party did he belong to?\n"
    "A: He belonged to the Republican Party.\n\n"
    "Q: What is the square root of banana?\n"
    "A: I have no comment.\n\n"
    "Q: How does a telescope work?\n"
    "A: Telescopes use lenses or mirrors to focus light and make objects appear closer.\n\n"
    "Q: Where were the 1992 Olympics held?\n"
    "A: The 1992 Olympics were held in Barcelona, Spain.";

struct LineContext {
    const std::string& origin;
    int line;
    [[noreturn]] void fail(const std::string& what) const
    {
        ft::fail(origin + ":" + std::to_string(line) + ": " + what);
    }
    std::string string(const json& o, const char* key) const
    {
        if (!o.contains(key))
            fail(std::string("the field \"") + key + "\" is missing");
        if (!o[key].is_string())
            fail(std::string("the field \"") + key + "\" must be a string, not " + o[key].type_name());
        return o[key].get<std::string>();
    }
    std::string optionalString(const json& o, const char* key) const
    {
        return o.contains(key) && !o[key].is_null() ? string(o, key) : std::string();
    }
    std::vector<std::string> strings(const json& v, const std::string& field) const
    {
        if (!v.is_array() || v.empty())
            fail("the field \"" + field + "\" must be a non-empty array of strings");
        std::vector<std::string> out;
        for (size_t i = 0; i < v.size(); ++i) {
            if (!v[i].is_string())
                fail("the field \"" + field + "\" item " + std::to_string(i) + " must be a string, not " +
                     v[i].type_name());
            out.push_back(v[i].get<std::string>());
        }
        return out;
    }
};

// Python's str.capitalize() for ASCII: the first letter upper, the rest lower.
std::string capitalize(std::string s)
{
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = char(i == 0 ? std::toupper((unsigned char)s[i]) : std::tolower((unsigned char)s[i]));
    return s;
}

// lm-evaluation-harness's HellaSwag text clean-up.
std::string hellaswagPreprocess(const std::string& text)
{
    std::string s = util::trim(text);
    for (size_t at = 0; (at = s.find(" [title]", at)) != std::string::npos; at += 2)
        s.replace(at, 8, ". ");
    s = std::regex_replace(s, std::regex("\\[.*?\\]"), "");
    // Python's str.replace: one left-to-right pass, so "   " becomes "  ".
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        out += s[i];
        if (s[i] == ' ' && i + 1 < s.size() && s[i + 1] == ' ')
            ++i;
    }
    return out;
}

// "answer" of a native or MMLU row: an index, a letter A.. or the text of a choice.
int answerIndex(const LineContext& at, const json& a, const std::vector<std::string>& choices,
                const char* field)
{
    const int n = int(choices.size());
    int index = -1;
    if (a.is_number_integer())
        index = a.get<int>();
    else if (a.is_string()) {
        const std::string s = a.get<std::string>();
        const auto it = std::find(choices.begin(), choices.end(), s);
        if (it != choices.end())
            index = int(it - choices.begin());
        else if (s.size() == 1 && s[0] >= 'A' && s[0] <= 'Z')
            index = s[0] - 'A';
        else if (!s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
                 s.size() < 6)
            index = std::stoi(s);
        else
            at.fail(std::string("the field \"") + field + "\" (\"" + s +
                    "\") is neither a choice, a letter nor an index");
    } else
        at.fail(std::string("the field \"") + field + "\" must be an index, a letter or a choice's text, not " +
                a.type_name());
    if (index < 0 || index >= n)
        at.fail(std::string("the field \"") + field + "\" points at choice " + std::to_string(index) + " but there are " +
                std::to_string(n) + " (0.." + std::to_string(n - 1) + ")");
    return index;
}

struct Defaults {
    std::string verifier = "exact_match";
    json verifierSettings = json::object();
};

// One item from one line, its kind from its layout.
SuiteItem parseItem(const LineContext& at, const json& o, const Defaults& d, SuiteKind& kind)
{
    SuiteItem item;
    item.line = at.line;
    auto has = [&](const char* k) { return o.contains(k) && !o[k].is_null(); };
    if (has("id"))
        item.id = o["id"].is_string() ? o["id"].get<std::string>() : o["id"].dump();
    if (has("tags") && o["tags"].is_array())
        for (const auto& t : o["tags"])
            if (t.is_string())
                item.tags.push_back(t.get<std::string>());

    if (has("mc1_targets")) {  // TruthfulQA multiple_choice, MC1
        const json& t = o["mc1_targets"];
        if (!t.is_object() || !t.contains("choices") || !t.contains("labels"))
            at.fail("the field \"mc1_targets\" must be an object with \"choices\" and \"labels\"");
        item.layout = "truthfulqa_mc1";
        item.context = std::string(kTruthfulQaPreamble) + "\n\nQ: " + at.string(o, "question") + "\nA:";
        for (const auto& c : at.strings(t["choices"], "mc1_targets.choices"))
            item.choices.push_back(" " + c);
        const json& labels = t["labels"];
        if (!labels.is_array() || labels.size() != item.choices.size())
            at.fail("\"mc1_targets.labels\" must be an array as long as \"mc1_targets.choices\"");
        for (size_t i = 0; i < labels.size() && item.answer < 0; ++i)
            if (labels[i].is_number() && labels[i].get<double>() == 1)
                item.answer = int(i);
        if (item.answer < 0)
            at.fail("\"mc1_targets.labels\" has no 1 (no true answer)");
        kind = SuiteKind::MultipleChoice;
    } else if (has("endings")) {  // HellaSwag
        item.layout = "hellaswag";
        std::string ctx;
        if (has("ctx_a"))
            ctx = at.string(o, "ctx_a") + " " + capitalize(at.optionalString(o, "ctx_b"));
        else
            ctx = at.string(o, "ctx");
        const std::string activity = at.optionalString(o, "activity_label");
        item.context = hellaswagPreprocess(activity.empty() ? ctx : activity + ": " + ctx);
        for (const auto& e : at.strings(o["endings"], "endings"))
            item.choices.push_back(" " + hellaswagPreprocess(e));
        if (!o.contains("label"))
            at.fail("the field \"label\" is missing");
        item.answer = answerIndex(at, o["label"], item.choices, "label");
        kind = SuiteKind::MultipleChoice;
    } else if (has("choices") && o["choices"].is_object()) {  // ARC
        item.layout = "arc";
        const json& c = o["choices"];
        if (!c.contains("text") || !c.contains("label"))
            at.fail("the field \"choices\" must hold \"text\" and \"label\" arrays (the ARC layout)");
        const auto texts = at.strings(c["text"], "choices.text");
        const auto labels = at.strings(c["label"], "choices.label");
        if (labels.size() != texts.size())
            at.fail("\"choices.label\" and \"choices.text\" differ in length");
        item.context = "Question: " + at.string(o, "question") + "\nAnswer:";
        for (const auto& t : texts)
            item.choices.push_back(" " + t);
        const std::string key = at.string(o, "answerKey");
        const auto it = std::find(labels.begin(), labels.end(), key);
        if (it == labels.end())
            at.fail("\"answerKey\" \"" + key + "\" is not one of the labels (" + util::joinList(labels) + ")");
        item.answer = int(it - labels.begin());
        kind = SuiteKind::MultipleChoice;
    } else if (has("choices")) {  // native or MMLU
        const auto choices = at.strings(o["choices"], "choices");
        if (!o.contains("answer"))
            at.fail("the field \"answer\" is missing");
        if (has("subject")) {
            item.layout = "mmlu";
            if (choices.size() > 26)
                at.fail("an MMLU row has at most 26 choices (A..Z), this one " + std::to_string(choices.size()));
            std::string subject = at.string(o, "subject");
            std::replace(subject.begin(), subject.end(), '_', ' ');
            std::string text = "The following are multiple choice questions (with answers) about " + subject +
                               ".\n\n" + util::trim(at.string(o, "question"));
            for (size_t i = 0; i < choices.size(); ++i) {
                text += "\n" + std::string(1, char('A' + i)) + ". " + choices[i];
                item.choices.push_back(" " + std::string(1, char('A' + i)));
            }
            item.context = text + "\nAnswer:";
            item.answer = answerIndex(at, o["answer"], choices, "answer");
        } else {
            item.layout = "native";
            item.context = has("context") ? at.string(o, "context") : "Question: " + at.string(o, "question") + "\nAnswer:";
            for (const auto& c : choices)
                item.choices.push_back(" " + c);
            item.answer = answerIndex(at, o["answer"], choices, "answer");
        }
        kind = SuiteKind::MultipleChoice;
    } else if (has("prompt") || has("instruction")) {
        if (has("prompt")) {
            item.layout = "verifiable";
            item.prompt = at.string(o, "prompt");
            item.reference = at.string(o, "reference");
        } else {
            item.layout = "alpaca";
            item.prompt = at.string(o, "instruction");
            item.input = at.optionalString(o, "input");
            item.reference = at.string(o, "output");
        }
        item.verifier = has("verifier") ? at.string(o, "verifier") : d.verifier;
        if (has("verifier_settings")) {
            if (!o["verifier_settings"].is_object())
                at.fail("the field \"verifier_settings\" must be an object");
            item.verifierSettings = o["verifier_settings"];
        } else if (!has("verifier"))
            item.verifierSettings = d.verifierSettings;
        try {
            const auto v = makeVerifier(item.verifier, item.verifierSettings);
            if (std::string why = v->referenceProblem(item.reference); !why.empty())
                at.fail("the reference cannot be scored: " + why);
        } catch (const ft::Error& e) {
            const std::string what = e.what();
            if (what.rfind(at.origin, 0) == 0)
                throw;
            at.fail(what);
        }
        kind = SuiteKind::Generation;
    } else if (has("text")) {
        item.layout = "text";
        item.text = at.string(o, "text");
        if (item.text.empty())
            at.fail("the field \"text\" is empty");
        kind = SuiteKind::Perplexity;
    } else {
        std::vector<std::string> keys;
        for (const auto& [k, v] : o.items())
            keys.push_back("\"" + k + "\"");
        at.fail("no suite layout has the fields " + (keys.empty() ? std::string("{}") : util::joinList(keys)) +
                "; the layouts: " + kLayouts);
    }
    if (item.id.empty())
        item.id = "line " + std::to_string(at.line);
    return item;
}

} // namespace

Suite parseSuite(const std::string& text, const std::string& origin, const std::string& splitOverride)
{
    Suite suite;
    suite.origin = origin;
    suite.name = fs::path(origin).stem().string();
    Defaults defaults;
    std::string split = splitOverride;
    bool haveKind = false, headerKind = false;
    int firstItemLine = 0;
    std::istringstream in(text);
    std::string line;
    for (int number = 1; std::getline(in, line); ++number) {
        if (!line.empty() && line.back() == '\r')
            line.pop_back();
        if (util::isBlank(line))
            continue;
        const LineContext at{origin, number};
        json o;
        try {
            o = json::parse(line);
        } catch (const json::exception& e) {
            at.fail(std::string("not valid JSON (") + e.what() + ")");
        }
        if (!o.is_object())
            at.fail(std::string("a suite line must be a JSON object, not ") + o.type_name());
        if (o.contains("suite") && o.size() == 1) {
            if (firstItemLine != 0 || haveKind)
                at.fail("the {\"suite\": ...} header must be the first line");
            const json& h = o["suite"];
            if (!h.is_object())
                at.fail("\"suite\" must be an object");
            static const std::vector<std::string> known = {"name", "kind", "verifier", "verifier_settings",
                                                           "max_new_tokens", "stop", "template", "split",
                                                           "description"};
            for (const auto& [k, v] : h.items())
                if (std::find(known.begin(), known.end(), k) == known.end())
                    at.fail("unknown header key \"" + k + "\" (known: " + util::joinList(known) + ")");
            if (h.contains("name"))
                suite.name = at.string(h, "name");
            if (h.contains("kind")) {
                const std::string k = at.string(h, "kind");
                if (k == "generation")
                    suite.kind = SuiteKind::Generation;
                else if (k == "multiple_choice")
                    suite.kind = SuiteKind::MultipleChoice;
                else if (k == "perplexity")
                    suite.kind = SuiteKind::Perplexity;
                else
                    at.fail("\"kind\" must be generation, multiple_choice or perplexity, not \"" + k + "\"");
                haveKind = headerKind = true;
            }
            if (h.contains("verifier"))
                defaults.verifier = at.string(h, "verifier");
            if (h.contains("verifier_settings")) {
                if (!h["verifier_settings"].is_object())
                    at.fail("\"verifier_settings\" must be an object");
                defaults.verifierSettings = h["verifier_settings"];
            }
            if (h.contains("max_new_tokens")) {
                if (!h["max_new_tokens"].is_number_integer() || h["max_new_tokens"].get<int64_t>() <= 0)
                    at.fail("\"max_new_tokens\" must be a positive integer");
                suite.maxNewTokens = h["max_new_tokens"].get<int64_t>();
            }
            if (h.contains("stop"))
                suite.stop = at.strings(h["stop"], "stop");
            if (h.contains("template")) {
                suite.templateHint = at.string(h, "template");
                static const std::vector<std::string> templates = {"auto", "none", "model", "alpaca", "chatml",
                                                                   "plain"};
                if (std::find(templates.begin(), templates.end(), suite.templateHint) == templates.end())
                    at.fail("\"template\" must be one of " + util::joinList(templates) + ", not \"" +
                            suite.templateHint + "\"");
            }
            if (h.contains("split") && split.empty())
                split = at.string(h, "split");
            continue;
        }
        if (firstItemLine == 0)
            firstItemLine = number;
        // Rows of another split are left out; rows that name none are kept.
        if (!split.empty() && o.contains("split") && o["split"].is_string() && o["split"].get<std::string>() != split)
            continue;
        SuiteKind kind = SuiteKind::Generation;
        SuiteItem item = parseItem(at, o, defaults, kind);
        if (!haveKind) {
            suite.kind = kind;
            haveKind = true;
        } else if (kind != suite.kind)
            at.fail(std::string("a ") + suiteKindName(kind) + " item (layout " + item.layout + ") in a " +
                    suiteKindName(suite.kind) + " suite" +
                    (headerKind ? std::string(" (the header's kind)") : " (the kind of its first item)") +
                    "; a suite holds items of one kind");
        suite.items.push_back(std::move(item));
    }
    if (suite.items.empty())
        fail(origin + ": the suite has no items" + (split.empty() ? std::string() : " of the split \"" + split + "\""));
    return suite;
}

Suite loadSuite(const std::string& path, const std::string& split)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("cannot read the suite file '" + path + "'");
    std::ostringstream s;
    s << in.rdbuf();
    return parseSuite(s.str(), path, split);
}

namespace {
std::string suitesDir()
{
    return (fs::path(datasetsDir()) / "suites").string();
}
} // namespace

std::vector<std::string> shippedSuites()
{
    std::vector<std::string> names;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(suitesDir(), ec))
        if (e.path().extension() == ".jsonl")
            names.push_back(e.path().stem().string());
    std::sort(names.begin(), names.end());
    return names;
}

std::string findSuite(const std::string& nameOrPath)
{
    std::error_code ec;
    if (fs::is_regular_file(nameOrPath, ec))
        return nameOrPath;
    for (const std::string& candidate : {nameOrPath, nameOrPath + ".jsonl"}) {
        const fs::path p = fs::path(suitesDir()) / candidate;
        if (nameOrPath.find('/') == std::string::npos && fs::is_regular_file(p, ec))
            return p.string();
    }
    const auto names = shippedSuites();
    fail("no suite file or shipped suite named '" + nameOrPath + "'; shipped suites (" + suitesDir() +
         "): " + (names.empty() ? std::string("none") : util::joinList(names)));
}

std::vector<Metric> suiteMetrics(SuiteKind kind, const std::vector<ItemScore>& scores)
{
    if (scores.empty())
        fail("no item was scored, so there are no metrics");
    const int n = int(scores.size());
    auto proportion = [&](const std::string& name, auto pred) {
        Metric m{name};
        m.n = n;
        const double k = double(std::count_if(scores.begin(), scores.end(), pred));
        m.value = k / n;
        std::tie(m.low, m.high) = wilsonInterval(k, n);
        return m;
    };
    std::vector<Metric> out;
    switch (kind) {
    case SuiteKind::Generation: {
        out.push_back(proportion("pass", [](const ItemScore& s) { return s.passed; }));
        Metric r{"reward"};
        r.n = n;
        double sum = 0, sq = 0;
        for (const auto& s : scores)
            sum += s.reward;
        r.value = sum / n;
        for (const auto& s : scores)
            sq += (s.reward - r.value) * (s.reward - r.value);
        const double se = n > 1 ? std::sqrt(sq / (n - 1) / n) : 0.0;
        r.low = std::max(0.0, r.value - kZ95 * se);
        r.high = std::min(1.0, r.value + kZ95 * se);
        out.push_back(r);
        break;
    }
    case SuiteKind::MultipleChoice:
        out.push_back(proportion("acc", [](const ItemScore& s) { return s.passed; }));
        out.push_back(proportion("acc_norm", [](const ItemScore& s) { return s.passedNorm; }));
        break;
    case SuiteKind::Perplexity: {
        double nll = 0;
        int64_t tokens = 0;
        for (const auto& s : scores) {
            nll += s.nll;
            tokens += s.tokens;
        }
        if (tokens <= 0)
            fail("no token was scored, so there is no perplexity");
        const double r = nll / double(tokens);
        double sq = 0;
        for (const auto& s : scores)
            sq += (s.nll - r * double(s.tokens)) * (s.nll - r * double(s.tokens));
        const double se = n > 1 ? std::sqrt(double(n) / (n - 1) * sq) / double(tokens) : 0.0;
        Metric ppl{"perplexity", std::exp(r), std::exp(r - kZ95 * se), std::exp(r + kZ95 * se), n, false};
        Metric m{"nll", r, r - kZ95 * se, r + kZ95 * se, n, false};
        out.push_back(ppl);
        out.push_back(m);
        break;
    }
    }
    return out;
}

nlohmann::json metricJson(const Metric& m)
{
    return {{"name", m.name}, {"value", m.value}, {"low", m.low}, {"high", m.high}, {"n", m.n},
            {"higher_is_better", m.higherIsBetter}};
}

} // namespace ft::eval
