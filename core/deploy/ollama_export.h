// Export for Ollama: a folder with the model as GGUF (gguf_export.h) and a Modelfile
// whose TEMPLATE is the Go-template form of the chat format the model was trained on
// (chat_family.h), a PARAMETER stop for each of its end- and start-of-turn markers,
// the context length, and SYSTEM when one is given. `ollama create NAME -f
// DIR/Modelfile` then runs it. Not here: the GGUF file, the chat formats.
#pragma once

#include "deploy/chat_family.h"
#include "deploy/gguf_export.h"

#include <string>
#include <vector>

namespace ft::deploy {

struct OllamaExportOptions {
    std::string modelDir;
    std::vector<std::string> adapterDirs;  // merged in this order
    std::string outDir;                    // created if missing; model.gguf and Modelfile inside
    std::string fileType = "q4_k_m";
    // "auto": the last adapter's run (its run_config.json's objective.template, or the
    // model's chat template for "model"), else the model's chat template, recognized
    // as a family; or a family name (chatFamilyNames()).
    std::string chatFormat = "auto";
    std::string system;  // SYSTEM, when not empty
    std::function<void(size_t doneBytes, size_t totalBytes)> progress;
};

struct OllamaExportReport {
    GgufExportReport gguf;
    std::string ggufPath;
    std::string modelfilePath;
    std::string family;        // chat family name
    std::string familySource;  // how it was chosen, for the user
    std::vector<std::string> stops;
    int64_t contextLength = 0;  // PARAMETER num_ctx
};

// The Modelfile's text (FROM ./model.gguf, TEMPLATE, stops, num_ctx, SYSTEM).
std::string ollamaModelfile(const ChatFamily& family, const std::string& eosText, int64_t contextLength,
                            const std::string& system);

// Chooses the family first (so a bad choice fails before the long write), then writes both files.
OllamaExportReport exportOllama(const OllamaExportOptions& options);

} // namespace ft::deploy
