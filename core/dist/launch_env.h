// Where this process stands in a multi-process run, read from the environment the
// way torchrun and Slurm describe it: RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE,
// MASTER_ADDR, MASTER_PORT (torchrun, `ftstudio-cli train --nproc-per-node`), or
// SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, SLURM_NTASKS_PER_NODE under srun (with
// MASTER_ADDR/MASTER_PORT set by the job script, as PyTorch's own Slurm recipes do).
// No variable set: one process, rank 0 of 1. Not here: connecting (communicator.h).
#pragma once

#include <functional>
#include <string>

namespace ft::dist {

struct LaunchEnv {
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    int localWorldSize = 1;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    std::string source = "single process";  // "torchrun variables" | "Slurm" | "single process"
    // Started by torchrun's agent (TORCHELASTIC_USE_AGENT_STORE=True): the agent already
    // hosts the store at MASTER_ADDR:MASTER_PORT; every rank joins it as a client under
    // the prefix /worker/attempt_<TORCHELASTIC_RESTART_COUNT>, as PyTorch's env:// does.
    bool agentStore = false;
    int restartCount = 0;

    bool distributed() const { return worldSize > 1; }
};

// Reads the variables through `getenv` (std::getenv by default; tests pass a map).
// ft::Error naming the variable when one is malformed or out of range (RANK 2 of
// WORLD_SIZE 2, a port 0 or above 65535, WORLD_SIZE without RANK ...).
using GetEnv = std::function<const char*(const char*)>;
LaunchEnv readLaunchEnv(const GetEnv& getenv = {});

// This machine's host name, for error messages that name a rank and its host.
std::string hostName();

} // namespace ft::dist
