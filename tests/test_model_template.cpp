// The prompt format "model" (train/model_template_format.h): rows rendered with a
// model's chat template split into masked and trained segments at the template's
// assistant spans. Expected segments are written out by hand from the templates.
#include "tokenizer/chat_template.h"
#include "train/model_template_format.h"
#include "test_support.h"

#include "test_main.h"

#include <QTemporaryDir>
#include <QtTest>

// Everything in the file's own namespace: the suites build many test files in one
// unity batch (tests/test_main.h).
namespace test_model_template {

using ft::train::ModelTemplateFormat;
using ft::train::Segment;
using nlohmann::json;

namespace {

// Llama 2's shape: BOS text first, the system prompt folded into the first user turn,
// " </s>" after every answer.
const char* kLlama2Like =
    "{{ bos_token }}{% for m in messages %}{% if m['role'] == 'system' %}<<SYS>>{{ m['content'] }}<</SYS>>"
    "{% elif m['role'] == 'user' %}[INST] {{ m['content'] }} [/INST]{% else %} {{ m['content'] }} {{ eos_token }}"
    "{% endif %}{% endfor %}";

const char* kChatMl =
    "{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\\n' + m['content'] + '<|im_end|>\\n' }}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

} // namespace

class TestModelTemplate : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void instructionRowWithEosAndBos()
    {
        ModelTemplateFormat f(ft::tok::ChatTemplate::fromString(kLlama2Like, "<s>", "</s>"));
        json row{{"system", "Be brief."}, {"instruction", "Add 2 and 3."}, {"input", ""}, {"output", "5"}};
        const auto segments = f.render(ft::data::DatasetKind::Instruction, row);
        const std::vector<Segment> expected{{"<<SYS>>Be brief.<</SYS>>[INST] Add 2 and 3. [/INST]", false, false},
                                            {" 5 ", true, true}};
        QCOMPARE(segments.size(), expected.size());
        for (size_t i = 0; i < expected.size(); ++i)
            QVERIFY2(segments[i] == expected[i], segments[i].text.c_str());
        QCOMPARE(QString::fromStdString(f.renderPrompt("Hi")), QString("[INST] Hi [/INST]"));
    }

    void multiTurnChatTrainsEveryAnswer()
    {
        ModelTemplateFormat f(ft::tok::ChatTemplate::fromString(kChatMl, "", ""));
        json row{{"messages", json::array({{{"role", "user"}, {"content", "Hi"}},
                                            {{"role", "assistant"}, {"content", "Hello!"}},
                                            {{"role", "user"}, {"content", "2+2?"}},
                                            {{"role", "assistant"}, {"content", "4"}}})}};
        const auto s = f.render(ft::data::DatasetKind::Chat, row);
        QCOMPARE(s.size(), size_t(4));  // nothing follows the last answer
        QCOMPARE(QString::fromStdString(s[0].text), QString("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
        QVERIFY(!s[0].trainable);
        QCOMPARE(QString::fromStdString(s[1].text), QString("Hello!<|im_end|>\n"));
        QVERIFY(s[1].trainable && !s[1].eos);  // no eos_token: the end-of-turn text is what it learns
        QVERIFY(!s[2].trainable);
        QCOMPARE(QString::fromStdString(s[3].text), QString("4<|im_end|>\n"));
        QVERIFY(s[3].trainable);
        QCOMPARE(QString::fromStdString(ft::train::joinedText(s)),
                 QString::fromStdString(f.chatTemplate().render({{"user", "Hi"}, {"assistant", "Hello!"}, {"user", "2+2?"},
                                                                 {"assistant", "4"}}, false)));
    }

    void folderWithoutTemplateUsesTheDefaultAndRefusalsNameTheRow()
    {
        QTemporaryDir dir;
        auto f = ModelTemplateFormat::fromModelFolder(dir.path().toStdString());
        QCOMPARE(QString::fromStdString(f->renderPrompt("Hi")), QString("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"));
        const QString wrongKind = fttest::errorOf([&] { f->render(ft::data::DatasetKind::Preference, json::object()); });
        QVERIFY2(wrongKind.contains("not preference rows"), qPrintable(wrongKind));
        const QString missing = fttest::errorOf([&] { f->render(ft::data::DatasetKind::Instruction, json{{"instruction", "x"}}); });
        QVERIFY2(missing.contains("output"), qPrintable(missing));
        const auto text = f->render(ft::data::DatasetKind::Text, json{{"text", "Plain."}});
        QVERIFY(text.size() == 1 && text[0].trainable && text[0].eos);
    }
};

FT_TEST_MAIN(TestModelTemplate)

} // namespace test_model_template

#include "test_model_template.moc"
