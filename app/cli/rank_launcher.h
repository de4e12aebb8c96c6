// `ftstudio-cli train --nproc-per-node N` (or distributed.processes = N): starts N
// copies of this program on this machine as the ranks of one data-parallel run, the
// way torchrun does: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR
// (loopback) and a free MASTER_PORT in each one's environment. Rank 0 keeps stdin
// (control commands) and stdout (events); every rank keeps stderr. SIGINT, SIGTERM,
// SIGUSR1 and SIGUSR2 are forwarded to every rank. When a rank fails, the others are
// given a moment to report what they saw and are then killed; the exit status is the
// first failing rank's. Not here: what a rank does (cmd_train.cpp, core/engine).
#pragma once

#include <string>
#include <vector>

namespace ftcli {

// `args`: the command line each rank runs (argv[1..] without --nproc-per-node).
int launchRanks(int processes, const std::vector<std::string>& args);

} // namespace ftcli
