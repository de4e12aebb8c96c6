// Evaluation suites (eval/suite.h, suite/): every layout parsed as lm-evaluation-harness
// would present it, the header's defaults, splits and each error a user can meet; the
// metrics' intervals against figures computed independently (Python, the formulas
// written out in the test); multiple-choice log-likelihoods against plain unpadded
// forwards and log_softmax written here; acc_norm's length normalisation; perplexity
// windows against one whole-text forward.
#include "eval/suite.h"
#include "model/model_io.h"
#include "suite/likelihood.h"
#include "suite/suite_runner.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/prompt_format.h"
#include "small_base.h"
#include "test_support.h"

#include "test_main.h"

#include <QtTest>

#include <torch/torch.h>

#include <cmath>

namespace test_eval_suite {

using namespace ft::eval;
using nlohmann::json;

namespace {

Suite parsed(const std::string& text, const std::string& split = {})
{
    return parseSuite(text, "suite.jsonl", split);
}

QString parseError(const std::string& text)
{
    return fttest::errorOf([&] { parsed(text); });
}

// Independent reference: log p(continuation | context) from one unpadded forward of the
// whole sequence, the continuation's ids found by the test's own prefix rule.
double referenceLogLikelihood(ft::model::CausalLM& model, const ft::tok::Tokenizer& tok, const std::string& context,
                              const std::string& choice)
{
    std::vector<int> ctx = tok.encode(context, true, false);
    std::vector<int> whole = tok.encode(context + choice, true, false);
    std::vector<int64_t> ids(whole.begin(), whole.end());
    torch::NoGradGuard g;
    model->eval();
    const at::Tensor logits = model->forward(torch::tensor(ids, torch::kLong).unsqueeze(0)).squeeze(0);
    double sum = 0;
    for (size_t pos = ctx.size(); pos < whole.size(); ++pos) {
        const at::Tensor row = logits[int64_t(pos) - 1].to(torch::kDouble);
        const double lse = row.exp().sum().log().item<double>();
        sum += row[whole[pos]].item<double>() - lse;
    }
    return sum;
}

} // namespace

class TestEvalSuite : public QObject {
    Q_OBJECT
private Q_SLOTS:
    void nativeMultipleChoice()
    {
        const Suite s = parsed("{\"question\": \"2 + 2?\", \"choices\": [\"3\", \"4\"], \"answer\": 1}\n"
                               "{\"context\": \"The sky is\", \"choices\": [\"blue\", \"green\"], \"answer\": \"blue\"}\n"
                               "{\"question\": \"Pick\", \"choices\": [\"x\", \"y\", \"z\"], \"answer\": \"C\", \"id\": \"q3\"}\n");
        QCOMPARE(s.kind, SuiteKind::MultipleChoice);
        QCOMPARE(s.items.size(), size_t(3));
        QCOMPARE(s.items[0].context, std::string("Question: 2 + 2?\nAnswer:"));
        QCOMPARE(s.items[0].choices, (std::vector<std::string>{" 3", " 4"}));
        QCOMPARE(s.items[0].answer, 1);
        QCOMPARE(s.items[1].context, std::string("The sky is"));
        QCOMPARE(s.items[1].answer, 0);
        QCOMPARE(s.items[2].answer, 2);
        QCOMPARE(s.items[2].id, std::string("q3"));
        QCOMPARE(s.items[0].id, std::string("line 1"));
        QCOMPARE(s.name, std::string("suite"));
    }

