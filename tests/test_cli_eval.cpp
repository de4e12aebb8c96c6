// ftstudio-cli eval end to end: a LoRA SFT run teaches the small base an answer form it
// never produces (<answer>...</answer>), and the suite shows the adapter above the base
// with 95 % intervals that do not overlap; every item's verdict is re-scored here from
// the answers with the test's own pattern; the results land in the project's evaluations;
// a perplexity suite agrees with `ftstudio-cli perplexity` on the same text; usage and
// suite errors exit with the right code and message.
#include "small_base.h"
#include "test_support.h"
#include "align/ai_judge.h"
#include "data/project_store.h"
#include "model/model_io.h"
#include "tokenizer/tokenizer_loader.h"
#include "eval/verifiers.h"
#include "util/paths.h"

#include "test_main.h"

#include <nlohmann/json.hpp>

#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <map>

namespace test_cli_eval {

using nlohmann::json;

namespace {

void writeText(const QString& path, const std::string& text)
{
    std::ofstream(path.toStdString(), std::ios::binary) << text;
}

// Rows of the shipped SFT data of one split, as (instruction, output).
std::vector<std::pair<std::string, std::string>> sftRows(const std::string& split)
{
    std::vector<std::pair<std::string, std::string>> rows;
    std::ifstream in(ft::datasetsDir() + "/sft/instructions.jsonl");
    for (std::string line; std::getline(in, line);) {
        const json j = json::parse(line);
        if (j["split"] == split && !j.contains("input"))
            rows.emplace_back(j["instruction"].get<std::string>(), j["output"].get<std::string>());
    }
    return rows;
}

} // namespace

class TestCliEval : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_base;

