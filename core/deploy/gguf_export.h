// Export for llama.cpp and Ollama: a model folder, with any mergeable adapters merged
// into it, written as one GGUF file of the chosen type. Which tensor gets which ggml
// type follows llama.cpp (llama-quantize's mixes for q4_0 and q4_k_m, its fallbacks for
// rows that are not a multiple of a block). Weights are converted one slice of rows at
// a time while the file is written, so no second full-precision copy exists.
// Not here: the container (io/gguf.h), names and hyper-parameters (gguf_arch.h), the
// tokenizer keys (gguf_vocab.h).
#pragma once

#include "deploy/gguf_vocab.h"
#include "io/ggml_types.h"

#include <functional>
#include <map>
#include <string>
#include <vector>

namespace ft::deploy {

// The --type choices: f32, f16, bf16, q8_0, q4_0, q4_k_m.
const std::vector<std::string>& ggufFileTypes();
// general.file_type (llama_ftype) of a --type; ft::Error listing the choices otherwise.
uint32_t ggufFileTypeId(const std::string& fileType);

// The ggml type of one tensor in a file of `fileType`. `ggufName` is the GGUF tensor
// name, `dims` in ggml order (dims[0] = row length), `layer` its block index (-1 outside
// blocks); `tiedOutput`: token_embd also serves as the output projection.
io::GgmlType ggufTensorType(const std::string& fileType, const std::string& ggufName, const std::vector<int64_t>& dims,
                            int64_t layer, int64_t layerCount, bool tiedOutput);

// ft::Error when `path` cannot become a new .gguf file (a folder, or its folder missing).
void checkGgufOutPath(const std::string& path);

struct GgufExportOptions {
    std::string modelDir;
    std::vector<std::string> adapterDirs;  // merged in this order
    std::string outPath;
    std::string fileType = "f16";
    std::function<void(size_t doneBytes, size_t totalBytes)> progress;
};

struct GgufExportReport {
    std::string architecture;              // general.architecture
    std::string fileType;
    size_t fileBytes = 0;
    int64_t tensorCount = 0;
    std::map<std::string, int> tensorsByType;  // "q4_K" -> 20
    std::vector<std::string> notes;        // what llama.cpp will do differently, if anything
    VocabSummary vocab;
};

GgufExportReport exportGguf(const GgufExportOptions& options);

} // namespace ft::deploy
