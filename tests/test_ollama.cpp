// Ollama export: the chat families (core/deploy/chat_family.h) against the real chat
// templates in tests/data/chat_templates (which family each one is, and the
// hand-derived renderings of cases.json); the studio's own prompt formats against
// train/prompt_format.h; the generated Go templates rendered by Go's text/template
// (tests/interop/ollama_template.go, the engine Ollama uses; skipped without `go`)
// against the models' Jinja templates; and the folder export ollama writes.
#include "deploy/chat_family.h"
#include "deploy/ollama_export.h"
#include "io/gguf.h"
#include "model/model_io.h"
#include "peft/adapter_io.h"
#include "peft/registry.h"
#include "tokenizer/chat_template.h"
#include "train/prompt_format.h"
#include "util/error.h"
#include "util/text.h"

#include "small_base.h"
#include "test_main.h"
#include "test_support.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace test_ollama {

using fttest::errorOf;
using ft::tok::ChatMessage;
using ft::tok::ChatTemplate;
using Conversation = std::vector<ChatMessage>;

namespace {

const nlohmann::json& cases()
{
    static const nlohmann::json data =
        nlohmann::json::parse(fttest::readTextFile(fttest::sourceDir() + "/tests/data/chat_templates/cases.json"));
    return data;
}

// A real template with the BOS/EOS its cases name.
ChatTemplate realTemplate(const std::string& file)
{
    for (const auto& c : cases()["cases"])
        if (c["template"] == file)
            return ChatTemplate::fromString(fttest::readTextFile(fttest::sourceDir() + "/tests/data/chat_templates/" + file),
                                            c["bos_token"].get<std::string>(), c["eos_token"].get<std::string>());
    throw std::runtime_error("no case names " + file);
}

// The conversation, or nothing when a message is more than role and text (tool calls,
// structured content: outside what an Ollama TEMPLATE here spells).
Conversation conversation(const nlohmann::json& messages)
{
    Conversation c;
    for (const auto& m : messages) {
        if (!m.contains("content") || !m["content"].is_string() || m.size() != 2)
            return {};
        c.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    }
    return c;
}

std::string withoutLeadingBos(std::string text, const std::string& bos)
{
    if (!bos.empty() && text.starts_with(bos))
        text.erase(0, bos.size());
    return text;
}

// Each real template and the family it is; "" where no family renders it exactly.
const std::vector<std::pair<std::string, std::string>> kRealTemplates{
    {"chatml.jinja", "chatml"},
    {"qwen2-instruct.jinja", "qwen2"},
    {"qwen2.5-instruct.jinja", "qwen2.5"},
    {"llama3-instruct.jinja", "llama3"},
    {"llama2-chat.jinja", "llama2"},
    {"mistral-instruct-v0.1.jinja", "mistral"},
    {"mixtral-8x7b-instruct-v0.1.jinja", "mixtral"},
    {"gemma-it.jinja", "gemma"},
    {"gemma3-it.jinja", "gemma3"},
    {"phi3-mini-instruct.jinja", "phi3"},
    {"phi4-mini-instruct.jinja", "phi4mini"},
    {"zephyr.jinja", "zephyr"},
    {"llama3.1-instruct.jinja", ""},          // a dated system preamble in every prompt
    {"mistral-instruct-v0.3.jinja", ""},      // the system message moves to the last user turn
    {"qwen3-4b-thinking-2507.jinja", ""},     // a reasoning block opens every answer
};

// Conversations ending with a user turn, for rendering with a generation prompt: the
// cases' own (contents trimmed where the family trims) and a few more.
std::vector<Conversation> conversationsFor(const ft::deploy::ChatFamily& f)
{
    std::vector<Conversation> all;
    for (const auto& [name, messages] : cases()["conversations"].items()) {
        Conversation c = conversation(messages);
        if (c.empty() || c.back().role != "user")
            continue;
        bool plain = true;
        for (auto& m : c) {
            plain = plain && (m.role == "system" || m.role == "user" || m.role == "assistant");
            if (f.trimsContent)
                m.content = ft::util::trim(m.content);
        }
        // Ollama merges consecutive messages of one role (its collate), which HF templates
        // render apart: such conversations differ by Ollama's design, not the template's.
        for (size_t i = 1; i < c.size(); ++i)
            plain = plain && c[i].role != c[i - 1].role;
        if (plain && !(f.system == ft::deploy::SystemPlacement::None && c.front().role == "system"))
            all.push_back(c);
    }
    all.push_back({{"user", "Line one\nline two"}});
    all.push_back({{"user", "A"}, {"assistant", "B"}, {"user", "C"}, {"assistant", "D"}, {"user", "E"}});
    if (f.system != ft::deploy::SystemPlacement::None)
        all.push_back({{"system", "S"}, {"user", "A"}, {"assistant", "B"}, {"user", "C"}});
    return all;
}

// Go's text/template renderings of `goTemplate` for each conversation.
std::vector<std::string> goRenderings(const std::string& goTemplate, const std::vector<Conversation>& conversations)
{
    nlohmann::json job{{"template", goTemplate}, {"conversations", nlohmann::json::array()}};
    for (const auto& c : conversations) {
        nlohmann::json messages = nlohmann::json::array();
        for (const auto& m : c)
            messages.push_back({{"role", m.role}, {"content", m.content}});
        job["conversations"].push_back(messages);
    }
    QProcess go;
    go.start("go", {"run", QString::fromStdString(fttest::sourceDir() + "/tests/interop/ollama_template.go")});
    go.write(QByteArray::fromStdString(job.dump()));
    go.closeWriteChannel();
    if (!go.waitForFinished(120000) || go.exitCode() != 0)
        throw std::runtime_error("go run failed: " + go.readAllStandardError().toStdString() +
                                 go.readAllStandardOutput().toStdString());
    std::vector<std::string> out;
    for (const auto& r : nlohmann::json::parse(go.readAllStandardOutput().toStdString())) {
        if (!r.is_string())
            throw std::runtime_error("Go template error: " + r.dump());
        out.push_back(r.get<std::string>());
    }
    return out;
}

QString show(const std::string& s) { return QString::fromStdString(nlohmann::json(s).dump()); }

} // namespace