    // The public datasets' layouts, as lm-evaluation-harness renders them.
    void publicLayouts()
    {
        const Suite arc = parsed(R"({"id": "Mercury_1", "question": "Which is a metal?", "choices": {"text": ["wood", "iron"], "label": ["A", "B"]}, "answerKey": "B"})");
        QCOMPARE(arc.items[0].layout, std::string("arc"));
        QCOMPARE(arc.items[0].context, std::string("Question: Which is a metal?\nAnswer:"));
        QCOMPARE(arc.items[0].choices, (std::vector<std::string>{" wood", " iron"}));
        QCOMPARE(arc.items[0].answer, 1);

        const Suite hs = parsed(R"({"activity_label": "Baking cookies", "ctx_a": "A woman mixes dough.", "ctx_b": "she", "endings": ["puts it [title] in the oven.", "eats   the [header] bowl."], "label": "0"})");
        QCOMPARE(hs.items[0].layout, std::string("hellaswag"));
        QCOMPARE(hs.items[0].context, std::string("Baking cookies: A woman mixes dough. She"));
        QCOMPARE(hs.items[0].choices, (std::vector<std::string>{" puts it. in the oven.", " eats  the bowl."}));
        QCOMPARE(hs.items[0].answer, 0);

        const Suite mmlu = parsed(R"({"question": " What is 1+1? ", "subject": "high_school_math", "choices": ["1", "2", "3", "4"], "answer": 1})");
        QCOMPARE(mmlu.items[0].layout, std::string("mmlu"));
        QCOMPARE(mmlu.items[0].context,
                 std::string("The following are multiple choice questions (with answers) about high school math.\n\n"
                             "What is 1+1?\nA. 1\nB. 2\nC. 3\nD. 4\nAnswer:"));
        QCOMPARE(mmlu.items[0].choices, (std::vector<std::string>{" A", " B", " C", " D"}));
        QCOMPARE(mmlu.items[0].answer, 1);

        const Suite tqa = parsed(R"({"question": "Is the earth flat?", "mc1_targets": {"choices": ["No, it is round.", "Yes."], "labels": [1, 0]}})");
        QCOMPARE(tqa.items[0].layout, std::string("truthfulqa_mc1"));
        QVERIFY(tqa.items[0].context.rfind("Q: What is human life expectancy in the United States?\n", 0) == 0);
        QVERIFY(tqa.items[0].context.ends_with("\n\nQ: Is the earth flat?\nA:"));
        QCOMPARE(tqa.items[0].answer, 0);
        QCOMPARE(tqa.items[0].choices[0], std::string(" No, it is round."));
    }

    void generationLayoutsAndHeader()
    {
        const Suite s = parsed(
            "{\"suite\": {\"name\": \"maths\", \"verifier\": \"numeric\", \"max_new_tokens\": 5, \"stop\": [\"\\n\"], "
            "\"template\": \"alpaca\"}}\n"
            "{\"instruction\": \"Solve.\", \"input\": \"2 + 3\", \"output\": \"5\", \"split\": \"eval\"}\n"
            "{\"prompt\": \"Say hi\", \"reference\": \"hi\", \"verifier\": \"exact_match\", \"split\": \"train\"}\n");
        QCOMPARE(s.name, std::string("maths"));
        QCOMPARE(s.kind, SuiteKind::Generation);
        QCOMPARE(s.maxNewTokens, int64_t(5));
        QCOMPARE(s.stop, std::vector<std::string>{"\n"});
        QCOMPARE(s.templateHint, std::string("alpaca"));
        QCOMPARE(s.items[0].layout, std::string("alpaca"));
        QCOMPARE(s.items[0].verifier, std::string("numeric"));  // the header's default
        QCOMPARE(s.items[0].input, std::string("2 + 3"));
        QCOMPARE(s.items[1].verifier, std::string("exact_match"));
        // The split keeps its rows only.
        const Suite held = parsed("{\"instruction\": \"a\", \"output\": \"1\", \"split\": \"eval\"}\n"
                                  "{\"instruction\": \"b\", \"output\": \"2\", \"split\": \"train\"}\n",
                                  "eval");
        QCOMPARE(held.items.size(), size_t(1));
        QCOMPARE(held.items[0].prompt, std::string("a"));
        QCOMPARE(held.items[0].line, 1);
    }

    // The prompt an item becomes: raw, and through the training formats exactly as SFT renders the row.
    void renderedPrompts()
    {
        const Suite s = parsed("{\"instruction\": \"Solve.\", \"input\": \"2 + 3\", \"output\": \"5\"}\n");
        QCOMPARE(ft::suite::renderItemPrompt(s.items[0], nullptr), std::string("Solve.\n2 + 3"));
        const auto alpaca = ft::train::makePromptFormat("alpaca");
        QCOMPARE(ft::suite::renderItemPrompt(s.items[0], alpaca.get()),
                 std::string("### Instruction:\nSolve.\n### Input:\n2 + 3\n### Response:\n"));
    }

