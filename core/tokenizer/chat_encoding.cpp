#include "tokenizer/chat_encoding.h"

#include <algorithm>
#include <string>
#include <utility>

namespace ft::tok {

std::vector<int> encodeRenderedChat(const Tokenizer& tokenizer, const ChatTemplate& chat, std::string_view rendered) {
    // (text, id) of the special tokens to cut out of the text, longest first so that
    // one token's text containing another's is matched whole.
    std::vector<std::pair<std::string, int>> specials;
    auto add = [&](const std::string& text) {
        if (text.empty())
            return;
        if (auto id = tokenizer.pieceToId(text))
            specials.emplace_back(text, *id);
    };
    add(chat.bosToken());
    add(chat.eosToken());
    for (int id : {tokenizer.bosId(), tokenizer.eosId(), tokenizer.padId(), tokenizer.unkId()})
        if (id >= 0)
            add(tokenizer.idToPiece(id));
    std::sort(specials.begin(), specials.end(), [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });

    std::vector<int> ids;
    size_t start = 0;
    auto flush = [&](size_t end) {
        if (end > start) {
            const std::vector<int> part = tokenizer.encode(rendered.substr(start, end - start), false, false);
            ids.insert(ids.end(), part.begin(), part.end());
        }
    };
    for (size_t at = 0; at < rendered.size();) {
        const std::pair<std::string, int>* hit = nullptr;
        for (const auto& s : specials)
            if (rendered.compare(at, s.first.size(), s.first) == 0) {
                hit = &s;
                break;
            }
        if (!hit) {
            ++at;
            continue;
        }
        flush(at);
        ids.push_back(hit->second);
        at += hit->first.size();
        start = at;
    }
    flush(rendered.size());
    return ids;
}

} // namespace ft::tok
