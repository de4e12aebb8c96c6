// ftstudio-cli export: a model (with adapters merged) for other runtimes.
//   export gguf    one GGUF file for llama.cpp, LM Studio and Ollama (core/deploy), or a GGUF LoRA
//   export ollama  GGUF + Modelfile
// Not here: Hugging Face folders (adapter export), the GGUF container (core/io/gguf).
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "cli/common_options.h"

#include "deploy/gguf_export.h"
#include "deploy/gguf_lora.h"
#include "deploy/ollama_export.h"
#include "model/runtime.h"
#include "util/text.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace ftcli {
namespace {

const char* kExportUsage =
    "usage: ftstudio-cli export <format> [options]\n"
    "\n"
    "formats:\n"
    "  gguf     one GGUF file (llama.cpp, LM Studio, Ollama): the base with its adapters merged,\n"
    "           as f32, f16, bf16, q8_0, q4_0 or q4_k_m; or, with --lora-only, a LoRA adapter alone\n"
    "           (llama.cpp --lora, Ollama ADAPTER)\n"
    "  ollama   a folder for 'ollama create': the GGUF file and a Modelfile with the chat template\n"
    "           as Ollama's TEMPLATE, its stop markers and the context length\n"
    "\n"
    "Run 'ftstudio-cli export <format> --help' for its options.\n";

// --model, --adapter (repeatable), --out, --type and --threads, as both formats take them.
void addExportOptions(ArgParser& p, const std::string& outValue, const std::string& outHelp, const std::string& typeHelp,
                      const std::string& defaultType)
{
    addModelOption(p);
    p.repeatable("adapter", "DIR", "an adapter to merge first (repeat for several, merged in order)");
    p.option("out", outValue, outHelp);
    std::string types;
    for (const auto& t : ft::deploy::ggufFileTypes())
        types += (types.empty() ? "" : "|") + t;
    p.option("type", types, typeHelp, defaultType);
    p.option("threads", "N", "CPU threads for quantizing, 0 = all cores", "0");
}

// "progress: N%" on stderr every 5 %.
std::function<void(size_t, size_t)> progressPrinter()
{
    return [lastPercent = -1](size_t done, size_t total) mutable {
        const int percent = total ? int(100 * done / total) : 100;
        if (percent / 5 != lastPercent / 5) {
            std::fprintf(stderr, "progress: %d%%\n", percent);
            lastPercent = percent;
        }
    };
}

int exportGgufLora(const ArgParser& p)
{
    const auto adapters = p.getAll("adapter");
    if (adapters.size() != 1)
        throw UsageError("--lora-only writes one adapter: give exactly one --adapter DIR");
    ft::deploy::GgufLoraOptions options;
    options.modelDir = modelDirFrom(p);
    options.adapterDir = adapters.front();
    options.outPath = requireOption(p, "out");
    options.fileType = p.get("type");
    options.progress = progressPrinter();
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = ft::deploy::exportGgufLora(options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (p.has("json")) {
        nlohmann::json j{{"out", options.outPath},   {"kind", "lora"},        {"architecture", report.architecture},
                         {"type", report.fileType},   {"bytes", report.fileBytes}, {"modules", report.modules},
                         {"rank", report.rank},       {"alpha", report.alpha},     {"seconds", seconds}};
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::printf("wrote %s: LoRA adapter for %s, %s, %lld projections, rank %lld, alpha %g, %.1f MB in %.1f s\n",
                options.outPath.c_str(), report.architecture.c_str(), report.fileType.c_str(),
                (long long)report.modules, (long long)report.rank, report.alpha, double(report.fileBytes) / 1e6, seconds);
    std::printf("apply it with: llama-cli -m BASE.gguf --lora %s   (BASE.gguf: export gguf --model %s)\n",
                options.outPath.c_str(), options.modelDir.c_str());
    return 0;
}

int exportGguf(int argc, char** argv)
{
    ArgParser p("export gguf",
                "Write the model, with any mergeable adapters merged into it, as one GGUF file that llama.cpp "
                "runs: hyper-parameters, tensors (Q/K permuted where llama.cpp expects it), the tokenizer and "
                "the chat template. Quantized types follow llama.cpp's mixes.");
    addExportOptions(p, "FILE", "the .gguf file to write (replaced atomically)",
                     "tensor type: q4_k_m and q4_0 keep some tensors at higher precision, as llama.cpp does", "f16");
    p.flag("lora-only", "write the one --adapter (LoRA) alone as a GGUF LoRA adapter for llama.cpp's --lora, "
                        "as f32, f16, bf16 or q8_0; --model names its base");
    p.flag("json", "print the report as one JSON object");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    ft::configureThreads(int(p.getInt("threads")));
    if (p.has("lora-only"))
        return exportGgufLora(p);
    ft::deploy::GgufExportOptions options;
    options.modelDir = modelDirFrom(p);
    options.adapterDirs = p.getAll("adapter");
    options.outPath = requireOption(p, "out");
    options.fileType = p.get("type");
    ft::deploy::ggufFileTypeId(options.fileType);  // an unknown type fails before the model loads
    options.progress = progressPrinter();
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = ft::deploy::exportGguf(options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (p.has("json")) {
        nlohmann::json j{{"out", options.outPath},      {"architecture", report.architecture},
                         {"type", report.fileType},      {"bytes", report.fileBytes},
                         {"tensors", report.tensorCount}, {"tensor_types", report.tensorsByType},
                         {"tokenizer", report.vocab.kind}, {"tokens", report.vocab.tokens},
                         {"chat_template", report.vocab.chatTemplate}, {"notes", report.notes},
                         {"seconds", seconds}};
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::string byType;
    for (const auto& [type, n] : report.tensorsByType)
        byType += (byType.empty() ? "" : ", ") + std::to_string(n) + " " + type;
    std::printf("wrote %s: %s, %s, %.1f MB, %lld tensors (%s) in %.1f s\n", options.outPath.c_str(),
                report.architecture.c_str(), report.fileType.c_str(), double(report.fileBytes) / 1e6,
                (long long)report.tensorCount, byType.c_str(), seconds);
    std::printf("tokenizer %s, %lld tokens%s\n", report.vocab.kind.c_str(), (long long)report.vocab.tokens,
                report.vocab.chatTemplate ? ", with its chat template" : ", no chat template");
    for (const auto& note : report.notes)
        std::printf("note: %s\n", note.c_str());
    return 0;
}

int exportOllama(int argc, char** argv)
{
    ArgParser p("export ollama",
                "Write a folder that 'ollama create' turns into a model: model.gguf (the model with its adapters "
                "merged, as in export gguf) and a Modelfile whose TEMPLATE is the chat format the model was "
                "trained on, in Ollama's Go-template syntax, with a stop for each end-of-turn marker.");
    addExportOptions(p, "DIR", "the folder to write (created if missing)", "tensor type of model.gguf", "q4_k_m");
    p.option("template", "FAMILY",
             "the chat format: auto (the last adapter's run, else the model's chat template) or one of " +
                 ft::deploy::chatFamilyNames(),
             "auto");
    p.option("system", "TEXT", "a SYSTEM message for the Modelfile");
    p.option("name", "NAME", "the model name in the printed 'ollama create' command (default: the folder's name)");
    p.flag("list-templates", "print the chat families --template takes (JSON with --json) and exit");
    p.flag("json", "print the report as one JSON object");
    if (!p.parse(argc, argv, 3)) {
        std::cout << p.usage();
        return 0;
    }
    if (p.has("list-templates")) {
        nlohmann::json list = nlohmann::json::array();
        for (const auto& f : ft::deploy::chatFamilies()) {
            list.push_back({{"name", f.name}, {"models", f.models}});
            if (!p.has("json"))
                std::printf("%-14s %s\n", f.name, f.models);
        }
        if (p.has("json"))
            std::cout << list.dump() << "\n";
        return 0;
    }
    ft::configureThreads(int(p.getInt("threads")));
    ft::deploy::OllamaExportOptions options;
    options.modelDir = modelDirFrom(p);
    options.adapterDirs = p.getAll("adapter");
    options.outDir = requireOption(p, "out");
    options.fileType = p.get("type");
    ft::deploy::ggufFileTypeId(options.fileType);
    options.chatFormat = p.get("template");
    options.system = ft::util::unescapeNewlines(p.get("system"));
    options.progress = progressPrinter();
    const auto t0 = std::chrono::steady_clock::now();
    const auto report = ft::deploy::exportOllama(options);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::string name = p.has("name") ? p.get("name") : std::filesystem::absolute(options.outDir).lexically_normal()
                                                           .filename().string();
    if (name.empty())
        name = "ftstudio-model";
    const std::string command = "ollama create " + name + " -f " + report.modelfilePath;
    if (p.has("json")) {
        nlohmann::json j{{"out", options.outDir},         {"gguf", report.ggufPath},
                         {"modelfile", report.modelfilePath}, {"type", report.gguf.fileType},
                         {"bytes", report.gguf.fileBytes},    {"architecture", report.gguf.architecture},
                         {"chat_format", report.family},      {"chat_format_source", report.familySource},
                         {"stops", report.stops},             {"num_ctx", report.contextLength},
                         {"notes", report.gguf.notes},        {"command", command},
                         {"seconds", seconds}};
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::printf("wrote %s: %s (%s, %.1f MB) and %s in %.1f s\n", options.outDir.c_str(), report.ggufPath.c_str(),
                report.gguf.fileType.c_str(), double(report.gguf.fileBytes) / 1e6, report.modelfilePath.c_str(),
                seconds);
    std::printf("chat format %s (from %s)\n", report.family.c_str(), report.familySource.c_str());
    for (const auto& note : report.gguf.notes)
        std::printf("note: %s\n", note.c_str());
    std::printf("run: %s\n", command.c_str());
    return 0;
}

} // namespace

int runExport(int argc, char** argv)
{
    if (argc < 3) {
        std::fputs(kExportUsage, stderr);
        return 2;
    }
    const std::string sub = argv[2];
    if (sub == "--help" || sub == "-h" || sub == "help") {
        std::fputs(kExportUsage, stdout);
        return 0;
    }
    try {
        if (sub == "gguf")
            return exportGguf(argc, argv);
        if (sub == "ollama")
            return exportOllama(argc, argv);
    } catch (const UsageError& e) {
        std::fprintf(stderr, "ftstudio-cli export %s: %s\nRun 'ftstudio-cli export %s --help' for usage.\n",
                     sub.c_str(), e.what(), sub.c_str());
        return 2;
    }
    throw UsageError("unknown export format '" + sub + "' (gguf, ollama)");
}

} // namespace ftcli
