// The prompt format "model": a row rendered with the model's own Jinja chat template
// (tokenizer_config.json's chat_template, or chat_template.jinja; the documented ChatML
// default when the folder has none), split into segments by the template's assistant
// spans, so SFT trains on exactly the assistant content and end-of-turn text the model
// will produce, and masks everything else. A leading bos_token text is dropped (the
// data pipeline adds BOS as the tokenizer says), and an eos_token text that ends an
// assistant span becomes the EOS id. Not here: the built-in formats (prompt_format.h).
#pragma once

#include "tokenizer/chat_template.h"
#include "train/prompt_format.h"

namespace ft::train {

class ModelTemplateFormat final : public PromptFormat {
public:
    explicit ModelTemplateFormat(tok::ChatTemplate chat);
    static std::unique_ptr<PromptFormat> fromModelFolder(const std::string& modelDir);

    std::string name() const override { return "model"; }
    std::vector<Segment> render(data::DatasetKind kind, const nlohmann::json& fields) const override;
    std::string renderPrompt(const std::string& userText) const override;
    const tok::ChatTemplate& chatTemplate() const { return m_chat; }

private:
    std::string withoutLeadingBos(std::string text) const;

    tok::ChatTemplate m_chat;
};

// A prompt format by name: "model" (the chat template of `modelDir`) or a built-in one
// (makePromptFormat). ft::Error for an unknown name, listing the others.
std::unique_ptr<PromptFormat> promptFormatFor(const std::string& name, const std::string& modelDir);

} // namespace ft::train
