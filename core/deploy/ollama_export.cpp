#include "deploy/ollama_export.h"

#include "io/json_file.h"
#include "model/model_config.h"
#include "model/model_io.h"
#include "util/error.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <optional>

namespace fs = std::filesystem;

namespace ft::deploy {
namespace {

// The run folder that holds an adapter: DIR/run_config.json, or its parent's (a run's
// final adapter lives in RUN/adapter, checkpoints in RUN/checkpoint-N).
std::optional<fs::path> runConfigOf(const std::string& adapterDir)
{
    for (const fs::path& p : {fs::path(adapterDir), fs::path(adapterDir).parent_path()})
        if (fs::exists(p / "run_config.json"))
            return p / "run_config.json";
    return std::nullopt;
}

struct Choice {
    const ChatFamily* family;
    std::string source;
};

Choice chooseFamily(const OllamaExportOptions& o, const tok::ChatTemplate& modelTemplate)
{
    if (o.chatFormat != "auto")
        return {&chatFamily(o.chatFormat), "--template " + o.chatFormat};
    if (!o.adapterDirs.empty()) {
        if (const auto config = runConfigOf(o.adapterDirs.back())) {
            const nlohmann::json run = io::readJsonFile(config->string());
            const std::string format = run.value(nlohmann::json::json_pointer("/objective/template"), std::string("model"));
            const std::string why = "objective.template '" + format + "' of " + config->string();
            if (format == "alpaca" || format == "plain")
                return {&chatFamily(format), why};
            if (format == "chatml")
                return {&chatFamily("chatml-studio"), why};
            if (format != "model")
                fail(config->string() + ": objective.template '" + format + "' has no Ollama TEMPLATE here; "
                     "choose a family with --template (" + chatFamilyNames() + ")");
            return {&identifyChatFamily(modelTemplate), why + ": the model's chat template"};
        }
    }
    return {&identifyChatFamily(modelTemplate),
            modelTemplate.isDefault() ? "the default ChatML template: the model folder has no chat template"
                                      : "the chat template of " + modelTemplate.origin()};
}

} // namespace

std::string ollamaModelfile(const ChatFamily& family, const std::string& eosText, int64_t contextLength,
                            const std::string& system)
{
    const std::string goTemplate = ollamaGoTemplate(family, eosText);
    for (const std::string* text : {&goTemplate, &system})
        if (text->find("\"\"\"") != std::string::npos)
            fail("a Modelfile cannot hold three double quotes in a row inside TEMPLATE or SYSTEM");
    if (!system.empty() && family.system == SystemPlacement::None)
        fail(std::string("the ") + family.name + " chat format (" + family.models +
             ") has no system messages, so the Modelfile cannot have a SYSTEM");
    std::string m = "# Fine-Tuning Studio export, chat format '" + std::string(family.name) + "' (" + family.models +
                    ")\n# Run: ollama create NAME -f Modelfile   (in this folder)\n";
    m += "FROM ./model.gguf\n";
    m += "TEMPLATE \"\"\"" + goTemplate + "\"\"\"\n";
    for (const char* stop : family.stops)
        m += "PARAMETER stop \"" + std::string(stop) + "\"\n";
    if (contextLength > 0)
        m += "PARAMETER num_ctx " + std::to_string(contextLength) + "\n";
    if (!system.empty())
        m += "SYSTEM \"\"\"" + system + "\"\"\"\n";
    return m;
}

OllamaExportReport exportOllama(const OllamaExportOptions& o)
{
    const model::ModelConfig config = model::readModelConfig(model::requireModelFolder(o.modelDir));
    const tok::ChatTemplate modelTemplate = tok::ChatTemplate::fromTokenizerConfig(o.modelDir);
    const Choice choice = chooseFamily(o, modelTemplate);
    OllamaExportReport report;
    report.family = choice.family->name;
    report.familySource = choice.source;
    report.contextLength = std::min<int64_t>(config.maxPositionEmbeddings, 8192);
    for (const char* s : choice.family->stops)
        report.stops.emplace_back(s);
    const std::string modelfile =
        ollamaModelfile(*choice.family, modelTemplate.eosToken(), report.contextLength, o.system);  // fails early

    if (fs::exists(o.outDir) && !fs::is_directory(o.outDir))
        fail("--out '" + o.outDir + "' is a file; Ollama export writes a folder (model.gguf and Modelfile)");
    fs::create_directories(o.outDir);
    GgufExportOptions g;
    g.modelDir = o.modelDir;
    g.adapterDirs = o.adapterDirs;
    g.outPath = (fs::path(o.outDir) / "model.gguf").string();
    g.fileType = o.fileType;
    g.progress = o.progress;
    report.gguf = exportGguf(g);
    report.ggufPath = g.outPath;
    report.modelfilePath = (fs::path(o.outDir) / "Modelfile").string();
    const std::string tmp = report.modelfilePath + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << modelfile;
        out.close();
        if (!out)
            fail("cannot write " + tmp);
    }
    fs::rename(tmp, report.modelfilePath);
    return report;
}

} // namespace ft::deploy
