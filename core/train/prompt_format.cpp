// The built-in prompt formats. Each is a handful of strings around a turn; every
// row is first turned into turns (an instruction row is system?, user, assistant),
// so an instruction row and the equivalent one-turn chat render identically.
#include "train/prompt_format.h"

#include "util/error.h"

namespace ft::train {

namespace {

// Appends parts, merging a part into the previous segment when both have the same
// trainability and no EOS separates them.
class SegmentList {
public:
    void add(const std::string& text, bool trainable, bool eos = false)
    {
        if (text.empty() && !eos)
            return;
        if (!m_segments.empty() && m_segments.back().trainable == trainable && !m_segments.back().eos) {
            m_segments.back().text += text;
            m_segments.back().eos = eos;
            return;
        }
        m_segments.push_back({text, trainable, eos});
    }
    std::vector<Segment> take() { return std::move(m_segments); }

private:
    std::vector<Segment> m_segments;
};

std::string optionalText(const nlohmann::json& fields, const char* key)
{
    auto it = fields.find(key);
    return it != fields.end() && it->is_string() ? it->get<std::string>() : std::string();
}

enum class Role { System, User, Assistant };

struct Turn {
    Role role;
    std::string content;
    std::string input;  // the instruction row's optional input, user turns only
};

// A format as the strings around each turn.
class TurnFormat : public PromptFormat {
public:
    virtual std::string systemBlock(const std::string& content) const = 0;
    virtual std::string userBlock(const std::string& content, const std::string& input) const = 0;
    virtual std::string assistantPrefix() const = 0;                      // prompt side, before the answer
    virtual std::string assistantSuffix() const { return {}; }            // trainable, after the answer
    virtual std::string turnSeparator() const { return "\n"; }            // after an answer that is not last

    std::vector<Segment> render(data::DatasetKind kind, const nlohmann::json& fields) const override
    {
        using data::DatasetKind;
        if (kind != DatasetKind::Instruction && kind != DatasetKind::Chat && kind != DatasetKind::Text)
            fail(std::string("the prompt format '") + name() + "' renders instruction, chat and text rows, not " +
                 data::datasetKindName(kind) + " rows");
        if (std::string why = data::validateFields(kind, fields); !why.empty())
            fail(std::string("a ") + data::datasetKindName(kind) + " row cannot be rendered: " + why);
        SegmentList out;
        if (kind == DatasetKind::Text) {
            out.add(fields["text"].get<std::string>(), /*trainable=*/true, /*eos=*/true);
            return out.take();
        }
        const std::vector<Turn> turns = toTurns(kind, fields);
        for (size_t i = 0; i < turns.size(); ++i) {
            const Turn& t = turns[i];
            switch (t.role) {
            case Role::System:
                out.add(systemBlock(t.content), false);
                break;
            case Role::User:
                out.add(userBlock(t.content, t.input), false);
                break;
            case Role::Assistant:
                out.add(assistantPrefix(), false);
                out.add(t.content + assistantSuffix(), /*trainable=*/true, /*eos=*/true);
                if (i + 1 < turns.size())
                    out.add(turnSeparator(), false);
                break;
            }
        }
        return out.take();
    }

