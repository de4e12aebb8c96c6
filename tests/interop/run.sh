#!/usr/bin/env bash
# The `interop` test: the studio's GGUF files run by llama.cpp itself.
#   tests/interop/run.sh WORK_DIR CLI BASE_MODEL_DIR SOURCE_DIR
# Installs the pinned test-time tools (package.json / package-lock.json here: node-llama-cpp's
# prebuilt llama.cpp and @huggingface/gguf) into WORK_DIR with npm when they are missing or
# the lock changed, then runs gguf_interop.mjs there (Node resolves ES modules from the
# script's own folder, not from NODE_PATH). Exit 77 (CTest: skipped) when Node.js >= 20 or
# npm is not on the machine; a failed install fails the test. The studio never needs Node.
set -euo pipefail

work="$1" cli="$2" base="$3" source="$4"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
    echo "SKIP: Node.js and npm are needed for the llama.cpp interop test (node-llama-cpp)" >&2
    exit 77
fi
major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$major" -lt 20 ]; then
    echo "SKIP: node-llama-cpp 3.21.1 needs Node.js >= 20; this machine has $(node --version)" >&2
    exit 77
fi

mkdir -p "$work"
stamp="$work/node_modules/.ftstudio-lock"
if ! cmp -s "$here/package-lock.json" "$stamp"; then
    echo "installing node-llama-cpp and @huggingface/gguf into $work (npm ci, about 30 s)" >&2
    cp "$here/package.json" "$here/package-lock.json" "$work/"
    (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$here/package-lock.json" "$stamp"
fi
cp "$here"/*.mjs "$work/"
cd "$work"
exec node gguf_interop.mjs --cli "$cli" --base "$base" --source "$source" --work "$work/run"
