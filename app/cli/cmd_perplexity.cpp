// ftstudio-cli perplexity: how well a model (with an adapter) predicts a text: the
// summed and mean negative log-likelihood of each token given the ones before it, in
// one window of at most the model's context, with the token ids scored. Other runtimes
// (llama.cpp on an exported GGUF) are compared with it on the same ids.
#include "cli/arg_parser.h"
#include "cli/commands.h"
#include "util/text.h"
#include "cli/common_options.h"

#include "model/model_io.h"
#include "peft/adapter.h"
#include "tokenizer/tokenizer_loader.h"
#include "util/error.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

namespace ftcli {

int runPerplexity(int argc, char** argv)
{
    ArgParser p("perplexity",
                "Score a text: the negative log-likelihood of each token given the ones before it (BOS as the "
                "folder's tokenizer adds it), summed, averaged, and as perplexity; one window of at most "
                "--max-tokens tokens.");
    addModelOption(p);
    p.option("adapter", "DIR", "apply this adapter folder (PEFT layout) on top of the model");
    p.option("text", "TEXT", "the text; \\n in TEXT stands for a newline");
    p.option("text-file", "FILE", "the text, from a UTF-8 file (instead of --text)");
    p.option("max-tokens", "N", "score at most the first N tokens (default: the model's context length)", "0");
    p.flag("json", "print one JSON object: ids, tokens scored, nll sum and mean, perplexity");
    addRuntimeOptions(p);
    if (!p.parse(argc, argv, 2)) {
        std::cout << p.usage();
        return 0;
    }
    std::string text;
    if (p.has("text-file")) {
        const std::string path = p.get("text-file");
        std::ifstream in(path, std::ios::binary);
        if (!in)
            ft::fail("cannot read --text-file '" + path + "'");
        std::ostringstream s;
        s << in.rdbuf();
        text = s.str();
    } else if (p.has("text")) {
        text = ft::util::unescapeNewlines(p.get("text"));
    } else
        throw UsageError("--text or --text-file is required");

    const Runtime rt = applyRuntimeOptions(p);
    const std::string dir = modelDirFrom(p);
    auto tokenizer = ft::tok::loadTokenizer(dir);
    ft::model::LoadedModel loaded = ft::model::loadModelFolder(dir, {rt.dtype, rt.device});
    const auto adapter = loadAdapterOption(p, loaded, *tokenizer, rt);
    int64_t limit = p.getInt("max-tokens");
    if (limit < 0)
        throw UsageError("--max-tokens must not be negative");
    if (limit == 0 || limit > loaded.config.maxPositionEmbeddings)
        limit = loaded.config.maxPositionEmbeddings;
    std::vector<int64_t> ids;
    for (int id : tokenizer->encodeForModel(text))
        ids.push_back(id);
    const bool truncated = int64_t(ids.size()) > limit;
    if (truncated)
        ids.resize(size_t(limit));
    if (ids.size() < 2)
        ft::fail("the text has " + std::to_string(ids.size()) + " token(s); at least 2 are needed to score one");

    torch::NoGradGuard noGrad;
    loaded.model->eval();
    const at::Tensor input = torch::tensor(ids, torch::kLong).unsqueeze(0).to(rt.device);
    const at::Tensor logits = loaded.model->forward(input).to(torch::kFloat).squeeze(0);  // (T, V)
    const at::Tensor logp = torch::log_softmax(logits.slice(0, 0, int64_t(ids.size()) - 1), -1);
    const at::Tensor targets = input.squeeze(0).slice(0, 1).unsqueeze(1);
    const double nll = -logp.gather(1, targets).sum().item<double>();
    const int64_t scored = int64_t(ids.size()) - 1;
    const double mean = nll / double(scored);
    if (p.has("json")) {
        nlohmann::json j{{"model", dir},       {"tokens", scored},           {"nll", nll},
                         {"mean_nll", mean},   {"perplexity", std::exp(mean)}, {"truncated", truncated},
                         {"ids", ids}};
        if (p.has("adapter"))
            j["adapter"] = p.get("adapter");
        std::cout << j.dump() << "\n";
        return 0;
    }
    std::printf("%lld tokens scored%s: mean negative log-likelihood %.5f, perplexity %.4f\n", (long long)scored,
                truncated ? " (the text was cut to --max-tokens)" : "", mean, std::exp(mean));
    return 0;
}

} // namespace ftcli