    void errorsNameTheLineAndField()
    {
        QVERIFY(parseError("{\"text\": \"a\"}\nnot json\n").startsWith("suite.jsonl:2: not valid JSON ("));
        QCOMPARE(parseError("{\"question\": \"q\", \"choices\": [\"a\"], \"answer\": 3}\n"),
                 QString("suite.jsonl:1: the field \"answer\" points at choice 3 but there are 1 (0..0)"));
        QCOMPARE(parseError("{\"question\": \"q\", \"choices\": [\"a\", 2], \"answer\": 0}\n"),
                 QString("suite.jsonl:1: the field \"choices\" item 1 must be a string, not number"));
        QVERIFY(parseError("{\"foo\": 1}\n").startsWith("suite.jsonl:1: no suite layout has the fields \"foo\"; the layouts:"));
        QCOMPARE(parseError("{\"text\": \"a\"}\n{\"prompt\": \"p\", \"reference\": \"r\"}\n"),
                 QString("suite.jsonl:2: a generation item (layout verifiable) in a perplexity suite (the kind of its "
                         "first item); a suite holds items of one kind"));
        QVERIFY(parseError("{\"prompt\": \"p\", \"reference\": \"r\", \"verifier\": \"exactly\"}\n")
                    .startsWith("suite.jsonl:1: unknown verifier \"exactly\"; known verifiers: exact_match"));
        QCOMPARE(parseError("{\"prompt\": \"p\", \"reference\": \"none\", \"verifier\": \"numeric\"}\n").left(45),
                 QString("suite.jsonl:1: the reference cannot be scored"));
        QCOMPARE(parseError("\n\n"), QString("suite.jsonl: the suite has no items"));
        QCOMPARE(parseError("{\"suite\": {\"colour\": 1}}\n{\"text\": \"a\"}\n").left(40),
                 QString("suite.jsonl:1: unknown header key \"colou"));
        QCOMPARE(parseError("{\"text\": \"a\"}\n{\"suite\": {}}\n"),
                 QString("suite.jsonl:2: the {\"suite\": ...} header must be the first line"));
        QCOMPARE(parseError("{\"ctx\": \"c\", \"endings\": [\"a\"]}\n"), QString("suite.jsonl:1: the field \"label\" is missing"));
        QVERIFY(fttest::errorOf([] { findSuite("no-such-suite"); }).contains("shipped suites"));
    }

    // Intervals against figures computed independently (Python 3: Wilson's score
    // interval and the ratio estimator's delta-method variance, written out).
    void metricsAndIntervals()
    {
        std::vector<ItemScore> scores(30);
        for (int i = 0; i < 7; ++i)
            scores[size_t(i)].passed = true;
        for (int i = 0; i < 30; ++i)
            scores[size_t(i)].reward = i < 7 ? 1.0 : 0.0;
        const auto m = suiteMetrics(SuiteKind::Generation, scores);
        QCOMPARE(m[0].name, std::string("pass"));
        QCOMPARE(m[0].value, 7.0 / 30);
        // Wilson's interval of 7 in 30, computed in Python 3 from its textbook form
        QVERIFY(std::abs(m[0].low - 0.117923881) < 1e-6);
        QVERIFY(std::abs(m[0].high - 0.409283262) < 1e-6);

        // Perplexity: items (nll, tokens) = (10, 5), (30, 10), (8, 4); R = 48 / 19.
        std::vector<ItemScore> p(3);
        p[0].nll = 10, p[0].tokens = 5;
        p[1].nll = 30, p[1].tokens = 10;
        p[2].nll = 8, p[2].tokens = 4;
        const auto pm = suiteMetrics(SuiteKind::Perplexity, p);
        const double r = 48.0 / 19.0;
        // se = sqrt(3/2 * sum((nll_i - r t_i)^2)) / 19, worked out by hand:
        const double resid = std::pow(10 - r * 5, 2) + std::pow(30 - r * 10, 2) + std::pow(8 - r * 4, 2);
        const double se = std::sqrt(1.5 * resid) / 19.0;
        QCOMPARE(pm[0].name, std::string("perplexity"));
        QVERIFY(std::abs(pm[1].value - r) < 1e-12);
        QVERIFY(std::abs(pm[0].value - std::exp(r)) < 1e-9);
        QVERIFY(std::abs(pm[1].low - (r - 1.959963984540054 * se)) < 1e-12);
        QVERIFY(!pm[0].higherIsBetter);
        QVERIFY(std::abs(se - 0.374730) < 1e-5);  // the same figure from Python 3
    }

