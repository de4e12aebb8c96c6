// Efficacy against meaningful baselines, on the knowledge base (tests/knowledge_base.h):
// a model that knows facts from prose and was asked about only some of them. Every
// figure is recomputed here from greedy answers or log-probabilities (a plain forward,
// log_softmax), never read from the engine's events, and printed before -> after:
//   knowledge base   answers held-out questions in the pretraining Q/A form; not in the
//                    task's (Alpaca) form
//   sft, each technique   held-out exact match in the task's form, from the base's 0,
//                    and ranked accuracy (the right answer likelier than a wrong one of the
//                    same form), from the base's 0.419
//   dpo family, kto  from the LoRA SFT model, as RLHF pipelines start: held-out accuracy
//                    of the implicit reward (ties count 0.5; SimPO and ORPO: of the
//                    length-normalized log-probability) from chance, and held-out exact
//                    match of greedy answers above the SFT start's
//   rlvr             from the SFT start: held-out exact match of greedy answers up
// (A reward model on the same pairs does not reliably rank held-out facts' answers on
// this base, 0.53-0.62 over runs: docs/objectives.md. Its efficacy test stays on the
// separable pairs of test_align_objectives.)
// The pairs differ only in correctness: the rejected answer is a number off by 1-3 or
// another capital, in the same form (datasets/knowledge/generate.py).
#include "model/model_io.h"
#include "peft/adapter.h"
#include "peft/adapter_io.h"
#include "peft/technique.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/dataset_source.h"
#include "engine_support.h"
#include "knowledge_base.h"
#include "test_support.h"

#include "test_main.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace test_efficacy {

using nlohmann::json;

namespace {

struct Question {
    std::string prompt, reference;
};
struct Pair {
    std::string prompt, chosen, rejected;
};

// A model folder with (optionally) an adapter applied, and its tokenizer.
struct Loaded {
    ft::model::LoadedModel model;
    std::unique_ptr<ft::tok::Tokenizer> tokenizer;
    std::unique_ptr<ft::peft::Adapter> adapter;
};

Loaded loadWith(const std::string& modelDir, const std::string& adapterDir = {})
{
    Loaded l;
    l.tokenizer = ft::tok::loadTokenizer(modelDir);
    l.model = ft::model::loadModelFolder(modelDir);
    if (!adapterDir.empty()) {
        ft::peft::ApplyContext context{l.tokenizer.get()};
        l.adapter = ft::peft::loadAdapter(adapterDir, l.model.model, "default", context);
    }
    l.model.model->eval();
    return l;
}

// Fraction of questions whose greedy answer (first line) equals the reference.
double exactMatch(Loaded& l, const std::vector<Question>& questions, bool alpaca = true)
{
    int right = 0;
    for (const auto& q : questions) {
        const std::string prompt = alpaca ? fttest::alpacaPrompt(q.prompt) : "Question: " + q.prompt + "\nAnswer: ";
        right += fttest::greedyAnswer(l.model.model, *l.tokenizer, prompt) == q.reference ? 1 : 0;
    }
    return double(right) / double(questions.size());
}

// Fraction of pairs whose right answer the model finds likelier than the wrong one
// (summed log-probabilities in the task's form; the two answers have the same form).
double rankedAccuracy(Loaded& l, const std::vector<Pair>& pairs)
{
    double right = 0;
    for (const auto& p : pairs) {
        const std::string prompt = fttest::alpacaPrompt(p.prompt);
        const double c = fttest::completionLogprob(l.model.model, *l.tokenizer, prompt, p.chosen);
        const double r = fttest::completionLogprob(l.model.model, *l.tokenizer, prompt, p.rejected);
        right += c > r ? 1.0 : c == r ? 0.5 : 0.0;
    }
    return right / double(pairs.size());
}

} // namespace

class TestEfficacy : public QObject {
    Q_OBJECT

    const json kLora{{"name", "lora"}, {"r", 8}, {"target_modules", {"all-linear"}}};

    std::string m_base;
    QTemporaryDir m_dir;
    std::vector<Question> m_heldOut;  // the held-out questions (facts no training row asks about)
    std::vector<Pair> m_heldOutPairs;
    double m_baseExact = 0;  // the base on m_heldOut in the task's form
    double m_baseRanked = 0;  // the base's ranked accuracy on m_heldOutPairs
    std::string m_sftStart;   // the base after LoRA SFT, merged: where the preference objectives start
    double m_sftExact = 0;
    std::set<std::string> m_trained;  // output folders of the runs done