class TestOllama : public QObject {
    Q_OBJECT

    QTemporaryDir m_dir;
    std::string pathFor(const std::string& name) const
    {
        return m_dir.filePath(QString::fromStdString(name)).toStdString();
    }

private Q_SLOTS:
    void recognizesTheFamilyOfEachRealTemplate_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("family");
        for (const auto& [file, family] : kRealTemplates)
            QTest::newRow(file.c_str()) << QString::fromStdString(file) << QString::fromStdString(family);
    }

    void recognizesTheFamilyOfEachRealTemplate()
    {
        QFETCH(QString, file);
        QFETCH(QString, family);
        const ChatTemplate t = realTemplate(file.toStdString());
        if (family.isEmpty()) {
            const QString msg = errorOf([&] { ft::deploy::identifyChatFamily(t); });
            QVERIFY2(msg.contains("not one Ollama's TEMPLATE") && msg.contains("--template"), qPrintable(msg));
            return;
        }
        QCOMPARE(QString(ft::deploy::identifyChatFamily(t).name), family);
    }

    // The families' renderer against cases.json's expected texts, which were derived by
    // hand from each template or rendered by Python's jinja2 (not by this code).
    void familiesRenderTheHandDerivedCases()
    {
        int compared = 0;
        for (const auto& c : cases()["cases"]) {
            const std::string file = c["template"].get<std::string>();
            const auto known = std::find_if(kRealTemplates.begin(), kRealTemplates.end(),
                                            [&](const auto& t) { return t.first == file && !t.second.empty(); });
            if (known == kRealTemplates.end() || !c.value("add_generation_prompt", false) || !c.contains("expected") ||
                !c["messages"].is_string())
                continue;
            const auto& f = ft::deploy::chatFamily(known->second);
            Conversation messages = conversation(cases()["conversations"][c["messages"].get<std::string>()]);
            if (messages.empty() || messages.back().role != "user")
                continue;
            for (auto& m : messages)
                if (f.trimsContent)
                    m.content = ft::util::trim(m.content);
            const std::string expected = withoutLeadingBos(c["expected"].get<std::string>(), c["bos_token"].get<std::string>());
            const std::string ours = ft::deploy::renderChatFamily(f, messages, c["eos_token"].get<std::string>());
            QVERIFY2(ours == expected, qPrintable(QString::fromStdString(c["name"].get<std::string>()) + "\n ours " +
                                                  show(ours) + "\n case " + show(expected)));
            ++compared;
        }
        QVERIFY2(compared >= 10, qPrintable(QString::number(compared)));
    }

    // alpaca, chatml-studio and plain are what SFT trains on: the text of a conversation
    // up to the last answer, then that answer and EOS, equals the training text.
    void studioFormatsAreTheirFamilies_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QString>("family");
        QTest::newRow("alpaca") << "alpaca" << "alpaca";
        QTest::newRow("chatml") << "chatml" << "chatml-studio";
        QTest::newRow("plain") << "plain" << "plain";
    }

    void studioFormatsAreTheirFamilies()
    {
        QFETCH(QString, format);
        QFETCH(QString, family);
        const std::string eos = "</s>";
        const Conversation chat{{"system", "Be brief."}, {"user", "Hello!"}, {"assistant", "Hi."},
                                {"user", "What is 2+2?"}, {"assistant", "4"}};
        nlohmann::json fields{{"messages", nlohmann::json::array()}};
        for (const auto& m : chat)
            fields["messages"].push_back({{"role", m.role}, {"content", m.content}});
        std::string training;
        for (const auto& s : ft::train::makePromptFormat(format.toStdString())->render(ft::data::DatasetKind::Chat, fields))
            training += s.text + (s.eos ? eos : "");
        const auto& f = ft::deploy::chatFamily(family.toStdString());
        const Conversation prompt(chat.begin(), chat.end() - 1);
        std::string close = f.assistantClose;
        close.replace(close.find("{eos}"), 5, eos);
        if (close.ends_with("\n"))  // the turn separator: written only before another turn
            close.pop_back();
        const std::string ours = ft::deploy::renderChatFamily(f, prompt, eos) + "4" + close;
        QVERIFY2(ours == training, qPrintable("\n ours     " + show(ours) + "\n training " + show(training)));
    }

    // The Go template, run by Go's text/template as Ollama runs it, renders what the
    // model's own Jinja template renders (BOS aside: the tokenizer adds it).
    void goTemplateRendersAsTheModelTemplate()
    {
        if (QStandardPaths::findExecutable("go").isEmpty())
            QSKIP("Go is not installed (packaging/install-deps.sh --test installs golang-go)");
        for (const auto& [file, family] : kRealTemplates) {
            if (family.empty())
                continue;
            const ChatTemplate t = realTemplate(file);
            const auto& f = ft::deploy::chatFamily(family);
            const auto conversations = conversationsFor(f);
            const auto go = goRenderings(ft::deploy::ollamaGoTemplate(f, t.eosToken()), conversations);
            QCOMPARE(go.size(), conversations.size());
            for (size_t i = 0; i < go.size(); ++i) {
                const std::string jinja = withoutLeadingBos(t.render(conversations[i], true), t.bosToken());
                QVERIFY2(go[i] == jinja, qPrintable(QString::fromStdString(file) + " #" + QString::number(i) +
                                                    "\n go    " + show(go[i]) + "\n jinja " + show(jinja)));
            }
        }
        // The studio's formats (their renderer is checked against training above), and a
        // conversation ending with an answer, which Ollama continues: left open.
        for (const char* family : {"alpaca", "chatml-studio", "plain"}) {
            const auto& f = ft::deploy::chatFamily(family);
            auto conversations = conversationsFor(f);
            const auto go = goRenderings(ft::deploy::ollamaGoTemplate(f, "</s>"), conversations);
            for (size_t i = 0; i < go.size(); ++i)
                QVERIFY2(go[i] == ft::deploy::renderChatFamily(f, conversations[i], "</s>"),
                         qPrintable(QString(family) + " #" + QString::number(i) + ": " + show(go[i])));
        }
        const auto& chatml = ft::deploy::chatFamily("chatml");
        const Conversation open{{"user", "Hi"}, {"assistant", "Hel"}};
        QCOMPARE(goRenderings(ft::deploy::ollamaGoTemplate(chatml, "</s>"), {open}).front(),
                 std::string("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nHel"));
    }

    void exportWritesTheGgufAndTheModelfile()
    {
        const std::string base = fttest::smallBaseModel();  // trains on first use: before no-grad
        torch::NoGradGuard noGrad;
        // A run folder as train writes it: RUN/run_config.json and RUN/adapter.
        const std::string run = pathFor("run");
        {
            auto loaded = ft::model::loadModelFolder(base);
            ft::peft::PeftSettings s;
            s.technique = "lora";
            s.r = 4;
            s.targetModules = {"q_proj", "v_proj"};
            ft::peft::saveAdapter(run + "/adapter", *ft::peft::applyTechnique(loaded.model, s), base);
            std::ofstream(run + "/run_config.json") << R"({"objective": {"name": "sft", "template": "alpaca"}})";
        }
        ft::deploy::OllamaExportOptions o;
        o.modelDir = base;
        o.adapterDirs = {run + "/adapter"};
        o.outDir = pathFor("ollama");
        o.fileType = "q8_0";
        o.system = "Be brief.";
        const auto report = ft::deploy::exportOllama(o);
        QCOMPARE(report.family, std::string("alpaca"));
        QVERIFY2(report.familySource.find("run_config.json") != std::string::npos, report.familySource.c_str());
        const std::string modelfile = fttest::readTextFile(o.outDir + "/Modelfile");
        const auto& alpaca = ft::deploy::chatFamily("alpaca");
        for (const std::string& line :
             {std::string("FROM ./model.gguf\n"),
              "TEMPLATE \"\"\"" + ft::deploy::ollamaGoTemplate(alpaca, "</s>") + "\"\"\"\n",
              std::string("PARAMETER stop \"### Instruction:\"\n"), std::string("PARAMETER num_ctx 256\n"),
              std::string("SYSTEM \"\"\"Be brief.\"\"\"\n")})
            QVERIFY2(modelfile.find(line) != std::string::npos, qPrintable(show(line) + " not in\n" +
                                                                          QString::fromStdString(modelfile)));
        const auto gguf = ft::io::GgufFile::open(o.outDir + "/model.gguf");
        QCOMPARE(gguf.find("general.file_type")->asInt("t"), int64_t(7));

        // Without an adapter: the model folder's template (none here: the default ChatML).
        o.adapterDirs.clear();
        o.outDir = pathFor("ollama-base");
        QCOMPARE(ft::deploy::exportOllama(o).family, std::string("chatml"));

        o.chatFormat = "gemma";  // no system turns
        const QString system = errorOf([&] { ft::deploy::exportOllama(o); });
        QVERIFY2(system.contains("no system messages"), qPrintable(system));
        o.chatFormat = "vicuna";
        const QString unknown = errorOf([&] { ft::deploy::exportOllama(o); });
        QVERIFY2(unknown.contains("vicuna") && unknown.contains("llama3"), qPrintable(unknown));
        o.chatFormat = "auto";
        o.outDir = o.outDir + "/Modelfile";  // a file
        const QString file = errorOf([&] { ft::deploy::exportOllama(o); });
        QVERIFY2(file.contains("is a file"), qPrintable(file));
    }
};

FT_TEST_MAIN(TestOllama)

} // namespace test_ollama

#include "test_ollama.moc"
