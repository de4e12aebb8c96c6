// libFuzzer: loading a tokenizer.json (models BPE/WordPiece/Unigram/WordLevel,
// normalizers, pre-tokenizers with their regexes, decoders, added tokens) from
// arbitrary bytes, then encoding and decoding a text with what loaded. The input is the
// file, then a NUL byte, then the text (a default text when absent).
#include "fuzz_input.h"
#include "tokenizer/tokenizer_json.h"

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static ftfuzz::MemFile file;
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string_view json = input.substr(0, nul);
    const std::string_view text =
        nul == std::string_view::npos ? std::string_view("Hello world! 123 ÄÖÜ 你好 \t\n  <s>x</s>") : input.substr(nul + 1);
    const std::string& path = file.write(reinterpret_cast<const uint8_t*>(json.data()), json.size());
    ftfuzz::expectOnlyFtErrors([&] {
        const auto tokenizer = ft::tok::loadTokenizerJson(path);
        const auto ids = tokenizer->encode(text, true, true);
        for (int id : ids)
            if (id < 0 || id >= tokenizer->vocabSize())
                std::abort();  // an id outside the vocabulary
        (void)tokenizer->decode(ids, false);
        (void)tokenizer->decode(ids, true);
        if (tokenizer->vocabSize() > 0) {
            (void)tokenizer->idToPiece(0);
            (void)tokenizer->idToPiece(tokenizer->vocabSize() - 1);
        }
    });
    return 0;
}
