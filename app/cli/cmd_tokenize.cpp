// ftstudio-cli tokenize: a model folder's token ids of a text (or of a chat prompt
// rendered with its template), for people checking their models against Hugging Face.
#include "cli/commands.h"
#include "io/json_file.h"
#include "util/text.h"
#include "cli/common_options.h"

#include "tokenizer/chat_encoding.h"
#include "tokenizer/chat_template.h"
#include "tokenizer/tokenizer_loader.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace ftcli {

int runTokenize(int argc, char** argv)
{
    ArgParser p("tokenize", "Print the token ids (and pieces) a model folder's tokenizer gives a text.");
    addModelOption(p);
    p.option("text", "TEXT", "the text (required, may be empty); \\n in TEXT stands for a newline");
    p.option("texts", "FILE", "instead of --text: a JSON array of texts; prints a JSON array of their ids (one "
                              "tokenizer load for many texts)");
    p.flag("no-special", "add no BOS/EOS (default: as the folder's tokenizer_config.json says)");
    p.flag("chat", "render TEXT as one user message with the chat template and a generation prompt, then tokenize that");
    p.option("system", "TEXT", "with --chat: a system message before the user's");
    p.flag("json", "print one JSON object: ids, pieces, count, decoded text (and the rendered prompt with --chat)");
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    if (p.has("texts")) {
        const nlohmann::json texts = ft::io::readJsonFile(p.get("texts"));
        if (!texts.is_array())
            throw UsageError("--texts " + p.get("texts") + ": expected a JSON array of strings");
        auto tokenizer = ft::tok::loadTokenizer(modelDirFrom(p));
        nlohmann::json out = nlohmann::json::array();
        for (size_t i = 0; i < texts.size(); ++i) {
            if (!texts[i].is_string())
                throw UsageError("--texts " + p.get("texts") + ": element " + std::to_string(i) + " is not a string");
            const std::string text = texts[i].get<std::string>();
            out.push_back(p.has("no-special") ? tokenizer->encode(text, false, false) : tokenizer->encodeForModel(text));
        }
        std::cout << out.dump() << "\n";
        return 0;
    }
    if (!p.has("text"))
        throw UsageError("--text is required (it may be empty: --text \"\")");
    // "" is a text too: no ids, or only BOS as the tokenizer adds it
    const std::string text = ft::util::unescapeNewlines(p.get("text"));
    const std::string dir = modelDirFrom(p);
    auto tokenizer = ft::tok::loadTokenizer(dir);

    std::vector<int> ids;
    std::string rendered;
    if (p.has("chat")) {
        const auto chat = ft::tok::ChatTemplate::fromTokenizerConfig(dir);
        std::vector<ft::tok::ChatMessage> messages;
        if (p.has("system"))
            messages.push_back({"system", p.get("system")});
        messages.push_back({"user", text});
        rendered = chat.render(messages, true);
        ids = ft::tok::encodeRenderedChat(*tokenizer, chat, rendered);
    } else if (p.has("no-special")) {
        ids = tokenizer->encode(text, false, false);
    } else {
        ids = tokenizer->encodeForModel(text);
    }
    nlohmann::ordered_json pieces = nlohmann::ordered_json::array();
    for (int id : ids)
        pieces.push_back(tokenizer->idToPiece(id));
    const std::string decoded = tokenizer->decode(ids, false);
    if (p.has("json")) {
        nlohmann::ordered_json out;
        if (p.has("chat"))
            out["rendered"] = rendered;
        out["ids"] = ids;
        out["pieces"] = pieces;
        out["count"] = ids.size();
        out["decoded"] = decoded;
        std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
        return 0;
    }
    if (p.has("chat"))
        std::cout << "rendered: " << nlohmann::json(rendered).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    std::cout << "ids (" << ids.size() << "):";
    for (int id : ids)
        std::cout << ' ' << id;
    std::cout << "\npieces: " << pieces.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
}

} // namespace ftcli
