#include "cli/rank_launcher.h"

#include "util/error.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <map>

namespace ftcli {

namespace {

// A TCP port nobody listens on now (the kernel's pick); rank 0's store binds it.
int freeLoopbackPort()
{
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        ft::fail("cannot open a socket to find a free port: " + std::string(std::strerror(errno)));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = 0;
    socklen_t length = sizeof address;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
        ::close(fd);
        ft::fail("cannot find a free port on 127.0.0.1: " + std::string(std::strerror(errno)));
    }
    ::close(fd);
    return ntohs(address.sin_port);
}

std::string describeStatus(int status)
{
    if (WIFEXITED(status))
        return "exit status " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "signal " + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
    return "status " + std::to_string(status);
}

int exitCodeOf(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status) == 0 ? 1 : WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

} // namespace

int launchRanks(int processes, const std::vector<std::string>& args)
{
    const int port = freeLoopbackPort();
    std::fprintf(stderr, "starting %d processes (gloo over 127.0.0.1:%d)\n", processes, port);

    // The forwarded signals wait in the launcher's mask until the loop below takes them.
    sigset_t forwarded, previous;
    sigemptyset(&forwarded);
    for (int sig : {SIGINT, SIGTERM, SIGUSR1, SIGUSR2, SIGCHLD})
        sigaddset(&forwarded, sig);
    sigprocmask(SIG_BLOCK, &forwarded, &previous);

    // This program by its real path, so that the ranks show as ftstudio-cli in ps and top.
    std::error_code ec;
    std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
    if (ec || self.empty())
        self = "/proc/self/exe";
    std::map<pid_t, int> running;  // pid -> rank
    const pid_t launcher = ::getpid();
    for (int rank = 0; rank < processes; ++rank) {
        const pid_t pid = ::fork();
        if (pid < 0)
            ft::fail("cannot start rank " + std::to_string(rank) + ": " + std::strerror(errno));
        if (pid == 0) {
            sigprocmask(SIG_SETMASK, &previous, nullptr);
            // A launcher killed outright (SIGKILL from a GUI) takes its ranks with it.
            ::prctl(PR_SET_PDEATHSIG, SIGTERM);
            if (::getppid() != launcher)
                ::_exit(1);
            setenv("RANK", std::to_string(rank).c_str(), 1);
            setenv("LOCAL_RANK", std::to_string(rank).c_str(), 1);
            setenv("WORLD_SIZE", std::to_string(processes).c_str(), 1);
            setenv("LOCAL_WORLD_SIZE", std::to_string(processes).c_str(), 1);
            setenv("MASTER_ADDR", "127.0.0.1", 1);
            setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            if (rank != 0) {  // control commands reach rank 0, which shares them at the next step
                const int null = ::open("/dev/null", O_RDONLY);
                if (null >= 0)
                    ::dup2(null, STDIN_FILENO);
            }
            std::vector<char*> argv;
            argv.push_back(const_cast<char*>(self.c_str()));
            for (const std::string& a : args)
                argv.push_back(const_cast<char*>(a.c_str()));
            argv.push_back(nullptr);
            ::execv(self.c_str(), argv.data());
            std::fprintf(stderr, "rank %d: cannot run %s: %s\n", rank, self.c_str(), std::strerror(errno));
            ::_exit(127);
        }
        running[pid] = rank;
    }

    int failedRank = -1, failedStatus = 0;
    auto killDeadline = std::chrono::steady_clock::time_point::max();
    while (!running.empty()) {
        int status = 0;
        const pid_t done = ::waitpid(-1, &status, WNOHANG);
        if (done > 0) {
            const auto it = running.find(done);
            if (it == running.end())
                continue;
            const int rank = it->second;
            running.erase(it);
            const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
            if (!ok && failedRank < 0) {
                failedRank = rank;
                failedStatus = status;
                std::fprintf(stderr, "rank %d (pid %d) failed with %s\n", rank, int(done), describeStatus(status).c_str());
                // The others see the failure at their next collective and say so; a rank
                // that hangs past this grace period is killed.
                killDeadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
            }
            continue;
        }
        if (std::chrono::steady_clock::now() > killDeadline) {
            for (const auto& [pid, rank] : running) {
                std::fprintf(stderr, "rank %d (pid %d) still running after rank %d failed: killed\n", rank, int(pid),
                             failedRank);
                ::kill(pid, SIGKILL);
            }
            killDeadline = std::chrono::steady_clock::time_point::max();
        }
        timespec wait{0, 100 * 1000 * 1000};
        siginfo_t info{};
        const int sig = sigtimedwait(&forwarded, &info, &wait);
        if (sig > 0 && sig != SIGCHLD)
            for (const auto& [pid, rank] : running)
                ::kill(pid, sig);
    }
    sigprocmask(SIG_SETMASK, &previous, nullptr);
    if (failedRank >= 0) {
        std::fprintf(stderr, "error: rank %d of %d failed (%s); the run stopped\n", failedRank, processes,
                     describeStatus(failedStatus).c_str());
        return exitCodeOf(failedStatus);
    }
    return 0;
}

} // namespace ftcli
