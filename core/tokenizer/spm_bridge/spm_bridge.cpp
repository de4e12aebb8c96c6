// libftspm_bridge.so: wraps sentencepiece behind the C ABI of spm_bridge.h.
// It runs in its own dlmopen link namespace (own libc, libstdc++, protobuf-lite), so
// every entry point catches everything and copies results into caller buffers; no
// pointer it returns may be freed by the caller's allocator. It holds no policy
// (Llama conventions, file naming, atomic renames): that lives in core.
#include "spm_bridge.h"

#include <sentencepiece_processor.h>
#include <sentencepiece_trainer.h>

#include <algorithm>
#include <cstring>
#include <exception>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

// Exported by libsentencepiece but declared only in its private headers. Used so the
// log level works whether or not Train() itself knows the "minloglevel" key.
namespace sentencepiece::logging {
int GetMinLogLevel();
void SetMinLogLevel(int level);
} // namespace sentencepiece::logging

struct FtSpmModel {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

void copyError(char* err, size_t errCap, std::string_view message)
{
    if (!err || errCap == 0)
        return;
    const size_t n = std::min(message.size(), errCap - 1);
    std::memcpy(err, message.data(), n);
    err[n] = '\0';
}

void copyCurrentException(char* err, size_t errCap)
{
    try {
        throw;
    } catch (const std::exception& e) {
        copyError(err, errCap, std::string("sentencepiece bridge: ") + e.what());
    } catch (...) {
        copyError(err, errCap, "sentencepiece bridge: unknown exception");
    }
}

bool validId(const FtSpmModel* model, int id)
{
    return model && id >= 0 && id < model->processor.GetPieceSize();
}

// Training touches process-wide state (log level, random seed, pretokenizer).
std::mutex& trainMutex()
{
    static std::mutex m;
    return m;
}

} // namespace

