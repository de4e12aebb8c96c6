// Loading, rendering and assistant-span computation of model chat templates (see
// chat_template.h).
#include "tokenizer/chat_template.h"

#include "io/json_file.h"
#include "jinja/eval.h"
#include "util/error.h"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

namespace ft::tok {
namespace {

namespace fs = std::filesystem;

const char* const kSpecialTokenKeys[] = {"bos_token", "eos_token", "unk_token", "sep_token",
                                         "pad_token", "cls_token", "mask_token"};

// A special token entry: "text", {"content": "text", ...} or null.
std::string tokenText(const nlohmann::json& entry, const std::string& key, const std::string& path)
{
    if (entry.is_null())
        return {};
    if (entry.is_string())
        return entry.get<std::string>();
    if (entry.is_object() && entry.contains("content") && entry["content"].is_string())
        return entry["content"].get<std::string>();
    fail("In " + path + ", \"" + key + "\" must be a string or an object with a string \"content\", found " +
         entry.dump() + ".");
}

std::string templateFromConfig(const nlohmann::json& entry, const std::string& path)
{
    if (entry.is_string())
        return entry.get<std::string>();
    if (entry.is_array()) {
        std::string names;
        for (const auto& item : entry) {
            if (!item.is_object() || !item.contains("name") || !item["name"].is_string() ||
                !item.contains("template") || !item["template"].is_string())
                fail("In " + path +
                     ", each entry of \"chat_template\" must be an object with string \"name\" and "
                     "\"template\", found " +
                     item.dump().substr(0, 200) + ".");
            const std::string name = item["name"].get<std::string>();
            if (name == "default")
                return item["template"].get<std::string>();
            names += (names.empty() ? "" : ", ") + name;
        }
        fail("In " + path + ", \"chat_template\" lists templates named " + (names.empty() ? "(none)" : names) +
             " but none named \"default\", which is the one transformers uses.");
    }
    fail("In " + path + ", \"chat_template\" must be a string or a list of {name, template} objects, found " +
         std::string(entry.type_name()) + ".");
}

std::string readTextFile(const fs::path& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        fail("Cannot open " + path.string() + " for reading.");
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Up to 40 characters of `s` from `at`, escaped for an error message.
std::string snippet(const std::string& s, size_t at)
{
    std::string out;
    for (size_t i = at; i < s.size() && i < at + 40; ++i) {
        if (s[i] == '\n')
            out += "\\n";
        else
            out += s[i];
    }
    return "\"" + out + (at + 40 < s.size() ? "...\"" : "\"");
}

size_t firstDifference(const std::string& a, const std::string& b)
{
    size_t i = 0;
    while (i < a.size() && i < b.size() && a[i] == b[i])
        ++i;
    return i;
}

bool startsWith(const std::string& s, const std::string& prefix)
{
    return s.size() >= prefix.size() && s.compare(0, prefix.size(), prefix) == 0;
}

nlohmann::ordered_json toJson(const std::vector<ChatMessage>& messages)
{
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const ChatMessage& m : messages)
        out.push_back({{"role", m.role}, {"content", m.content}});
    return out;
}

} // namespace

ChatTemplate ChatTemplate::build(std::string_view source, nlohmann::ordered_json specialTokens, std::string origin,
                                 bool isDefault)
{
    ChatTemplate t;
    t.m_source = std::string(source);
    try {
        t.m_template = std::make_shared<const jinja::Template>(source);
    } catch (const jinja::TemplateError& e) {
        fail("The chat template from " + origin + " cannot be used: " + e.what() +
             "\nThe documented default template (ChatML) can be chosen instead, but only gives correct prompts "
             "for models trained with it.");
    }
    t.m_specialTokens = std::move(specialTokens);
    if (t.m_specialTokens.contains("bos_token"))
        t.m_bosToken = t.m_specialTokens["bos_token"].get<std::string>();
    if (t.m_specialTokens.contains("eos_token"))
        t.m_eosToken = t.m_specialTokens["eos_token"].get<std::string>();
    t.m_origin = std::move(origin);
    t.m_isDefault = isDefault;
    return t;
}

ChatTemplate ChatTemplate::fromTokenizerConfig(const std::string& modelDir)
{
    std::error_code ec;
    const fs::path dir(modelDir);
    if (!fs::is_directory(dir, ec))
        fail("Model folder " + modelDir + " does not exist or is not a folder.");
    const fs::path configPath = dir / "tokenizer_config.json";
    const fs::path jinjaPath = dir / "chat_template.jinja";
    nlohmann::json config = nlohmann::json::object();
    if (fs::exists(configPath, ec)) {
        config = io::readJsonFile(configPath.string());
        if (!config.is_object())
            fail(configPath.string() + " must hold a JSON object, found " + std::string(config.type_name()) + ".");
    }
    nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
    for (const char* key : kSpecialTokenKeys)
        if (config.contains(key))
            if (std::string text = tokenText(config[key], key, configPath.string()); !text.empty())
                tokens[key] = text;
    if (config.contains("additional_special_tokens") && config["additional_special_tokens"].is_array()) {
        nlohmann::ordered_json extra = nlohmann::ordered_json::array();
        for (const auto& entry : config["additional_special_tokens"])
            extra.push_back(tokenText(entry, "additional_special_tokens", configPath.string()));
        tokens["additional_special_tokens"] = extra;
    }
    if (fs::exists(jinjaPath, ec))
        return build(readTextFile(jinjaPath), tokens, jinjaPath.string(), false);
    if (config.contains("chat_template") && !config["chat_template"].is_null())
        return build(templateFromConfig(config["chat_template"], configPath.string()), tokens, configPath.string(),
                     false);
    return build(kDefaultChatML, tokens, "default ChatML template (" + modelDir + " has no chat template)", true);
}

ChatTemplate ChatTemplate::fromString(std::string_view source, std::string bosToken, std::string eosToken)
{
    nlohmann::ordered_json tokens = nlohmann::ordered_json::object();
    if (!bosToken.empty())
        tokens["bos_token"] = bosToken;
    if (!eosToken.empty())
        tokens["eos_token"] = eosToken;
    return build(source, tokens, "the given template text", false);
}

ChatTemplate ChatTemplate::defaultTemplate(std::string bosToken, std::string eosToken)
{
    ChatTemplate t = fromString(kDefaultChatML, std::move(bosToken), std::move(eosToken));
    t.m_origin = "default ChatML template";
    t.m_isDefault = true;
    return t;
}

std::string ChatTemplate::render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) const
{
    return renderJson(toJson(messages), addGenerationPrompt);
}

