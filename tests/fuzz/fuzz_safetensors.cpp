// libFuzzer: the safetensors reader (header JSON, dtypes, shapes, offsets, overlaps)
// on arbitrary bytes; every tensor view it accepts must lie inside the file.
#include "fuzz_input.h"
#include "io/safetensors.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static ftfuzz::MemFile file;
    const std::string& path = file.write(data, size);
    ftfuzz::expectOnlyFtErrors([&] {
        const auto st = ft::io::SafetensorsFile::open(path);
        volatile uint8_t sink = 0;
        for (const auto& t : st.tensors()) {
            if (t.numel() * static_cast<int64_t>(ft::io::dtypeSize(t.dtype)) != static_cast<int64_t>(t.nbytes))
                std::abort();  // a view whose size disagrees with its shape
            if (t.nbytes > 0)  // ASan catches a view outside the mapping
                sink = sink + t.data[0] + t.data[t.nbytes - 1];
            (void)st.find(t.name);
        }
        (void)st.metadata();
    });
    return 0;
}
