// One float tensor added to a GGUF file as a given ggml type, converted while the file
// is written, a slice of rows (about 4 MB of output) at a time. Shared by the model
// export and the LoRA adapter export.
// Not here: which type a tensor gets (gguf_export.cpp), names (gguf_arch.h).
#pragma once

#include "io/gguf.h"

#include <ATen/ATen.h>

#include <string>

namespace ft::deploy {

// `t`: any floating dtype and device, Hugging Face's (row-major) shape; its GGUF dims
// are the shape reversed. It becomes float32 on the CPU only while it is written. `permuteHeads` > 0 applies llama.cpp's Q/K row permutation
// (permuteRowsForInterleavedRope) with that many heads to a copy made during the write.
// The tensor is kept (by reference count) until the writer has written it.
void addFloatTensor(io::GgufWriter& w, const std::string& name, const at::Tensor& t, io::GgmlType type,
                    int64_t permuteHeads = 0);

} // namespace ft::deploy
