// Parsing tokenizer.json into the pipeline of JsonTokenizer, and running it (see
// tokenizer_json.h). The components live in normalizer.cpp, pretokenizer.cpp,
// bpe_tokenizer.cpp, added_tokens.cpp and decoder.cpp.
#include "tokenizer/tokenizer_json.h"

#include "io/json_file.h"
#include "tokenizer/json_fields.h"
#include "tokenizer/unicode_text.h"
#include "util/error.h"

#include <filesystem>
#include <system_error>

namespace ft::tok {
namespace {

using jsonf::Json;

struct Affixes {
    std::vector<int> prefix, suffix;
};

int intField(const Json& j, const std::string& where)
{
    if (!j.is_number_integer())
        jsonf::failAt(where, "expected an integer id, found " + j.dump());
    return j.get<int>();
}

// The tokens a post-processor puts before and after a single sequence.
Affixes postProcessorAffixes(const Json& json, const std::string& where)
{
    const std::string type = jsonf::typeOf(json, where);
    Affixes out;
    if (type == "ByteLevel")
        return out; // it only trims offsets
    if (type == "Sequence") {
        const Json& list = jsonf::requiredArray(json, "processors", where);
        for (size_t i = 0; i < list.size(); ++i) {
            const Affixes inner = postProcessorAffixes(list[i], jsonf::at(jsonf::at(where, "processors"), i));
            out.prefix.insert(out.prefix.begin(), inner.prefix.begin(), inner.prefix.end());
            out.suffix.insert(out.suffix.end(), inner.suffix.begin(), inner.suffix.end());
        }
        return out;
    }
    if (type == "RobertaProcessing" || type == "BertProcessing") {
        for (const char* key : {"cls", "sep"}) {
            const Json* pair = jsonf::find(json, key);
            if (!pair || !pair->is_array() || pair->size() != 2)
                jsonf::failAt(jsonf::at(where, key), "expected [token, id]");
            (std::string(key) == "cls" ? out.prefix : out.suffix).push_back(intField((*pair)[1], jsonf::at(where, key)));
        }
        return out;
    }
    if (type != "TemplateProcessing")
        jsonf::failAt(where, "the post-processor type \"" + type +
                                 "\" is not supported (supported: TemplateProcessing, ByteLevel, RobertaProcessing, "
                                 "BertProcessing, Sequence)");
    const std::string singleWhere = jsonf::at(where, "single");
    const Json& single = jsonf::requiredArray(json, "single", where);
    const Json* specials = jsonf::find(json, "special_tokens");
    bool seenSequence = false;
    for (size_t i = 0; i < single.size(); ++i) {
        const std::string pieceWhere = jsonf::at(singleWhere, i);
        const Json& piece = single[i];
        if (jsonf::find(piece, "Sequence")) {
            if (seenSequence)
                jsonf::failAt(pieceWhere, "a single-sequence template may name the sequence only once");
            seenSequence = true;
            continue;
        }
        const Json* special = jsonf::find(piece, "SpecialToken");
        if (!special)
            jsonf::failAt(pieceWhere, "expected {\"SpecialToken\": ...} or {\"Sequence\": ...}, found " + piece.dump());
        const std::string name = jsonf::requiredString(*special, "id", jsonf::at(pieceWhere, "SpecialToken"));
        const Json* entry = specials ? jsonf::find(*specials, name.c_str()) : nullptr;
        if (!entry)
            jsonf::failAt(jsonf::at(where, "special_tokens"), "the template uses \"" + name + "\", which is not defined here");
        const std::string entryWhere = jsonf::at(jsonf::at(where, "special_tokens"), name);
        const Json& ids = jsonf::requiredArray(*entry, "ids", entryWhere);
        for (size_t k = 0; k < ids.size(); ++k)
            (seenSequence ? out.suffix : out.prefix).push_back(intField(ids[k], jsonf::at(jsonf::at(entryWhere, "ids"), k)));
    }
    if (!seenSequence)
        jsonf::failAt(singleWhere, "the template has no {\"Sequence\": {\"id\": \"A\"}} for the text");
    return out;
}

std::unique_ptr<BpeModel> parseModel(const Json& model, const std::string& where)
{
    jsonf::requireObject(model, where);
    std::string type = jsonf::optionalString(model, "type", where).value_or("");
    if (type.empty() && jsonf::find(model, "merges"))
        type = "BPE"; // files written before "type" existed
    if (type != "BPE")
        jsonf::failAt(jsonf::at(where, "type"), "the model type \"" + type +
                                                    "\" is not supported; only BPE models (GPT-2, Llama 2 and 3, "
                                                    "Mistral, Qwen2, SmolLM) are");
    if (const Json* dropout = jsonf::find(model, "dropout"))
        if (!dropout->is_number() || dropout->get<double>() != 0.0)
            jsonf::failAt(jsonf::at(where, "dropout"),
                          "BPE dropout (" + dropout->dump() + ") makes encoding random; set it to null");

    const Json* vocabJson = jsonf::find(model, "vocab");
    if (!vocabJson || !vocabJson->is_object())
        jsonf::failAt(jsonf::at(where, "vocab"), "expected an object mapping tokens to ids");
    std::vector<std::pair<std::string, int>> vocab;
    vocab.reserve(vocabJson->size());
    for (const auto& [token, id] : vocabJson->items())
        vocab.emplace_back(token, intField(id, jsonf::at(jsonf::at(where, "vocab"), token)));

    std::vector<std::pair<std::string, std::string>> merges;
    if (const Json* mergesJson = jsonf::find(model, "merges")) {
        if (!mergesJson->is_array())
            jsonf::failAt(jsonf::at(where, "merges"), "expected an array");
        merges.reserve(mergesJson->size());
        for (size_t i = 0; i < mergesJson->size(); ++i) {
            const Json& m = (*mergesJson)[i];
            const std::string mWhere = jsonf::at(jsonf::at(where, "merges"), i);
            if (m.is_string()) { // "a b"
                const std::string& line = m.get_ref<const std::string&>();
                if (line.rfind("#version", 0) == 0)
                    continue;
                const size_t space = line.find(' ');
                if (space == std::string::npos || line.find(' ', space + 1) != std::string::npos)
                    jsonf::failAt(mWhere, "expected two tokens separated by one space, found \"" + line + "\"");
                merges.emplace_back(line.substr(0, space), line.substr(space + 1));
            } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) { // ["a", "b"]
                merges.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
            } else {
                jsonf::failAt(mWhere, "expected \"a b\" or [\"a\", \"b\"], found " + m.dump());
            }
        }
    }
    BpeOptions options;
    options.unkToken = jsonf::optionalString(model, "unk_token", where);
    // GPT-2's file spells "no prefix/suffix" as "": the same as null.
    options.continuingSubwordPrefix = jsonf::optionalString(model, "continuing_subword_prefix", where);
    if (options.continuingSubwordPrefix && options.continuingSubwordPrefix->empty())
        options.continuingSubwordPrefix.reset();
    options.endOfWordSuffix = jsonf::optionalString(model, "end_of_word_suffix", where);
    if (options.endOfWordSuffix && options.endOfWordSuffix->empty())
        options.endOfWordSuffix.reset();
    options.fuseUnk = jsonf::boolOr(model, "fuse_unk", false, where);
    options.byteFallback = jsonf::boolOr(model, "byte_fallback", false, where);
    options.ignoreMerges = jsonf::boolOr(model, "ignore_merges", false, where);
    return std::make_unique<BpeModel>(vocab, merges, std::move(options), where);
}

std::vector<AddedToken> parseAddedTokens(const Json& list, const std::string& where, const BpeModel& model)
{
    if (!list.is_array())
        jsonf::failAt(where, "expected an array");
    std::vector<AddedToken> tokens;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string w = jsonf::at(where, i);
        jsonf::requireObject(list[i], w);
        AddedToken t;
        t.content = jsonf::requiredString(list[i], "content", w);
        const long long id = jsonf::intOr(list[i], "id", -1, w);
        if (id < 0)
            jsonf::failAt(w, "the added token \"" + t.content + "\" needs a non-negative \"id\"");
        // A token the model already has keeps the model's id, as in Hugging Face.
        t.id = model.tokenToId(t.content).value_or(int(id));
        t.special = jsonf::boolOr(list[i], "special", false, w);
        t.singleWord = jsonf::boolOr(list[i], "single_word", false, w);
        t.lstrip = jsonf::boolOr(list[i], "lstrip", false, w);
        t.rstrip = jsonf::boolOr(list[i], "rstrip", false, w);
        t.normalized = jsonf::boolOr(list[i], "normalized", !t.special, w);
        if (!t.content.empty())
            tokens.push_back(std::move(t));
    }
    return tokens;
}

} // namespace

