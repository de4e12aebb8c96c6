// libFuzzer: the studio's own reader of sentencepiece tokenizer.model files (protobuf
// wire format: varints, lengths, nested messages) on arbitrary bytes.
#include "fuzz_input.h"
#include "tokenizer/sentencepiece_model.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static ftfuzz::MemFile file;
    const std::string& path = file.write(data, size);
    ftfuzz::expectOnlyFtErrors([&] {
        const auto model = ft::tok::readSentencePieceModel(path);
        size_t total = 0;
        for (const auto& piece : model.pieces)
            total += piece.text.size();
        (void)total;
    });
    return 0;
}
