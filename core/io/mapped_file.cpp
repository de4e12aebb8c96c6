// Memory mapping and atomic whole-file writes on POSIX (see mapped_file.h).
#include "io/mapped_file.h"

#include "util/error.h"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ft::io {

namespace {

std::string systemReason(int err) { return std::strerror(err); }

// Closes a descriptor on scope exit; mapping survives the close, so the fd is
// never kept longer than open() needs it.
struct FdGuard {
    int fd = -1;
    ~FdGuard() {
        if (fd >= 0)
            ::close(fd);
    }
};

std::string parentDirectory(const std::string& path) {
    const auto slash = path.find_last_of('/');
    if (slash == std::string::npos)
        return ".";
    if (slash == 0)
        return "/";
    return path.substr(0, slash);
}

[[noreturn]] void abandonTemporary(const std::string& path, const std::string& tmpPath,
                                   const std::string& what, int err, int fdToClose) {
    if (fdToClose >= 0)
        ::close(fdToClose);
    ::unlink(tmpPath.c_str());
    fail("cannot write file " + path + ": " + what + ": " + systemReason(err));
}

} // namespace

void releaseMappedPages(const void* data, size_t bytes) noexcept {
    static const uintptr_t page = uintptr_t(::sysconf(_SC_PAGESIZE));
    const uintptr_t begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
    const uintptr_t end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
    if (end > begin)
        ::madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

MappedFile MappedFile::open(const std::string& path) {
    // stat() before open(): opening a FIFO read-only would block, and a directory
    // opens successfully on Linux, so the type is checked up front.
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        const int err = errno;
        fail("cannot open file " + path + ": " + systemReason(err));
    }
    if (S_ISDIR(st.st_mode))
        fail("cannot open file " + path + ": it is a directory, expected a regular file");
    if (!S_ISREG(st.st_mode))
        fail("cannot open file " + path + ": not a regular file");

    FdGuard guard{::open(path.c_str(), O_RDONLY | O_CLOEXEC)};
    if (guard.fd < 0) {
        const int err = errno;
        fail("cannot open file " + path + ": " + systemReason(err));
    }
    // Size from the open descriptor, in case the file changed since stat().
    if (::fstat(guard.fd, &st) != 0) {
        const int err = errno;
        fail("cannot read the size of file " + path + ": " + systemReason(err));
    }

    MappedFile file;
    file.m_path = path;
    file.m_size = static_cast<size_t>(st.st_size);
    if (file.m_size == 0)
        return file;

    void* mapped = ::mmap(nullptr, file.m_size, PROT_READ, MAP_PRIVATE, guard.fd, 0);
    if (mapped == MAP_FAILED) {
        const int err = errno;
        fail("cannot memory-map file " + path + " (" + std::to_string(file.m_size) +
             " bytes): " + systemReason(err));
    }
    file.m_data = static_cast<const uint8_t*>(mapped);
    return file;
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : m_path(std::move(other.m_path)),
      m_data(std::exchange(other.m_data, nullptr)),
      m_size(std::exchange(other.m_size, 0)) {}

MappedFile& MappedFile::operator=(MappedFile&& other) noexcept {
    if (this != &other) {
        release();
        m_path = std::move(other.m_path);
        m_data = std::exchange(other.m_data, nullptr);
        m_size = std::exchange(other.m_size, 0);
    }
    return *this;
}

MappedFile::~MappedFile() { release(); }

void MappedFile::release() noexcept {
    if (m_data)
        ::munmap(const_cast<uint8_t*>(m_data), m_size);
    m_data = nullptr;
    m_size = 0;
}

void writeFileAtomic(const std::string& path,
                     const std::vector<std::span<const uint8_t>>& pieces) {
    const std::string tmpPath = path + ".tmp";
    const int fd = ::open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        const int err = errno;
        fail("cannot create file " + tmpPath + " (to write " + path +
             "): " + systemReason(err));
    }

    // Any failure past this point leaves no trace: the temporary file is removed
    // and the file under the final name (if any) is untouched. errno is saved
    // first because building the message may allocate.
    for (const auto& piece : pieces) {
        const uint8_t* p = piece.data();
        size_t left = piece.size();
        while (left > 0) {
            const ssize_t n = ::write(fd, p, left);
            if (n < 0) {
                const int err = errno;
                if (err == EINTR)
                    continue;
                abandonTemporary(path, tmpPath, "write to " + tmpPath + " failed", err, fd);
            }
            p += n;
            left -= static_cast<size_t>(n);
        }
    }
    // fsync before rename: otherwise a crash could leave the new name pointing at
    // a file whose data never reached the disk.
    if (::fsync(fd) != 0) {
        const int err = errno;
        abandonTemporary(path, tmpPath, "fsync of " + tmpPath + " failed", err, fd);
    }
    if (::close(fd) != 0) {
        const int err = errno;
        abandonTemporary(path, tmpPath, "close of " + tmpPath + " failed", err, -1);
    }
    if (::rename(tmpPath.c_str(), path.c_str()) != 0) {
        const int err = errno;
        abandonTemporary(path, tmpPath, "rename of " + tmpPath + " into place failed", err, -1);
    }

    // Make the rename itself durable. Best effort: some file systems refuse
    // fsync on a directory, and the data is already safe under the new name.
    const int dirFd = ::open(parentDirectory(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirFd >= 0) {
        ::fsync(dirFd);
        ::close(dirFd);
    }
}

} // namespace ft::io
