// SentencePieceTokenizer and trainSentencePiece on top of libftspm_bridge.so.
// This file finds and loads the bridge (dlmopen into a fresh link namespace, so that
// sentencepiece's protobuf-lite never meets libtorch's protobuf), resolves its C
// functions and turns its error codes into ft::Error. It never includes a
// sentencepiece header and never links sentencepiece.
#include "tokenizer/sentencepiece_tokenizer.h"

#include "tokenizer/spm_bridge/spm_bridge.h"
#include "util/error.h"
#include "util/paths.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <system_error>

namespace ft::tok {
namespace {

namespace fs = std::filesystem;

constexpr const char* kBridgeFileName = "libftspm_bridge.so";
constexpr size_t kErrCap = 2048;

// The bridge's entry points, resolved once. Names mirror spm_bridge.h.
struct Bridge {
    std::string path;
    decltype(&ftspm_abi_version) abiVersion = nullptr;
    decltype(&ftspm_load) load = nullptr;
    decltype(&ftspm_free) free = nullptr;
    decltype(&ftspm_vocab_size) vocabSize = nullptr;
    decltype(&ftspm_bos_id) bosId = nullptr;
    decltype(&ftspm_eos_id) eosId = nullptr;
    decltype(&ftspm_unk_id) unkId = nullptr;
    decltype(&ftspm_pad_id) padId = nullptr;
    decltype(&ftspm_piece_to_id) pieceToId = nullptr;
    decltype(&ftspm_id_to_piece) idToPiece = nullptr;
    decltype(&ftspm_is_control) isControl = nullptr;
    decltype(&ftspm_is_byte) isByte = nullptr;
    decltype(&ftspm_is_unknown) isUnknown = nullptr;
    decltype(&ftspm_encode) encode = nullptr;
    decltype(&ftspm_decode) decode = nullptr;
    decltype(&ftspm_train_kv) trainKv = nullptr;
};

std::vector<std::string> bridgeCandidates()
{
    // An explicit override wins alone: silently falling back would hide a typo.
    if (const char* env = std::getenv("FTSTUDIO_SPM_BRIDGE"); env && *env)
        return {env};
    std::vector<std::string> candidates;
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        const fs::path dir = exe.parent_path();
        candidates.push_back((dir / kBridgeFileName).string());
        candidates.push_back((dir / ".." / "lib" / "ftstudio" / kBridgeFileName).lexically_normal().string());
    }
#ifdef FT_SPM_BRIDGE_BUILD_PATH
    if (ft::runningFromBuildTree())
        candidates.push_back(FT_SPM_BRIDGE_BUILD_PATH);
#endif
    return candidates;
}

template <typename Fn>
void resolve(void* handle, const char* name, Fn& fn)
{
    void* symbol = dlsym(handle, name);
    if (!symbol)
        fail(std::string("missing symbol ") + name);
    fn = reinterpret_cast<Fn>(symbol);
}

void resolveAll(void* h, Bridge& b)
{
    resolve(h, "ftspm_abi_version", b.abiVersion);
    // Check the version before anything else: other symbols may have changed meaning.
    if (const int version = b.abiVersion(); version != FTSPM_ABI_VERSION)
        fail("ABI version " + std::to_string(version) + ", expected " +
             std::to_string(FTSPM_ABI_VERSION) + " (a stale build?)");
    resolve(h, "ftspm_load", b.load);
    resolve(h, "ftspm_free", b.free);
    resolve(h, "ftspm_vocab_size", b.vocabSize);
    resolve(h, "ftspm_bos_id", b.bosId);
    resolve(h, "ftspm_eos_id", b.eosId);
    resolve(h, "ftspm_unk_id", b.unkId);
    resolve(h, "ftspm_pad_id", b.padId);
    resolve(h, "ftspm_piece_to_id", b.pieceToId);
    resolve(h, "ftspm_id_to_piece", b.idToPiece);
    resolve(h, "ftspm_is_control", b.isControl);
    resolve(h, "ftspm_is_byte", b.isByte);
    resolve(h, "ftspm_is_unknown", b.isUnknown);
    resolve(h, "ftspm_encode", b.encode);
    resolve(h, "ftspm_decode", b.decode);
    resolve(h, "ftspm_train_kv", b.trainKv);
}

Bridge openBridge()
{
    std::string tried;
    for (const std::string& path : bridgeCandidates()) {
        std::error_code ec;
        if (!fs::exists(path, ec)) {
            tried += "\n  " + path + ": no such file";
            continue;
        }
        dlerror();
        // A new link namespace: the bridge gets its own libstdc++ and its own copy of
        // protobuf-lite, invisible to libtorch. RTLD_GLOBAL is not allowed there.
        void* handle = dlmopen(LM_ID_NEWLM, path.c_str(), RTLD_NOW | RTLD_LOCAL);
        if (!handle) {
            const char* why = dlerror();
            tried += "\n  " + path + ": " + (why ? why : "dlmopen failed");
            continue;
        }
        Bridge bridge;
        bridge.path = path;
        try {
            resolveAll(handle, bridge);
        } catch (const Error& e) {
            dlclose(handle);
            tried += "\n  " + path + ": " + e.what();
            continue;
        }
        // Never dlclosed: models may live until exit, and namespaces are scarce (16).
        return bridge;
    }
    fail("Cannot load the sentencepiece bridge " + std::string(kBridgeFileName) + "; tried:" +
         tried + "\nSet FTSTUDIO_SPM_BRIDGE to the full path of " + kBridgeFileName +
         ", or reinstall Fine-Tuning Studio.");
}

// Loaded once per process; C++ makes the first call thread-safe, and a failed
// attempt throws and is retried by the next call.
const Bridge& bridge()
{
    static const Bridge instance = openBridge();
    return instance;
}

// Locale-independent (a GUI process may run under a locale with decimal commas).
std::string formatDouble(double value)
{
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
    return std::string(buffer, result.ptr);
}

std::string joinComma(const std::vector<std::string>& items)
{
    std::string joined;
    for (const std::string& item : items)
        joined += (joined.empty() ? "" : ",") + item;
    return joined;
}

} // namespace

