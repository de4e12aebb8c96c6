// The tokenizer interface the rest of core programs against: text <-> token ids,
// special ids, pieces, and the BOS/EOS defaults a model folder asks for. It does not
// parse special tokens written inside text ("<s>" in a prompt stays plain text, as in
// sentencepiece); chat templates insert special ids explicitly. Implementations:
// SentencePieceTokenizer (tokenizer.model) and JsonTokenizer (tokenizer.json, byte-level
// BPE or sentencepiece-style BPE; it does match special tokens written in text, as HF does).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ft::tok {

class Tokenizer {
public:
    virtual ~Tokenizer() = default;

    // Ids of UTF-8 `text`; BOS/EOS prepended/appended on request when the model has
    // them (a flag asking for an absent special id is ignored). Malformed UTF-8 bytes
    // are encoded as U+FFFD, so only valid UTF-8 round-trips exactly.
    virtual std::vector<int> encode(std::string_view text, bool addBos, bool addEos) const = 0;
    // skipSpecial drops control tokens (bos/eos/pad); otherwise they are rendered as
    // their pieces ("<s>"). Throws ft::Error on an id outside the vocabulary.
    virtual std::string decode(const std::vector<int>& ids, bool skipSpecial = true) const = 0;

    virtual int vocabSize() const = 0;
    // -1 means the model has no such token.
    virtual int bosId() const = 0;
    virtual int eosId() const = 0;
    virtual int padId() const = 0;
    virtual int unkId() const = 0;

    // Throws ft::Error on an id outside the vocabulary.
    virtual std::string idToPiece(int id) const = 0;
    virtual std::optional<int> pieceToId(std::string_view piece) const = 0;

    // Defaults from the model folder's tokenizer_config.json (Hugging Face names
    // add_bos_token / add_eos_token); LlamaTokenizer's defaults until then.
    bool addsBosByDefault() const { return m_addBos; }
    bool addsEosByDefault() const { return m_addEos; }
    void setSpecialTokenDefaults(bool addBos, bool addEos)
    {
        m_addBos = addBos;
        m_addEos = addEos;
    }

    // What the model expects for a plain prompt or document: encode() with the
    // folder's BOS/EOS defaults, like calling a Hugging Face tokenizer on the text.
    std::vector<int> encodeForModel(std::string_view text) const
    {
        return encode(text, m_addBos, m_addEos);
    }

private:
    bool m_addBos = true;
    bool m_addEos = false;
};

} // namespace ft::tok