std::unique_ptr<JsonTokenizer> JsonTokenizer::fromJson(const Json& json, const std::string& source)
{
    const std::string root = source + " at ";
    if (!json.is_object())
        fail(source + ": a tokenizer.json must hold a JSON object, found " + json.type_name());
    std::unique_ptr<JsonTokenizer> t(new JsonTokenizer());
    const Json* model = jsonf::find(json, "model");
    if (!model)
        fail(source + ": the field \"model\" is missing; is this a Hugging Face tokenizer.json?");
    t->m_model = parseModel(*model, root + "model");
    if (const Json* n = jsonf::find(json, "normalizer"))
        t->m_normalizer = makeNormalizer(*n, root + "normalizer");
    if (const Json* p = jsonf::find(json, "pre_tokenizer"))
        t->m_preTokenizer = makePreTokenizer(*p, root + "pre_tokenizer");
    if (const Json* d = jsonf::find(json, "decoder"))
        t->m_decoder = makeDecoder(*d, root + "decoder");
    if (const Json* p = jsonf::find(json, "post_processor")) {
        Affixes affixes = postProcessorAffixes(*p, root + "post_processor");
        t->m_prefix = std::move(affixes.prefix);
        t->m_suffix = std::move(affixes.suffix);
    }
    if (const Json* added = jsonf::find(json, "added_tokens"))
        t->m_addedTokens = parseAddedTokens(*added, root + "added_tokens", *t->m_model);

    // Special tokens are searched before the others (only matters for equal contents).
    std::vector<AddedToken> raw, normalized;
    std::vector<std::string> rawPatterns, normalizedPatterns;
    for (bool special : {true, false})
        for (const AddedToken& token : t->m_addedTokens) {
            if (token.special != special)
                continue;
            if (token.normalized) {
                std::string pattern = token.content;
                if (t->m_normalizer)
                    t->m_normalizer->normalize(pattern);
                normalizedPatterns.push_back(std::move(pattern));
                normalized.push_back(token);
            } else {
                rawPatterns.push_back(token.content);
                raw.push_back(token);
            }
        }
    t->m_rawSplitter = AddedTokenSplitter(rawPatterns, raw);
    t->m_normalizedSplitter = AddedTokenSplitter(normalizedPatterns, normalized);

    t->m_vocabSize = t->m_model->idLimit();
    for (size_t i = 0; i < t->m_addedTokens.size(); ++i) {
        const AddedToken& token = t->m_addedTokens[i];
        t->m_addedById.emplace(token.id, i);
        t->m_addedByContent.emplace(token.content, token.id);
        t->m_vocabSize = std::max(t->m_vocabSize, token.id + 1);
    }
    for (int id : t->m_prefix)
        if (id < 0 || id >= t->m_vocabSize)
            fail(root + "post_processor: the template token id " + std::to_string(id) + " is outside the vocabulary");
    for (int id : t->m_suffix)
        if (id < 0 || id >= t->m_vocabSize)
            fail(root + "post_processor: the template token id " + std::to_string(id) + " is outside the vocabulary");

    // Without tokenizer_config.json: BOS/EOS are what the template puts around the text.
    t->m_bosId = t->m_prefix.size() == 1 ? t->m_prefix[0] : -1;
    t->m_eosId = t->m_suffix.size() == 1 ? t->m_suffix[0] : -1;
    if (t->m_model->options().unkToken)
        t->m_unkId = t->m_model->tokenToId(*t->m_model->options().unkToken).value_or(-1);
    t->setSpecialTokenDefaults(!t->m_prefix.empty(), !t->m_suffix.empty());
    return t;
}

