// The chat template of a model: turns a conversation into the exact prompt text the
// model was trained on, as transformers' apply_chat_template does, and tells SFT which
// bytes of that text belong to assistant turns (to mask the loss of everything else).
// Sources, in transformers' order of precedence: <model>/chat_template.jinja, then
// tokenizer_config.json's "chat_template" (a string, or a list of {name, template}
// where "default" is used). A folder without a template gets the documented default,
// ChatML (kDefaultChatML). Templates run in the Jinja interpreter of jinja_eval.h;
// one it cannot run is refused at load time with the line and column, never rendered
// approximately. Not here: turning text into token ids (the tokenizer does that).
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ft::tok {

namespace jinja {
class Template;
}

struct ChatMessage {
    std::string role; // "system", "user", "assistant" (templates may accept others, e.g. "tool")
    std::string content;
};

class ChatTemplate {
public:
    // The default for folders without a template: ChatML as transformers' former
    // class-level default_chat_template wrote it (the newlines inside its string
    // literals are real newline characters, as in that Python source). It emits
    // <|im_start|>/<|im_end|> as text; a tokenizer without those special tokens
    // encodes them as ordinary text.
    static constexpr const char* kDefaultChatML =
        "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + "
        "'<|im_end|>' + '\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

    // Loads the template and the special tokens (bos_token, eos_token, unk_token,
    // pad_token ...; each a string or an object with "content") of a model folder.
    // Throws ft::Error naming the file for unreadable JSON, a malformed
    // "chat_template" entry, or a template this interpreter cannot run (with its line
    // and column, and a note that the default ChatML template can be chosen instead).
    static ChatTemplate fromTokenizerConfig(const std::string& modelDir);
    // A template given as text. Empty token strings are left undefined in the
    // template, as transformers does for a tokenizer without that token.
    static ChatTemplate fromString(std::string_view source, std::string bosToken, std::string eosToken);
    // The documented default (ChatML).
    static ChatTemplate defaultTemplate(std::string bosToken = {}, std::string eosToken = {});

    // The prompt for `messages`; with addGenerationPrompt, followed by the text that
    // opens an assistant turn. Throws jinja::TemplateError (an ft::Error) when the
    // template rejects the conversation (raise_exception) or fails to render.
    std::string render(const std::vector<ChatMessage>& messages, bool addGenerationPrompt) const;
    // The same with messages as JSON (tool_calls, tool results, structured content)
    // and extra template variables such as "tools", "documents", "date_string"; the
    // variables tools and documents are none unless given, as in transformers.
    std::string renderJson(const nlohmann::ordered_json& messages, bool addGenerationPrompt,
                           const nlohmann::ordered_json& extraVariables = nlohmann::ordered_json::object()) const;

    // For each assistant message, in order, the byte range [first, second) of
    // render(messages, false) that the model must learn to produce: the assistant's
    // content and the end-of-turn text the template appends to it. Computed by
    // rendering prefixes: render(messages[:i], true) must be a prefix of
    // render(messages[:i+1], false), which must be a prefix of the whole rendering; a
    // trailing eos_token that the template appends only after the last message is
    // left out of earlier spans (Phi-3 does this). Throws ft::Error when the template
    // is not prefix-stable in this sense, since masking would then be unreliable.
    std::vector<std::pair<size_t, size_t>> assistantSpans(const std::vector<ChatMessage>& messages) const;
    std::vector<std::pair<size_t, size_t>>
    assistantSpansJson(const nlohmann::ordered_json& messages,
                       const nlohmann::ordered_json& extraVariables = nlohmann::ordered_json::object()) const;

    const std::string& source() const { return m_source; }
    const std::string& bosToken() const { return m_bosToken; }
    const std::string& eosToken() const { return m_eosToken; }
    // True when the model folder had no template and ChatML is used.
    bool isDefault() const { return m_isDefault; }
    // Where the template came from, for messages: a file path or "default ChatML template".
    const std::string& origin() const { return m_origin; }

private:
    ChatTemplate() = default;
    static ChatTemplate build(std::string_view source, nlohmann::ordered_json specialTokens, std::string origin,
                              bool isDefault);

    std::shared_ptr<const jinja::Template> m_template;
    std::string m_source;
    std::string m_bosToken;
    std::string m_eosToken;
    nlohmann::ordered_json m_specialTokens; // name -> string (or list for additional_special_tokens)
    std::string m_origin;
    bool m_isDefault = false;
};

} // namespace ft::tok