    std::string renderPrompt(const std::string& userText) const override
    {
        return userBlock(userText, {}) + assistantPrefix();
    }

private:
    static std::vector<Turn> toTurns(data::DatasetKind kind, const nlohmann::json& fields)
    {
        std::vector<Turn> turns;
        if (kind == data::DatasetKind::Instruction) {
            if (std::string system = optionalText(fields, "system"); !system.empty())
                turns.push_back({Role::System, system, {}});
            turns.push_back({Role::User, fields["instruction"].get<std::string>(), optionalText(fields, "input")});
            turns.push_back({Role::Assistant, fields["output"].get<std::string>(), {}});
            return turns;
        }
        if (fields.contains("tools"))
            fail("this chat row defines tools; tool definitions and calls are rendered only by the model's own chat "
                 "template (objective.template: model)");
        for (size_t i = 0; i < fields["messages"].size(); ++i) {
            const nlohmann::json& m = fields["messages"][i];
            const std::string role = m["role"].get<std::string>();
            if (role == "tool" || m.contains("tool_calls"))
                fail("messages[" + std::to_string(i) + "] " +
                     (role == "tool" ? std::string("is a tool result") : std::string("calls tools")) +
                     "; tool calls are rendered only by the model's own chat template (objective.template: model)");
            const Role r = role == "system" ? Role::System : role == "user" ? Role::User : Role::Assistant;
            std::string content = m["content"].get<std::string>();
            // The thinking before the answer, as reasoning models write it.
            if (m.contains("reasoning_content") && m["reasoning_content"].is_string() &&
                !m["reasoning_content"].get<std::string>().empty())
                content = "<think>\n" + m["reasoning_content"].get<std::string>() + "\n</think>\n\n" + content;
            turns.push_back({r, content, {}});
        }
        return turns;
    }
};

// The base corpus's instruction documents, byte for byte:
// "### Instruction:\n<task>\n### Response:\n<answer>".
class AlpacaFormat final : public TurnFormat {
public:
    std::string name() const override { return "alpaca"; }
    std::string systemBlock(const std::string& c) const override { return c + "\n\n"; }
    std::string userBlock(const std::string& c, const std::string& input) const override
    {
        return "### Instruction:\n" + c + "\n" + (input.empty() ? std::string() : "### Input:\n" + input + "\n");
    }
    std::string assistantPrefix() const override { return "### Response:\n"; }
};

class ChatMlFormat final : public TurnFormat {
public:
    std::string name() const override { return "chatml"; }
    std::string systemBlock(const std::string& c) const override { return "<|im_start|>system\n" + c + "<|im_end|>\n"; }
    std::string userBlock(const std::string& c, const std::string& input) const override
    {
        return "<|im_start|>user\n" + c + (input.empty() ? std::string() : "\n\n" + input) + "<|im_end|>\n";
    }
    std::string assistantPrefix() const override { return "<|im_start|>assistant\n"; }
    std::string assistantSuffix() const override { return "<|im_end|>"; }
};

class PlainFormat final : public TurnFormat {
public:
    std::string name() const override { return "plain"; }
    std::string systemBlock(const std::string& c) const override { return c + "\n"; }
    std::string userBlock(const std::string& c, const std::string& input) const override
    {
        return c + (input.empty() ? std::string() : "\n" + input) + "\n";
    }
    std::string assistantPrefix() const override { return {}; }
};

} // namespace

std::string promptFormatList() { return "alpaca, chatml, plain"; }

std::unique_ptr<PromptFormat> makePromptFormat(const std::string& name)
{
    if (name == "alpaca")
        return std::make_unique<AlpacaFormat>();
    if (name == "chatml")
        return std::make_unique<ChatMlFormat>();
    if (name == "plain")
        return std::make_unique<PlainFormat>();
    if (name == "model")
        fail("the prompt format 'model' needs the model folder: ModelTemplateFormat::fromModelFolder "
             "(train/model_template_format.h)");
    fail("unknown prompt format '" + name + "'; use one of " + promptFormatList());
}

std::string joinedText(const std::vector<Segment>& segments)
{
    std::string text;
    for (const Segment& s : segments)
        text += s.text;
    return text;
}

std::vector<Segment> withoutReasoningLoss(std::vector<Segment> segments)
{
    static const std::string kOpen = "<think>", kClose = "</think>";
    std::vector<Segment> out;
    for (Segment& s : segments) {
        if (!s.trainable) {
            out.push_back(std::move(s));
            continue;
        }
        const std::string& t = s.text;
        size_t at = 0;
        auto emit = [&](size_t from, size_t to, bool trainable) {
            if (to > from)
                out.push_back({t.substr(from, to - from), trainable, false});
        };
        // A close with no open in this segment: the thinking began before it.
        const size_t firstOpen = t.find(kOpen), firstClose = t.find(kClose);
        if (firstClose != std::string::npos && (firstOpen == std::string::npos || firstClose < firstOpen)) {
            size_t end = firstClose + kClose.size();
            while (end < t.size() && std::isspace(static_cast<unsigned char>(t[end])))
                ++end;
            emit(0, end, false);
            at = end;
        }
        for (size_t open; (open = t.find(kOpen, at)) != std::string::npos;) {
            const size_t close = t.find(kClose, open);
            emit(at, open, true);
            size_t end = close == std::string::npos ? t.size() : close + kClose.size();
            while (close != std::string::npos && end < t.size() && std::isspace(static_cast<unsigned char>(t[end])))
                ++end;
            emit(open, end, false);
            at = end;
        }
        emit(at, t.size(), true);
        if (s.eos) {
            // EOS stays with the segment's end, trainable as the answer's end is.
            if (!out.empty() && out.back().trainable)
                out.back().eos = true;
            else
                out.push_back({std::string(), true, true});
        }
    }
    return out;
}

} // namespace ft::train
