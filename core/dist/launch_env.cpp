#include "dist/launch_env.h"

#include "util/error.h"

#include <cstdlib>
#include <string>
#include <unistd.h>

namespace ft::dist {

namespace {

// A non-negative integer variable, or `fallback` when unset; ft::Error naming it when
// it is not a whole number.
int integerVariable(const GetEnv& getenv, const char* name, int fallback)
{
    const char* value = getenv(name);
    if (!value || !*value)
        return fallback;
    const std::string text = value;
    size_t used = 0;
    long long n = -1;
    try {
        n = std::stoll(text, &used);
    } catch (const std::exception&) {
        used = 0;
    }
    if (used != text.size() || n < 0 || n > 1 << 20)
        fail("environment variable " + std::string(name) + "='" + text + "' is not a non-negative whole number");
    return int(n);
}

bool isSet(const GetEnv& getenv, const char* name)
{
    const char* value = getenv(name);
    return value && *value;
}

} // namespace

LaunchEnv readLaunchEnv(const GetEnv& given)
{
    const GetEnv getenv = given ? given : GetEnv([](const char* name) { return std::getenv(name); });
    LaunchEnv env;
    const char *rankVar, *worldVar, *localVar, *localWorldVar;
    if (isSet(getenv, "WORLD_SIZE") || isSet(getenv, "RANK")) {
        env.source = "torchrun variables";
        rankVar = "RANK", worldVar = "WORLD_SIZE", localVar = "LOCAL_RANK", localWorldVar = "LOCAL_WORLD_SIZE";
    } else if (isSet(getenv, "SLURM_NTASKS") && isSet(getenv, "SLURM_PROCID")) {
        env.source = "Slurm";
        rankVar = "SLURM_PROCID", worldVar = "SLURM_NTASKS", localVar = "SLURM_LOCALID",
        localWorldVar = "SLURM_NTASKS_PER_NODE";
    } else {
        return env;
    }
    if (!isSet(getenv, rankVar) || !isSet(getenv, worldVar))
        fail(std::string("environment: ") + worldVar + " and " + rankVar + " must be set together (found only " +
             (isSet(getenv, rankVar) ? rankVar : worldVar) + ")");
    env.worldSize = integerVariable(getenv, worldVar, 1);
    env.rank = integerVariable(getenv, rankVar, 0);
    if (env.worldSize < 1)
        fail(std::string("environment variable ") + worldVar + " must be at least 1, got " +
             std::to_string(env.worldSize));
    if (env.rank >= env.worldSize)
        fail(std::string("environment variable ") + rankVar + "=" + std::to_string(env.rank) + " must be below " +
             worldVar + "=" + std::to_string(env.worldSize));
    env.localRank = integerVariable(getenv, localVar, env.rank);
    // Slurm writes SLURM_NTASKS_PER_NODE as "4" or "4(x2)"; only the plain form is read.
    const char* localWorld = getenv(localWorldVar);
    if (localWorld && *localWorld && std::string(localWorld).find('(') == std::string::npos)
        env.localWorldSize = integerVariable(getenv, localWorldVar, env.worldSize);
    else
        env.localWorldSize = env.worldSize;
    if (env.localWorldSize < 1 || env.localRank >= env.localWorldSize)
        fail(std::string("environment: ") + localVar + "=" + std::to_string(env.localRank) + " must be below " +
             localWorldVar + "=" + std::to_string(env.localWorldSize));
    if (env.worldSize > 1) {
        if (!isSet(getenv, "MASTER_ADDR") || !isSet(getenv, "MASTER_PORT"))
            fail("environment: " + env.source + " describe " + std::to_string(env.worldSize) +
                 " processes but MASTER_ADDR and MASTER_PORT (the rendezvous host and port of rank 0) are not both "
                 "set");
        env.masterAddr = getenv("MASTER_ADDR");
        const char* agent = getenv("TORCHELASTIC_USE_AGENT_STORE");
        env.agentStore = agent && std::string(agent) == "True";
        env.restartCount = integerVariable(getenv, "TORCHELASTIC_RESTART_COUNT", 0);
        env.masterPort = integerVariable(getenv, "MASTER_PORT", 29500);
        if (env.masterPort < 1 || env.masterPort > 65535)
            fail("environment variable MASTER_PORT=" + std::to_string(env.masterPort) + " is not a TCP port (1-65535)");
    }
    return env;
}

std::string hostName()
{
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0)
        return "unknown host";
    return name;
}

} // namespace ft::dist
