// libFuzzer: the GGUF reader (header, metadata of every value type, tensor infos,
// alignment) and dequantizing every small tensor it accepts.
#include "fuzz_input.h"
#include "io/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static ftfuzz::MemFile file;
    const std::string& path = file.write(data, size);
    ftfuzz::expectOnlyFtErrors([&] {
        const auto gguf = ft::io::GgufFile::open(path);
        for (const auto& [key, value] : gguf.metadata())
            (void)value.summary();
        for (const auto& t : gguf.tensors()) {
            (void)gguf.findTensor(t.name);
            if (t.numel() <= (int64_t{1} << 16))
                (void)gguf.dequantize(t);
        }
    });
    return 0;
}
