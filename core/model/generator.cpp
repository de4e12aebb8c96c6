#include "model/generator.h"

#include "tokenizer/decoder.h"

#include "util/error.h"

#include <ATen/ATen.h>
#include <torch/types.h>

#include <algorithm>
#include <chrono>

namespace ft::model {

namespace {

// Length of the longest prefix of `s` that does not end inside a UTF-8 sequence.
size_t completeUtf8Prefix(const std::string& s)
{
    size_t i = s.size();
    size_t back = 0;
    while (i > 0 && back < 4) {
        const unsigned char c = static_cast<unsigned char>(s[i - 1]);
        if ((c & 0xC0) != 0x80) {  // lead byte or ASCII
            const size_t need = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
            return (back + 1 >= need) ? s.size() : i - 1;
        }
        --i;
        ++back;
    }
    return s.size();
}

// Length of the longest suffix of `text` that is a proper prefix of some stop string.
size_t pendingStopPrefix(const std::string& text, const std::vector<std::string>& stops)
{
    size_t best = 0;
    for (const std::string& stop : stops)
        for (size_t len = std::min(stop.size() - 1, text.size()); len > best; --len)
            if (text.compare(text.size() - len, len, stop, 0, len) == 0) {
                best = len;
                break;
            }
    return best;
}

// Decodes generated ids incrementally. Decoding them together with a few prompt
// tokens keeps sentencepiece's word-boundary spaces right at the join.
class TextStream {
public:
    TextStream(const tok::Tokenizer& tokenizer, const std::vector<int64_t>& promptIds) : m_tokenizer(tokenizer)
    {
        const size_t keep = std::min<size_t>(promptIds.size(), 4);
        m_context.assign(promptIds.end() - keep, promptIds.end());
        m_contextText = m_tokenizer.decode(m_context);
    }
    // Full generated text so far.
    std::string textWith(int64_t id)
    {
        m_context.push_back(static_cast<int>(id));
        std::string all = m_tokenizer.decode(m_context);
        return all.compare(0, m_contextText.size(), m_contextText) == 0 ? all.substr(m_contextText.size()) : all;
    }

private:
    const tok::Tokenizer& m_tokenizer;
    std::vector<int> m_context;
    std::string m_contextText;
};

c10::Device deviceOf(CausalLM& model) { return model->parameters().front().device(); }

} // namespace

std::vector<int64_t> generateIds(CausalLM& model, const std::vector<int64_t>& promptIds, int64_t maxNewTokens,
                                 Sampler& sampler, const std::vector<int64_t>& eosIds, const TokenCallback& onToken)
{
    if (promptIds.empty())
        fail("cannot generate from an empty prompt: it needs at least one token (e.g. BOS)");
    torch::NoGradGuard noGrad;
    const auto device = deviceOf(model);
    const int64_t vocab = model->config().vocabSize;
    for (int64_t id : promptIds)
        if (id < 0 || id >= vocab)
            fail("prompt token id " + std::to_string(id) + " is outside the vocabulary (size " + std::to_string(vocab) + ")");
    KVCache cache;
    std::vector<int64_t> context = promptIds, out;
    at::Tensor input = at::tensor(promptIds, at::kLong).view({1, -1}).to(device);  // (1, T)
    for (int64_t step = 0; step < maxNewTokens; ++step) {
        at::Tensor logits = model->forward(input, {}, &cache);  // (1, T, V)
        const int64_t next = sampler.next(logits[0][logits.size(1) - 1], context);
        out.push_back(next);
        context.push_back(next);
        if (onToken && !onToken(next))
            break;
        if (std::find(eosIds.begin(), eosIds.end(), next) != eosIds.end())
            break;
        input = at::full({1, 1}, next, at::TensorOptions().dtype(at::kLong).device(device));
    }
    return out;
}

GenerationResult generateText(CausalLM& model, const tok::Tokenizer& tokenizer, const GenerationDefaults& defaults,
                              const std::vector<int64_t>& promptIds, const GenerationOptions& options,
                              const TextCallback& onText)
{
    GenerationResult result;
    result.promptIds = promptIds;
    result.stopReason = "max_tokens";
    Sampler sampler(options.sampling);
    TextStream stream(tokenizer, promptIds);
    size_t emitted = 0;
    std::string text;
    const auto start = std::chrono::steady_clock::now();
    auto firstToken = start;
    const std::vector<int64_t> eos = options.stopAtEos ? defaults.eosTokenIds : std::vector<int64_t>{};

    auto onToken = [&](int64_t id) {
        if (result.outputIds.empty())
            firstToken = std::chrono::steady_clock::now();
        result.outputIds.push_back(id);
        if (std::find(eos.begin(), eos.end(), id) != eos.end()) {
            result.stopReason = "eos";
            return false;
        }
        text = stream.textWith(id);
        // An unfinished character decodes as a split UTF-8 sequence or as trailing
        // U+FFFD (one, or one per byte with ByteFallback): hold those back until the
        // next token completes (or replaces) them.
        size_t visible = std::min(completeUtf8Prefix(text), tok::streamableLength(text));
        for (const std::string& stop : options.stopStrings) {
            if (stop.empty())
                continue;
            const size_t at = text.find(stop, emitted > stop.size() ? emitted - stop.size() : 0);
            if (at != std::string::npos) {
                text.resize(at);
                result.stopReason = "stop_string";
                visible = text.size();
            }
        }
        if (result.stopReason != "stop_string")
            visible = std::min(visible, text.size() - pendingStopPrefix(text, options.stopStrings));
        if (visible > emitted) {
            if (onText && !onText(text.substr(emitted, visible - emitted)) && result.stopReason == "max_tokens")
                result.stopReason = "cancelled";
            emitted = visible;
        }
        return result.stopReason == "max_tokens";
    };
    generateIds(model, promptIds, options.maxNewTokens, sampler, {}, onToken);
    // Flush what was held back for a stop string that never came.
    if (onText && emitted < text.size() && result.stopReason != "cancelled")
        onText(text.substr(emitted));
    result.text = text;
    const auto end = std::chrono::steady_clock::now();
    result.prefillSeconds = std::chrono::duration<double>(firstToken - start).count();
    result.decodeSeconds = std::chrono::duration<double>(end - firstToken).count();
    return result;
}

} // namespace ft::model
