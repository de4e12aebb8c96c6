// Prompt formats for instruction tuning: how one dataset row (instruction, chat or
// text) becomes the text the model trains on, split into segments that say which
// parts the loss sees. Formats: "alpaca" (exactly the "### Instruction:" /
// "### Response:" documents the embedded base model was pretrained on, so SFT builds
// on what it already knows), "chatml" (<|im_start|>role ... <|im_end|>) and "plain"
// (prompt, newline, response). "model", the model's own Jinja chat template, is
// ModelTemplateFormat (model_template_format.h): it needs the model folder.
// Not here: tokenization, truncation and masking (sft_data.h); reading rows
// (dataset_source.h). Markup is plain text here; it is never parsed into special ids.
//
// End of a response: a segment whose `eos` is set is followed by the tokenizer's EOS
// id (an id, never the text "</s>"), trainable exactly when the segment is. Every
// format sets it on every assistant response and on text rows, so the model learns
// to stop, and generation stops at EOS.
#pragma once

#include "data/records.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ft::train {

struct Segment {
    std::string text;
    bool trainable = false;  // the loss sees these tokens (responses); prompts are masked
    bool eos = false;        // the EOS id follows this segment (see above)

    bool operator==(const Segment&) const = default;
};

class PromptFormat {
public:
    virtual ~PromptFormat() = default;
    virtual std::string name() const = 0;
    // Segments of one row, in order; adjacent parts with the same trainability are
    // merged into one segment unless an EOS separates them; empty parts are left out.
    // ft::Error when the kind is not instruction, chat or text, or the fields are
    // invalid for the kind (the reason names the field).
    virtual std::vector<Segment> render(data::DatasetKind kind, const nlohmann::json& fields) const = 0;
    // What the model sees before its answer to `userText` (sample generations):
    // the prompt side of a one-turn instruction row, without the response.
    virtual std::string renderPrompt(const std::string& userText) const = 0;
};

// "alpaca", "chatml", "plain"; ft::Error for "model" (built from a model folder by
// ModelTemplateFormat::fromModelFolder) and for unknown names, listing the others.
std::unique_ptr<PromptFormat> makePromptFormat(const std::string& name);
std::string promptFormatList();  // "alpaca, chatml, plain"

// The concatenated text of segments (what the model reads, EOS ids not shown).
std::string joinedText(const std::vector<Segment>& segments);

// The same segments with the reasoning inside trainable ones made non-trainable: each
// "<think>...</think>" block and the white space after it, and, when a trainable
// segment holds a "</think>" whose "<think>" came before it (a template that opens the
// thinking in the generation prompt), everything up to that close. The text is unchanged.
std::vector<Segment> withoutReasoningLoss(std::vector<Segment> segments);

} // namespace ft::train
