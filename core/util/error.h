// The one exception type core throws for user-facing failures. Its message is a
// complete sentence a person can act on: it names the file, line, field or tensor,
// says what was expected and what was found. Callers (CLI, GUI) print what() as is.
#pragma once

#include <stdexcept>
#include <string>

namespace ft {

class Error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws ft::Error with the given message.
[[noreturn]] void fail(const std::string& message);

} // namespace ft
