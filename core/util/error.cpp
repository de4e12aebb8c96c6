#include "util/error.h"

namespace ft {

void fail(const std::string& message) { throw Error(message); }

} // namespace ft
