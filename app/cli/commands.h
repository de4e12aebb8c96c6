// The subcommands of ftstudio-cli. Each parses its own options (argv[2..]) and
// returns the process exit code; errors propagate as exceptions to main().
#pragma once

namespace ftcli {

int runInfo(int argc, char** argv);
int runGenerate(int argc, char** argv);
int runMakeBase(int argc, char** argv);
int runBench(int argc, char** argv);

} // namespace ftcli
