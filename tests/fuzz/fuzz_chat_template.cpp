// libFuzzer: a chat template (the untrusted Jinja a model folder brings) parsed and
// rendered over a conversation. The input is the template, then a NUL byte, then the
// messages as JSON (a default conversation when that part is missing or not a list).
// Rendering must end with the text or a TemplateError: never a crash, a hang or an
// exhausted machine (the renderer's limits, jinja/eval.h).
#include "fuzz_input.h"
#include "tokenizer/chat_template.h"

#include <nlohmann/json.hpp>

#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const size_t nul = input.find('\0');
    const std::string_view source = input.substr(0, nul);
    nlohmann::ordered_json messages = nlohmann::ordered_json::parse(
        nul == std::string_view::npos ? std::string_view("null") : input.substr(nul + 1), nullptr, false);
    if (!messages.is_array())
        messages = nlohmann::ordered_json::parse(R"([{"role": "system", "content": "Be brief."},
            {"role": "user", "content": "What is 2 + 3?"}, {"role": "assistant", "content": "5"},
            {"role": "user", "content": "And 4 + 4?"}])");
    ftfuzz::expectOnlyFtErrors([&] {
        const auto chat = ft::tok::ChatTemplate::fromString(source, "<s>", "</s>");
        (void)chat.renderJson(messages, true);
        (void)chat.renderJson(messages, false, {{"tools", nlohmann::ordered_json::array()}});
    });
    return 0;
}
