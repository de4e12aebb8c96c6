// The subcommands of ftstudio-cli. Each parses its own options (argv[2..]) and
// returns the process exit code; errors propagate as exceptions to main().
#pragma once

#include <memory>
#include <optional>
#include <string>

namespace ft::data {
class ProjectStore;
enum class Split;
}

namespace ftcli {

class ArgParser;

int runInfo(int argc, char** argv);
int runGenerate(int argc, char** argv);
int runMakeBase(int argc, char** argv);
int runBench(int argc, char** argv);
int runBenchLoad(int argc, char** argv);  // bench load: checkpoint load time and peak memory
int runBenchDistributed(int argc, char** argv);  // bench --nproc-per-node N: data-parallel scaling
int runProject(int argc, char** argv);  // project create|info
int runData(int argc, char** argv);     // data import|export|list|sample|stats|dedupe|split|bench
int runTrain(int argc, char** argv);
int runAdapter(int argc, char** argv);  // adapter info|merge|export
int runJudge(int argc, char** argv);    // RLAIF labelling of preference pairs
int runReward(int argc, char** argv);   // score responses with a reward model
int runTokenize(int argc, char** argv); // token ids of a text with a model folder's tokenizer
int runChat(int argc, char** argv);     // chat through the model's chat template
int runExport(int argc, char** argv);   // export gguf
int runPerplexity(int argc, char** argv);  // score a text: NLL and perplexity
int runEval(int argc, char** argv);        // evaluation suites: base and adapters side by side
int runGgufInfo(const std::string& path, bool json);  // info FILE.gguf (cmd_info_gguf.cpp)

// data subcommands in cmd_data_tools.cpp; argv[3..] are their options.
int runDataStats(int argc, char** argv);
int runDataDedupe(int argc, char** argv);
int runDataSplit(int argc, char** argv);
int runDataBench(int argc, char** argv);
int runDataPreview(int argc, char** argv);  // cmd_data_preview.cpp
int runDataGenerate(int argc, char** argv);  // cmd_data_generate.cpp

// Helpers the project and data commands share (cmd_project.cpp).
// Opens an existing project; ft::Error with a hint to create it when the file is missing.
std::unique_ptr<ft::data::ProjectStore> openProject(const std::string& path);
// The value of a required option; UsageError "--name is required" when absent.
std::string requireOption(const ArgParser& p, const std::string& name);
// --split-like option: unset when absent, UsageError on an unknown split name.
std::optional<ft::data::Split> splitOption(const ArgParser& p, const std::string& name);

} // namespace ftcli
