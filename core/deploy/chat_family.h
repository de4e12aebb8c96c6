// The chat formats Ollama needs spelled out: a Modelfile's TEMPLATE is a Go template
// (text/template over .Messages), not the model's Jinja chat template. Each family is
// one row of strings around the turns; from that row come both a renderer (to recognize
// a model's Jinja template by what it renders) and the Go template, so the two cannot
// drift apart. Families: the models' own (ChatML, Qwen2, Qwen2.5, Llama 2, Llama 3,
// Mistral, Mixtral, Gemma, Gemma 3, Phi-3, Zephyr) and the studio's prompt formats
// (alpaca, the embedded base's; chatml-studio; plain).
// Not here: writing the Modelfile (ollama_export.h), rendering Jinja (tokenizer/chat_template.h).
#pragma once

#include "tokenizer/chat_template.h"

#include <string>
#include <vector>

namespace ft::deploy {

// Where a system message goes.
enum class SystemPlacement {
    Turn,       // a turn of its own (systemOpen + content + systemClose)
    FirstUser,  // inside the first user turn: userOpen + systemPrefix + system + systemSuffix + content
    None,       // the template refuses system messages
};

struct ChatFamily {
    const char* name;
    const char* models;  // who ships it, for messages
    const char* userOpen;
    const char* userClose;
    const char* assistantOpen;
    const char* assistantClose;  // after an answer; "{eos}" stands for the model's EOS text
    const char* generationPrompt;  // what opens the model's answer
    SystemPlacement system;
    const char* systemOpen;   // Turn: around the system turn; FirstUser: around the system text
    const char* systemClose;
    const char* defaultSystem;  // Turn: written when the conversation has no system message
    const char* beforeLaterUsers;  // before every user turn but the first ("<s>" in Llama 2)
    bool trimsContent;             // the Jinja template strips each message (Go templates cannot)
    std::vector<const char*> stops;  // PARAMETER stop: end-of-turn and start-of-turn markers
};

const std::vector<ChatFamily>& chatFamilies();
std::string chatFamilyNames();
// ft::Error listing the names when `name` is not a family.
const ChatFamily& chatFamily(const std::string& name);

// The family's text for a conversation ending with a user turn, with the generation
// prompt, without the BOS the tokenizer adds. ft::Error for a system message in a
// family without system turns.
// "{eos}" in the family's strings becomes `eosText`.
std::string renderChatFamily(const ChatFamily& family, const std::vector<tok::ChatMessage>& messages,
                             const std::string& eosText);

// The same as an Ollama TEMPLATE (Go text/template over .Messages with .Role and
// .Content). A conversation ending with an assistant message renders it open (Ollama's
// continuation), without assistantClose or the generation prompt.
std::string ollamaGoTemplate(const ChatFamily& family, const std::string& eosText);

// The family whose rendering equals `chatTemplate`'s (its leading BOS text dropped) on
// a set of probe conversations. ft::Error naming the template's origin and the known
// families when none matches (e.g. templates that add dates or reasoning blocks).
const ChatFamily& identifyChatFamily(const tok::ChatTemplate& chatTemplate);

} // namespace ft::deploy
