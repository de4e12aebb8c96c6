// ftstudio-cli train and adapter, end to end as a user (or the GUI) drives them:
// help and schema, a config with mistakes, a run streaming JSON-lines events on
// stdout, pause/resume through stdin, SIGTERM saving a checkpoint, SIGKILL at an
// arbitrary moment followed by --resume, and adapter info/merge on the result.
#include "small_base.h"
#include "test_support.h"
#include "data/project_store.h"
#include "train/events.h"
#include "util/paths.h"

#include "test_main.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <csignal>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_cli_train {

using nlohmann::json;

class TestCliTrain : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string m_base;

    QString writeConfig(const QString& name, int64_t steps, int64_t checkpointEvery, const json& extra = json::object())
    {
        json j{{"model", m_base},
               {"output_dir", m_dir.filePath(name).toStdString()},
               {"technique", {{"name", "lora"}, {"r", 4}}},
               {"data", {{"train", ft::datasetsDir() + "/sft/instructions.jsonl"}}},
               {"training", {{"max_seq_len", 96}, {"batch_size", 4}, {"max_steps", steps}, {"threads", 1},
                             {"optimizer", {{"lr", 3e-3}}}}},
               {"eval", {{"every_steps", 0}, {"max_batches", 2}}},
               {"checkpoint", {{"every_steps", checkpointEvery}}}};
        j.merge_patch(extra);
        const QString path = m_dir.filePath(name + ".json");
        QFile f(path);
        f.open(QIODevice::WriteOnly);
        f.write(QByteArray::fromStdString(j.dump(2)));
        return path;
    }

    // Starts `train` with events on stdout; the caller drives it.
    void start(QProcess& p, const QStringList& args)
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("FTSTUDIO_DATA_DIR", m_dir.filePath("data"));
        p.setProcessEnvironment(env);
        p.start(qEnvironmentVariable("FTSTUDIO_CLI"), QStringList{"train", "--events", "-"} + args);
        QVERIFY(p.waitForStarted());
    }

    // Reads events until one satisfies `until` (or the process ends); all are returned.
    std::vector<json> readUntil(QProcess& p, const std::function<bool(const json&)>& until, int timeoutMs = 120000)
    {
        std::vector<json> events;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < timeoutMs) {
            while (p.canReadLine()) {
                const QByteArray line = p.readLine();
                events.push_back(json::parse(line.toStdString()));
                if (until(events.back()))
                    return events;
            }
            if (p.state() == QProcess::NotRunning && !p.canReadLine())
                break;
            p.waitForReadyRead(200);
        }
        return events;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_base = fttest::smallBaseModel();
    }

    void helpAndSchema()
    {
        auto help = fttest::runCli({"train", "--help"}, m_dir.path());
        QCOMPARE(help.code, 0);
        QVERIFY(help.out.contains("--config") && help.out.contains("--events") && help.out.contains("--resume"));
        auto schema = fttest::runCli({"train", "--schema"}, m_dir.path());
        QCOMPARE(schema.code, 0);
        const json j = json::parse(schema.out.toStdString());
        QVERIFY(j.dump().find("lora_alpha") != std::string::npos);
        auto adapterHelp = fttest::runCli({"adapter", "--help"}, m_dir.path());
        QCOMPARE(adapterHelp.code, 0);
        QVERIFY(adapterHelp.out.contains("merge"));
    }

    void badConfigListsEveryProblem()
    {
        const QString path = writeConfig("bad", 0, 0, {{"technique", {{"r", 0}}}, {"training", {{"batch_sise", 2}}}});
        auto r = fttest::runCli({"train", "--config", path}, m_dir.path());
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("technique.r") && r.err.contains("training.batch_sise") && r.err.contains("max_steps"),
                 qPrintable(r.err));
    }

    // `train --estimate` (what the Train page shows before a run) counts exactly what the
    // run then trains, and says when the memory will not fit; data and output_dir may be missing.
    void estimateMatchesTheRun()
    {
        for (const char* technique : {"lora", "qlora", "ia3", "ptuning", "freeze"}) {
            json extra{{"technique", {{"name", technique}}}};
            if (std::string(technique) != "lora" && std::string(technique) != "qlora")
                extra["technique"]["r"] = nullptr;
            const QString config = writeConfig(QString("estimate-") + technique, 1, 0, extra);
            auto estimate = fttest::runCli({"train", "--estimate", "--json", "--config", config}, m_dir.path());
            QVERIFY2(estimate.code == 0, qPrintable(estimate.err));
            const json e = json::parse(estimate.out.toStdString());
            auto run = fttest::runCli({"train", "--config", config, "--events", "-", "--quiet", "--no-stdin"},
                                      m_dir.path(), 300000);
            QVERIFY2(run.code == 0, qPrintable(run.err));
            json started;
            for (const QString& line : run.out.split('\n', Qt::SkipEmptyParts))
                if (const json j = json::parse(line.toStdString()); j["event"] == "started")
                    started = j;
            QCOMPARE(e["parameters"]["trainable"].get<int64_t>(), started["parameters"]["trainable"].get<int64_t>());
            QCOMPARE(e["parameters"]["total"].get<int64_t>(), started["parameters"]["total"].get<int64_t>());
            const double estimated = e["memory_estimate"]["total"].get<double>();
            const double engine = started["memory_estimate"]["total"].get<double>();
            QVERIFY2(std::abs(estimated - engine) <= 0.02 * engine,
                     qPrintable(QString("%1: %2 vs %3").arg(technique).arg(estimated).arg(engine)));
            QVERIFY(e["available_bytes"].get<int64_t>() > 0 && e["fits"].get<bool>());
        }
        json partial{{"model", m_base}, {"technique", {{"name", "lora"}}},
                     {"training", {{"batch_size", 4096}, {"max_seq_len", 131072}}}};
        const QString path = m_dir.filePath("estimate-partial.json");
        QFile f(path);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::fromStdString(partial.dump()));
        f.close();
        auto huge = fttest::runCli({"train", "--estimate", "--config", path}, m_dir.path());
        QVERIFY2(huge.code == 0 && huge.out.contains("will not fit"), qPrintable(huge.out + huge.err));
        partial["technique"]["target_modules"] = {"nope_proj"};
        QFile g(path);
        QVERIFY(g.open(QIODevice::WriteOnly | QIODevice::Truncate));
        g.write(QByteArray::fromStdString(partial.dump()));
        g.close();
        auto bad = fttest::runCli({"train", "--estimate", "--config", path}, m_dir.path());
        QVERIFY2(bad.code == 1 && bad.err.contains("nope_proj") && bad.err.contains("q_proj"), qPrintable(bad.err));
    }

    void eventsPauseResumeAndFinish()
    {
        QProcess p;
        start(p, {"--config", writeConfig("events", 8, 0)});
        auto events = readUntil(p, [](const json& e) { return e["event"] == "step"; });
        p.write("pause\n");
        auto more = readUntil(p, [](const json& e) { return e["event"] == "paused"; });
        events.insert(events.end(), more.begin(), more.end());
        QVERIFY2(!more.empty() && more.back()["event"] == "paused", "pause through stdin");
        p.write("resume\n");
        more = readUntil(p, [](const json& e) { return e["event"] == "finished"; });
        events.insert(events.end(), more.begin(), more.end());
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        bool resumed = false;
        for (const auto& e : events) {
            QVERIFY2(ft::train::validateEvent(e).empty(), e.dump().c_str());
            resumed = resumed || e["event"] == "resumed";
        }
        QVERIFY(resumed);
        QCOMPARE(QString::fromStdString(events.back()["event"]), QString("finished"));
        QCOMPARE(events.back()["step"].get<int>(), 8);
    }

    void sigtermSavesACheckpoint()
    {
        QProcess p;
        start(p, {"--config", writeConfig("term", 400, 0), "--no-stdin"});
        readUntil(p, [](const json& e) { return e["event"] == "step" && e["step"] == 2; });
        ::kill(pid_t(p.processId()), SIGTERM);
        auto rest = readUntil(p, [](const json& e) { return e["event"] == "finished"; });
        QVERIFY(p.waitForFinished(60000));
        QCOMPARE(p.exitCode(), 0);
        QVERIFY(!rest.empty());
        QCOMPARE(QString::fromStdString(rest.back().value("status", "")), QString("stopped"));
        QVERIFY(QDir(m_dir.filePath("term")).entryList({"checkpoint-*"}, QDir::Dirs).size() == 1);
    }

    void sigkillThenResumeFinishes()
    {
        const QString config = writeConfig("kill", 24, 3);
        QProcess p;
        start(p, {"--config", config, "--no-stdin"});
        // Killed right after a checkpoint event, while the next steps (and possibly the
        // next checkpoint write) are under way.
        readUntil(p, [](const json& e) { return e["event"] == "checkpoint" && e["step"] == 6; });
        p.kill();
        p.waitForFinished();
        QProcess again;
        start(again, {"--config", config, "--resume", "--no-stdin"});
        auto events = readUntil(again, [](const json& e) { return e["event"] == "finished"; });
        QVERIFY(again.waitForFinished(60000));
        QCOMPARE(again.exitCode(), 0);
        bool resumedLog = false;
        int firstStep = -1;
        for (const auto& e : events) {
            if (e["event"] == "log" && e["message"].get<std::string>().find("resumed from") != std::string::npos)
                resumedLog = true;
            if (e["event"] == "step" && firstStep < 0)
                firstStep = e["step"].get<int>();
        }
        QVERIFY(resumedLog);
        QVERIFY2(firstStep > 6, "continues after the checkpoint, not from the start");
        QCOMPARE(events.back()["step"].get<int>(), 24);
    }

    void adapterInfoAndMerge()
    {
        const QString config = writeConfig("merge", 4, 0);
        auto trained = fttest::runCli({"train", "--config", config, "--quiet", "--no-stdin"}, m_dir.path(), 300000);
        QCOMPARE(trained.code, 0);
        const QString adapter = m_dir.filePath("merge/adapter");
        auto info = fttest::runCli({"adapter", "info", "--adapter", adapter, "--json"}, m_dir.path());
        QCOMPARE(info.code, 0);
        const json j = json::parse(info.out.toStdString());
        QCOMPARE(QString::fromStdString(j["peft_type"]), QString("LORA"));
        // r = 4 on q, k, v, o of 2 layers: 2 * (4 * (64 + 64) * 2 + 4 * (64 + 32) * 2) = hand count
        QCOMPARE(j["parameters"].get<int64_t>(), int64_t(2 * (4 * (64 + 64) * 2 + 4 * (64 + 32) * 2)));
        const QString out = m_dir.filePath("merged");
        auto merged = fttest::runCli({"adapter", "merge", "--adapter", adapter, "--out", out}, m_dir.path(), 300000);
        QVERIFY2(merged.code == 0, qPrintable(merged.err));
        QVERIFY(QFile::exists(out + "/model.safetensors") && QFile::exists(out + "/tokenizer.model"));
        auto gen = fttest::runCli({"generate", "--model", out, "--prompt", "What is 2 + 3?", "--max-new-tokens", "4"},
                                  m_dir.path());
        QVERIFY2(gen.code == 0, qPrintable(gen.err));
        auto again = fttest::runCli({"adapter", "merge", "--adapter", adapter, "--out", out}, m_dir.path());
        QCOMPARE(again.code, 1);
        QVERIFY(again.err.contains("not empty"));
    }

    void alignmentToolsEndToEnd()
    {
        // Every objective's step time, measured by running the engine.
        auto bench = fttest::runCli({"bench", "--model", QString::fromStdString(m_base), "--steps", "2", "--techniques",
                                     "none", "--rollout-prompts", "0", "--objectives", "--threads", "1"},
                                    m_dir.path(), 300000);
        QVERIFY2(bench.code == 0, qPrintable(bench.err));
        for (const char* o : {"sft", "reward", "dpo", "ipo", "simpo", "orpo", "kto", "ppo", "grpo/rlvr"})
            QVERIFY2(bench.out.contains(QString("\n") + o + " "), qPrintable(bench.out));

        // A reward model trained from the CLI scores text; a folder without a head is refused.
        const QString config =
            writeConfig("rm", 2, 0, {{"objective", {{"name", "reward"}}},
                                     {"data", {{"train", ft::datasetsDir() + "/align/reward_pairs.jsonl"}}}});
        auto trained = fttest::runCli({"train", "--config", config, "--quiet", "--no-stdin"}, m_dir.path(), 300000);
        QVERIFY2(trained.code == 0, qPrintable(trained.err));
        auto scored = fttest::runCli({"reward", "--reward-model", m_dir.filePath("rm/adapter"), "--prompt", "Add 2 and 3.",
                                      "--response", "5", "--response", "5 5 5 5", "--json"},
                                     m_dir.path());
        QVERIFY2(scored.code == 0, qPrintable(scored.err));
        QCOMPARE(int(json::parse(scored.out.toStdString())["scores"].size()), 2);
        auto notReward = fttest::runCli({"reward", "--reward-model", m_dir.path(), "--prompt", "x", "--response", "y"},
                                        m_dir.path());
        QCOMPARE(notReward.code, 1);
        QVERIFY2(notReward.err.contains("is not a reward model"), qPrintable(notReward.err));

        // RLAIF labelling writes every pair back with its label source and confidence.
        const QString labelled = m_dir.filePath("labelled.jsonl");
        auto judged = fttest::runCli({"judge", "--in", QString::fromStdString(ft::datasetsDir() + "/align/reward_pairs.jsonl"),
                                      "--out", labelled, "--model", QString::fromStdString(m_base), "--threshold", "0.5"},
                                     m_dir.path(), 300000);
        QVERIFY2(judged.code == 0, qPrintable(judged.err));
        QVERIFY2(judged.out.contains("labelled 360 of 360 pairs"), qPrintable(judged.out));
        QFile file(labelled);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(file.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 360);
        const json first = json::parse(lines.front().toStdString());
        QCOMPARE(QString::fromStdString(first["label_source"]), QString("ai"));
        QVERIFY(first.contains("confidence") && first.contains("annotator"));
        // The threshold decides: on the first 40 pairs, a threshold between two of the
        // confidences above labels exactly the pairs at or above it and leaves the rest
        // to a person (at 0.5 every pair passes: the judge's confidence is never below it).
        std::vector<double> confidences;
        QFile in(QString::fromStdString(ft::datasetsDir() + "/align/reward_pairs.jsonl"));
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QStringList inputLines = QString::fromUtf8(in.readAll()).split('\n', Qt::SkipEmptyParts);
        QFile subset(m_dir.filePath("pairs40.jsonl"));
        QVERIFY(subset.open(QIODevice::WriteOnly));
        for (int i = 0; i < 40; ++i) {
            subset.write((inputLines[i] + "\n").toUtf8());
            confidences.push_back(json::parse(lines[i].toStdString())["confidence"].get<double>());
        }
        subset.close();
        std::vector<double> sorted = confidences;
        std::sort(sorted.begin(), sorted.end());
        QVERIFY2(sorted.front() >= 0.5 && sorted.back() > sorted[20], "confidences spread above 0.5");
        const double threshold = (sorted[20] + sorted[21]) / 2;  // 19 or 20 pairs pass, ties aside
        int64_t above = 0;
        for (double c : confidences)
            above += c >= threshold ? 1 : 0;
        const QString strict = m_dir.filePath("labelled40.jsonl");
        auto picky = fttest::runCli({"judge", "--in", m_dir.filePath("pairs40.jsonl"), "--out", strict, "--model",
                                     QString::fromStdString(m_base), "--threshold", QString::number(threshold, 'g', 17)},
                                    m_dir.path(), 300000);
        QVERIFY2(picky.code == 0, qPrintable(picky.err));
        QVERIFY2(picky.out.contains(QString("labelled %1 of 40 pairs").arg(above)), qPrintable(picky.out));
        QVERIFY(above > 0 && above < 40);
        QFile strictFile(strict);
        QVERIFY(strictFile.open(QIODevice::ReadOnly));
        const QStringList strictLines = QString::fromUtf8(strictFile.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(strictLines.size(), 40);
        for (int i = 0; i < 40; ++i) {
            const json row = json::parse(strictLines[i].toStdString());
            const bool ai = row.value("label_source", std::string()) == "ai";
            QVERIFY2(ai == (confidences[size_t(i)] >= threshold), qPrintable(strictLines[i]));
        }
        // Above the largest confidence, nothing is labelled.
        QVERIFY(sorted.back() < 1.0);  // else no threshold (at most 1) is above it
        auto none = fttest::runCli({"judge", "--in", m_dir.filePath("pairs40.jsonl"), "--out", m_dir.filePath("none40.jsonl"),
                                    "--model", QString::fromStdString(m_base), "--threshold",
                                    QString::number(std::nextafter(sorted.back(), 2.0), 'g', 17)},
                                   m_dir.path(), 300000);
        QVERIFY2(none.code == 0, qPrintable(none.err));
        QVERIFY2(none.out.contains("labelled 0 of 40 pairs"), qPrintable(none.out));
        auto usage = fttest::runCli({"judge", "--in", "pairs.jsonl"}, m_dir.path());
        QCOMPARE(usage.code, 2);
    }

    // The judge on a project dataset never touches a pair a person labelled, and its
    // whole judgement is one undo step.
    void judgeLeavesHumanLabels()
    {
        const QString project = m_dir.filePath("judge.db");
        int64_t humanId = 0;
        {
            auto store = ft::data::ProjectStore::create(project.toStdString());
            const int64_t ds = store->createDataset("pairs", ft::data::DatasetKind::Preference);
            for (int i = 0; i < 4; ++i) {
                ft::data::Row row;
                row.fields = {{"prompt", "What is " + std::to_string(i) + " + 2?"},
                              {"chosen", std::to_string(i + 2)}, {"rejected", "I do not know."}};
                const int64_t id = store->insertRow(ds, row);
                if (i == 0) {
                    ft::data::Row human = *store->row(id);
                    std::swap(human.fields["chosen"], human.fields["rejected"]);  // a person's odd choice
                    human.labelSource = ft::data::LabelSource::Human;
                    human.annotator = "alice";
                    store->updateRow(human);
                    humanId = id;
                }
            }
        }
        auto before = ft::data::ProjectStore::open(project.toStdString())->row(humanId);
        auto judged = fttest::runCli({"judge", "--in", project + "#pairs", "--model", QString::fromStdString(m_base),
                                      "--threshold", "0.5"}, m_dir.path(), 300000);
        QCOMPARE(judged.code, 0);
        QVERIFY2(judged.out.contains("of 3 pairs") && judged.out.contains("1 labelled by people left as they were"),
                 qPrintable(judged.out));
        auto store = ft::data::ProjectStore::open(project.toStdString());
        QVERIFY(*store->row(humanId) == *before);
        QCOMPARE(QString::fromStdString(store->undoLabel()), QString("edit 3 rows"));  // one step for the judgement
        store->undo();
        QCOMPARE(QString::fromStdString(store->undoLabel()), QString("insert row 4"));
    }

    // tokenize and chat: a copy of the base with a Llama-2-like chat template; the
    // rendered prompt is exact, "<s>" becomes the single BOS id (sentencepiece would
    // otherwise spell it out) and the rest equals the plain encoding of the text.
    void tokenizeAndChat()
    {
        const QString model = m_dir.filePath("chat-model");
        QVERIFY(QDir().mkpath(model));
        for (const QString& f : QDir(QString::fromStdString(m_base)).entryList(QDir::Files))
            QVERIFY(QFile::copy(QString::fromStdString(m_base) + "/" + f, model + "/" + f));
        json config{{"bos_token", "<s>"}, {"eos_token", "</s>"},
                    {"chat_template", "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}<<SYS>>"
                                      "{{ m['content'] }}<</SYS>>{% elif m['role'] == 'user' %}[INST] {{ m['content'] }}"
                                      " [/INST]{% else %}{{ m['content'] }}{{ eos_token }}{% endif %}{% endfor %}"}};
        QFile::remove(model + "/tokenizer_config.json");
        QFile cfg(model + "/tokenizer_config.json");
        QVERIFY(cfg.open(QIODevice::WriteOnly));
        cfg.write(QByteArray::fromStdString(config.dump()));
        cfg.close();

        auto rendered = fttest::runCli({"chat", "--model", model, "--system", "S", "--user", "hi", "--render-only"}, m_dir.path());
        QCOMPARE(rendered.code, 0);
        const QStringList lines = rendered.out.split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.value(0), QString("<s><<SYS>>S<</SYS>>[INST] hi [/INST]"));
        const QStringList ids = lines.value(1).section(':', 1).split(' ', Qt::SkipEmptyParts);
        auto plain = fttest::runCli({"tokenize", "--model", model, "--no-special", "--json", "--text",
                                     "<<SYS>>S<</SYS>>[INST] hi [/INST]"}, m_dir.path());
        QCOMPARE(plain.code, 0);
        const json p = json::parse(plain.out.toStdString());
        QStringList expected{"1"};
        for (int id : p["ids"])
            expected << QString::number(id);
        QCOMPARE(ids, expected);

        auto withBos = fttest::runCli({"tokenize", "--model", model, "--json", "--text", "hi"}, m_dir.path());
        const json w = json::parse(withBos.out.toStdString());
        QCOMPARE(int(w["ids"][0]), 1);
        QVERIFY(QString::fromStdString(w["decoded"]).endsWith("hi"));
        // An empty text is a text: Llama's tokenizer gives only BOS, and nothing without special tokens.
        auto empty = fttest::runCli({"tokenize", "--model", model, "--json", "--text", ""}, m_dir.path());
        QCOMPARE(empty.code, 0);
        QCOMPARE(json::parse(empty.out.toStdString())["ids"], json::array({1}));
        auto emptyPlain = fttest::runCli({"tokenize", "--model", model, "--json", "--no-special", "--text", ""}, m_dir.path());
        QCOMPARE(json::parse(emptyPlain.out.toStdString())["ids"], json::array());
        QCOMPARE(fttest::runCli({"tokenize", "--model", model}, m_dir.path()).code, 2);

        auto answered = fttest::runCli({"chat", "--model", model, "--user", "What is 2 + 3?", "--max-new-tokens", "4"}, m_dir.path());
        QCOMPARE(answered.code, 0);
        QVERIFY2(answered.err.contains("+ 4 new tokens") || answered.err.contains("stopped: eos"), qPrintable(answered.err));
        auto bad = fttest::runCli({"chat", "--render-only"}, m_dir.path());
        QCOMPARE(bad.code, 2);
    }
};

FT_TEST_MAIN(TestCliTrain)

} // namespace test_cli_train

#include "test_cli_train.moc"
