// Layout detection and record -> Row conversion (see import_layouts.h). Conversion
// normalizes what a round trip could not preserve anyway: an empty optional string
// (input, system) is left out, message entries keep only role and content, tags are
// trimmed and de-duplicated.
#include "data/import_layouts.h"
#include "data/records.h"
#include "util/text.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <initializer_list>

namespace ft::data {

namespace {

using util::isBlank;
using util::trim;

using nlohmann::json;

// Thrown inside conversion and turned into the rejection reason at the top.
struct Rejection {
    std::string reason;
};
[[noreturn]] void reject(std::string reason) { throw Rejection{std::move(reason)}; }

// Reads typed values out of one record. Absent = missing, null, or an empty CSV cell.
class Fields {
public:
    Fields(const json& record, bool textCells) : m_record(record), m_text(textCells) {}

    bool textCells() const { return m_text; }

    const json* find(const std::string& key) const {
        const auto it = m_record.find(key);
        if (it == m_record.end() || it->is_null())
            return nullptr;
        if (m_text && it->is_string() && it->get_ref<const std::string&>().empty())
            return nullptr;
        return &*it;
    }
    // The first of `keys` present; its name goes into `name`.
    const json* findAny(std::initializer_list<const char*> keys, std::string& name) const {
        for (const char* k : keys)
            if (const json* v = find(k)) {
                name = k;
                return v;
            }
        name = *keys.begin();
        return nullptr;
    }

    // Rejects a required field that find() did not return: missing, null, or an empty cell.
    [[noreturn]] void absent(std::initializer_list<const char*> keys) const {
        for (const char* k : keys) {
            const auto it = m_record.find(k);
            if (it == m_record.end())
                continue;
            reject(quotedField(k) + (it->is_null() ? " must not be null" : " is empty"));
        }
        reject(quotedField(*keys.begin()) + " is missing");
    }

    std::string requiredString(const std::string& key) const {
        const json* v = find(key);
        if (!v)
            absent({key.c_str()});
        return nonEmptyString(*v, key);
    }
    std::optional<std::string> optionalString(const std::string& key) const {
        const json* v = find(key);
        if (!v)
            return std::nullopt;
        if (!v->is_string())
            reject(quotedField(key) + " must be a string (found " + v->type_name() + ")");
        const auto& s = v->get_ref<const std::string&>();
        return s.empty() ? std::nullopt : std::optional<std::string>(s);
    }
    // CSV cells hold lists and objects as JSON text.
    json structured(const json& v, const std::string& field, const char* expected) const {
        if (!m_text || !v.is_string())
            return v;
        try {
            return json::parse(v.get_ref<const std::string&>());
        } catch (const json::exception&) {  // also a number out of range
            reject(quotedField(field) + " must be " + expected + " written as JSON");
        }
    }

