/* The plain C ABI of libftspm_bridge.so, the only code in the project that links
 * sentencepiece. It exists because libsentencepiece carries its own protobuf-lite
 * (3.14) with exported symbols, which clashes with libtorch's libprotobuf (3.21) in
 * one process. core loads this bridge with dlmopen(LM_ID_NEWLM) into a separate link
 * namespace, so the two protobufs never meet (see DESIGN.md).
 *
 * Rules of the boundary, because each side has its own libc/libstdc++ copy:
 *  - only ints, chars and buffers cross it: no std:: types, no exceptions, and no
 *    memory allocated on one side is ever freed on the other;
 *  - results are copied into caller-provided buffers; a function that fills a buffer
 *    returns the size it needs, so the caller can retry with a bigger one;
 *  - errors are returned as codes, the message copied into a caller-provided `err`
 *    buffer (always NUL-terminated when errCap > 0, truncated to fit).
 * This header is not a C++ API; core/tokenizer/sentencepiece_tokenizer.h is.
 * Bump FTSPM_ABI_VERSION on any change of a signature or of a meaning. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FTSPM_ABI_VERSION 1

#if defined(FTSPM_BUILDING_BRIDGE)
#define FTSPM_API __attribute__((visibility("default")))
#else
#define FTSPM_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque loaded model; owned by the bridge, released with ftspm_free. */
typedef struct FtSpmModel FtSpmModel;

/* FTSPM_ABI_VERSION of the bridge binary; core refuses a bridge that differs. */
FTSPM_API int ftspm_abi_version(void);

/* Loads a sentencepiece .model file. NULL on failure, with the reason in err. */
FTSPM_API FtSpmModel* ftspm_load(const char* path, char* err, size_t errCap);
FTSPM_API void ftspm_free(FtSpmModel* model);

FTSPM_API int ftspm_vocab_size(const FtSpmModel* model);
/* Special ids; -1 when the model has none. */
FTSPM_API int ftspm_bos_id(const FtSpmModel* model);
FTSPM_API int ftspm_eos_id(const FtSpmModel* model);
FTSPM_API int ftspm_unk_id(const FtSpmModel* model);
FTSPM_API int ftspm_pad_id(const FtSpmModel* model);

/* Id of the piece of `len` bytes, or -1 when the vocabulary has no such piece
 * (unlike sentencepiece, which answers unk_id). */
FTSPM_API int ftspm_piece_to_id(const FtSpmModel* model, const char* piece, size_t len);
/* Copies the piece's bytes into out (NUL-terminated if room). Returns the piece
 * length in bytes without the NUL, or -1 when id is out of range. */
FTSPM_API int64_t ftspm_id_to_piece(const FtSpmModel* model, int id, char* out, size_t cap);
/* 1 or 0; -1 when id is out of range. */
FTSPM_API int ftspm_is_control(const FtSpmModel* model, int id);
FTSPM_API int ftspm_is_byte(const FtSpmModel* model, int id);
FTSPM_API int ftspm_is_unknown(const FtSpmModel* model, int id);

/* Encodes `len` bytes of text (no BOS/EOS added). Writes min(count, cap) ids to out
 * and returns count; when count > cap, call again with cap >= count. -1 on error. */
FTSPM_API int64_t ftspm_encode(const FtSpmModel* model, const char* text, size_t len,
                               int* out, size_t cap, char* err, size_t errCap);

/* Decodes n ids into UTF-8 bytes. Control ids (bos/eos/pad) decode to nothing, or to
 * their piece text when renderControl != 0. Writes min(size, cap) bytes to out (no
 * NUL) and returns size; retry with cap >= size when larger. -1 on error (e.g. an
 * id out of range). */
FTSPM_API int64_t ftspm_decode(const FtSpmModel* model, const int* ids, size_t n,
                               int renderControl, char* out, size_t cap, char* err,
                               size_t errCap);

/* Trains a model from a command line as spm_train accepts it, e.g.
 * "--input=a.txt --model_prefix=m --vocab_size=500". Values cannot contain spaces;
 * use ftspm_train_kv for paths. Returns 0, or -1 with the reason in err. */
FTSPM_API int ftspm_train(const char* args, char* err, size_t errCap);

/* Same with n key/value pairs (keys without "--"). Besides sentencepiece's trainer
 * flags it accepts "random_seed" (uint32) and "minloglevel" (0 info .. 2 error; the
 * trainer logs its progress to stderr). */
FTSPM_API int ftspm_train_kv(const char* const* keys, const char* const* values, size_t n,
                             char* err, size_t errCap);

#ifdef __cplusplus
} /* extern "C" */
#endif
