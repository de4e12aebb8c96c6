// ftstudio-cli: the headless engine of Fine-Tuning Studio. Dispatches to a
// subcommand and turns every failure into one line on stderr and an exit code:
// 2 for a usage error, 1 for anything else. Never a stack dump.
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "tokenizer/sentencepiece_tokenizer.h"
#include "util/error.h"
#include "util/paths.h"
#include "util/version.h"

#include <torch/version.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

namespace {

const char* kUsage =
    "usage: ftstudio-cli <command> [options]\n"
    "\n"
    "Fine-Tuning Studio's engine, for scripts and servers.\n"
    "\n"
    "commands:\n"
    "  make-base   build the embedded tiny base model (tokenizer + pretraining) if missing\n"
    "  info        describe a model folder (architecture, parameters, dtype, memory) or a .gguf file\n"
    "  generate    generate text from a model, streaming\n"
    "  chat        chat with a model through its chat template (or print the rendered prompt)\n"
    "  tokenize    token ids and pieces of a text with a model's tokenizer\n"
    "  perplexity  how well a model (with an adapter) predicts a text: NLL and perplexity\n"
    "  eval        score a model and its adapters on evaluation suites (pass rate, acc, perplexity)\n"
    "  bench       training-step and generation throughput, matmul ceiling and MFU;\n"
    "              bench load: checkpoint load time and peak memory\n"
    "  project     create a project file, describe one (datasets, schema, runs), undo or redo its edits\n"
    "  data        import, export, list, sample, stats, dedupe, split and bench datasets\n"
    "  train       fine-tune a model from a run config: LoRA, QLoRA, prefix, ...; SFT, reward model,\n"
    "              DPO/IPO/SimPO/ORPO/KTO, PPO, GRPO, RLVR; with events\n"
    "  adapter     inspect an adapter, merge it into its base, export the merged model\n"
    "  export      the model with its adapters merged, as one GGUF file for llama.cpp: export gguf\n"
    "  judge       RLAIF: label preference pairs with a judge model\n"
    "  reward      score responses with a trained reward model\n"
    "\n"
    "Run 'ftstudio-cli <command> --help' for a command's options, 'ftstudio-cli --version' for the\n"
    "version and the folders it uses; 'man ftstudio-cli' when installed.\n";

std::string firstLine(const char* what)
{
    std::string s = what ? what : "unknown error";
    if (auto nl = s.find('\n'); nl != std::string::npos)
        s.resize(nl);
    return s;
}

// --version: the version, then where this copy finds its files (for bug reports and
// for checking an installation).
int printVersion()
{
    std::printf("ftstudio-cli %s (libtorch %s)\n", ft::version(), TORCH_VERSION);
    auto line = [](const char* what, auto&& find) {
        try {
            std::printf("%-21s %s\n", what, find().c_str());
        } catch (const std::exception& e) {
            std::printf("%-21s not found: %s\n", what, firstLine(e.what()).c_str());
        }
    };
    line("program", [] { return ft::executableDir(); });
    line("datasets", [] { return ft::datasetsDir(); });
    line("sentencepiece bridge", [] { return ft::tok::sentencePieceBridgePath(); });
    line("data folder", [] { return ft::userDataDir(); });
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fputs(kUsage, stderr);
        return 2;
    }
    const std::string command = argv[1];
    if (command == "--help" || command == "-h" || command == "help") {
        std::fputs(kUsage, stdout);
        return 0;
    }
    if (command == "--version" || command == "-V" || command == "version")
        return printVersion();
    try {
        if (command == "info")
            return ftcli::runInfo(argc, argv);
        if (command == "chat")
            return ftcli::runChat(argc, argv);
        if (command == "tokenize")
            return ftcli::runTokenize(argc, argv);
        if (command == "generate")
            return ftcli::runGenerate(argc, argv);
        if (command == "make-base")
            return ftcli::runMakeBase(argc, argv);
        if (command == "bench")
            return ftcli::runBench(argc, argv);
        if (command == "project")
            return ftcli::runProject(argc, argv);
        if (command == "data")
            return ftcli::runData(argc, argv);
        if (command == "train")
            return ftcli::runTrain(argc, argv);
        if (command == "adapter")
            return ftcli::runAdapter(argc, argv);
        if (command == "export")
            return ftcli::runExport(argc, argv);
        if (command == "eval")
            return ftcli::runEval(argc, argv);
        if (command == "perplexity")
            return ftcli::runPerplexity(argc, argv);
        if (command == "judge")
            return ftcli::runJudge(argc, argv);
        if (command == "reward")
            return ftcli::runReward(argc, argv);
        std::fprintf(stderr, "ftstudio-cli: unknown command '%s'\n\n%s", command.c_str(), kUsage);
        return 2;
    } catch (const ftcli::UsageError& e) {
        std::fprintf(stderr, "ftstudio-cli %s: %s\nRun 'ftstudio-cli %s --help' for usage.\n", command.c_str(), e.what(),
                     command.c_str());
        return 2;
    } catch (const ft::Error& e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    } catch (const std::bad_alloc&) {
        std::fprintf(stderr, "error: out of memory; try a smaller batch, sequence length or model\n");
        return 1;
    } catch (const std::exception& e) {
        // libtorch errors carry a C++ backtrace after the first line.
        std::fprintf(stderr, "error: %s\n", firstLine(e.what()).c_str());
        return 1;
    }
}
