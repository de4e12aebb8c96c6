#include "deploy/chat_family.h"

#include "util/error.h"

#include <optional>

namespace ft::deploy {
namespace {

using SP = SystemPlacement;

std::string withEos(const char* text, const std::string& eos)
{
    std::string s = text;
    for (size_t at = s.find("{eos}"); at != std::string::npos; at = s.find("{eos}", at + eos.size()))
        s.replace(at, 5, eos);
    return s;
}

// Conversations that tell the families apart: with and without a system message, one
// and several turns. Contents carry no surrounding spaces, so trimming templates agree.
std::vector<std::vector<tok::ChatMessage>> probes()
{
    return {
        {{"user", "Hello!"}},
        {{"user", "Hello!"}, {"assistant", "Hi there."}, {"user", "What is 2+2?"}},
        {{"system", "Be brief."}, {"user", "Hello!"}},
        {{"system", "Be brief."}, {"user", "Hello!"}, {"assistant", "Hi there."}, {"user", "What is 2+2?"}},
    };
}

} // namespace

const std::vector<ChatFamily>& chatFamilies()
{
    static const std::vector<ChatFamily> families{
        {"chatml", "ChatML (SmolLM, OLMo 2 Instruct, many fine-tunes)", "<|im_start|>user\n", "<|im_end|>\n",
         "<|im_start|>assistant\n", "<|im_end|>\n", "<|im_start|>assistant\n", SP::Turn, "<|im_start|>system\n",
         "<|im_end|>\n", "", "", false, {"<|im_end|>", "<|im_start|>"}},
        {"qwen2", "Qwen2 Instruct (ChatML with a default system message)", "<|im_start|>user\n", "<|im_end|>\n",
         "<|im_start|>assistant\n", "<|im_end|>\n", "<|im_start|>assistant\n", SP::Turn, "<|im_start|>system\n",
         "<|im_end|>\n", "You are a helpful assistant.", "", false, {"<|im_end|>", "<|im_start|>"}},
        {"qwen2.5", "Qwen2.5 Instruct without tools", "<|im_start|>user\n", "<|im_end|>\n", "<|im_start|>assistant\n",
         "<|im_end|>\n", "<|im_start|>assistant\n", SP::Turn, "<|im_start|>system\n", "<|im_end|>\n",
         "You are Qwen, created by Alibaba Cloud. You are a helpful assistant.", "", false, {"<|im_end|>", "<|im_start|>"}},
        {"llama3", "Llama 3 Instruct", "<|start_header_id|>user<|end_header_id|>\n\n", "<|eot_id|>",
         "<|start_header_id|>assistant<|end_header_id|>\n\n", "<|eot_id|>",
         "<|start_header_id|>assistant<|end_header_id|>\n\n", SP::Turn, "<|start_header_id|>system<|end_header_id|>\n\n",
         "<|eot_id|>", "", "", true, {"<|eot_id|>", "<|start_header_id|>", "<|end_header_id|>"}},
        {"llama2", "Llama 2 Chat", "[INST] ", " [/INST]", " ", " {eos}", "", SP::FirstUser, "<<SYS>>\n",
         "\n<</SYS>>\n\n", "", "<s>", true, {"[INST]", "[/INST]"}},
        {"mistral", "Mistral Instruct v0.1", "[INST] ", " [/INST]", "", "{eos} ", "", SP::None, "", "", "", "", false,
         {"[INST]", "[/INST]"}},
        {"mixtral", "Mixtral 8x7B Instruct v0.1, Mistral Instruct v0.2", "[INST] ", " [/INST]", "", "{eos}", "",
         SP::None, "", "", "", "", false, {"[INST]", "[/INST]"}},
        {"gemma", "Gemma and Gemma 2 Instruct", "<start_of_turn>user\n", "<end_of_turn>\n", "<start_of_turn>model\n",
         "<end_of_turn>\n", "<start_of_turn>model\n", SP::None, "", "", "", "", true,
         {"<end_of_turn>", "<start_of_turn>"}},
        {"gemma3", "Gemma 3 Instruct (the system message opens the first user turn)", "<start_of_turn>user\n",
         "<end_of_turn>\n", "<start_of_turn>model\n", "<end_of_turn>\n", "<start_of_turn>model\n", SP::FirstUser, "",
         "\n\n", "", "", true, {"<end_of_turn>", "<start_of_turn>"}},
        {"phi3", "Phi-3 and Phi-3.5 Instruct", "<|user|>\n", "<|end|>\n", "<|assistant|>\n", "<|end|>\n",
         "<|assistant|>\n", SP::Turn, "<|system|>\n", "<|end|>\n", "", "", false,
         {"<|end|>", "<|user|>", "<|assistant|>", "<|system|>"}},
        {"phi4mini", "Phi-4-mini Instruct (Phi-3's roles without newlines)", "<|user|>", "<|end|>", "<|assistant|>",
         "<|end|>", "<|assistant|>", SP::Turn, "<|system|>", "<|end|>", "", "", false,
         {"<|end|>", "<|user|>", "<|assistant|>", "<|system|>"}},
        {"zephyr", "Zephyr", "<|user|>\n", "{eos}\n", "<|assistant|>\n", "{eos}\n", "<|assistant|>\n", SP::Turn,
         "<|system|>\n", "{eos}\n", "", "", false, {"<|user|>", "<|assistant|>", "<|system|>"}},
        // The studio's own prompt formats (train/prompt_format.cpp): what a run with
        // objective.template alpaca / chatml / plain trained on, EOS after each answer.
        {"alpaca", "the studio's alpaca format (the embedded base model's)", "### Instruction:\n", "\n",
         "### Response:\n", "{eos}\n", "### Response:\n", SP::Turn, "", "\n\n", "", "", false,
         {"### Instruction:", "### Response:"}},
        {"chatml-studio", "the studio's chatml format (EOS after <|im_end|>)", "<|im_start|>user\n", "<|im_end|>\n",
         "<|im_start|>assistant\n", "<|im_end|>{eos}\n", "<|im_start|>assistant\n", SP::Turn, "<|im_start|>system\n",
         "<|im_end|>\n", "", "", false, {"<|im_end|>", "<|im_start|>"}},
        {"plain", "the studio's plain format", "", "\n", "", "{eos}\n", "", SP::Turn, "", "\n", "", "", false, {}},
    };
    return families;
}

std::string chatFamilyNames()
{
    std::string names;
    for (const auto& f : chatFamilies())
        names += (names.empty() ? "" : ", ") + std::string(f.name);
    return names;
}

const ChatFamily& chatFamily(const std::string& name)
{
    for (const auto& f : chatFamilies())
        if (name == f.name)
            return f;
    fail("unknown chat template family '" + name + "' (known: " + chatFamilyNames() + ")");
}

std::string renderChatFamily(const ChatFamily& f, const std::vector<tok::ChatMessage>& messages, const std::string& eos)
{
    const bool hasSystem = !messages.empty() && messages[0].role == "system";
    const size_t first = hasSystem ? 1 : 0;
    std::string out;
    if (f.system == SP::Turn && !hasSystem && *f.defaultSystem)
        out += withEos(f.systemOpen, eos) + f.defaultSystem + withEos(f.systemClose, eos);
    for (size_t i = 0; i < messages.size(); ++i) {
        const auto& m = messages[i];
        const bool last = i + 1 == messages.size();
        if (m.role == "system") {
            if (f.system == SP::None)
                fail(std::string("the ") + f.name + " chat format has no system messages");
            if (f.system == SP::Turn)
                out += withEos(f.systemOpen, eos) + m.content + withEos(f.systemClose, eos);
        } else if (m.role == "user") {
            if (i != first)
                out += withEos(f.beforeLaterUsers, eos);
            out += withEos(f.userOpen, eos);
            if (f.system == SP::FirstUser && i == first && hasSystem)
                out += withEos(f.systemOpen, eos) + messages[0].content + withEos(f.systemClose, eos);
            out += m.content + withEos(f.userClose, eos);
        } else if (m.role == "assistant") {
            out += withEos(f.assistantOpen, eos) + m.content + (last ? std::string() : withEos(f.assistantClose, eos));
        } else {
            fail(std::string("the ") + f.name + " chat format has no '" + m.role + "' messages");
        }
        if (last && m.role != "assistant")
            out += withEos(f.generationPrompt, eos);
    }
    return out;
}

std::string ollamaGoTemplate(const ChatFamily& f, const std::string& eos)
{
    // Plain {{ }} actions only: a trimming {{- would eat the newlines of the text before it.
    const auto lit = [&](const char* text) { return withEos(text, eos); };
    std::string t = "{{ $first := 0 }}{{ $sys := \"\" }}{{ if .Messages }}{{ if eq (index .Messages 0).Role \"system\" }}"
                    "{{ $first = 1 }}{{ $sys = (index .Messages 0).Content }}{{ end }}{{ end }}";
    if (f.system == SP::Turn && *f.defaultSystem)
        t += "{{ if eq $first 0 }}" + lit(f.systemOpen) + f.defaultSystem + lit(f.systemClose) + "{{ end }}";
    t += "{{ range $i, $m := .Messages }}{{ $last := eq (len (slice $.Messages $i)) 1 }}";
    t += "{{ if eq $m.Role \"system\" }}";
    if (f.system == SP::Turn)
        t += lit(f.systemOpen) + "{{ $m.Content }}" + lit(f.systemClose);
    t += "{{ else if eq $m.Role \"user\" }}";
    if (*f.beforeLaterUsers)
        t += "{{ if ne $i $first }}" + lit(f.beforeLaterUsers) + "{{ end }}";
    t += lit(f.userOpen);
    if (f.system == SP::FirstUser)
        t += "{{ if and (eq $i $first) $sys }}" + lit(f.systemOpen) + "{{ $sys }}" + lit(f.systemClose) + "{{ end }}";
    t += "{{ $m.Content }}" + lit(f.userClose);
    t += "{{ else if eq $m.Role \"assistant\" }}" + lit(f.assistantOpen) + "{{ $m.Content }}";
    if (*f.assistantClose)
        t += "{{ if not $last }}" + lit(f.assistantClose) + "{{ end }}";
    t += "{{ end }}";
    if (*f.generationPrompt)
        t += "{{ if and $last (ne $m.Role \"assistant\") }}" + lit(f.generationPrompt) + "{{ end }}";
    t += "{{ end }}";
    return t;
}

const ChatFamily& identifyChatFamily(const tok::ChatTemplate& chatTemplate)
{
    // The template's renderings, without the leading BOS text (the tokenizer adds BOS);
    // a template that refuses a probe (system messages) leaves it empty.
    const auto all = probes();
    std::vector<std::optional<std::string>> rendered;
    for (const auto& probe : all) {
        try {
            std::string text = chatTemplate.render(probe, /*addGenerationPrompt=*/true);
            const std::string& bos = chatTemplate.bosToken();
            if (!bos.empty() && text.starts_with(bos))
                text.erase(0, bos.size());
            rendered.emplace_back(std::move(text));
        } catch (const Error&) {
            rendered.emplace_back(std::nullopt);
        }
    }
    for (const auto& f : chatFamilies()) {
        bool same = true;
        for (size_t i = 0; i < all.size() && same; ++i) {
            const bool hasSystem = all[i][0].role == "system";
            if (hasSystem && f.system == SP::None)
                same = !rendered[i].has_value();
            else
                same = rendered[i] && *rendered[i] == renderChatFamily(f, all[i], chatTemplate.eosToken());
        }
        if (same)
            return f;
    }
    fail("the chat template of " + chatTemplate.origin() + " is not one Ollama's TEMPLATE can be written for here: " +
         "it renders none of the known families (" + chatFamilyNames() + ") exactly. Templates that add dates, "
         "tools or reasoning blocks to every prompt are among these. Choose a family with --template if the "
         "model was trained on one, or write the Modelfile's TEMPLATE by hand");
}

} // namespace ft::deploy
