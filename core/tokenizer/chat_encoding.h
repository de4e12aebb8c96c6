// Token ids of a rendered chat prompt, as Hugging Face's apply_chat_template(tokenize=True)
// gives them: the template already wrote BOS/EOS and other special tokens as text, so
// no BOS is added, and the text of the bos, eos, pad and unk tokens becomes their
// single ids, also with a sentencepiece tokenizer, which would otherwise spell "<s>"
// as ordinary pieces. (A tokenizer.json tokenizer matches all its added special
// tokens in text by itself, as Hugging Face's does.)
// Not here: rendering (chat_template.h).
#pragma once

#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer.h"

#include <string_view>
#include <vector>

namespace ft::tok {

std::vector<int> encodeRenderedChat(const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view rendered);

} // namespace ft::tok
