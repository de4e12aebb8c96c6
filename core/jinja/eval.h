// A parsed Jinja template that renders with the semantics of transformers'
// apply_chat_template: jinja2's ImmutableSandboxedEnvironment with trim_blocks and
// lstrip_blocks, loopcontrols, the tojson override, raise_exception and
// strftime_now, and jinja2's default Undefined (prints as "", iterates as empty, is
// falsy; using it any other way is an error). Scoping follows jinja2: each loop
// iteration, macro call, with/filter/set block gets its own scope, so a {% set %}
// inside a loop does not leak out (use namespace()); if-blocks share their scope.
// Not here: anything about chats or tokenizer_config.json (chat_template.h).
#pragma once

#include "jinja/error.h"
#include "jinja/value.h"

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ft::tok::jinja {

struct Stmt;

class Template {
public:
    // Parses the template; throws TemplateError (Syntax or Unsupported) naming the
    // line and column.
    explicit Template(std::string_view source);

    // Renders with the given top-level variables (they shadow the globals range,
    // dict, namespace, raise_exception and strftime_now). Throws TemplateError
    // (Render or Raised). When generationSpans is given, it receives the byte ranges
    // of the output produced by {% generation %} blocks.
    std::string render(const Entries& variables,
                       std::vector<std::pair<size_t, size_t>>* generationSpans = nullptr) const;

    // The normalized source that line and column numbers refer to.
    const std::string& source() const { return m_source; }

private:
    std::string m_source;
    std::shared_ptr<const std::vector<std::unique_ptr<Stmt>>> m_body;
};

} // namespace ft::tok::jinja
