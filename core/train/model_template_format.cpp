#include "train/model_template_format.h"

#include "util/error.h"

namespace ft::train {

namespace {

std::vector<tok::ChatMessage> messagesOf(data::DatasetKind kind, const nlohmann::json& fields)
{
    std::vector<tok::ChatMessage> messages;
    if (kind == data::DatasetKind::Instruction) {
        if (auto it = fields.find("system"); it != fields.end() && it->is_string() && !it->get<std::string>().empty())
            messages.push_back({"system", it->get<std::string>()});
        std::string user = fields["instruction"].get<std::string>();
        if (auto it = fields.find("input"); it != fields.end() && it->is_string() && !it->get<std::string>().empty())
            user += "\n\n" + it->get<std::string>();
        messages.push_back({"user", user});
        messages.push_back({"assistant", fields["output"].get<std::string>()});
        return messages;
    }
    for (const nlohmann::json& m : fields["messages"])
        messages.push_back({m["role"].get<std::string>(), m["content"].get<std::string>()});
    return messages;
}

bool endsWith(const std::string& s, const std::string& tail)
{
    return !tail.empty() && s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

} // namespace

ModelTemplateFormat::ModelTemplateFormat(tok::ChatTemplate chat) : m_chat(std::move(chat)) {}

std::unique_ptr<PromptFormat> ModelTemplateFormat::fromModelFolder(const std::string& modelDir)
{
    return std::make_unique<ModelTemplateFormat>(tok::ChatTemplate::fromTokenizerConfig(modelDir));
}

std::string ModelTemplateFormat::withoutLeadingBos(std::string text) const
{
    const std::string& bos = m_chat.bosToken();
    if (!bos.empty() && text.compare(0, bos.size(), bos) == 0)
        text.erase(0, bos.size());
    return text;
}

std::vector<Segment> ModelTemplateFormat::render(data::DatasetKind kind, const nlohmann::json& fields) const
{
    using data::DatasetKind;
    if (kind != DatasetKind::Instruction && kind != DatasetKind::Chat && kind != DatasetKind::Text)
        fail(std::string("the prompt format 'model' renders instruction, chat and text rows, not ") +
             data::datasetKindName(kind) + " rows");
    if (std::string why = data::validateFields(kind, fields); !why.empty())
        fail(std::string("a ") + data::datasetKindName(kind) + " row cannot be rendered: " + why);
    if (kind == DatasetKind::Text)
        return {{fields["text"].get<std::string>(), true, true}};

    // Rows with reasoning, tool calls or tool definitions go to the template as JSON (the
    // messages as written, "tools" as a template variable), as transformers passes them.
    bool structured = kind == data::DatasetKind::Chat && fields.contains("tools");
    if (kind == data::DatasetKind::Chat)
        for (const nlohmann::json& m : fields["messages"])
            structured = structured || m.size() > 2 || m.value("role", std::string()) == "tool";
    std::string full;
    std::vector<std::pair<size_t, size_t>> spans;  // byte ranges of `full`
    if (structured) {
        const nlohmann::ordered_json messages = nlohmann::ordered_json::parse(fields["messages"].dump());
        nlohmann::ordered_json extra = nlohmann::ordered_json::object();
        if (fields.contains("tools"))
            extra["tools"] = nlohmann::ordered_json::parse(fields["tools"].dump());
        full = m_chat.renderJson(messages, false, extra);
        spans = m_chat.assistantSpansJson(messages, extra);
    } else {
        const std::vector<tok::ChatMessage> messages = messagesOf(kind, fields);
        full = m_chat.render(messages, false);
        spans = m_chat.assistantSpans(messages);
    }
    const std::string& bos = m_chat.bosToken();
    const size_t skip = !bos.empty() && full.compare(0, bos.size(), bos) == 0 ? bos.size() : 0;

    std::vector<Segment> out;
    auto add = [&out](std::string text, bool trainable, bool eos) {
        if (text.empty() && !eos)
            return;
        if (!out.empty() && out.back().trainable == trainable && !out.back().eos) {
            out.back().text += text;
            out.back().eos = eos;
        } else {
            out.push_back({std::move(text), trainable, eos});
        }
    };
    size_t at = skip;
    for (const auto& [begin, end] : spans) {
        if (begin < at)
            fail("the chat template's assistant span starts inside its bos_token; it cannot be used for training");
        add(full.substr(at, begin - at), false, false);
        std::string answer = full.substr(begin, end - begin);
        bool eos = false;
        if (endsWith(answer, m_chat.eosToken())) {  // the EOS id, not its spelling
            answer.resize(answer.size() - m_chat.eosToken().size());
            eos = true;
        }
        add(std::move(answer), true, eos);
        at = end;
    }
    add(full.substr(std::min(at, full.size())), false, false);
    return out;
}

std::string ModelTemplateFormat::renderPrompt(const std::string& userText) const
{
    return withoutLeadingBos(m_chat.render({{"user", userText}}, true));
}

std::unique_ptr<PromptFormat> promptFormatFor(const std::string& name, const std::string& modelDir)
{
    return name == "model" ? ModelTemplateFormat::fromModelFolder(modelDir) : makePromptFormat(name);
}

} // namespace ft::train