    json config(const std::string& name, const json& technique, const json& objective, const std::string& data,
                int64_t steps, double lr)
    {
        return {{"model", m_base},
                {"output_dir", m_dir.filePath(QString::fromStdString(name)).toStdString()},
                {"technique", technique},
                {"objective", objective},
                {"data", {{"train", data}}},
                {"training", {{"max_seq_len", 64}, {"batch_size", 8}, {"max_steps", steps}, {"threads", 1},
                              {"optimizer", {{"lr", lr}}}, {"schedule", {{"name", "constant"}}}, {"seed", 7}}},
                {"eval", {{"every_steps", 0}, {"max_batches", 1}}},
                {"checkpoint", {{"every_steps", 0}}}};
    }

    // Trains (once per output folder: a second call with the same folder reuses the run);
    // returns the folder to load: {model, adapter} (adapter empty for full runs).
    std::pair<std::string, std::string> train(const json& j)
    {
        const std::string out = j["output_dir"].get<std::string>();
        if (m_trained.insert(out).second && fttest::runEngine(j).status != "finished")
            qFatal("run %s did not finish", out.c_str());
        if (std::filesystem::exists(out + "/adapter"))
            return {j["model"].get<std::string>(), out + "/adapter"};
        return {out + "/model", ""};
    }

    // The SFT run of a technique: 400 steps on the training rows.
    std::pair<std::string, std::string> sft(const json& technique, double lr)
    {
        return train(config("sft-" + technique["name"].get<std::string>(), technique, {{"name", "sft"}},
                            fttest::knowledgeDataDir() + "/sft.jsonl", 400, lr));
    }

    // The SFT model the preference objectives start from, as RLHF pipelines do: the LoRA
    // SFT run (the same as sftAnswersHeldOutQuestions' lora row), merged into a model
    // folder (built on first use).
    const std::string& sftStart()
    {
        if (!m_sftStart.empty())
            return m_sftStart;
        const auto [model, adapter] = sft(kLora, 3e-3);
        Loaded l = loadWith(model, adapter);
        l.adapter->mergeAndUnload(c10::kFloat);
        const std::string dir = m_dir.filePath("sft-start-model").toStdString();
        ft::model::saveModelFolder(dir, l.model.model, l.model.generation);
        ft::model::copyTokenizerFiles(model, dir);
        Loaded merged = loadWith(dir);
        m_sftExact = exactMatch(merged, m_heldOut);
        m_sftStart = dir;
        return m_sftStart;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_base = fttest::knowledgeBase();
        // Each held-out fact asked in its two phrasings.
        for (const auto& r : ft::train::loadRows(fttest::knowledgeDataDir() + "/verifiable.jsonl").rows) {
            if (r.split != ft::data::Split::Eval)
                continue;
            const std::string ref = r.fields["reference"];
            m_heldOut.push_back({r.fields["prompt"], ref});
        }
        for (const auto& r : ft::train::loadRows(fttest::knowledgeDataDir() + "/preference.jsonl").rows)
            if (r.split == ft::data::Split::Eval)
                m_heldOutPairs.push_back({r.fields["prompt"], r.fields["chosen"], r.fields["rejected"]});
        QVERIFY(m_heldOut.size() >= 100);
        QVERIFY(m_heldOutPairs.size() >= 100);
        Loaded base = loadWith(m_base);
        m_baseExact = exactMatch(base, m_heldOut);
        m_baseRanked = rankedAccuracy(base, m_heldOutPairs);
    }


    // The base knows the held-out facts (it answers questions about them in the
    // pretraining corpus's Q/A form, though it was only ever asked about other facts)
    // and does not answer in the task's form: the room fine-tuning has to show.
    void knowledgeBaseKnowsItsFacts()
    {
        Loaded base = loadWith(m_base);
        const double qa = exactMatch(base, m_heldOut, /*alpaca=*/false);
        qInfo("knowledge base: held-out exact match %.3f in the pretraining Q/A form, %.3f in the Alpaca form", qa,
              m_baseExact);
        QVERIFY2(qa >= 0.4, qPrintable(QString("Q/A form %1").arg(qa)));
        QVERIFY2(m_baseExact <= 0.05, qPrintable(QString("Alpaca form %1").arg(m_baseExact)));
    }

