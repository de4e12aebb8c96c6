// Verifiers of RLVR (GRPO with verifiable rewards): each scores a sampled completion
// against a verifiable row's "reference" and returns a reward, whether it passed, and
// a short reason a person can read in the run's samples. A row names its verifier and
// settings ("verifier", "verifier_settings", see data/records.h); makeVerifier turns
// them into a Verifier once, so typos in settings fail before training starts.
// Not here: sampling, advantages or any tensor (train/), JSON Schema itself
// (json_schema.h).
//
// Reward is 1 when passed, else 0, unless a verifier says otherwise (length,
// composite). Settings are a JSON object; an unknown key is an ft::Error that lists
// the allowed keys, and so is a value of the wrong kind.
//
// "extract" (exact_match, numeric, json, json_schema) picks the answer out of the
// completion before it is compared; when there is nothing to pick, reward 0 and the
// detail says why:
//   "all"          the whole completion (default)
//   "first_line"   the first non-blank line
//   "answer_tag"   the content of the last <answer>...</answer> ("no <answer> tag")
//   "boxed"        the content of the last \boxed{...}, braces balanced ("no \boxed{...}")
//   "last_number"  the last number, as written ("no number in the answer")
//   "after"        the text after the last occurrence of the prefix given in the
//                  setting "after" (e.g. "after": "Answer:"); giving "after" alone
//                  selects this mode
//
// Every verifier also takes after_reasoning [false]: score only the text after the
// completion's last </think> (a reasoning model's final answer); a completion that opened
// <think> and never closed it gets reward 0 ("the reasoning never ended").
//
// Verifiers and their settings (default in brackets):
//   exact_match  the extracted answer equals the reference after normalization:
//                trimmed, inner whitespace runs collapsed to one space, and
//                case_sensitive [false]: Unicode lowercase of both sides when false;
//                strip_punctuation [true]: trailing . ! ? removed from both sides.
//                extract ["all"].
//   numeric      a number in the extracted answer equals the reference's (last)
//                number: |a - r| <= max(abs_tol, rel_tol * max(|a|, |r|))
//                (Python's math.isclose). Numbers: optional sign, digits with
//                optional thousands commas (1,234), decimals, exponent (1e3); a
//                trailing % is ignored. pick ["last"] | "first": which number of the
//                answer; abs_tol [1e-6]; rel_tol [0]; extract ["all"].
//                A reference without a number is an ft::Error (a dataset problem).
//   regex        PCRE2 (UTF, Unicode classes) pattern [the reference] searched in
//                the completion; full_match [false]: the pattern must match the
//                whole completion, surrounding whitespace trimmed.
//   json         the extracted answer parses as JSON (a surrounding ``` code fence
//                is removed first). schema [none]: a JSON Schema (json_schema.h) the
//                value must conform to; schema_from_reference [false]: the reference,
//                parsed as JSON, is that schema; equal_to_reference [false]: the value
//                must equal the reference parsed as JSON (key order free, 1 == 1.0).
//                extract ["all"].
//   json_schema  like json, but a schema is required: schema [the reference].
//   format       the completion has a required form: tag [none]: exactly one
//                <tag>...</tag> with non-blank content; pattern [none]: a regex that
//                must match the whole completion, surrounding whitespace trimmed.
//                At least one of the two; with both, both must hold.
//   length       reward 1 when the completion (trimmed) is at most max [required]
//                units long, falling linearly to 0 at max * (1 + slack) [1.0];
//                passed when within max. unit ["chars"] (Unicode code points) | "words".
//   composite    verifiers [required]: [{"name": ..., "weight" [1]: w >= 0,
//                "settings" [{}]: {...}}, ...]: reward = sum(w_i r_i) / sum(w_i)
//                (normalized by the weights' sum, which must be > 0); passed when
//                every part passed; the detail joins the parts' details with "; ".
//                Parts may be composites themselves.
#pragma once

#include <nlohmann/json.hpp>

#include <memory>
#include <string>
#include <vector>

namespace ft::eval {

struct VerifyResult {
    double reward = 0;   // in [0, 1]
    bool passed = false;
    std::string detail;  // short human reason: "expected 12, found 13"
};

// score() is const and keeps no state between calls, so one verifier may score
// the completions of a group from several threads.
class Verifier {
public:
    virtual ~Verifier() = default;
    // ft::Error only for a problem of the row (a reference that cannot be used,
    // e.g. a numeric reference without a number), never for a bad completion.
    virtual VerifyResult score(const std::string& completion, const std::string& reference) const = 0;
    // Why `reference` cannot be scored against, "" when it can: lets a trainer check a
    // whole dataset before it starts instead of failing at the first bad row.
    virtual std::string referenceProblem(const std::string& reference) const
    {
        (void)reference;
        return {};
    }
};

// ft::Error naming the verifier and the bad setting (unknown name: lists the known ones).
std::unique_ptr<Verifier> makeVerifier(const std::string& name, const nlohmann::json& settings);

// exact_match, numeric, regex, json, json_schema, format, length, composite.
std::vector<std::string> verifierNames();

} // namespace ft::eval