// ---------------------------------------------------------------- tokenizer

std::unique_ptr<SentencePieceTokenizer> SentencePieceTokenizer::load(const std::string& modelPath)
{
    std::error_code ec;
    if (!fs::is_regular_file(modelPath, ec))
        fail("Sentencepiece model " + modelPath + " does not exist or is not a file.");
    const Bridge& b = bridge();
    char err[kErrCap] = {};
    FtSpmModel* model = b.load(modelPath.c_str(), err, sizeof err);
    if (!model)
        fail("Cannot load sentencepiece model " + modelPath +
             " (corrupt or not a sentencepiece .model file): " + err);
    return std::unique_ptr<SentencePieceTokenizer>(new SentencePieceTokenizer(model, modelPath));
}

SentencePieceTokenizer::SentencePieceTokenizer(FtSpmModel* model, std::string modelPath)
    : m_model(model), m_modelPath(std::move(modelPath))
{
    const Bridge& b = bridge();
    m_vocabSize = b.vocabSize(m_model);
    m_bosId = b.bosId(m_model);
    m_eosId = b.eosId(m_model);
    m_padId = b.padId(m_model);
    m_unkId = b.unkId(m_model);
}

SentencePieceTokenizer::~SentencePieceTokenizer() { bridge().free(m_model); }

void SentencePieceTokenizer::checkId(int id) const
{
    if (id < 0 || id >= m_vocabSize)
        fail("Token id " + std::to_string(id) + " is outside the vocabulary (0.." +
             std::to_string(m_vocabSize - 1) + ") of " + m_modelPath + ".");
}

void SentencePieceTokenizer::setAddedTokens(std::vector<AddedToken> tokens)
{
    // The model's control pieces are special tokens of the text too (Hugging Face's
    // bos/eos/unk tokens), unless the list already names them.
    for (int id : {m_bosId, m_eosId, m_unkId, m_padId}) {
        if (id < 0 || id >= m_vocabSize)
            continue;
        const std::string piece = idToPiece(id);
        if (piece.empty() || std::any_of(tokens.begin(), tokens.end(), [&](const AddedToken& t) { return t.content == piece; }))
            continue;
        AddedToken t;
        t.id = id;
        t.content = piece;
        t.special = true;
        t.normalized = false;
        tokens.push_back(t);
    }
    m_added.clear();
    m_addedLimit = 0;
    std::vector<std::string> patterns;
    for (bool special : {true, false})  // special tokens win a tie of equal contents
        for (AddedToken& t : tokens) {
            if (t.special != special || t.content.empty())
                continue;
            if (const auto own = pieceToId(t.content))
                t.id = *own;
            if (t.id < 0)
                fail(m_modelPath + ": the added token "" + t.content + "" has no id");
            patterns.push_back(t.content);
            m_added.push_back(t);
            m_addedLimit = std::max(m_addedLimit, t.id + 1);
        }
    m_splitter = AddedTokenSplitter(patterns, m_added);
}

const AddedToken* SentencePieceTokenizer::addedById(int id) const
{
    for (const AddedToken& t : m_added)
        if (t.id == id)
            return &t;
    return nullptr;
}