    static std::string nonEmptyString(const json& v, const std::string& field) {
        if (!v.is_string())
            reject(quotedField(field) + " must be a string (found " + v.type_name() + ")");
        const auto& s = v.get_ref<const std::string&>();
        if (isBlank(s))
            reject(quotedField(field) + " is empty");
        return s;
    }

private:
    const json& m_record;
    bool m_text;
};

// [{role, content}] (OpenAI) or [{from, value}] (ShareGPT) -> [{role, content}].
json messageList(const Fields& f, const json& raw, const std::string& field, bool shareGpt) {
    const json v = f.structured(raw, field, "a list of messages");
    if (!v.is_array())
        reject(quotedField(field) + " must be a list of messages (found " + v.type_name() + ")");
    if (v.empty())
        reject(quotedField(field) + " is empty");
    json out = json::array();
    for (size_t i = 0; i < v.size(); ++i) {
        const std::string at = field + "[" + std::to_string(i) + "]";
        if (!v[i].is_object())
            reject(quotedField(at) + " must be an object with a role and content (found " + v[i].type_name() + ")");
        Fields m(v[i], false);
        std::string roleKey, contentKey;
        const json* role = shareGpt ? m.findAny({"from", "role"}, roleKey) : m.findAny({"role"}, roleKey);
        const json* content = shareGpt ? m.findAny({"value", "content"}, contentKey) : m.findAny({"content"}, contentKey);
        if (!role)
            shareGpt ? m.absent({"from", "role"}) : m.absent({"role"});
        if (!role->is_string())
            reject(quotedField(at + "." + roleKey) + " must be a string (found " + role->type_name() + ")");
        const std::string r = util::toLower(role->get<std::string>());
        std::string mapped;
        if (r == "system")
            mapped = "system";
        else if (r == "user" || (shareGpt && r == "human"))
            mapped = "user";
        else if (r == "assistant" || (shareGpt && (r == "gpt" || r == "chatgpt" || r == "bot" || r == "model")))
            mapped = "assistant";
        else if (r == "tool" || (shareGpt && (r == "observation" || r == "function_response")))
            mapped = "tool";
        else
            reject("unknown role '" + role->get<std::string>() + "' in " + at + " (expected " +
                   (shareGpt ? "system, human, gpt or observation" : "system, user, assistant or tool") + ")");
        json message{{"role", mapped}};
        // Tool calls (OpenAI's layout) and reasoning are kept; arguments given as JSON text
        // become an object, as chat templates expect (transformers' documented form).
        const json& raw = v[i];
        if (mapped == "assistant" && raw.contains("tool_calls") && !raw["tool_calls"].is_null()) {
            json calls = raw["tool_calls"];
            if (!calls.is_array())
                reject(quotedField(at + ".tool_calls") + " must be a list of calls (found " + calls.type_name() + ")");
            for (json& call : calls)
                if (call.is_object() && call.contains("function") && call["function"].is_object() &&
                    call["function"].contains("arguments") && call["function"]["arguments"].is_string()) {
                    const json parsed = json::parse(call["function"]["arguments"].get<std::string>(), nullptr, false);
                    if (parsed.is_object())
                        call["function"]["arguments"] = parsed;
                }
            message["tool_calls"] = std::move(calls);
        }
        for (const char* key : {"reasoning_content", "reasoning"})
            if (mapped == "assistant" && raw.contains(key) && raw[key].is_string() && !raw[key].get<std::string>().empty())
                message["reasoning_content"] = raw[key];
        if (mapped == "tool")
            for (const char* key : {"tool_call_id", "name"})
                if (raw.contains(key) && raw[key].is_string())
                    message[key] = raw[key];
        if (message.contains("tool_calls") &&
            (!content || content->is_null() || (content->is_string() && util::isBlank(content->get<std::string>())))) {
            message["content"] = "";  // a message that only calls tools
        } else {
            if (!content)
                shareGpt ? m.absent({"value", "content"}) : m.absent({"content"});
            message["content"] = Fields::nonEmptyString(*content, at + "." + contentKey);
        }
        out.push_back(std::move(message));
    }
    return out;
}

// A preference side: a string, or a message list (in CSV cells: JSON text of one).
json stringOrMessages(const Fields& f, const json& v, const std::string& field) {
    if (v.is_array())
        return messageList(f, v, field, false);
    if (f.textCells() && v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        const size_t first = s.find_first_not_of(" \t\r\n");
        if (first != std::string::npos && s[first] == '[') {
            const json parsed = json::parse(s, nullptr, /*allow_exceptions=*/false);
            if (parsed.is_array() && !parsed.empty() && parsed[0].is_object())
                return messageList(f, parsed, field, false);
        }
    }
    return Fields::nonEmptyString(v, field);
}

json requiredTextOrMessages(const Fields& f, const std::string& key) {
    const json* v = f.find(key);
    if (!v)
        f.absent({key.c_str()});
    return stringOrMessages(f, *v, key);
}

void convertAlpaca(const Fields& f, json& out) {
    if (auto system = f.optionalString("system"))
        out["system"] = *system;
    out["instruction"] = f.requiredString("instruction");
    if (auto input = f.optionalString("input"))
        out["input"] = *input;
    out["output"] = f.requiredString("output");
}

void convertChat(const Fields& f, bool shareGpt, json& out) {
    const std::string key = shareGpt ? "conversations" : "messages";
    const json* v = f.find(key);
    if (!v)
        f.absent({key.c_str()});
    json messages = messageList(f, *v, key, shareGpt);
    if (shareGpt)  // some ShareGPT files keep the system prompt beside the conversation
        if (auto system = f.optionalString("system"))
            messages.insert(messages.begin(), json{{"role", "system"}, {"content", *system}});
    out["messages"] = std::move(messages);
    if (const json* tools = f.find("tools"); tools && !tools->is_null()) {
        const json t = f.structured(*tools, "tools", "a list of tool definitions");
        if (!t.is_array())
            reject(quotedField("tools") + " must be a list of tool definitions (found " + t.type_name() + ")");
        out["tools"] = t;
    }
}

void convertPreference(const Fields& f, json& out) {
    const json* chosenRaw = f.find("chosen");
    const json* rejectedRaw = f.find("rejected");
    if (!chosenRaw)
        f.absent({"chosen"});
    if (!rejectedRaw)
        f.absent({"rejected"});
    json chosen = stringOrMessages(f, *chosenRaw, "chosen");
    json rejected = stringOrMessages(f, *rejectedRaw, "rejected");
    json prompt;
    if (const json* p = f.find("prompt"))
        prompt = stringOrMessages(f, *p, "prompt");
    else if (chosen.is_array() && rejected.is_array()) {
        // TRL's implicit prompt: the leading messages both conversations share.
        size_t common = 0;
        while (common < chosen.size() && common < rejected.size() && chosen[common] == rejected[common])
            ++common;
        if (common == 0)
            reject(quotedField("prompt") + " is missing (and chosen and rejected share no leading messages)");
        prompt = json(chosen.begin(), chosen.begin() + static_cast<std::ptrdiff_t>(common));
        chosen.erase(chosen.begin(), chosen.begin() + static_cast<std::ptrdiff_t>(common));
        rejected.erase(rejected.begin(), rejected.begin() + static_cast<std::ptrdiff_t>(common));
        if (chosen.empty())
            reject(quotedField("chosen") + " is empty after its shared prompt messages");
        if (rejected.empty())
            reject(quotedField("rejected") + " is empty after its shared prompt messages");
    } else
        reject(quotedField("prompt") + " is missing");
    out["prompt"] = std::move(prompt);
    out["chosen"] = std::move(chosen);
    out["rejected"] = std::move(rejected);
}

bool readBool(const Fields& f, const json& v, const std::string& field) {
    if (v.is_boolean())
        return v.get<bool>();
    if (v.is_number_integer() && (v.get<int64_t>() == 0 || v.get<int64_t>() == 1))
        return v.get<int64_t>() == 1;
    if (f.textCells() && v.is_string()) {
        const std::string s = util::toLower(trim(v.get<std::string>()));
        if (s == "true" || s == "1" || s == "yes")
            return true;
        if (s == "false" || s == "0" || s == "no")
            return false;
    }
    reject(quotedField(field) + " must be true or false (found " + (v.is_string() ? "'" + v.get<std::string>() + "'" : v.type_name()) + ")");
}

void convertKto(const Fields& f, json& out) {
    out["prompt"] = requiredTextOrMessages(f, "prompt");
    out["completion"] = requiredTextOrMessages(f, "completion");
    std::string key;
    const json* label = f.findAny({"label", "desirable"}, key);
    if (!label)
        f.absent({"label", "desirable"});
    out["desirable"] = readBool(f, *label, key);
}

void convertVerifiable(const Fields& f, json& out) {
    out["prompt"] = requiredTextOrMessages(f, "prompt");
    std::string key;
    const json* reference = f.findAny({"reference", "answer"}, key);
    if (!reference)
        f.absent({"answer", "reference"});
    // Numeric answers (GSM8K-style files) are compared as text by the verifiers.
    out["reference"] = reference->is_number() || reference->is_boolean() ? reference->dump()
                                                                          : Fields::nonEmptyString(*reference, key);
    out["verifier"] = f.optionalString("verifier").value_or(kDefaultVerifier);
    if (const json* settings = f.find("verifier_settings")) {
        json s = f.structured(*settings, "verifier_settings", "an object");
        if (!s.is_object())
            reject(quotedField("verifier_settings") + " must be an object (found " + s.type_name() + ")");
        out["verifier_settings"] = std::move(s);
    }
}

std::vector<std::string> readTags(const Fields& f) {
    const json* v = f.find("tags");
    std::vector<std::string> raw;
    json list;
    if (v && v->is_string()) {
        // CSV cells hold "a, b" or a JSON list (the exporter writes one when a tag has a comma).
        const std::string& s = v->get_ref<const std::string&>();
        const size_t first = s.find_first_not_of(" \t");
        if (first != std::string::npos && s[first] == '[')
            list = json::parse(s, nullptr, /*allow_exceptions=*/false);
        if (!list.is_array()) {
            size_t start = 0;
            while (start <= s.size()) {
                const size_t comma = std::min(s.find(',', start), s.size());
                raw.push_back(s.substr(start, comma - start));
                start = comma + 1;
            }
        }
    } else if (v && v->is_array())
        list = *v;
    else if (v)
        reject(quotedField("tags") + " must be a list of strings (found " + v->type_name() + ")");
    if (list.is_array())
        for (const auto& t : list) {
            if (!t.is_string())
                reject(quotedField("tags") + " must be a list of strings (found a " + t.type_name() + " in it)");
            raw.push_back(t.get<std::string>());
        }
    std::vector<std::string> tags;
    for (const auto& t : raw) {
        std::string clean = trim(t);
        if (!clean.empty() && std::find(tags.begin(), tags.end(), clean) == tags.end())
            tags.push_back(std::move(clean));
    }
    return tags;
}

void readMetadata(const Fields& f, DatasetKind kind, const ImportOptions& options, Row& row) {
    row.tags = readTags(f);
    for (const auto& t : options.tags)
        if (!t.empty() && std::find(row.tags.begin(), row.tags.end(), t) == row.tags.end())
            row.tags.push_back(t);
    row.notes = f.optionalString("notes").value_or("");
    row.split = options.defaultSplit;
    if (auto split = f.optionalString("split")) {
        const std::string s = util::toLower(trim(*split));
        if (auto known = splitFromName(s))
            row.split = *known;
        else if (s == "validation" || s == "valid" || s == "dev" || s == "val")  // Hugging Face names
            row.split = Split::Eval;
        else
            reject(quotedField("split") + " must be one of train, eval, test, not '" + *split + "'");
    }
    if (kind != DatasetKind::Preference)
        return;
    // Pairs from a file come labelled by whoever made the file.
    row.labelSource = LabelSource::Imported;
    if (auto source = f.optionalString("label_source")) {
        auto known = labelSourceFromName(util::toLower(trim(*source)));
        if (!known)
            reject(quotedField("label_source") + " must be one of none, human, ai, imported, not '" + *source + "'");
        row.labelSource = *known;
    }
    row.annotator = f.optionalString("annotator").value_or("");
    row.labeledAt = f.optionalString("labeled_at").value_or("");
    if (const json* c = f.find("confidence")) {
        double value = -1;
        if (c->is_number())
            value = c->get<double>();
        else if (f.textCells() && c->is_string()) {
            const std::string s = trim(c->get<std::string>());
            char* end = nullptr;
            value = std::strtod(s.c_str(), &end);
            if (s.empty() || *end != '\0')
                value = -1;
        }
        if (!(value >= 0 && value <= 1))
            reject(quotedField("confidence") + " must be a number between 0 and 1");
        row.confidence = value;
    }
}

} // namespace

void applyMapping(nlohmann::json& record, const ColumnMapping& mapping) {
    if (!record.is_object() || mapping.fieldToColumn.empty())
        return;
    // Take every mapped column out first, so that swapping two names works.
    std::vector<std::pair<std::string, json>> moved;
    for (const auto& [field, column] : mapping.fieldToColumn) {
        const auto it = record.find(column);
        if (it != record.end()) {
            moved.emplace_back(field, std::move(*it));
            record.erase(it);
        }
    }
    for (auto& [field, value] : moved)
        record[field] = std::move(value);
}

std::vector<Layout> matchingLayouts(const std::vector<std::string>& keys) {
    const auto has = [&](const char* k) { return std::find(keys.begin(), keys.end(), k) != keys.end(); };
    std::vector<Layout> out;
    if (has("instruction") && has("output"))
        out.push_back(Layout::Alpaca);
    if (has("conversations"))
        out.push_back(Layout::ShareGpt);
    if (has("messages"))
        out.push_back(Layout::OpenAiMessages);
    if (has("chosen") && has("rejected"))
        out.push_back(Layout::TrlPreference);
    if (has("prompt") && has("completion") && (has("label") || has("desirable")))
        out.push_back(Layout::Kto);
    if (has("prompt") && (has("answer") || has("reference")))
        out.push_back(Layout::Verifiable);
    if (out.empty() && has("text"))
        out.push_back(Layout::PlainText);
    return out;
}

std::string requiredKeysText(Layout layout) {
    switch (layout) {
    case Layout::Alpaca: return "instruction+output";
    case Layout::ShareGpt: return "conversations";
    case Layout::OpenAiMessages: return "messages";
    case Layout::TrlPreference: return "chosen+rejected";
    case Layout::Kto: return "prompt+completion+label";
    case Layout::Verifiable: return "prompt+answer";
    case Layout::PlainText: return "text";
    default: return "";
    }
}

std::string notAnObjectReason(const nlohmann::json& record) {
    return std::string("not a JSON object but ") + (record.is_array() ? "an array" : "a " + std::string(record.type_name()));
}

std::string convertRecord(Layout layout, const nlohmann::json& record, bool textCells, const ImportOptions& options,
                          Row& row) {
    if (!record.is_object())
        return notAnObjectReason(record);
    const std::optional<DatasetKind> kind = layoutKind(layout);
    if (!kind)
        return "internal error: no concrete layout to convert with";
    row = Row{};
    try {
        const Fields f(record, textCells);
        json fields = json::object();
        switch (layout) {
        case Layout::Alpaca: convertAlpaca(f, fields); break;
        case Layout::ShareGpt: convertChat(f, /*shareGpt=*/true, fields); break;
        case Layout::OpenAiMessages: convertChat(f, /*shareGpt=*/false, fields); break;
        case Layout::TrlPreference: convertPreference(f, fields); break;
        case Layout::Kto: convertKto(f, fields); break;
        case Layout::Verifiable: convertVerifiable(f, fields); break;
        case Layout::PlainText: fields["text"] = f.requiredString("text"); break;
        default: break;
        }
        readMetadata(f, *kind, options, row);
        row.fields = std::move(fields);
    } catch (const Rejection& r) {
        return r.reason;
    }
    // The store's own rules are the last word (they also guard rows typed in the GUI).
    return validateFields(*kind, row.fields);
}

} // namespace ft::data
