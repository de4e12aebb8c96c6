// libFuzzer: opening a project file that is damaged (an SQLite database with mutated
// pages, a file that is not one, one from a newer schema) and reading everything the
// studio shows from it: datasets, a page of rows of each with counts and tags, runs,
// metrics, votes, evaluations, the undo label. Only ft::Error may come out.
#include "fuzz_input.h"
#include "data/project_store.h"

#include <cstdio>
#include <fstream>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    // SQLite writes journals beside the file, so a real file (in memory, /dev/shm).
    static const std::string path = "/dev/shm/ftstudio-fuzz-" + std::to_string(getpid()) + ".ftproj";
    static const struct Cleanup {
        ~Cleanup()
        {
            for (const char* suffix : {"", "-journal", "-wal", "-shm"})
                std::remove((path + suffix).c_str());
        }
    } cleanup;
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), std::streamsize(size));
    }
    for (const char* suffix : {"-journal", "-wal", "-shm"})
        std::remove((path + suffix).c_str());
    ftfuzz::expectOnlyFtErrors([&] {
        const auto store = ft::data::ProjectStore::open(path);
        (void)store->schemaVersion();
        for (const auto& info : store->datasets()) {
            ft::data::RowQuery q;
            q.datasetId = info.id;
            q.limit = 20;
            (void)store->query(q);
            (void)store->count(q);
            (void)store->tags(info.id);
        }
        for (const auto& run : store->runs())
            (void)store->metric(run.id, "loss");
        (void)store->votes();
        (void)store->evaluations();
        (void)store->undoLabel();
        (void)store->redoLabel();
    });
    return 0;
}