    void sftAnswersHeldOutQuestions_data()
    {
        QTest::addColumn<QString>("technique");
        QTest::addColumn<double>("lr");
        QTest::addColumn<double>("minExactGain");   // held-out exact match over the base's, absolute
        QTest::addColumn<double>("minRankedGain");  // held-out ranked accuracy over the base's
        // Measured (CPU, seeded) exact match / ranked accuracy from 0.000 / 0.419; each bound
        // about half the measured gain. The LoRA family and full fine-tuning bring out tens
        // of points; scaling vectors, bottleneck adapters, virtual tokens and biases move a
        // 0.9 M-parameter model far less (docs/objectives.md), and are held to that.
        // Every registered technique has a row: a new one fails here until its measured
        // bound is added.
        struct Bound {
            double lr, exact, ranked;
        };
        const std::map<std::string, Bound> bounds = {
            {"lora", {3e-3, 0.2, 0.12}},       // 0.347 / 0.661
            {"qlora", {3e-3, 0.2, 0.12}},      // 0.387 / 0.726
            {"dora", {3e-3, 0.2, 0.12}},       // 0.355 / 0.645
            {"pissa", {1e-3, 0.2, 0.12}},      // 0.444 / 0.734
            {"rslora", {1e-3, 0.2, 0.12}},     // 0.403 / 0.710
            {"loraplus", {3e-4, 0.2, 0.12}},   // 0.427 / 0.726
            {"full", {3e-4, 0.25, 0.12}},      // 0.492 / 0.694
            {"freeze", {1e-3, 0.06, 0.03}},    // 0.129 / 0.484
            {"adapter", {3e-3, 0.05, 0.04}},   // 0.105 / 0.500
            {"ia3", {3e-2, 0.024, 0.02}},      // 0.056 / 0.468
            {"bitfit", {1e-2, 0.03, 0.01}},    // 0.073 / 0.452
            {"prefix", {3e-2, 0.016, 0.03}},   // 0.024 / 0.484
            {"prompt", {3e-2, 0.016, 0.06}},   // 0.024 / 0.556
            {"ptuning", {3e-2, 0.016, 0.05}},  // 0.032 / 0.524
        };
        for (const ft::peft::Technique* t : ft::peft::techniques()) {
            const auto it = bounds.find(t->name);
            const Bound b = it == bounds.end() ? Bound{3e-3, -1.0, -1.0} : it->second;
            QTest::newRow(t->name.c_str()) << QString::fromStdString(t->name) << b.lr << b.exact << b.ranked;
        }
    }

    void sftAnswersHeldOutQuestions()
    {
        QFETCH(QString, technique);
        QFETCH(double, lr);
        QFETCH(double, minExactGain);
        QFETCH(double, minRankedGain);
        if (minExactGain < 0)
            QFAIL(qPrintable("no efficacy bound for the technique '" + technique +
                             "': measure its held-out gains here and add a row to the table"));
        json t{{"name", technique.toStdString()}};
        if (QStringList{"lora", "qlora", "dora", "pissa", "rslora", "loraplus"}.contains(technique)) {
            t = kLora;  // all linear layers, as users train the LoRA family
            t["name"] = technique.toStdString();
        }
        if (technique == "prefix" || technique == "prompt" || technique == "ptuning")
            t["num_virtual_tokens"] = 8;
        const auto [model, adapter] = sft(t, lr);
        Loaded tuned = loadWith(model, adapter);
        const double exact = exactMatch(tuned, m_heldOut);
        const double ranked = rankedAccuracy(tuned, m_heldOutPairs);
        qInfo("sft %s: held-out exact match %.3f -> %.3f, ranked accuracy %.3f -> %.3f", qPrintable(technique),
              m_baseExact, exact, m_baseRanked, ranked);
        QVERIFY2(exact >= m_baseExact + minExactGain,
                 qPrintable(QString("exact match %1 -> %2").arg(m_baseExact).arg(exact)));
        QVERIFY2(ranked >= m_baseRanked + minRankedGain,
                 qPrintable(QString("ranked accuracy %1 -> %2").arg(m_baseRanked).arg(ranked)));
    }