    QString path(const QString& name) const { return m_dir.filePath(name); }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_base = fttest::smallBaseModel(ft::model::Arch::Llama, 600);
    }

    void helpAndUsageErrors()
    {
        const auto help = fttest::runCli({"eval", "--help"}, path("data"));
        QCOMPARE(help.code, 0);
        QVERIFY(help.out.contains("--suite") && help.out.contains("--adapter") && help.out.contains("--template"));
        const auto none = fttest::runCli({"eval", "--model", QString::fromStdString(m_base)}, path("data"));
        QCOMPARE(none.code, 2);
        QVERIFY2(none.err.contains("--suite is required"), qPrintable(none.err));
        const auto noBase = fttest::runCli({"eval", "--suite", "arithmetic", "--no-base"}, path("data"));
        QCOMPARE(noBase.code, 2);
        QVERIFY(noBase.err.contains("--no-base needs at least one --adapter"));
        const auto list = fttest::runCli({"eval", "--list-suites"}, path("data"));
        QCOMPARE(list.code, 0);
        for (const char* name : {"arithmetic", "arithmetic_choice", "capitals_choice", "heldout_text"})
            QVERIFY2(list.out.contains(name), qPrintable(list.out));
        writeText(path("bad.jsonl"), "{\"question\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": 0}\n{\"question\": \"q\"}\n");
        const auto bad = fttest::runCli({"eval", "--model", QString::fromStdString(m_base), "--suite", path("bad.jsonl")},
                                        path("data"));
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.contains(path("bad.jsonl") + ":2: no suite layout has the fields \"question\""), qPrintable(bad.err));
    }

    // The adapter learns a form the base never writes; the suite says so with intervals
    // apart, and each verdict agrees with the test's own reading of the answer.
    void adapterAboveBase()
    {
        std::string train;
        for (const auto& [instruction, output] : sftRows("train"))
            train += json{{"instruction", instruction}, {"output", "<answer>" + output + "</answer>"}}.dump() + "\n";
        writeText(path("tagged.jsonl"), train);
        std::string suite = json{{"suite", {{"name", "tagged"}, {"template", "alpaca"}, {"max_new_tokens", 48},
                                             {"verifier", "format"}, {"verifier_settings", {{"tag", "answer"}}}}}}
                                .dump() +
                            "\n";
        const auto eval = sftRows("eval");
        for (const auto& [instruction, output] : eval)
            suite += json{{"prompt", instruction}, {"reference", output}}.dump() + "\n";
        writeText(path("tagged-suite.jsonl"), suite);

        const json config{{"model", m_base},
                          {"output_dir", path("run").toStdString()},
                          {"technique", {{"name", "lora"}, {"r", 8}, {"lora_alpha", 16}, {"target_modules", {"all-linear"}}}},
                          {"objective", {{"name", "sft"}, {"template", "alpaca"}}},
                          {"data", {{"train", path("tagged.jsonl").toStdString()}}},
                          {"training", {{"max_seq_len", 96}, {"batch_size", 8}, {"max_steps", 150}, {"threads", 1},
                                        {"seed", 3}, {"optimizer", {{"lr", 5e-3}}}}},
                          {"eval", {{"every_steps", 0}}},
                          {"checkpoint", {{"every_steps", 0}}}};
        writeText(path("run.json"), config.dump());
        const auto trained = fttest::runCli({"train", "--config", path("run.json"), "--no-stdin", "--quiet"}, path("data"), 600000);
        QVERIFY2(trained.code == 0, qPrintable(trained.err));

        const QString project = path("p.ftproj");
        ft::data::ProjectStore::create(project.toStdString());
        const auto r = fttest::runCli({"eval", "--model", QString::fromStdString(m_base), "--suite", path("tagged-suite.jsonl"),
                                       "--adapter", path("run/adapter"), "--json", "--out", path("out.json"), "--project",
                                       project, "--threads", "1"},
                                      path("data"), 600000);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const json all = json::parse(r.out.toStdString());
        QCOMPARE(all["suites"].size(), size_t(1));
        const json& results = all["suites"][0]["results"];
        QCOMPARE(results.size(), size_t(2));
        QCOMPARE(results[0]["model"].get<std::string>(), std::string("base"));
        QCOMPARE(results[0]["template"].get<std::string>(), std::string("alpaca"));
        // One <answer> opened and closed once, with something in it: the test's own reading.
        const auto tagged = [](const QString& a) {
            const int open = a.indexOf("<answer>"), close = a.indexOf("</answer>");
            return a.count("<answer>") == 1 && a.count("</answer>") == 1 && close > open &&
                   !a.mid(open + 8, close - open - 8).trimmed().isEmpty();
        };
        double rates[2] = {0, 0};
        for (int m = 0; m < 2; ++m) {
            const json& items = results[size_t(m)]["items"];
            QCOMPARE(items.size(), eval.size());
            int passed = 0;
            for (const json& it : items) {
                const QString answer = QString::fromStdString(it["answer"].get<std::string>());
                const bool mine = tagged(answer);
                QVERIFY2(mine == it["passed"].get<bool>(), qPrintable(answer));
                QVERIFY(QString::fromStdString(it["prompt"].get<std::string>()).startsWith("### Instruction:\n"));
                passed += mine;
            }
            rates[m] = double(passed) / double(items.size());
            const json& pass = results[size_t(m)]["metrics"][0];
            QCOMPARE(pass["name"].get<std::string>(), std::string("pass"));
            QVERIFY(std::abs(pass["value"].get<double>() - rates[m]) < 1e-12);
        }
        const json& base = results[0]["metrics"][0];
        const json& adapter = results[1]["metrics"][0];
        qInfo("tagged answers: base %.3f [%.3f, %.3f], adapter %.3f [%.3f, %.3f] (n = %zu)", base["value"].get<double>(),
              base["low"].get<double>(), base["high"].get<double>(), adapter["value"].get<double>(),
              adapter["low"].get<double>(), adapter["high"].get<double>(), eval.size());
        QVERIFY2(adapter["low"].get<double>() > base["high"].get<double>(), "the 95% intervals overlap");

        // --out holds the same; the project holds one evaluation per model.
        QFile out(path("out.json"));
        QVERIFY(out.open(QIODevice::ReadOnly));
        QCOMPARE(json::parse(out.readAll().toStdString()), all);
        const auto store = ft::data::ProjectStore::open(project.toStdString());
        const auto evaluations = store->evaluations();
        QCOMPARE(evaluations.size(), size_t(2));
        const json stored = json::parse(evaluations[1].resultJson);
        QCOMPARE(evaluations[1].name, std::string("eval"));
        QCOMPARE(stored["suite"].get<std::string>(), std::string("tagged"));
        QCOMPARE(stored["model"].get<std::string>(), path("run/adapter").toStdString());
        QCOMPARE(stored["batch"], json::parse(evaluations[0].resultJson)["batch"]);
        QCOMPARE(stored["result"], results[1]);

        // The table names both models with their intervals.
        const auto table = fttest::runCli({"eval", "--model", QString::fromStdString(m_base), "--suite",
                                           path("tagged-suite.jsonl"), "--adapter", path("run/adapter"), "--limit", "3",
                                           "--items", "--threads", "1"},
                                          path("data"), 600000);
        QCOMPARE(table.code, 0);
        QVERIFY2(table.out.contains("3 items scored") && table.out.contains(path("run/adapter")) &&
                     table.out.contains("expected: "),
                 qPrintable(table.out));
    }

    // Suites scored while training: a "suite" event per suite and evaluation, the metrics
    // in the eval event as <suite>/<metric>, and the last figures equal to what `eval`
    // computes afterwards from the saved adapter.
    void suitesWhileTraining()
    {
        QVERIFY(QFileInfo::exists(path("tagged-suite.jsonl")));  // written by adapterAboveBase
        json config{{"model", m_base},
                    {"output_dir", path("run-suites").toStdString()},
                    {"technique", {{"name", "lora"}, {"r", 8}, {"lora_alpha", 16}, {"target_modules", {"all-linear"}}}},
                    {"objective", {{"name", "sft"}, {"template", "alpaca"}}},
                    {"data", {{"train", path("tagged.jsonl").toStdString()}}},
                    {"training", {{"max_seq_len", 96}, {"batch_size", 8}, {"max_steps", 100}, {"threads", 1},
                                  {"seed", 5}, {"optimizer", {{"lr", 5e-3}}}}},
                    {"eval", {{"every_steps", 50}, {"max_batches", 1},
                              {"suites", {path("tagged-suite.jsonl").toStdString(), "capitals_choice"}},
                              {"suite_limit", 10}}},
                    {"checkpoint", {{"every_steps", 0}}}};
        writeText(path("run-suites.json"), config.dump());
        const auto trained = fttest::runCli({"train", "--config", path("run-suites.json"), "--no-stdin", "--quiet",
                                             "--events", path("events.jsonl")},
                                            path("data"), 600000);
        QVERIFY2(trained.code == 0, qPrintable(trained.err));
        QFile f(path("events.jsonl"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        std::map<int, json> suiteEvents, evalEvents;  // tagged suite by step; eval by step
        int capitals = 0;
        json lastCapitals;
        for (const QByteArray& line : f.readAll().split('\n')) {
            if (line.trimmed().isEmpty())
                continue;
            const json e = json::parse(line.toStdString());
            if (e["event"] == "suite" && e["suite"] == "tagged")
                suiteEvents[e["step"].get<int>()] = e;
            if (e["event"] == "suite" && e["suite"] == "capitals_choice") {
                ++capitals;
                lastCapitals = e["metrics"];
                QCOMPARE(e["template"].get<std::string>(), std::string("none"));  // the suite's own
                QCOMPARE(e["metrics"][1]["name"].get<std::string>(), std::string("acc_norm"));
            }
            if (e["event"] == "eval")
                evalEvents[e["step"].get<int>()] = e;
        }
        QCOMPARE(capitals, 3);
        for (int step : {0, 50, 100}) {
            QVERIFY2(suiteEvents.count(step) && evalEvents.count(step), qPrintable(QString::number(step)));
            const json& se = suiteEvents[step];
            QCOMPARE(se["items"].get<int>(), 10);
            QCOMPARE(se["template"].get<std::string>(), std::string("alpaca"));
            QCOMPARE(evalEvents[step]["metrics"]["tagged/pass"].get<double>(), se["metrics"][0]["value"].get<double>());
            QVERIFY(evalEvents[step]["metrics"].contains("capitals_choice/acc"));
            QVERIFY(evalEvents[step].contains("loss"));
        }
        const auto after = fttest::runCli({"eval", "--model", QString::fromStdString(m_base), "--suite",
                                           path("tagged-suite.jsonl"), "--suite", "capitals_choice", "--adapter",
                                           path("run-suites/adapter"), "--no-base", "--limit", "10", "--json",
                                           "--threads", "1"},
                                          path("data"), 600000);
        QVERIFY2(after.code == 0, qPrintable(after.err));
        const json offline = json::parse(after.out.toStdString())["suites"][0]["results"][0]["metrics"];
        qInfo("tagged pass while training: %.2f, %.2f, %.2f; from the saved adapter: %.2f",
              suiteEvents[0]["metrics"][0]["value"].get<double>(), suiteEvents[50]["metrics"][0]["value"].get<double>(),
              suiteEvents[100]["metrics"][0]["value"].get<double>(), offline[0]["value"].get<double>());
        QCOMPARE(offline, suiteEvents[100]["metrics"]);
        QVERIFY2(suiteEvents[100]["metrics"][0]["value"].get<double>() > suiteEvents[0]["metrics"][0]["value"].get<double>(),
                 "the suite's pass rate did not move while training");
        const json offlineCapitals = json::parse(after.out.toStdString())["suites"][1]["results"][0]["metrics"];
        QCOMPARE(offlineCapitals, lastCapitals);
    }

    // generate --template renders the prompt as the suites do; --show-prompt says how.
    void generateThroughATemplate()
    {
        const auto r = fttest::runCli({"generate", "--model", QString::fromStdString(m_base), "--prompt", "Add 2 and 3.",
                                       "--template", "alpaca", "--show-prompt", "--no-echo", "--max-new-tokens", "4"},
                                      path("data"));
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.err.contains("rendered prompt: \"### Instruction:\\nAdd 2 and 3.\\n### Response:\\n\""),
                 qPrintable(r.err));
        QVERIFY(!r.out.contains("### Instruction"));
        const auto raw = fttest::runCli({"generate", "--model", QString::fromStdString(m_base), "--prompt", "Add 2 and 3.",
                                         "--max-new-tokens", "4"},
                                        path("data"));
        QVERIFY(raw.out.startsWith("Add 2 and 3."));
        const auto bad = fttest::runCli({"generate", "--model", QString::fromStdString(m_base), "--prompt", "x",
                                         "--template", "vicuna"},
                                        path("data"));
        QCOMPARE(bad.code, 1);
        QVERIFY(bad.err.contains("unknown prompt template 'vicuna'"));
    }

    // Synthetic data: answers for prompts (distillation) equal generate's for the same
    // prompt, template and seed; a second run resumes; verified pairs really pass and fail.
    void syntheticData()
    {
        const QString project = path("synthetic.ftproj");
        ft::data::ProjectStore::create(project.toStdString());
        const QString model = QString::fromStdString(m_base);
        QCOMPARE(fttest::runCli({"data", "import", "--project", project, "--dataset", "prompts", "--file",
                                 QString::fromStdString(ft::datasetsDir() + "/sft/instructions.jsonl")},
                                path("data"))
                     .code,
                 0);
        QCOMPARE(fttest::runCli({"data", "import", "--project", project, "--dataset", "math", "--file",
                                 QString::fromStdString(ft::datasetsDir() + "/align/verifiable.jsonl")},
                                path("data"))
                     .code,
                 0);
        const QStringList common{"--model", model, "--template", "alpaca", "--max-new-tokens", "12", "--threads", "1"};
        const auto first = fttest::runCli(QStringList{"data", "generate", "--project", project, "--from", "prompts", "--to",
                                                      "distilled", "--limit", "6"} + common,
                                          path("data"), 300000);
        QVERIFY2(first.code == 0, qPrintable(first.err));
        QVERIFY2(first.out.startsWith("6 rows made in 'distilled'"), qPrintable(first.out));
        const auto again = fttest::runCli(QStringList{"data", "generate", "--project", project, "--from", "prompts", "--to",
                                                      "distilled", "--limit", "8"} + common,
                                          path("data"), 300000);
        QVERIFY2(again.out.startsWith("2 rows made in 'distilled' from 8 prompts of 'prompts' (6 already made earlier)"),
                 qPrintable(again.out));
        const auto store = ft::data::ProjectStore::open(project.toStdString());
        ft::data::RowQuery q;
        q.datasetId = store->requireDataset("distilled").id;
        const auto rows = store->query(q);
        QCOMPARE(rows.size(), size_t(8));
        // The first answer, made again by generate with the same settings.
        const std::string instruction = rows[0].fields["instruction"].get<std::string>();
        const auto by = fttest::runCli({"generate", "--model", model, "--prompt", QString::fromStdString(instruction),
                                        "--template", "alpaca", "--no-echo", "--max-new-tokens", "12", "--temperature",
                                        "0.8", "--top-p", "0.95", "--seed", "1", "--threads", "1"},
                                       path("data"));
        QVERIFY2(by.code == 0, qPrintable(by.err));
        QCOMPARE(QString::fromStdString(rows[0].fields["output"].get<std::string>()), by.out.chopped(1));
        QVERIFY(std::find(rows[0].tags.begin(), rows[0].tags.end(), "generated") != rows[0].tags.end());

        const auto pairs = fttest::runCli(QStringList{"data", "generate", "--project", project, "--mode", "pairs",
                                                      "--from", "math", "--to", "onpolicy", "--limit", "30", "--samples",
                                                      "6", "--temperature", "1.0"} + common,
                                          path("data"), 300000);
        QVERIFY2(pairs.code == 0, qPrintable(pairs.err));
        qInfo("%s", qPrintable(pairs.out.trimmed()));
        ft::data::RowQuery pq;
        pq.datasetId = store->requireDataset("onpolicy").id;
        const auto made = ft::data::ProjectStore::open(project.toStdString())->query(pq);
        QVERIFY(!made.empty());
        ft::data::RowQuery mq;
        mq.datasetId = store->requireDataset("math").id;
        mq.limit = 1000;
        const auto math = store->query(mq);
        for (const auto& r : made) {
            const std::string src = r.tags[0].substr(7);  // source:<id>
            const auto it = std::find_if(math.begin(), math.end(), [&](const auto& m) { return std::to_string(m.id) == src; });
            QVERIFY(it != math.end());
            const auto v = ft::eval::makeVerifier(it->fields["verifier"].get<std::string>(),
                                                  it->fields.value("verifier_settings", json::object()));
            const std::string ref = it->fields["reference"].get<std::string>();
            QVERIFY(v->score(r.fields["chosen"].get<std::string>(), ref).passed);
            QVERIFY(!v->score(r.fields["rejected"].get<std::string>(), ref).passed);
            QCOMPARE(r.fields["prompt"], it->fields["prompt"]);
            QCOMPARE(r.labelSource, ft::data::LabelSource::AI);
        }
        const auto wrong = fttest::runCli(QStringList{"data", "generate", "--project", project, "--mode", "pairs",
                                                      "--from", "prompts", "--to", "x"} + common,
                                          path("data"));
        QCOMPARE(wrong.code, 1);
        QVERIFY(wrong.err.contains("holds instruction rows, not verifiable ones"));

        // Pairs ranked by a judge model (here the base itself), from instruction prompts.
        const auto judged = fttest::runCli(QStringList{"data", "generate", "--project", project, "--mode", "pairs",
                                                       "--from", "prompts", "--to", "judged", "--limit", "10",
                                                       "--samples", "4", "--temperature", "1.2", "--judge", model,
                                                       "--judge-threshold", "0.5"} + common,
                                           path("data"), 300000);
        QVERIFY2(judged.code == 0, qPrintable(judged.err));
        qInfo("%s", qPrintable(judged.out.trimmed()));
        ft::data::RowQuery jq;
        jq.datasetId = store->requireDataset("judged").id;
        const auto byJudge = ft::data::ProjectStore::open(project.toStdString())->query(jq);
        QVERIFY(byJudge.size() >= 5);
        const std::string judgeName = "ai:" + QFileInfo(model).fileName().toStdString();
        for (const auto& r : byJudge) {
            QCOMPARE(r.labelSource, ft::data::LabelSource::AI);
            QCOMPARE(r.annotator, judgeName);
            QVERIFY(r.confidence && *r.confidence >= 0.5 && *r.confidence <= 1.0);
            QVERIFY(r.fields["chosen"] != r.fields["rejected"]);
        }
        // The judge command, asked afresh about every stored pair, keeps each one's order.
        const auto relabel = fttest::runCli({"judge", "--in", project + "#judged", "--model", model, "--threshold",
                                             "0.5", "--template", "alpaca", "--threads", "1"},
                                            path("data"), 300000);
        QVERIFY2(relabel.code == 0, qPrintable(relabel.err));
        QVERIFY2(relabel.out.contains(QString("labelled %1 of %1 pairs").arg(byJudge.size())) &&
                     relabel.out.contains("; 0 had chosen and rejected swapped"),
                 qPrintable(relabel.out));
        // The round robin: a response's score is its mean probability of beating each other one.
        auto tokenizer = ft::tok::loadTokenizer(m_base);
        auto loaded = ft::model::loadModelFolder(m_base, {});
        loaded.model->eval();
        ft::align::AiJudge judge(loaded.model, *tokenizer, {});
        const std::string prompt = "Add 2 and 3.";
        const std::vector<std::string> answers{"5", "6", "The answer is 5.", "2 and 3"};
        const ft::align::Ranking ranking = ft::align::rankResponses(judge, prompt, answers);
        std::vector<double> expected(answers.size(), 0.0);
        for (size_t i = 0; i < answers.size(); ++i)
            for (size_t j = 0; j < answers.size(); ++j)
                if (i != j)  // each ordered pair judged on its own
                    expected[i] += judge.judge({prompt}, {answers[i]}, {answers[j]})[0].preferFirst / 3.0;
        for (size_t i = 0; i < answers.size(); ++i)
            QVERIFY2(std::abs(ranking.scores[i] - expected[i]) < 1e-6,
                     qPrintable(QString("%1: %2 vs %3").arg(i).arg(ranking.scores[i]).arg(expected[i])));
        QCOMPARE(ranking.best, size_t(std::max_element(expected.begin(), expected.end()) - expected.begin()));
        QCOMPARE(ranking.worst, size_t(std::min_element(expected.begin(), expected.end()) - expected.begin()));
        const auto direct = judge.judge({prompt}, {answers[ranking.best]}, {answers[ranking.worst]})[0];
        QVERIFY(std::abs(ranking.bestOverWorst.preferFirst - direct.preferFirst) < 1e-6);
        QVERIFY(std::abs(ranking.bestOverWorst.firstShownFirst - direct.firstShownFirst) < 1e-6);
        QVERIFY(fttest::errorOf([&] { ft::align::rankResponses(judge, prompt, {"5"}); }).contains("at least two"));
        const auto notPairs = fttest::runCli(QStringList{"data", "generate", "--project", project, "--from", "prompts",
                                                         "--to", "y", "--judge", model} + common,
                                             path("data"));
        QCOMPARE(notPairs.code, 2);
        QVERIFY(notPairs.err.contains("--judge ranks the answers of --mode pairs"));
        // A judge folder that is not there: a clear error, and no empty target dataset left behind.
        const auto noJudge = fttest::runCli(QStringList{"data", "generate", "--project", project, "--mode", "pairs",
                                                        "--from", "prompts", "--to", "ghost", "--judge",
                                                        path("no-such-model")} + common,
                                            path("data"));
        QCOMPARE(noJudge.code, 1);
        QVERIFY2(noJudge.err.contains("no-such-model") && noJudge.err.contains("does not exist"),
                 qPrintable(noJudge.err));
        QVERIFY(!ft::data::ProjectStore::open(project.toStdString())->dataset("ghost"));
    }

    // The perplexity suite and the perplexity command score the same ids alike.
    void perplexityAgreesWithThePerplexityCommand()
    {
        const std::string text = "Paris is the capital of France. France is in Europe.\nThe cat sleeps.";
        writeText(path("ppl.jsonl"), json{{"text", text}}.dump() + "\n");
        const QString model = QString::fromStdString(m_base);
        const auto e = fttest::runCli({"eval", "--model", model, "--suite", path("ppl.jsonl"), "--json", "--threads", "1"},
                                      path("data"));
        QVERIFY2(e.code == 0, qPrintable(e.err));
        const auto p = fttest::runCli({"perplexity", "--model", model, "--text-file", path("ppl.jsonl") + ".txt", "--json"},
                                      path("data"));
        QCOMPARE(p.code, 1);  // no such file yet: the message names it
        QVERIFY(p.err.contains("ppl.jsonl.txt"));
        writeText(path("ppl.jsonl") + ".txt", text);
        const auto q = fttest::runCli({"perplexity", "--model", model, "--text-file", path("ppl.jsonl") + ".txt", "--json",
                                       "--threads", "1"},
                                      path("data"));
        QVERIFY2(q.code == 0, qPrintable(q.err));
        const json ej = json::parse(e.out.toStdString())["suites"][0]["results"][0];
        const json pj = json::parse(q.out.toStdString());
        QCOMPARE(ej["items"][0]["tokens"].get<int64_t>(), pj["tokens"].get<int64_t>());
        QVERIFY(std::abs(ej["items"][0]["nll"].get<double>() - pj["nll"].get<double>()) < 1e-3);
        QVERIFY(std::abs(ej["metrics"][0]["value"].get<double>() - pj["perplexity"].get<double>()) < 1e-4);
    }
};

FT_TEST_MAIN(TestCliEval)

} // namespace test_cli_eval

#include "test_cli_eval.moc"