std::vector<int> SentencePieceTokenizer::encode(std::string_view text, bool addBos, bool addEos) const
{
    std::vector<int> ids;
    if (addBos && m_bosId >= 0)
        ids.push_back(m_bosId);
    std::vector<TextSegment> segments;
    if (m_splitter.empty())
        segments.push_back({0, text.size(), -1});
    else
        m_splitter.split(text, segments);
    for (const TextSegment& segment : segments) {
        if (segment.token >= 0) {
            ids.push_back(segment.token);
            continue;
        }
        const std::string_view piece = text.substr(segment.begin, segment.end - segment.begin);
        const std::vector<int> plain =
            m_prefixAtStartOnly && segment.begin > 0 ? encodeWithoutPrefix(piece) : encodePlain(piece);
        ids.insert(ids.end(), plain.begin(), plain.end());
    }
    if (addEos && m_eosId >= 0)
        ids.push_back(m_eosId);
    return ids;
}

std::vector<int> SentencePieceTokenizer::encodePlain(std::string_view text) const
{
    const Bridge& b = bridge();
    char err[kErrCap] = {};
    // One slot per byte plus the dummy prefix covers byte fallback; retry if not.
    std::vector<int> ids(text.size() + 8);
    int64_t n = b.encode(m_model, text.data(), text.size(), ids.data(), ids.size(), err, sizeof err);
    if (n > static_cast<int64_t>(ids.size())) {
        ids.resize(static_cast<size_t>(n));
        n = b.encode(m_model, text.data(), text.size(), ids.data(), ids.size(), err, sizeof err);
    }
    if (n < 0)
        fail("Cannot encode text with " + m_modelPath + ": " + err);
    ids.resize(static_cast<size_t>(n));
    return ids;
}

std::vector<int> SentencePieceTokenizer::encodeWithoutPrefix(std::string_view text) const
{
    // As transformers' non-legacy Llama tokenizer: the unknown piece's text goes first
    // and takes the dummy prefix (sentencepiece reads it as plain characters), then its
    // ids are dropped. Without an unknown piece the prefix stays.
    if (m_unkId < 0 || text.empty())
        return encodePlain(text);
    const std::string guard = idToPiece(m_unkId);
    const std::vector<int> head = encodePlain(guard);
    std::vector<int> ids = encodePlain(guard + std::string(text));
    if (ids.size() < head.size() || !std::equal(head.begin(), head.end(), ids.begin()))
        return encodePlain(text);  // the text merged into the guard's pieces: cannot split them apart
    ids.erase(ids.begin(), ids.begin() + std::ptrdiff_t(head.size()));
    return ids;
}

std::string SentencePieceTokenizer::decode(const std::vector<int>& ids, bool skipSpecial) const
{
    // Runs of sentencepiece ids decode together (its spacing rules span pieces); an added
    // token beyond the model is its content, or nothing when special and skipped.
    std::string text;
    std::vector<int> run;
    for (int id : ids) {
        if (id < m_vocabSize || !addedById(id)) {
            run.push_back(id);
            continue;
        }
        text += decodePlain(run, skipSpecial);
        run.clear();
        const AddedToken* t = addedById(id);
        if (!(skipSpecial && t->special))
            text += t->content;
    }
    return text + decodePlain(run, skipSpecial);
}

std::string SentencePieceTokenizer::decodePlain(const std::vector<int>& ids, bool skipSpecial) const
{
    if (ids.empty())
        return {};
    const Bridge& b = bridge();
    char err[kErrCap] = {};
    const int render = skipSpecial ? 0 : 1;
    std::string text(ids.size() * 8 + 16, '\0');
    int64_t n = b.decode(m_model, ids.data(), ids.size(), render, text.data(), text.size(), err, sizeof err);
    if (n > static_cast<int64_t>(text.size())) {
        text.resize(static_cast<size_t>(n));
        n = b.decode(m_model, ids.data(), ids.size(), render, text.data(), text.size(), err, sizeof err);
    }
    if (n < 0) {
        for (int id : ids)
            checkId(id); // the clearer message when that is the cause
        fail("Cannot decode token ids with " + m_modelPath + ": " + err);
    }
    text.resize(static_cast<size_t>(n));
    return text;
}

std::string SentencePieceTokenizer::idToPiece(int id) const
{
    if (id >= m_vocabSize)
        if (const AddedToken* t = addedById(id))
            return t->content;
    checkId(id);
    const Bridge& b = bridge();
    std::string piece(32, '\0');
    int64_t n = b.idToPiece(m_model, id, piece.data(), piece.size());
    if (n > static_cast<int64_t>(piece.size())) {
        piece.resize(static_cast<size_t>(n));
        n = b.idToPiece(m_model, id, piece.data(), piece.size());
    }
    piece.resize(static_cast<size_t>(std::max<int64_t>(n, 0)));
    return piece;
}

