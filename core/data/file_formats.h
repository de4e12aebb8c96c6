// The vocabulary shared by import and export: file formats (how records are
// written down) and layouts (which keys a record uses, e.g. Alpaca or ShareGPT),
// their names as typed on the command line, and which dataset kind each layout holds.
// Not here: reading or writing files (importer.h, exporter.h).
#pragma once

#include "data/records.h"

#include <optional>
#include <string>
#include <string_view>

namespace ft::data {

// Auto: from the file extension (.jsonl/.ndjson, .json, .csv, .tsv, .txt/.md), and for
// an unknown extension from the first character ('[' array, '{' JSON Lines).
enum class SourceFormat { Auto, Jsonl, JsonArray, Csv, Tsv, Text };
const char* sourceFormatName(SourceFormat f);  // "auto", "jsonl", "json", "csv", "tsv", "text"
std::optional<SourceFormat> sourceFormatFromName(std::string_view name);  // also "ndjson", "txt"
std::string sourceFormatList();  // "auto, jsonl, json, csv, tsv, text"

// Record layouts (keys; "?" optional). Every layout also takes the metadata keys
// tags (list of strings, or "a,b" text), notes, split, and for preference rows
// label_source, annotator, confidence, labeled_at.
//   Alpaca          instruction, input?, output, system?                     -> instruction
//   ShareGpt        conversations: [{from: system|human|gpt, value}], system? -> chat
//   OpenAiMessages  messages: [{role: system|user|assistant, content}]        -> chat
//   TrlPreference   prompt?, chosen, rejected; strings, or TRL's conversational
//                   form (message lists; without prompt the common leading
//                   messages of chosen and rejected become the prompt)         -> preference
//   Kto             prompt, completion, label (bool; "desirable" also read)   -> unpaired
//   Verifiable      prompt, answer (or "reference"), verifier?, verifier_settings? -> verifiable
//   PlainText       text (and every .txt document)                            -> text
//   Native          the field names of records.h for the dataset's kind, as is
// Auto picks the one layout whose required keys are present; a record that fits
// several is an error that asks for --layout. "text" alone counts only when no
// other layout fits (Alpaca exports often carry a formatted "text" column too).
enum class Layout { Auto, Alpaca, ShareGpt, OpenAiMessages, TrlPreference, Kto, Verifiable, PlainText, Native };
const char* layoutName(Layout l);  // "auto", "alpaca", "sharegpt", "openai", "trl", "kto", "verifiable", "text", "native"
std::optional<Layout> layoutFromName(std::string_view name);  // also "messages", "preference", "dpo"
std::string layoutList();

// The dataset kind a layout holds; nullopt for Auto and Native (Native holds any kind).
std::optional<DatasetKind> layoutKind(Layout l);
// The public layout export uses for a kind (chat: OpenAiMessages).
Layout publicLayoutFor(DatasetKind k);
// Whether `l` can hold rows of `k` (Native holds every kind).
bool layoutHolds(Layout l, DatasetKind k);

// The verifier name given to verifiable records that do not name one.
inline constexpr const char* kDefaultVerifier = "exact_match";

} // namespace ft::data
