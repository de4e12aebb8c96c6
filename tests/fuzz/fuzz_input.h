// What the libFuzzer harnesses share: the input as a file (the parsers under test read
// paths and map them, as they do with users' files) kept in memory (memfd), and the
// rule that only ft::Error (the clear, user-facing error) may escape a parser.
#pragma once

#include "util/error.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace ftfuzz {

// An in-memory file rewritten for every input; path() is /proc/self/fd/N.
class MemFile {
public:
    MemFile() : m_fd(memfd_create("ftstudio-fuzz", MFD_CLOEXEC))
    {
        if (m_fd < 0) {
            std::perror("memfd_create");
            std::abort();
        }
    }
    ~MemFile() { close(m_fd); }
    const std::string& write(const uint8_t* data, size_t size)
    {
        if (ftruncate(m_fd, 0) != 0 || pwrite(m_fd, data, size, 0) != static_cast<ssize_t>(size)) {
            std::perror("memfd write");
            std::abort();
        }
        m_path = "/proc/self/fd/" + std::to_string(m_fd);
        return m_path;
    }

private:
    int m_fd;
    std::string m_path;
};

// Runs `body`; ft::Error is the expected way to refuse bad input. Anything else that
// escapes (std::out_of_range, nlohmann's exceptions, ...) is a finding: abort so the
// fuzzer saves the input.
template <typename Fn>
void expectOnlyFtErrors(Fn&& body)
{
    try {
        body();
    } catch (const ft::Error&) {
    } catch (const std::exception& e) {
        std::fprintf(stderr, "uncaught %s: %s\n", typeid(e).name(), e.what());
        std::abort();
    }
}

} // namespace ftfuzz