    // Log-likelihoods of choices on a real (small, pretrained) model and tokenizer,
    // against unpadded forwards computed here; acc_norm picks by log-likelihood per
    // character, acc by the sum.
    void multipleChoiceLogLikelihoods()
    {
        const std::string dir = fttest::smallBaseModel();
        auto tok = ft::tok::loadTokenizer(dir);
        ft::model::LoadedModel loaded = ft::model::loadModelFolder(dir, {});
        const std::string context = "Question: What is the capital of France?\nAnswer:";
        const std::vector<std::string> choices = {" Paris", " Rome", " a very long answer that is wrong", " B"};
        const auto scores = ft::suite::continuationLogLikelihoods(loaded.model, *tok, context, choices);
        QCOMPARE(scores.size(), choices.size());
        for (size_t i = 0; i < choices.size(); ++i) {
            const double ref = referenceLogLikelihood(loaded.model, *tok, context, choices[i]);
            QVERIFY2(std::abs(scores[i].logLikelihood - ref) < 1e-4,
                     qPrintable(QString("%1: %2 vs %3").arg(i).arg(scores[i].logLikelihood).arg(ref)));
            QVERIFY(scores[i].tokens > 0);
        }
        // Trailing white space of the context moves to the continuation.
        const auto moved = ft::suite::continuationLogLikelihoods(loaded.model, *tok, context + " ", {"Paris"});
        QVERIFY(std::abs(moved[0].logLikelihood - scores[0].logLikelihood) < 1e-5);

        // Through the runner: acc and acc_norm recomputed from the reference log-likelihoods.
        json line{{"context", context}, {"choices", json::array()}, {"answer", 2}};
        for (const auto& c : choices)
            line["choices"].push_back(c.substr(1));
        const Suite s = parsed(line.dump() + "\n");
        ft::suite::SuiteOptions options;
        options.templateName = "none";
        const auto result = ft::suite::runSuite(loaded, *tok, s, options);
        std::vector<double> ll, norm;
        for (const auto& c : s.items[0].choices) {
            ll.push_back(referenceLogLikelihood(loaded.model, *tok, context, c));
            norm.push_back(ll.back() / double(c.size()));  // ASCII: bytes are characters
        }
        const auto argmax = [](const std::vector<double>& v) { return int(std::max_element(v.begin(), v.end()) - v.begin()); };
        QCOMPARE(result.items[0].score.passed, argmax(ll) == 2);
        QCOMPARE(result.items[0].score.passedNorm, argmax(norm) == 2);
        QCOMPARE(result.items[0].answer, s.items[0].choices[size_t(argmax(ll))]);
        QCOMPARE(result.metrics[0].name, std::string("acc"));
        QCOMPARE(result.metrics[1].name, std::string("acc_norm"));
        qInfo("log-likelihoods %.3f %.3f %.3f %.3f; per char %.3f %.3f %.3f %.3f", ll[0], ll[1], ll[2], ll[3], norm[0],
              norm[1], norm[2], norm[3]);
    }

    // Perplexity: windows of 8 tokens equal the sum of the same windows computed here;
    // one window of the whole text equals a single plain forward.
    void perplexityWindows()
    {
        const std::string dir = fttest::smallBaseModel();
        auto tok = ft::tok::loadTokenizer(dir);
        ft::model::LoadedModel loaded = ft::model::loadModelFolder(dir, {});
        const std::string text = "The cat sleeps on the mat. Paris is the capital of France. 2 + 3 = 5";
        std::vector<int> idsInt = tok->encode(text, true, false);
        std::vector<int64_t> ids(idsInt.begin(), idsInt.end());
        QVERIFY(ids.size() > 17);
        torch::NoGradGuard g;
        auto nllOf = [&](size_t from, size_t to) {  // sum over positions from+1..to-1 of a forward of ids[from..to)
            std::vector<int64_t> w(ids.begin() + long(from), ids.begin() + long(to));
            const at::Tensor logits = loaded.model->forward(torch::tensor(w, torch::kLong).unsqueeze(0)).squeeze(0);
            double s = 0;
            for (size_t i = 1; i < w.size(); ++i) {
                const at::Tensor row = logits[int64_t(i) - 1].to(torch::kDouble);
                s += row.exp().sum().log().item<double>() - row[w[i]].item<double>();
            }
            return s;
        };
        const auto whole = ft::suite::textNegativeLogLikelihood(loaded.model, *tok, text);
        QCOMPARE(whole.tokens, int64_t(ids.size()) - 1);
        QVERIFY(std::abs(whole.nll - nllOf(0, ids.size())) < 1e-3);
        const auto windows = ft::suite::textNegativeLogLikelihood(loaded.model, *tok, text, 8);
        QCOMPARE(windows.tokens, int64_t(ids.size()) - 1);
        double expected = 0;
        for (size_t start = 0; start + 1 < ids.size(); start += 7)
            expected += nllOf(start, std::min(ids.size(), start + 8));
        QVERIFY2(std::abs(windows.nll - expected) < 1e-3, qPrintable(QString("%1 vs %2").arg(windows.nll).arg(expected)));
        QVERIFY(windows.nll > whole.nll);  // shorter contexts predict worse
    }
};

FT_TEST_MAIN(TestEvalSuite)

} // namespace test_eval_suite

#include "test_eval_suite.moc"