extern "C" {

int ftspm_abi_version(void) { return FTSPM_ABI_VERSION; }

FtSpmModel* ftspm_load(const char* path, char* err, size_t errCap)
{
    try {
        auto* model = new FtSpmModel;
        const auto status = model->processor.Load(std::string_view(path ? path : ""));
        if (!status.ok()) {
            copyError(err, errCap, status.ToString());
            delete model;
            return nullptr;
        }
        return model;
    } catch (...) {
        copyCurrentException(err, errCap);
        return nullptr;
    }
}

void ftspm_free(FtSpmModel* model) { delete model; }

int ftspm_vocab_size(const FtSpmModel* model) { return model ? model->processor.GetPieceSize() : 0; }
int ftspm_bos_id(const FtSpmModel* model) { return model ? model->processor.bos_id() : -1; }
int ftspm_eos_id(const FtSpmModel* model) { return model ? model->processor.eos_id() : -1; }
int ftspm_unk_id(const FtSpmModel* model) { return model ? model->processor.unk_id() : -1; }
int ftspm_pad_id(const FtSpmModel* model) { return model ? model->processor.pad_id() : -1; }

int ftspm_piece_to_id(const FtSpmModel* model, const char* piece, size_t len)
{
    try {
        if (!model)
            return -1;
        const std::string_view wanted(piece ? piece : "", piece ? len : 0);
        const int id = model->processor.PieceToId(wanted);
        // sentencepiece answers unk_id for any piece it does not know.
        if (!validId(model, id) || model->processor.IdToPiece(id) != wanted)
            return -1;
        return id;
    } catch (...) {
        return -1;
    }
}

int64_t ftspm_id_to_piece(const FtSpmModel* model, int id, char* out, size_t cap)
{
    try {
        if (!validId(model, id))
            return -1;
        const std::string& piece = model->processor.IdToPiece(id);
        if (out && cap > 0) {
            const size_t n = std::min(piece.size(), cap);
            std::memcpy(out, piece.data(), n);
            if (n < cap)
                out[n] = '\0';
        }
        return static_cast<int64_t>(piece.size());
    } catch (...) {
        return -1;
    }
}

int ftspm_is_control(const FtSpmModel* model, int id)
{
    return validId(model, id) ? model->processor.IsControl(id) : -1;
}

int ftspm_is_byte(const FtSpmModel* model, int id)
{
    return validId(model, id) ? model->processor.IsByte(id) : -1;
}

int ftspm_is_unknown(const FtSpmModel* model, int id)
{
    return validId(model, id) ? model->processor.IsUnknown(id) : -1;
}

int64_t ftspm_encode(const FtSpmModel* model, const char* text, size_t len, int* out,
                     size_t cap, char* err, size_t errCap)
{
    try {
        if (!model) {
            copyError(err, errCap, "sentencepiece bridge: no model");
            return -1;
        }
        std::vector<int> ids;
        const auto status =
            model->processor.Encode(std::string_view(text ? text : "", text ? len : 0), &ids);
        if (!status.ok()) {
            copyError(err, errCap, status.ToString());
            return -1;
        }
        if (out)
            std::copy_n(ids.begin(), std::min(ids.size(), cap), out);
        return static_cast<int64_t>(ids.size());
    } catch (...) {
        copyCurrentException(err, errCap);
        return -1;
    }
}

int64_t ftspm_decode(const FtSpmModel* model, const int* ids, size_t n, int renderControl,
                     char* out, size_t cap, char* err, size_t errCap)
{
    try {
        if (!model) {
            copyError(err, errCap, "sentencepiece bridge: no model");
            return -1;
        }
        const std::vector<int> input(ids, ids + (ids ? n : 0));
        // Decoding the whole sequence once (rather than the runs between control
        // tokens) keeps sentencepiece's handling of the dummy-prefix space exact.
        sentencepiece::ImmutableSentencePieceText spt;
        const auto status = model->processor.Decode(input, spt.mutable_proto());
        if (!status.ok()) {
            copyError(err, errCap, status.ToString());
            return -1;
        }
        std::string text;
        if (renderControl) {
            for (size_t i = 0; i < spt.pieces_size(); ++i) {
                const auto piece = spt.pieces(static_cast<int>(i));
                text += model->processor.IsControl(static_cast<int>(piece.id())) ? piece.piece()
                                                                                 : piece.surface();
            }
        } else {
            text = spt.text();
        }
        if (out)
            std::memcpy(out, text.data(), std::min(text.size(), cap));
        return static_cast<int64_t>(text.size());
    } catch (...) {
        copyCurrentException(err, errCap);
        return -1;
    }
}

int ftspm_train_kv(const char* const* keys, const char* const* values, size_t n, char* err,
                   size_t errCap)
{
    try {
        std::lock_guard<std::mutex> lock(trainMutex());
        std::unordered_map<std::string, std::string> kwargs;
        int logLevel = -1;
        for (size_t i = 0; i < n; ++i) {
            std::string key = keys[i] ? keys[i] : "";
            const std::string value = values[i] ? values[i] : "";
            if (key.rfind("--", 0) == 0)
                key.erase(0, 2);
            if (key == "random_seed") {
                // A flag of spm_train's main(), not of TrainerSpec.
                sentencepiece::SetRandomGeneratorSeed(static_cast<unsigned>(std::stoul(value)));
            } else if (key == "minloglevel") {
                logLevel = std::stoi(value);
            } else {
                kwargs[key] = value;
            }
        }
        const int previousLevel = sentencepiece::logging::GetMinLogLevel();
        if (logLevel >= 0)
            sentencepiece::logging::SetMinLogLevel(logLevel);
        const auto status = sentencepiece::SentencePieceTrainer::Train(kwargs);
        sentencepiece::logging::SetMinLogLevel(previousLevel);
        if (!status.ok()) {
            copyError(err, errCap, status.ToString());
            return -1;
        }
        return 0;
    } catch (...) {
        copyCurrentException(err, errCap);
        return -1;
    }
}

int ftspm_train(const char* args, char* err, size_t errCap)
{
    try {
        // Split like spm_train's flags: "--key=value" separated by whitespace.
        std::vector<std::string> keys;
        std::vector<std::string> values;
        const std::string line = args ? args : "";
        size_t pos = 0;
        while (pos < line.size()) {
            const size_t begin = line.find_first_not_of(" \t\n", pos);
            if (begin == std::string::npos)
                break;
            const size_t end = std::min(line.find_first_of(" \t\n", begin), line.size());
            const std::string token = line.substr(begin, end - begin);
            const size_t eq = token.find('=');
            keys.push_back(token.substr(0, eq));
            values.push_back(eq == std::string::npos ? "true" : token.substr(eq + 1));
            pos = end;
        }
        std::vector<const char*> keyPtrs;
        std::vector<const char*> valuePtrs;
        for (size_t i = 0; i < keys.size(); ++i) {
            keyPtrs.push_back(keys[i].c_str());
            valuePtrs.push_back(values[i].c_str());
        }
        return ftspm_train_kv(keyPtrs.data(), valuePtrs.data(), keys.size(), err, errCap);
    } catch (...) {
        copyCurrentException(err, errCap);
        return -1;
    }
}

} // extern "C"
