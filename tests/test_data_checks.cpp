// Data checks before a run (engine/data_checks.h, `train --check-data`): small files with
// planted problems, each found with its exact count and row ids (a data file's row id
// is its line), and a clean file with none; the CLI's exit status and JSON.
#include "engine/data_checks.h"
#include "tokenizer/tokenizer_loader.h"
#include "train/run_config.h"
#include "small_base.h"
#include "test_support.h"

#include "test_main.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

namespace test_data_checks {

using nlohmann::json;
using ft::engine::DataFinding;

namespace {

std::string write(const QTemporaryDir& dir, const char* name, const std::vector<json>& rows)
{
    const std::string path = dir.filePath(name).toStdString();
    std::ofstream out(path);
    for (const json& r : rows)
        out << r.dump() << "\n";
    return path;
}

ft::train::RunConfig config(const std::string& model, const std::string& data, const json& objective, int64_t maxLen)
{
    return ft::train::parseRunConfig({{"model", model},
                                      {"output_dir", "/tmp/unused"},
                                      {"data", {{"train", data}}},
                                      {"objective", objective},
                                      {"training", {{"max_seq_len", maxLen}}}},
                                     "test");
}

const DataFinding* finding(const ft::engine::DataCheckReport& r, const std::string& check, const std::string& split)
{
    for (const auto& f : r.findings)
        if (f.check == check && f.split == split)
            return &f;
    return nullptr;
}

} // namespace

class TestDataChecks : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_model;
    std::unique_ptr<ft::tok::Tokenizer> m_tok;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_model = fttest::smallBaseModel();
        m_tok = ft::tok::loadTokenizer(m_model);
    }

    void instructionRows()
    {
        const std::string longText(400, 'x');
        const std::string data = write(m_dir, "sft.jsonl",
                                       {{{"instruction", "Add 2 and 3."}, {"output", "5"}, {"split", "train"}},          // 1
                                        {{"instruction", "Name a fruit."}, {"output", "Apple."}, {"split", "train"}},    // 2
                                        {{"instruction", "Repeat: " + longText}, {"output", "ok"}, {"split", "train"}},  // 3
                                        {{"instruction", "Spell cat."}, {"output", longText}, {"split", "train"}},       // 4
                                        {{"instruction", "Add 2 and 3."}, {"output", "5"}, {"split", "eval"}},           // 5
                                        {{"instruction", "Name a colour."}, {"output", "Red."}, {"split", "eval"}}});    // 6
        const auto r = ft::engine::checkRunData(config(m_model, data, {{"name", "sft"}}, 64), *m_tok);
        QCOMPARE(r.trainRows, int64_t(4));
        QCOMPARE(r.evalRows, int64_t(2));
        for (const auto& f : r.findings)
            qInfo("%s %s %s: %s", f.severity.c_str(), f.check.c_str(), f.split.c_str(), f.message.c_str());
        const DataFinding* over = finding(r, "over_max_seq_len", "train");
        QVERIFY(over);
        QCOMPARE(over->rows, (std::vector<int64_t>{3, 4}));
        const DataFinding* dropped = finding(r, "dropped", "train");
        QVERIFY(dropped);  // row 3: the long prompt leaves no room for the response
        QCOMPARE(dropped->rows, std::vector<int64_t>{3});
        QCOMPARE(dropped->severity, std::string("warning"));
        const DataFinding* leak = finding(r, "eval_prompt_in_train", "eval");
        QVERIFY(leak);
        QCOMPARE(leak->rows, std::vector<int64_t>{5});
        QVERIFY2(leak->message.rfind("1 eval row asks a prompt", 0) == 0, leak->message.c_str());
        QVERIFY(!finding(r, "over_max_seq_len", "eval"));
        // Nothing left at all: an error.
        const auto tiny = ft::engine::checkRunData(config(m_model, data, {{"name", "sft"}}, 8), *m_tok);
        const DataFinding* all = finding(tiny, "dropped", "train");
        QVERIFY(all);
        QCOMPARE(all->count, int64_t(4));
        QCOMPARE(all->severity, std::string("error"));
    }

    void chatWithoutAssistant()
    {
        const std::string data = write(
            m_dir, "chat.jsonl",
            {{{"messages", {{{"role", "user"}, {"content", "Hi"}}, {{"role", "assistant"}, {"content", "Hello."}}}}},
             {{"messages", {{{"role", "user"}, {"content", "Only a question"}}}}}});
        const auto r = ft::engine::checkRunData(config(m_model, data, {{"name", "sft"}, {"template", "chatml"}}, 256), *m_tok);
        const DataFinding* none = finding(r, "no_assistant_span", "train");
        QVERIFY(none);
        QCOMPARE(none->rows, std::vector<int64_t>{2});
        QCOMPARE(none->severity, std::string("error"));

    }

    void preferenceAndUnpaired()
    {
        const std::string pairs = write(m_dir, "pairs.jsonl",
                                        {{{"prompt", "What is 4 + 8?"}, {"chosen", "12"}, {"rejected", "11"}},
                                         {{"prompt", "Name a planet."}, {"chosen", std::string(300, 'y')}, {"rejected", "June."}}});
        const auto r = ft::engine::checkRunData(config(m_model, pairs, {{"name", "dpo"}}, 64), *m_tok);
        const DataFinding* over = finding(r, "over_max_seq_len", "train");
        QVERIFY(over);
        QCOMPARE(over->rows, std::vector<int64_t>{2});
        QCOMPARE(r.findings.size(), size_t(1));

        std::vector<json> rows;
        for (int i = 0; i < 10; ++i)
            rows.push_back({{"prompt", "Q" + std::to_string(i)}, {"completion", "A"}, {"desirable", i != 0}});
        const std::string unpaired = write(m_dir, "kto.jsonl", rows);
        const auto k = ft::engine::checkRunData(config(m_model, unpaired, {{"name", "kto"}}, 256), *m_tok);
        const DataFinding* imbalance = finding(k, "kto_imbalance", "train");
        QVERIFY(imbalance);
        // One row is held out for evaluation (data.eval_fraction): the training rows count.
        QCOMPARE(k.trainRows, int64_t(9));
        QVERIFY2(imbalance->message.rfind("8 desirable and 1 undesirable training rows", 0) == 0,
                 imbalance->message.c_str());
    }

    void cleanDataAndTheCli()
    {
        const std::string data = write(m_dir, "clean.jsonl",
                                       {{{"instruction", "Add 2 and 3."}, {"output", "5"}},
                                        {{"instruction", "Name a colour."}, {"output", "Red."}}});
        QVERIFY(ft::engine::checkRunData(config(m_model, data, {{"name", "sft"}}, 64), *m_tok).findings.empty());
        const json c{{"model", m_model},
                     {"output_dir", m_dir.filePath("out").toStdString()},
                     {"data", {{"train", m_dir.filePath("chat.jsonl").toStdString()}}},
                     {"objective", {{"name", "sft"}, {"template", "chatml"}}}};
        std::ofstream(m_dir.filePath("run.json").toStdString()) << c.dump();
        const auto run = fttest::runCli({"train", "--config", m_dir.filePath("run.json"), "--check-data", "--json"},
                                        m_dir.filePath("data"));
        QCOMPARE(run.code, 1);  // no assistant span is an error
        const json j = json::parse(run.out.toStdString());
        QCOMPARE(j["kind"].get<std::string>(), std::string("chat"));
        bool seen = false;
        for (const auto& f : j["findings"])
            seen = seen || (f["check"] == "no_assistant_span" && f["rows"] == json::array({2}));
        QVERIFY(seen);
        const auto text = fttest::runCli({"train", "--config", m_dir.filePath("run.json"), "--check-data"},
                                         m_dir.filePath("data"));
        QVERIFY2(text.out.contains("error   1 train row gives no assistant text") && text.out.contains("(rows 2)"),
                 qPrintable(text.out));
    }
};

FT_TEST_MAIN(TestDataChecks)

} // namespace test_data_checks

#include "test_data_checks.moc"
