#include "util/paths.h"

#include "util/error.h"

#include <cstdlib>
#include <filesystem>

namespace fs = std::filesystem;

namespace ft {

namespace {
std::string envOr(const char* name, const std::string& fallback)
{
    const char* v = std::getenv(name);
    return (v && *v) ? std::string(v) : fallback;
}
} // namespace

std::string userDataDir()
{
    if (const char* d = std::getenv("FTSTUDIO_DATA_DIR"); d && *d)
        return d;
    if (const char* x = std::getenv("XDG_DATA_HOME"); x && *x)
        return (fs::path(x) / "ftstudio").string();
    const std::string home = envOr("HOME", "");
    if (home.empty())
        fail("cannot find a data folder: HOME is not set (set FTSTUDIO_DATA_DIR)");
    return (fs::path(home) / ".local" / "share" / "ftstudio").string();
}

std::string defaultBaseModelDir() { return (fs::path(userDataDir()) / "models" / "ftstudio-tiny-base").string(); }

std::string executableDir()
{
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? std::string(".") : exe.parent_path().string();
}

bool runningFromBuildTree()
{
#ifdef FT_BUILD_BIN_DIR
    std::error_code ec;
    return fs::equivalent(executableDir(), FT_BUILD_BIN_DIR, ec) && !ec;
#else
    return false;
#endif
}

std::string datasetsDir()
{
    if (const char* d = std::getenv("FTSTUDIO_DATASETS_DIR"); d && *d)
        return d;
    const fs::path installed = fs::path(executableDir()) / ".." / "share" / "ftstudio" / "datasets";
    if (fs::is_directory(installed))
        return fs::weakly_canonical(installed).string();
#ifdef FT_SOURCE_DIR
    const fs::path source = fs::path(FT_SOURCE_DIR) / "datasets";
    if (runningFromBuildTree() && fs::is_directory(source))
        return source.string();
#endif
    fail("cannot find the datasets folder (looked in " + installed.string() +
         "); set FTSTUDIO_DATASETS_DIR");
}

} // namespace ft
