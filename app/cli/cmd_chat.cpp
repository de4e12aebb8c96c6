// ftstudio-cli chat: talk to a model folder through its own chat template (or the
// documented default), optionally with an adapter. One turn with --user, otherwise a
// conversation read line by line from stdin. --render-only prints the exact prompt
// and its ids instead, to check a template against Hugging Face's.
#include "cli/commands.h"
#include "util/text.h"
#include "cli/common_options.h"

#include "model/generator.h"
#include "model/model_io.h"
#include "peft/adapter_io.h"
#include "tokenizer/chat_encoding.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <cstdio>
#include <iostream>

namespace ftcli {

int runChat(int argc, char** argv)
{
    ArgParser p("chat", "Chat with a model through its chat template (tokenizer_config.json's chat_template, "
                        "else the default ChatML).");
    addModelOption(p);
    p.option("adapter", "DIR", "apply this adapter folder (PEFT layout)");
    p.option("system", "TEXT", "a system message to start the conversation");
    p.option("user", "TEXT", "one user message: answer it and exit (default: read messages from stdin, one per line; "
                             "/reset starts over, /quit ends)");
    p.flag("render-only", "with --user: print the rendered prompt and its token ids, generate nothing");
    p.option("max-new-tokens", "N", "longest answer in tokens", "256");
    p.option("temperature", "T", "0 = greedy", "0");
    p.option("top-p", "P", "nucleus sampling, 1 = off", "1");
    p.option("seed", "N", "random seed for sampling", "0");
    addRuntimeOptions(p);
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    if (p.has("render-only") && !p.has("user"))
        throw UsageError("--render-only needs --user");
    const std::string dir = modelDirFrom(p);
    auto tokenizer = ft::tok::loadTokenizer(dir);
    const auto chat = ft::tok::ChatTemplate::fromTokenizerConfig(dir);
    if (chat.isDefault())
        std::fprintf(stderr, "note: %s\n", chat.origin().c_str());

    std::vector<ft::tok::ChatMessage> start;
    if (p.has("system"))
        start.push_back({"system", ft::util::unescapeNewlines(p.get("system"))});
    if (p.has("render-only")) {
        auto messages = start;
        messages.push_back({"user", ft::util::unescapeNewlines(p.get("user"))});
        const std::string rendered = chat.render(messages, true);
        const auto ids = ft::tok::encodeRenderedChat(*tokenizer, chat, rendered);
        std::cout << rendered;
        if (rendered.empty() || rendered.back() != '\n')
            std::cout << "\n";
        std::cout << "ids (" << ids.size() << "):";
        for (int id : ids)
            std::cout << ' ' << id;
        std::cout << "\n";
        return 0;
    }

    ft::model::GenerationOptions options;
    options.maxNewTokens = p.getInt("max-new-tokens");
    if (options.maxNewTokens <= 0)
        throw UsageError("--max-new-tokens must be positive");
    options.sampling.temperature = p.getDouble("temperature");
    options.sampling.topP = p.getDouble("top-p");
    options.sampling.seed = static_cast<uint64_t>(p.getInt("seed"));
    if (chat.isDefault())
        options.stopStrings = {"<|im_end|>"};  // ChatML's end of turn, plain text for such a tokenizer
    requireValidSampling(options.sampling);
    const Runtime rt = applyRuntimeOptions(p);
    ft::model::LoadedModel loaded = ft::model::loadModelFolder(dir, {rt.dtype, rt.device});
    const auto adapter = loadAdapterOption(p, loaded, *tokenizer, rt);

    auto messages = start;
    auto answer = [&](const std::string& user) {
        messages.push_back({"user", user});
        const std::string rendered = chat.render(messages, true);
        std::vector<int64_t> ids;
        for (int id : ft::tok::encodeRenderedChat(*tokenizer, chat, rendered))
            ids.push_back(id);
        const auto result = ft::model::generateText(loaded.model, *tokenizer, loaded.generation, ids, options,
                                                    [](const std::string& piece) {
                                                        std::fputs(piece.c_str(), stdout);
                                                        std::fflush(stdout);
                                                        return true;
                                                    });
        std::fputs("\n", stdout);
        std::fflush(stdout);
        messages.push_back({"assistant", result.text});
        std::fprintf(stderr, "[%zu prompt + %zu new tokens, stopped: %s]\n", result.promptIds.size(),
                     result.outputIds.size(), result.stopReason.c_str());
    };
    if (p.has("user")) {
        answer(ft::util::unescapeNewlines(p.get("user")));
        return 0;
    }
    std::string line;
    std::fprintf(stderr, "chat with %s: one message per line; /reset starts over, /quit ends\n", dir.c_str());
    while (std::fputs("> ", stderr), std::getline(std::cin, line)) {
        if (line == "/quit")
            break;
        if (line == "/reset") {
            messages = start;
            continue;
        }
        if (!line.empty())
            answer(ft::util::unescapeNewlines(line));
    }
    return 0;
}

} // namespace ftcli
