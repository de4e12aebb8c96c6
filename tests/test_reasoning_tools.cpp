// Reasoning and tool calls in chat data: a row with reasoning_content, a tool call (OpenAI's
// layout, arguments as JSON text), a tool result and tool definitions goes through
// import, the project, export (kept; arguments become an object), the model's own chat
// template (equal to Python jinja2's rendering, tests/data/chat_templates/tool_row.json,
// with the tool call trained and the tool result masked), the built-in formats (reasoning
// as <think>; tool rows refused with the message index), reasoning_loss off (the thinking
// masked, the answer trained), and the verifiers' after_reasoning mode.
#include "data/exporter.h"
#include "data/importer.h"
#include "data/project_store.h"
#include "data/records.h"
#include "eval/verifiers.h"
#include "tokenizer/chat_template.h"
#include "train/model_template_format.h"
#include "train/prompt_format.h"
#include "test_support.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <sstream>

namespace test_reasoning_tools {

using nlohmann::json;
using ft::train::Segment;

namespace {

std::string dataDir() { return fttest::sourceDir() + "/tests/data/chat_templates/"; }

const json& toolRow()
{
    static const json data = json::parse(fttest::readTextFile(dataDir() + "tool_row.json"));
    return data;
}

std::string trainedText(const std::vector<Segment>& segments, bool trainable)
{
    std::string s;
    for (const Segment& seg : segments)
        if (seg.trainable == trainable)
            s += seg.text + "|";
    return s;
}

} // namespace

class TestReasoningTools : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private Q_SLOTS:
    void importKeepsToolCallsAndExportWritesThem()
    {
        const std::string in = m_dir.filePath("tools.jsonl").toStdString();
        const json call{{"id", "call_1"},
                        {"type", "function"},
                        {"function", {{"name", "get_weather"}, {"arguments", json{{"city", "Paris"}, {"unit", "celsius"}}.dump()}}}};
        const json tool{{"type", "function"},
                        {"function", {{"name", "get_weather"},
                                      {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}};
        const json record{
            {"messages",
             {{{"role", "system"}, {"content", "You can call tools."}},
              {{"role", "user"}, {"content", "Weather in Paris?"}},
              {{"role", "assistant"}, {"content", nullptr}, {"reasoning_content", "I should call the weather tool."},
               {"tool_calls", {call}}},
              {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", json{{"temp", 21}}.dump()}},
              {{"role", "assistant"}, {"content", "It is 21 °C in Paris."}, {"reasoning_content", "The tool says 21 degrees."}}}},
            {"tools", {tool}}};
        std::ofstream(in) << record.dump() << "\n";
        auto store = ft::data::ProjectStore::create(m_dir.filePath("p.ftproj").toStdString());
        const auto report = ft::data::importFile(*store, "tools", in, {});
        QVERIFY(report.committed);
        QCOMPARE(report.accepted, int64_t(1));
        const auto info = store->requireDataset("tools");
        QCOMPARE(info.kind, ft::data::DatasetKind::Chat);
        const std::string out = m_dir.filePath("out.jsonl").toStdString();
        ft::data::ExportOptions options;
        options.includeMetadata = false;
        QCOMPARE(ft::data::exportDataset(*store, "tools", out, options), int64_t(1));
        const json written = json::parse(fttest::readTextFile(out));
        const json& callOut = written["messages"][2];
        QCOMPARE(callOut["content"].get<std::string>(), std::string());
        QCOMPARE(callOut["reasoning_content"].get<std::string>(), std::string("I should call the weather tool."));
        QCOMPARE(callOut["tool_calls"][0]["id"].get<std::string>(), std::string("call_1"));
        QCOMPARE(callOut["tool_calls"][0]["function"]["arguments"], (json{{"city", "Paris"}, {"unit", "celsius"}}));
        QCOMPARE(written["messages"][3]["role"].get<std::string>(), std::string("tool"));
        QCOMPARE(written["messages"][3]["tool_call_id"].get<std::string>(), std::string("call_1"));
        QCOMPARE(written["tools"][0]["function"]["name"].get<std::string>(), std::string("get_weather"));
        // What was exported imports again to the same row.
        const auto again = ft::data::importFile(*store, "again", out, {});
        QVERIFY(again.committed);
        ft::data::RowQuery q1, q2;
        q1.datasetId = store->requireDataset("again").id;
        q2.datasetId = info.id;
        QCOMPARE(store->query(q1)[0].fields, store->query(q2)[0].fields);
    }

    void invalidToolRowsNameTheField()
    {
        using ft::data::DatasetKind;
        auto why = [](const json& fields) { return QString::fromStdString(ft::data::validateFields(DatasetKind::Chat, fields)); };
        const json user{{"role", "user"}, {"content", "Hi"}};
        QCOMPARE(why({{"messages", {user, {{"role", "assistant"}, {"content", ""}}}}}),
                 QString("field 'messages[1].content' is empty"));
        QCOMPARE(why({{"messages", {user, {{"role", "assistant"}, {"content", ""}, {"tool_calls", json::array()}}}}}),
                 QString("field 'messages[1].tool_calls' must be a non-empty list of calls"));
        QVERIFY(why({{"messages", {user, {{"role", "assistant"}, {"tool_calls", {{{"name", "f"}}}}}}}})
                    .startsWith("field 'messages[1].tool_calls[0]' must be {\"function\""));
        QVERIFY(why({{"messages", {user, {{"role", "user"}, {"content", "x"}, {"tool_calls", json::array()}}}}})
                    .startsWith("field 'messages[1].tool_calls' is not allowed"));
        QCOMPARE(why({{"messages", {user}}, {"tools", "get_weather"}}),
                 QString("field 'tools' must be a list of tool definitions (found string)"));
        QCOMPARE(why({{"messages", {user, {{"role", "robot"}, {"content", "x"}}}}}),
                 QString("field 'messages[1].role' must be one of system, user, assistant, tool"));
        QVERIFY(why({{"messages", {user, {{"role", "assistant"}, {"content", ""},
                                          {"tool_calls", {{{"function", {{"name", "f"}, {"arguments", {{"a", 1}}}}}}}}}}}})
                    .isEmpty());
    }

    // The model's own template renders the row as transformers would (jinja2's rendering),
    // the assistant's tool call and answer trained, the tool result masked.
    void modelTemplateRendersAndMasks_data()
    {
        QTest::addColumn<QString>("templateFile");
        QTest::newRow("qwen2.5") << "qwen2.5-instruct.jinja";
        QTest::newRow("qwen3 hybrid") << "qwen3-hybrid.jinja";
    }

    void modelTemplateRendersAndMasks()
    {
        QFETCH(QString, templateFile);
        const json& data = toolRow();
        const std::string file = templateFile.toStdString();
        ft::train::ModelTemplateFormat format(
            ft::tok::ChatTemplate::fromString(fttest::readTextFile(dataDir() + file), "", "<|im_end|>"));
        const auto segments = format.render(ft::data::DatasetKind::Chat, data["row"]);
        std::string spelled;  // the segments' text with each EOS id spelled as the template writes it
        for (const Segment& seg : segments)
            spelled += seg.text + (seg.eos ? "<|im_end|>" : "");
        QCOMPARE(spelled, data["expected"][file].get<std::string>());
        const std::string trained = trainedText(segments, true), masked = trainedText(segments, false);
        QVERIFY2(trained.find("\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"") != std::string::npos,
                 trained.c_str());
        QVERIFY(trained.find("It is 21 °C in Paris.") != std::string::npos);
        QVERIFY(masked.find("<tool_response>\n{\"temp\": 21}") != std::string::npos);
        QVERIFY(masked.find("# Tools") != std::string::npos);
        QVERIFY(trained.find("{\"temp\": 21}") == std::string::npos);
        if (templateFile.startsWith("qwen3")) {
            QVERIFY(trained.find("<think>\nThe tool says 21 degrees.\n</think>") != std::string::npos);
            // reasoning_loss off: the thinking is masked, the answers still train.
            const auto noReasoning = ft::train::withoutReasoningLoss(segments);
            QCOMPARE(ft::train::joinedText(noReasoning), ft::train::joinedText(segments));
            const std::string t2 = trainedText(noReasoning, true), m2 = trainedText(noReasoning, false);
            QVERIFY(t2.find("The tool says") == std::string::npos && m2.find("The tool says 21 degrees.") != std::string::npos);
            QVERIFY(t2.find("It is 21 °C in Paris.") != std::string::npos);
            QVERIFY(t2.find("<tool_call>") != std::string::npos);
        }
    }

    void builtInFormats()
    {
        const json row{{"messages",
                        {{{"role", "user"}, {"content", "2 + 2?"}},
                         {{"role", "assistant"}, {"content", "4"}, {"reasoning_content", "Two and two."}}}}};
        const auto chatml = ft::train::makePromptFormat("chatml");
        const auto segments = chatml->render(ft::data::DatasetKind::Chat, row);
        QCOMPARE(trainedText(segments, true), std::string("<think>\nTwo and two.\n</think>\n\n4<|im_end|>|"));
        const auto masked = ft::train::withoutReasoningLoss(segments);
        QCOMPARE(trainedText(masked, true), std::string("4<|im_end|>|"));
        QVERIFY(masked.back().eos);
        // Tool rows need the model's template.
        QVERIFY(fttest::errorOf([&] { chatml->render(ft::data::DatasetKind::Chat, toolRow()["row"]); })
                    .contains("this chat row defines tools; tool definitions and calls are rendered only by the model's own chat template"));
        QVERIFY(fttest::errorOf([&] {
                    ft::train::makePromptFormat("alpaca")->render(
                        ft::data::DatasetKind::Chat, {{"messages", toolRow()["row"]["messages"]}});
                }).contains("messages[2] calls tools"));
        // A close whose open came in the prompt (a template that opens the thinking itself).
        const auto opened = ft::train::withoutReasoningLoss({{"<|im_start|>assistant\n<think>\n", false, false},
                                                             {"pondering</think>\n\nAnswer.", true, true}});
        QCOMPARE(trainedText(opened, true), std::string("Answer.|"));
        QCOMPARE(trainedText(opened, false), std::string("<|im_start|>assistant\n<think>\n|pondering</think>\n\n|"));
    }

    void verifiersAfterReasoning()
    {
        const auto v = ft::eval::makeVerifier("numeric", {{"after_reasoning", true}});
        QVERIFY(v->score("<think>Is it 5? No, 2 + 2 = 4.</think>\nThe answer is 4", "4").passed);
        QVERIFY(!v->score("<think>2 + 2 = 4</think>\nThe answer is 5", "4").passed);  // the 4 inside is not the answer
        const auto open = v->score("<think>2 + 2 = 4, so", "4");
        QVERIFY(!open.passed);
        QCOMPARE(open.detail, std::string("the reasoning never ended (no </think>), so there is no final answer"));
        QVERIFY(v->score("4", "4").passed);  // no reasoning at all: the whole completion
        // Without the setting the reasoning counts (the last number decides).
        QVERIFY(!ft::eval::makeVerifier("numeric", json::object())->score("<think>4</think> 5", "4").passed);
        QVERIFY(fttest::errorOf([] { ft::eval::makeVerifier("exact_match", {{"after_reasoning", "yes"}}); })
                    .contains("\"after_reasoning\" must be true or false"));
    }
};

FT_TEST_MAIN(TestReasoningTools)

} // namespace test_reasoning_tools

#include "test_reasoning_tools.moc"