std::string ChatTemplate::renderJson(const nlohmann::ordered_json& messages, bool addGenerationPrompt,
                                     const nlohmann::ordered_json& extraVariables) const
{
    if (!messages.is_array())
        fail("Chat messages must be a JSON array of {role, content} objects, found " +
             std::string(messages.type_name()) + ".");
    if (!extraVariables.is_object())
        fail("Extra chat template variables must be a JSON object, found " + std::string(extraVariables.type_name()) +
             ".");
    jinja::Entries vars;
    auto put = [&vars](const std::string& name, jinja::Value value) {
        for (auto& [key, existing] : vars)
            if (key == name) {
                existing = std::move(value);
                return;
            }
        vars.emplace_back(name, std::move(value));
    };
    try {
        put("messages", jinja::Value::fromJson(messages));
        put("tools", jinja::Value::none());
        put("documents", jinja::Value::none());
        put("add_generation_prompt", jinja::Value(addGenerationPrompt));
        for (const auto& [name, value] : m_specialTokens.items())
            put(name, jinja::Value::fromJson(value));
        for (const auto& [name, value] : extraVariables.items())
            put(name, jinja::Value::fromJson(value));
    } catch (const jinja::EvalError& e) {
        fail(std::string("Cannot pass the conversation to the chat template: ") + e.what());
    }
    return m_template->render(vars);
}

std::vector<std::pair<size_t, size_t>> ChatTemplate::assistantSpans(const std::vector<ChatMessage>& messages) const
{
    return assistantSpansJson(toJson(messages));
}

std::vector<std::pair<size_t, size_t>>
ChatTemplate::assistantSpansJson(const nlohmann::ordered_json& messages,
                                 const nlohmann::ordered_json& extraVariables) const
{
    if (!messages.is_array())
        fail("Chat messages must be a JSON array of {role, content} objects.");
    const std::string full = renderJson(messages, false, extraVariables);
    auto prefixOf = [&](size_t n) {
        nlohmann::ordered_json part = nlohmann::ordered_json::array();
        for (size_t i = 0; i < n; ++i)
            part.push_back(messages[i]);
        return part;
    };
    auto unstable = [&](size_t message, const std::string& what, const std::string& shorter,
                        const std::string& longer) {
        const size_t at = firstDifference(shorter, longer);
        fail("The chat template (" + m_origin + ") is not prefix-stable: " + what + " (they first differ at byte " +
             std::to_string(at) + ": " + snippet(shorter, at) + " versus " + snippet(longer, at) +
             "). The tokens of message " + std::to_string(message + 1) +
             " (an assistant turn) cannot be located reliably, so its loss cannot be masked safely.");
    };
    std::vector<std::pair<size_t, size_t>> spans;
    for (size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        if (!m.is_object() || !m.contains("role") || m["role"] != "assistant")
            continue;
        const std::string before = renderJson(prefixOf(i), true, extraVariables);
        const std::string after = renderJson(prefixOf(i + 1), false, extraVariables);
        if (!startsWith(after, before))
            unstable(i,
                     "the prompt before message " + std::to_string(i + 1) +
                         " (rendered with the generation prompt) is not a prefix of the text that includes it",
                     before, after);
        size_t end = after.size();
        if (!startsWith(full, after)) {
            // Templates such as Phi-3's append eos_token only after the last message.
            const bool trailingEos =
                !m_eosToken.empty() && after.size() >= m_eosToken.size() &&
                after.compare(after.size() - m_eosToken.size(), m_eosToken.size(), m_eosToken) == 0 &&
                startsWith(full, after.substr(0, after.size() - m_eosToken.size()));
            if (!trailingEos)
                unstable(i,
                         "the conversation up to message " + std::to_string(i + 1) +
                             " is not a prefix of the whole conversation",
                         after, full);
            end = after.size() - m_eosToken.size();
        }
        if (end < before.size() || (!spans.empty() && before.size() < spans.back().second))
            unstable(i, "the text of message " + std::to_string(i + 1) + " overlaps an earlier turn", before, after);
        spans.emplace_back(before.size(), end);
    }
    return spans;
}

} // namespace ft::tok
