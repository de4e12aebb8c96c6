// What a project's datasets hold: the dataset kinds, a row and its curation
// metadata (tags, notes, split, preference label), and the per-kind field rules.
// A row's kind-specific content lives in `fields`, a JSON object whose keys are
// listed below; the store keeps it as JSON text. Not here: SQL (project_store.h),
// file formats (importer.h / exporter.h).
//
// fields per kind (keys; "?" = optional; strings unless said otherwise):
//   instruction  system?, instruction, input?, output
//   chat         messages: [{role: system|user|assistant|tool, content}], at least one;
//                tools? (a list of JSON-schema function definitions). An assistant message
//                may carry reasoning_content (its thinking) and tool_calls ([{type?, id?,
//                function: {name, arguments}}], OpenAI's layout; its content may then be
//                empty); a tool message (a call's result) tool_call_id? and name?.
//   preference   prompt, chosen, rejected  (each a string, or a message list as in
//                TRL's conversational form)
//   unpaired     prompt, completion, desirable (bool)             -- KTO
//   verifiable   prompt, reference, verifier (name), verifier_settings? (object)
//   text         text
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ft::data {

enum class DatasetKind { Instruction, Chat, Preference, Unpaired, Verifiable, Text };
const char* datasetKindName(DatasetKind k);  // "instruction", "chat", "preference", "unpaired", "verifiable", "text"
std::optional<DatasetKind> datasetKindFromName(std::string_view name);
std::string datasetKindList();                // "instruction, chat, ..." for error messages

enum class Split { Train, Eval, Test };
const char* splitName(Split s);  // "train", "eval", "test"
std::optional<Split> splitFromName(std::string_view name);

// Who labelled a preference pair; None = not labelled yet (chosen/rejected unconfirmed).
enum class LabelSource { None, Human, AI, Imported };
const char* labelSourceName(LabelSource s);  // "none", "human", "ai", "imported"
std::optional<LabelSource> labelSourceFromName(std::string_view name);

struct Row {
    int64_t id = 0;         // stable; 0 before insertion
    int64_t datasetId = 0;
    nlohmann::json fields = nlohmann::json::object();
    std::vector<std::string> tags;
    std::string notes;
    Split split = Split::Train;
    LabelSource labelSource = LabelSource::None;  // preference rows
    std::string annotator;
    std::optional<double> confidence;              // 0..1
    std::string labeledAt;                         // ISO 8601 UTC, empty when unlabelled
    std::string updatedAt;                         // ISO 8601 UTC, set by the store

    bool operator==(const Row&) const = default;
};

// Empty when `fields` is valid for `kind`; otherwise a reason naming the field,
// e.g. "field 'output' is missing" or "field 'messages[2].role' must be one of system, user, assistant".
std::string validateFields(DatasetKind kind, const nlohmann::json& fields);

// The text full-text search indexes for a row: every string of its fields, joined by newlines.
std::string searchableText(DatasetKind kind, const nlohmann::json& fields);

// Current time as ISO 8601 UTC with milliseconds: 2026-11-28T10:57:03.123Z
std::string nowIso8601();

// "field 'messages[2].content'": how validation messages name a field.
std::string quotedField(const std::string& path);

} // namespace ft::data