void JsonTokenizer::setSpecialTokens(const SpecialTokenNames& names, const std::string& source)
{
    const auto idOf = [&](const std::optional<std::string>& name, const char* key, bool required, int& slot) {
        if (!name)
            return;
        const auto id = pieceToId(*name);
        if (!id && required)
            fail(source + " names " + key + " \"" + *name + "\", which is not a token of the tokenizer.json next to it");
        slot = id.value_or(-1);
    };
    idOf(names.bos, "bos_token", true, m_bosId);
    idOf(names.eos, "eos_token", true, m_eosId);
    idOf(names.pad, "pad_token", false, m_padId);
    idOf(names.unk, "unk_token", false, m_unkId);
}

void JsonTokenizer::modelEncode(std::string text, bool atStart, std::vector<int>& ids) const
{
    std::vector<PreToken> pieces;
    pieces.push_back({std::move(text), atStart});
    if (m_preTokenizer)
        m_preTokenizer->split(pieces);
    for (const PreToken& piece : pieces)
        m_model->tokenize(piece.text, ids);
}

void JsonTokenizer::encodeStretch(std::string_view stretch, bool atStart, std::vector<int>& ids) const
{
    std::string text(stretch);
    if (m_normalizer)
        m_normalizer->normalize(text);
    if (text.empty())
        return;
    if (m_normalizedSplitter.empty()) {
        modelEncode(std::move(text), atStart, ids);
        return;
    }
    std::vector<TextSegment> parts;
    m_normalizedSplitter.split(text, parts, m_encodeSpecialTokens);
    for (const TextSegment& part : parts) {
        if (part.token >= 0)
            ids.push_back(part.token);
        else
            modelEncode(text.substr(part.begin, part.end - part.begin), atStart && part.begin == 0, ids);
    }
}

