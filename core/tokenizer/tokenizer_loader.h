// Opens the tokenizer of a Hugging Face model folder: picks the implementation from
// the files present and applies tokenizer_config.json's BOS/EOS defaults. Not here:
// the tokenizers themselves, chat templates (a later file reads chat_template).
#pragma once

#include "tokenizer/tokenizer.h"

#include <memory>
#include <string>

namespace ft::tok {

// The parts of tokenizer_config.json this layer honours. Defaults are those of
// Hugging Face's LlamaTokenizer: BOS added, EOS not.
struct TokenizerConfig {
    bool addBosToken = true;
    bool addEosToken = false;
    bool bosGiven = false;  // the file has the key (a tokenizer.json then keeps its own template otherwise)
    bool eosGiven = false;
};

// Reads a tokenizer_config.json; a missing file gives the defaults. ft::Error naming
// the file on a parse error or a key of the wrong type.
TokenizerConfig readTokenizerConfig(const std::string& configPath);

// Loads <modelDir>/tokenizer.model (sentencepiece) and applies
// <modelDir>/tokenizer_config.json. ft::Error naming the folder/file when the folder
// is missing, holds no tokenizer, or a
// file is corrupt.
std::unique_ptr<Tokenizer> loadTokenizer(const std::string& modelDir);

} // namespace ft::tok
