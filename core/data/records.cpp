// The per-kind field rules of dataset rows (see the table in records.h), the name
// tables of the small enums, and the text full-text search indexes for a row.
// Not here: anything that touches SQLite (project_store.cpp) or a file format.
#include "data/records.h"
#include "util/text.h"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <initializer_list>

namespace ft::data {

namespace {

using util::isBlank;

struct KindName {
    DatasetKind kind;
    const char* name;
};
constexpr KindName kKindNames[] = {
    {DatasetKind::Instruction, "instruction"}, {DatasetKind::Chat, "chat"},
    {DatasetKind::Preference, "preference"},   {DatasetKind::Unpaired, "unpaired"},
    {DatasetKind::Verifiable, "verifiable"},   {DatasetKind::Text, "text"},
};

constexpr const char* kRoles[] = {"system", "user", "assistant", "tool"};

// Each check returns "" when fine, else the reason; the first reason wins.
std::string checkText(const nlohmann::json& value, const std::string& path) {
    if (!value.is_string())
        return quotedField(path) + " must be a string (found " + value.type_name() + ")";
    if (isBlank(value.get_ref<const std::string&>()))
        return quotedField(path) + " is empty";
    return {};
}

// Optional strings may be empty (an Alpaca "input" often is) but must be strings.
std::string checkOptionalText(const nlohmann::json& fields, const char* key) {
    auto it = fields.find(key);
    if (it == fields.end() || it->is_string())
        return {};
    return quotedField(key) + " must be a string (found " + it->type_name() + ")";
}

std::string checkRequiredText(const nlohmann::json& fields, const char* key) {
    auto it = fields.find(key);
    if (it == fields.end())
        return quotedField(key) + " is missing";
    return checkText(*it, key);
}

std::string checkMessages(const nlohmann::json& value, const std::string& path) {
    if (!value.is_array())
        return quotedField(path) + " must be a list of messages (found " + value.type_name() + ")";
    if (value.empty())
        return quotedField(path) + " has no messages";
    for (size_t i = 0; i < value.size(); ++i) {
        const nlohmann::json& m = value[i];
        const std::string at = path + "[" + std::to_string(i) + "]";
        if (!m.is_object())
            return quotedField(at) + " must be an object with role and content (found " + m.type_name() + ")";
        auto role = m.find("role");
        if (role == m.end())
            return quotedField(at + ".role") + " is missing";
        bool known = false;
        for (const char* r : kRoles)
            known = known || (role->is_string() && *role == r);
        if (!known)
            return quotedField(at + ".role") + " must be one of system, user, assistant, tool";
        const bool assistant = *role == "assistant", tool = *role == "tool";
        for (auto it = m.begin(); it != m.end(); ++it) {
            const std::string& k = it.key();
            const bool allowed = k == "role" || k == "content" ||
                                 (assistant && (k == "reasoning_content" || k == "tool_calls")) ||
                                 (tool && (k == "tool_call_id" || k == "name"));
            if (!allowed)
                return quotedField(at + "." + k) +
                       " is not allowed (a message has role and content; an assistant message may add "
                       "reasoning_content and tool_calls, a tool message tool_call_id and name)";
            if (k != "role" && k != "content" && k != "tool_calls" && !it->is_string())
                return quotedField(at + "." + k) + " must be a string (found " + it->type_name() + ")";
        }
        auto calls = m.find("tool_calls");
        if (calls != m.end()) {
            if (!calls->is_array() || calls->empty())
                return quotedField(at + ".tool_calls") + " must be a non-empty list of calls";
            for (size_t c = 0; c < calls->size(); ++c) {
                const nlohmann::json& call = (*calls)[c];
                const std::string cat = at + ".tool_calls[" + std::to_string(c) + "]";
                const nlohmann::json* fn = call.is_object() && call.contains("function") ? &call["function"] : nullptr;
                if (!fn || !fn->is_object() || !fn->contains("name") || !(*fn)["name"].is_string())
                    return quotedField(cat) + " must be {\"function\": {\"name\": ..., \"arguments\": {...}}}";
                if (fn->contains("arguments") && !(*fn)["arguments"].is_object() && !(*fn)["arguments"].is_string())
                    return quotedField(cat + ".function.arguments") + " must be an object or a JSON string";
            }
        }
        auto content = m.find("content");
        // An assistant message that only calls tools may have no text.
        if (assistant && calls != m.end() &&
            (content == m.end() || content->is_null() || (content->is_string() && isBlank(content->get<std::string>()))))
            continue;
        if (content == m.end())
            return quotedField(at + ".content") + " is missing";
        if (std::string why = checkText(*content, at + ".content"); !why.empty())
            return why;
    }
    return {};
}

std::string checkTools(const nlohmann::json& fields) {
    auto it = fields.find("tools");
    if (it == fields.end())
        return {};
    if (!it->is_array())
        return quotedField("tools") + " must be a list of tool definitions (found " + it->type_name() + ")";
    for (size_t i = 0; i < it->size(); ++i)
        if (!(*it)[i].is_object())
            return quotedField("tools[" + std::to_string(i) + "]") + " must be an object (a JSON-schema function definition)";
    return {};
}

// Preference and unpaired texts: a plain string or a message list (TRL's conversational form).
std::string checkTextOrMessages(const nlohmann::json& fields, const char* key) {
    auto it = fields.find(key);
    if (it == fields.end())
        return quotedField(key) + " is missing";
    if (it->is_array())
        return checkMessages(*it, key);
    if (!it->is_string())
        return quotedField(key) + " must be a string or a list of messages (found " + it->type_name() + ")";
    return checkText(*it, key);
}

std::string checkKeys(DatasetKind kind, const nlohmann::json& fields, std::initializer_list<const char*> allowed) {
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        bool ok = false;
        for (const char* a : allowed)
            ok = ok || it.key() == a;
        if (ok)
            continue;
        std::string list;
        for (const char* a : allowed)
            list += (list.empty() ? "" : ", ") + std::string(a);
        return quotedField(it.key()) + " is not a field of " + datasetKindName(kind) + " rows (expected " + list + ")";
    }
    return {};
}

std::string firstOf(std::initializer_list<std::string> reasons) {
    for (const std::string& r : reasons)
        if (!r.empty())
            return r;
    return {};
}

void collectText(const nlohmann::json& value, bool inMessage, std::string& out) {
    if (value.is_string()) {
        if (!out.empty())
            out += '\n';
        out += value.get_ref<const std::string&>();
    } else if (value.is_array()) {
        for (const auto& v : value)
            collectText(v, v.is_object(), out);
    } else if (value.is_object()) {
        for (auto it = value.begin(); it != value.end(); ++it) {
            // A message's role would make "user" match every chat row: not searchable text.
            if (inMessage && it.key() == "role")
                continue;
            collectText(it.value(), false, out);
        }
    }
}

} // namespace