void JsonTokenizer::encodeInto(std::string_view text, std::vector<int>& ids) const
{
    std::string repaired;
    if (!utf8::isValid(text)) {
        repaired = utf8::sanitize(text);
        text = repaired;
    }
    ids.reserve(ids.size() + text.size() / 3 + 4);
    std::vector<TextSegment> segments;
    m_rawSplitter.split(text, segments, m_encodeSpecialTokens);
    for (const TextSegment& segment : segments) {
        if (segment.token >= 0)
            ids.push_back(segment.token);
        else
            encodeStretch(text.substr(segment.begin, segment.end - segment.begin), segment.begin == 0, ids);
    }
}

std::vector<int> JsonTokenizer::encodeHf(std::string_view text, bool addSpecialTokens) const
{
    std::vector<int> ids;
    if (addSpecialTokens)
        ids = m_prefix;
    encodeInto(text, ids);
    if (addSpecialTokens)
        ids.insert(ids.end(), m_suffix.begin(), m_suffix.end());
    return ids;
}

std::vector<int> JsonTokenizer::encode(std::string_view text, bool addBos, bool addEos) const
{
    std::vector<int> ids;
    if (addBos) {
        if (!m_prefix.empty())
            ids = m_prefix;
        else if (m_bosId >= 0)
            ids.push_back(m_bosId);
    }
    encodeInto(text, ids);
    if (addEos) {
        if (!m_suffix.empty())
            ids.insert(ids.end(), m_suffix.begin(), m_suffix.end());
        else if (m_eosId >= 0)
            ids.push_back(m_eosId);
    }
    return ids;
}

bool JsonTokenizer::isSpecial(int id) const
{
    const auto it = m_addedById.find(id);
    return it != m_addedById.end() && m_addedTokens[it->second].special;
}

const std::string* JsonTokenizer::tokenOf(int id) const
{
    if (id < 0 || id >= m_vocabSize)
        fail("token id " + std::to_string(id) + " is outside the vocabulary (size " + std::to_string(m_vocabSize) + ")");
    const auto it = m_addedById.find(id);
    return it != m_addedById.end() ? &m_addedTokens[it->second].content : m_model->idToToken(id);
}

std::string JsonTokenizer::decode(const std::vector<int>& ids, bool skipSpecial) const
{
    std::vector<std::string> tokens;
    tokens.reserve(ids.size());
    for (int id : ids) {
        const std::string* token = tokenOf(id);
        if (!token)
            continue; // a hole in the id range: Hugging Face skips it too
        if (skipSpecial && (isSpecial(id) || id == m_bosId || id == m_eosId || id == m_padId))
            continue;
        tokens.push_back(*token);
    }
    std::string text;
    if (!m_decoder) {
        for (size_t i = 0; i < tokens.size(); ++i)
            text += (i ? " " : "") + tokens[i];
        return text;
    }
    m_decoder->decodeChain(tokens);
    for (const std::string& t : tokens)
        text += t;
    return text;
}

std::string JsonTokenizer::idToPiece(int id) const
{
    const std::string* token = tokenOf(id);
    if (!token)
        fail("token id " + std::to_string(id) + " is not assigned to any token");
    return *token;
}

std::optional<int> JsonTokenizer::pieceToId(std::string_view piece) const
{
    const auto it = m_addedByContent.find(std::string(piece));
    if (it != m_addedByContent.end())
        return it->second;
    return m_model->tokenToId(piece);
}

SpecialTokenNames readSpecialTokenNames(const std::string& configPath)
{
    SpecialTokenNames names;
    std::error_code ec;
    if (!std::filesystem::exists(configPath, ec))
        return names;
    const Json config = io::readJsonFile(configPath);
    if (!config.is_object())
        fail(configPath + " must hold a JSON object, found " + std::string(config.type_name()) + ".");
    const auto read = [&](const char* key) -> std::optional<std::string> {
        const Json* value = jsonf::find(config, key);
        if (!value)
            return std::nullopt;
        if (value->is_string())
            return value->get<std::string>();
        if (value->is_object())
            return jsonf::requiredString(*value, "content", configPath + " at " + key);
        fail("In " + configPath + ", \"" + key + "\" must be a string or an object with \"content\", found " +
             value->dump() + ".");
    };
    names.bos = read("bos_token");
    names.eos = read("eos_token");
    names.pad = read("pad_token");
    names.unk = read("unk_token");
    return names;
}

std::unique_ptr<JsonTokenizer> loadTokenizerJson(const std::string& path)
{
    const Json json = io::readJsonFile(path);
    std::unique_ptr<JsonTokenizer> tokenizer = JsonTokenizer::fromJson(json, path);
    const std::string configPath = (std::filesystem::path(path).parent_path() / "tokenizer_config.json").string();
    tokenizer->setSpecialTokens(readSpecialTokenNames(configPath), configPath);
    return tokenizer;
}

} // namespace ft::tok
