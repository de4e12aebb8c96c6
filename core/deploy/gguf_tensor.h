// One float tensor added to a GGUF file as a given ggml type, converted while the file
// is written, a slice of rows (about 4 MB of output) at a time. Shared by the model
// export and the LoRA adapter export.
// Not here: which type a tensor gets (gguf_export.cpp), names (gguf_arch.h).
#pragma once

#include "io/gguf.h"

#include <ATen/ATen.h>

#include <string>
#include <vector>

namespace ft::deploy {

// `t`: any floating dtype and device, Hugging Face's (row-major) shape; its GGUF dims
// are the shape reversed. It becomes float32 on the CPU only while it is written. `permuteHeads` > 0 applies llama.cpp's Q/K row permutation
// (permuteRowsForInterleavedRope) with that many heads to a copy made during the write.
// The tensor is kept (by reference count) until the writer has written it.
void addFloatTensor(io::GgufWriter& w, const std::string& name, const at::Tensor& t, io::GgmlType type,
                    int64_t permuteHeads = 0);

// Equal-shaped `parts` (each (out, in)) as one tensor of GGUF dims [in, out, parts]: a
// mixture of experts' weights as llama.cpp's ffn_*_exps, written part by part so the
// stack never exists in memory.
void addStackedFloatTensor(io::GgufWriter& w, const std::string& name, const std::vector<at::Tensor>& parts,
                           io::GgmlType type);

} // namespace ft::deploy