std::optional<int> SentencePieceTokenizer::pieceToId(std::string_view piece) const
{
    for (const AddedToken& t : m_added)
        if (t.id >= m_vocabSize && t.content == piece)
            return t.id;
    const int id = bridge().pieceToId(m_model, piece.data(), piece.size());
    return id < 0 ? std::nullopt : std::optional<int>(id);
}

bool SentencePieceTokenizer::isControl(int id) const
{
    checkId(id);
    return bridge().isControl(m_model, id) == 1;
}

bool SentencePieceTokenizer::isByte(int id) const
{
    checkId(id);
    return bridge().isByte(m_model, id) == 1;
}

bool SentencePieceTokenizer::isUnknown(int id) const
{
    checkId(id);
    return bridge().isUnknown(m_model, id) == 1;
}

// ---------------------------------------------------------------- training

void trainSentencePiece(const SpmTrainOptions& o)
{
    std::error_code ec;
    if (o.inputFile.empty() || !fs::is_regular_file(o.inputFile, ec))
        fail("Tokenizer training input " + o.inputFile + " does not exist or is not a file.");
    // sentencepiece splits --input and --user_defined_symbols at commas.
    if (o.inputFile.find(',') != std::string::npos)
        fail("Tokenizer training input " + o.inputFile +
             " contains a comma, which sentencepiece cannot take in a file name; rename it.");
    for (const std::string& symbol : o.userDefinedSymbols)
        if (symbol.empty() || symbol.find(',') != std::string::npos)
            fail("User-defined tokenizer symbol '" + symbol + "' is empty or contains a comma.");
    if (o.modelPrefix.empty())
        fail("Tokenizer training needs a model prefix (the output path without .model).");
    const fs::path prefix(o.modelPrefix);
    if (prefix.has_parent_path() && !fs::is_directory(prefix.parent_path(), ec))
        fail("Folder " + prefix.parent_path().string() + " for the tokenizer " + o.modelPrefix +
             ".model does not exist.");
    if (o.seed == 0xFFFFFFFFu)
        fail("Tokenizer seed 4294967295 is reserved by sentencepiece; choose another.");

    // Written under a temporary prefix and renamed, so a failed or interrupted run
    // never leaves a half-written tokenizer where a good one is expected.
    const std::string tmpPrefix = o.modelPrefix + ".partial-" + std::to_string(::getpid());
    std::vector<std::pair<std::string, std::string>> flags = {
        {"input", o.inputFile},
        {"model_prefix", tmpPrefix},
        {"vocab_size", std::to_string(o.vocabSize)},
        {"model_type", o.modelType},
        {"character_coverage", formatDouble(o.characterCoverage)},
        {"byte_fallback", o.byteFallback ? "true" : "false"},
        {"split_digits", o.splitDigits ? "true" : "false"},
        {"bos_id", std::to_string(o.bosId)},
        {"eos_id", std::to_string(o.eosId)},
        {"unk_id", std::to_string(o.unkId)},
        {"pad_id", std::to_string(o.padId)},
        {"num_threads", std::to_string(o.numThreads)},
        {"random_seed", std::to_string(o.seed)},
        {"input_sentence_size", std::to_string(o.inputSentenceSize)},
        // Llama's choices: keep every byte of whitespace so decode(encode(x)) == x.
        {"normalization_rule_name", "identity"},
        {"add_dummy_prefix", "true"},
        {"remove_extra_whitespaces", "false"},
        {"allow_whitespace_only_pieces", "true"},
        {"minloglevel", o.quiet ? "2" : "0"},
    };
    if (!o.userDefinedSymbols.empty())
        flags.emplace_back("user_defined_symbols", joinComma(o.userDefinedSymbols));
    for (const auto& extra : o.extraFlags)
        flags.push_back(extra);

    std::vector<const char*> keys;
    std::vector<const char*> values;
    for (const auto& [key, value] : flags) {
        keys.push_back(key.c_str());
        values.push_back(value.c_str());
    }
    const auto removeTemporaries = [&] {
        fs::remove(tmpPrefix + ".model", ec);
        fs::remove(tmpPrefix + ".vocab", ec);
    };
    char err[kErrCap] = {};
    if (bridge().trainKv(keys.data(), values.data(), keys.size(), err, sizeof err) != 0) {
        removeTemporaries();
        fail("Training the sentencepiece tokenizer " + o.modelPrefix + ".model on " + o.inputFile +
             " failed: " + err);
    }
    for (const char* ext : {".vocab", ".model"}) {
        fs::rename(tmpPrefix + ext, o.modelPrefix + ext, ec);
        if (ec) {
            removeTemporaries();
            fail("Cannot move the trained tokenizer to " + o.modelPrefix + ext + ": " + ec.message());
        }
    }
}

std::string sentencePieceBridgePath() { return bridge().path; }

} // namespace ft::tok