    void preferenceObjectivesPreferCorrectAnswers_data()
    {
        QTest::addColumn<QString>("objective");
        QTest::addColumn<QString>("settings");
        QTest::addColumn<double>("minAccuracy");   // held-out implicit-reward accuracy (chance 0.5)
        QTest::addColumn<double>("minExactGain");  // held-out exact match over the SFT start's (0.347)
        // Measured accuracy / exact match (CPU, seeded), 124 held-out pairs: 0.58 is about
        // 1.8 standard errors above chance.
        QTest::newRow("dpo") << "dpo" << "{}" << 0.58 << 0.03;                                 // 0.661 / 0.395
        QTest::newRow("cdpo") << "dpo" << R"({"label_smoothing": 0.1})" << 0.58 << 0.03;      // 0.645 / 0.419
        QTest::newRow("ipo") << "ipo" << "{}" << 0.58 << 0.03;                                 // 0.629 / 0.403
        QTest::newRow("simpo") << "simpo" << "{}" << 0.58 << 0.0;                              // 0.653 / 0.363
        QTest::newRow("orpo") << "orpo" << "{}" << 0.58 << 0.05;                               // 0.718 / 0.460
        // KTO sees each prompt's right or wrong answer, never both: half the signal.
        QTest::newRow("kto") << "kto" << R"({"lr": 3e-4})" << 0.53 << 0.02;                   // 0.556 / 0.387
    }

    void preferenceObjectivesPreferCorrectAnswers()
    {
        QFETCH(QString, objective);
        QFETCH(QString, settings);
        QFETCH(double, minAccuracy);
        QFETCH(double, minExactGain);
        json o = json::parse(settings.toStdString());
        const double lr = o.value("lr", 1e-3);  // the run's, not the objective's
        o.erase("lr");
        o["name"] = objective.toStdString();
        const std::string tag = QTest::currentDataTag();
        std::string data = fttest::knowledgeDataDir() + "/preference.jsonl";
        if (objective == "kto") {
            // Unpaired completions: alternately a row's right answer (desirable) and its
            // wrong one (undesirable), never both of one prompt.
            data = m_dir.filePath("kto.jsonl").toStdString();
            std::ofstream out(data);
            int i = 0;
            for (const auto& r : ft::train::loadRows(fttest::knowledgeDataDir() + "/preference.jsonl").rows) {
                const bool good = i++ % 2 == 0;
                out << json{{"prompt", r.fields["prompt"]}, {"completion", r.fields[good ? "chosen" : "rejected"]},
                            {"desirable", good}, {"split", ft::data::splitName(r.split)}}.dump()
                    << "\n";
            }
        }
        json j = config("pref-" + tag, kLora, o, data, 150, lr);
        j["model"] = sftStart();
        const auto [model, adapter] = train(j);
        Loaded tuned = loadWith(model, adapter);
        // Implicit reward of DPO-style objectives and KTO: log pi(y|x) - log pi_ref(y|x),
        // the reference being the SFT start (the adapter off). Reference-free objectives (SimPO,
        // ORPO) rank by the length-normalized log-probability instead.
        const bool referenceFree = objective == "simpo" || objective == "orpo";
        auto margin = [&](const Pair& p) {
            const std::string prompt = fttest::alpacaPrompt(p.prompt);
            auto lp = [&](const std::string& y) { return fttest::completionLogprob(tuned.model.model, *tuned.tokenizer, prompt, y); };
            auto ref = [&](const std::string& y) {
                ft::peft::AdaptersDisabled off({tuned.adapter.get()});
                return fttest::completionLogprob(tuned.model.model, *tuned.tokenizer, prompt, y);
            };
            auto len = [&](const std::string& y) {
                return double(tuned.tokenizer->encodeForModel(prompt + y).size() - tuned.tokenizer->encodeForModel(prompt).size());
            };
            if (referenceFree)
                return lp(p.chosen) / len(p.chosen) - lp(p.rejected) / len(p.rejected);
            return (lp(p.chosen) - ref(p.chosen)) - (lp(p.rejected) - ref(p.rejected));
        };
        double accuracy = 0;
        for (const auto& p : m_heldOutPairs) {
            const double m = margin(p);
            accuracy += m > 0 ? 1.0 : m == 0 ? 0.5 : 0.0;
        }
        accuracy /= double(m_heldOutPairs.size());
        const double exact = exactMatch(tuned, m_heldOut);
        qInfo("%s: held-out %s accuracy %.3f (chance 0.5); held-out exact match of greedy answers %.3f (SFT start) "
              "-> %.3f",
              tag.c_str(), referenceFree ? "length-normalized log-prob" : "implicit-reward", accuracy, m_sftExact,
              exact);
        QVERIFY2(accuracy >= minAccuracy, qPrintable(QString("accuracy %1").arg(accuracy)));
        QVERIFY2(exact >= m_sftExact + minExactGain,
                 qPrintable(QString("exact match %1 -> %2").arg(m_sftExact).arg(exact)));
    }

