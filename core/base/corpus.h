// The shipped pretraining corpus of the embedded base model
// (datasets/base_corpus/: train.txt, heldout.txt). Documents are separated by an
// empty line; see datasets/base_corpus/README.md for the format and the recipe.
#pragma once

#include <string>
#include <vector>

namespace ft::base {

// Splits a corpus file into documents; an empty file or one without documents is
// an ft::Error naming the file.
std::vector<std::string> readCorpusDocuments(const std::string& path);

// FNV-1a of a file's bytes as hex: records which corpus a base model was built from.
std::string fileFingerprint(const std::string& path);

} // namespace ft::base