const char* datasetKindName(DatasetKind k) {
    for (const auto& e : kKindNames)
        if (e.kind == k)
            return e.name;
    return "unknown";
}

std::optional<DatasetKind> datasetKindFromName(std::string_view name) {
    for (const auto& e : kKindNames)
        if (name == e.name)
            return e.kind;
    return std::nullopt;
}

std::string datasetKindList() {
    std::string list;
    for (const auto& e : kKindNames)
        list += (list.empty() ? "" : ", ") + std::string(e.name);
    return list;
}

const char* splitName(Split s) {
    switch (s) {
    case Split::Train: return "train";
    case Split::Eval: return "eval";
    case Split::Test: return "test";
    }
    return "train";
}

std::optional<Split> splitFromName(std::string_view name) {
    for (Split s : {Split::Train, Split::Eval, Split::Test})
        if (name == splitName(s))
            return s;
    return std::nullopt;
}

const char* labelSourceName(LabelSource s) {
    switch (s) {
    case LabelSource::None: return "none";
    case LabelSource::Human: return "human";
    case LabelSource::AI: return "ai";
    case LabelSource::Imported: return "imported";
    }
    return "none";
}

std::optional<LabelSource> labelSourceFromName(std::string_view name) {
    for (LabelSource s : {LabelSource::None, LabelSource::Human, LabelSource::AI, LabelSource::Imported})
        if (name == labelSourceName(s))
            return s;
    return std::nullopt;
}