    // RLVR (GRPO with the exact-match verifier) from the SFT start on the training
    // prompts: greedy answers to held-out questions, which no reward ever scored, get
    // strictly better (measured 0.347 -> 0.452 here; 0.444 -> 0.532 from a merged
    // SFT start of the CLI-built base).
    // `ftstudio-cli eval` on the held-out split as a regression suite (docs/evaluation.md)
    // shows the LoRA SFT adapter above the base with intervals apart, and its pass rate is
    // the test's own greedy exact match on the same questions.
    void evalSuiteShowsTheAdapterAboveTheBase()
    {
        const auto [model, adapter] = sft(kLora, 3e-3);
        const auto run = fttest::runCli({"eval", "--model", QString::fromStdString(model), "--adapter",
                                         QString::fromStdString(adapter), "--suite",
                                         QString::fromStdString(fttest::knowledgeDataDir() + "/verifiable.jsonl"),
                                         "--split", "eval", "--template", "alpaca", "--json", "--threads", "2"},
                                        m_dir.path(), 600000);
        QVERIFY2(run.code == 0, qPrintable(run.err));
        const json results = json::parse(run.out.toStdString())["suites"][0]["results"];
        QCOMPARE(results.size(), size_t(2));  // the base, then the adapter
        auto pass = [](const json& r) {
            for (const auto& m : r["metrics"])
                if (m["name"] == "pass")
                    return m;
            return json();
        };
        const json base = pass(results[0]), tuned = pass(results[1]);
        QVERIFY(results[0]["adapter"].is_null() && results[1]["adapter"] == adapter);
        QCOMPARE(base["n"].get<int64_t>(), int64_t(m_heldOut.size()));
        qInfo("eval suite (held-out split): pass %.3f [%.3f, %.3f] (base) -> %.3f [%.3f, %.3f] (LoRA SFT)",
              base["value"].get<double>(), base["low"].get<double>(), base["high"].get<double>(),
              tuned["value"].get<double>(), tuned["low"].get<double>(), tuned["high"].get<double>());
        QVERIFY2(base["high"].get<double>() < tuned["low"].get<double>(), "the intervals overlap");
        Loaded l = loadWith(model, adapter);
        const double own = exactMatch(l, m_heldOut);
        QVERIFY2(std::abs(tuned["value"].get<double>() - own) <= 2.5 / double(m_heldOut.size()),
                 qPrintable(QString("eval %1, the test's own greedy exact match %2").arg(tuned["value"].get<double>()).arg(own)));
        QVERIFY(std::abs(base["value"].get<double>() - m_baseExact) <= 2.5 / double(m_heldOut.size()));
    }

    void rlvrImprovesHeldOutGreedyAnswers()
    {
        json o{{"name", "rlvr"}, {"num_generations", 8}, {"max_new_tokens", 6}, {"beta", 0.02}};
        json j = config("rlvr", kLora, o, fttest::knowledgeDataDir() + "/verifiable.jsonl", 60, 1e-3);
        j["model"] = sftStart();
        const auto [model, adapter] = train(j);
        Loaded tuned = loadWith(model, adapter);
        const double exact = exactMatch(tuned, m_heldOut);
        qInfo("rlvr: held-out exact match of greedy answers %.3f (SFT start) -> %.3f", m_sftExact, exact);
        QVERIFY2(exact >= m_sftExact + 0.04, qPrintable(QString("exact match %1 -> %2").arg(m_sftExact).arg(exact)));
    }
};

FT_TEST_MAIN(TestEfficacy)

} // namespace test_efficacy

#include "test_efficacy.moc"
