// Raw file access for core/io: read a whole file by memory-mapping it, and write
// a whole file atomically (temporary name, fsync, rename).
// Not a parser (see safetensors.h, json_file.h) and not a stream: callers that need
// incremental reads or writes use the standard library directly.
//
// A mapping is read-only and private. If another process truncates the file while it
// is mapped, touching the lost pages raises SIGBUS; model folders are not expected
// to change under a running program, so this is documented rather than guarded.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace ft::io {

class MappedFile {
public:
    // Maps the whole file read-only. Throws ft::Error naming the path and the
    // system's reason (missing, a directory, not a regular file, permission ...).
    // An empty file yields size() == 0 and data() == nullptr without calling mmap,
    // which rejects zero-length mappings.
    static MappedFile open(const std::string& path);

    MappedFile(MappedFile&& other) noexcept;
    MappedFile& operator=(MappedFile&& other) noexcept;
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;
    ~MappedFile();

    const uint8_t* data() const { return m_data; }
    size_t size() const { return m_size; }
    const std::string& path() const { return m_path; }

private:
    MappedFile() = default;
    void release() noexcept;

    std::string m_path;
    const uint8_t* m_data = nullptr;
    size_t m_size = 0;
};

// Drops the pages wholly inside [data, data + bytes) from the process's resident
// set (madvise MADV_DONTNEED); `data` must point into a MappedFile's mapping.
// Reading them again reloads them from the file. A loader calls this once a
// tensor has been copied out, so the mapping never adds a second copy of the
// weights to the peak memory. Failures are ignored: it is advice.
void releaseMappedPages(const void* data, size_t bytes) noexcept;

// Writes the concatenation of `pieces` to `path + ".tmp"`, fsyncs it, and renames
// it over `path`, so a reader never sees a half-written file under the final name.
// The pieces are written straight from the caller's buffers (no copy of large
// tensor data). On any failure the temporary file is removed and ft::Error thrown.
void writeFileAtomic(const std::string& path,
                     const std::vector<std::span<const uint8_t>>& pieces);

} // namespace ft::io