std::string validateFields(DatasetKind kind, const nlohmann::json& fields) {
    if (!fields.is_object())
        return std::string("the row's fields must be a JSON object (found ") + fields.type_name() + ")";
    switch (kind) {
    case DatasetKind::Instruction:
        return firstOf({checkKeys(kind, fields, {"system", "instruction", "input", "output"}),
                        checkOptionalText(fields, "system"), checkRequiredText(fields, "instruction"),
                        checkOptionalText(fields, "input"), checkRequiredText(fields, "output")});
    case DatasetKind::Chat: {
        if (std::string why = checkKeys(kind, fields, {"messages", "tools"}); !why.empty())
            return why;
        auto it = fields.find("messages");
        if (it == fields.end())
            return quotedField("messages") + " is missing";
        return firstOf({checkMessages(*it, "messages"), checkTools(fields)});
    }
    case DatasetKind::Preference: {
        std::string why = firstOf({checkKeys(kind, fields, {"prompt", "chosen", "rejected"}),
                                   checkTextOrMessages(fields, "prompt"), checkTextOrMessages(fields, "chosen"),
                                   checkTextOrMessages(fields, "rejected")});
        // A pair whose two answers are equal teaches nothing and usually means a mapping mistake.
        if (why.empty() && fields["chosen"] == fields["rejected"])
            why = "fields 'chosen' and 'rejected' are identical";
        return why;
    }
    case DatasetKind::Unpaired: {
        std::string why = firstOf({checkKeys(kind, fields, {"prompt", "completion", "desirable"}),
                                   checkTextOrMessages(fields, "prompt"), checkTextOrMessages(fields, "completion")});
        if (!why.empty())
            return why;
        auto it = fields.find("desirable");
        if (it == fields.end())
            return quotedField("desirable") + " is missing";
        if (!it->is_boolean())
            return quotedField("desirable") + " must be true or false (found " + it->type_name() + ")";
        return {};
    }
    case DatasetKind::Verifiable: {
        std::string why = firstOf({checkKeys(kind, fields, {"prompt", "reference", "verifier", "verifier_settings"}),
                                   checkTextOrMessages(fields, "prompt"), checkRequiredText(fields, "reference"),
                                   checkRequiredText(fields, "verifier")});
        if (!why.empty())
            return why;
        auto it = fields.find("verifier_settings");
        if (it != fields.end() && !it->is_object())
            return quotedField("verifier_settings") + " must be an object (found " + it->type_name() + ")";
        return {};
    }
    case DatasetKind::Text:
        return firstOf({checkKeys(kind, fields, {"text"}), checkRequiredText(fields, "text")});
    }
    return "unknown dataset kind";
}

// Every string in the fields (keys excluded, message roles skipped), in key order,
// joined by newlines. The store deletes a row's index entry by recomputing this text,
// so it must stay deterministic; changing it needs a schema step that rebuilds rows_fts.
std::string searchableText(DatasetKind /*kind*/, const nlohmann::json& fields) {
    std::string out;
    collectText(fields, false, out);
    return out;
}

std::string nowIso8601() {
    using namespace std::chrono;
    const auto now = system_clock::now();
    const auto ms = duration_cast<milliseconds>(now.time_since_epoch()).count() % 1000;
    const std::time_t t = system_clock::to_time_t(now);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[80];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(ms));
    return buf;
}

std::string quotedField(const std::string& path) { return "field '" + path + "'"; }

} // namespace ft::data
