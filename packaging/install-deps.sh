#!/usr/bin/env bash
# Installs the Debian packages Fine-Tuning Studio builds and runs with; with --package
# also what building its Debian package needs; with --test also the test-time tools
# (golang-go: Go's text/template renders the Ollama templates the way Ollama does; the
# studio itself never needs it). Idempotent:
# when everything is present it only checks (about a second) and touches nothing.
# libopenblas0-openmp is not optional in practice: without it libtorch falls back to
# the reference BLAS and training runs ~80x slower (see DESIGN.md).
set -euo pipefail

packages=(
    cmake g++ ninja-build pkgconf ccache
    qt6-base-dev libqcustomplot-dev libqcustomplot2.1-qt6
    libtorch-dev libgloo-dev libopenblas0-openmp
    libsentencepiece-dev
    libsqlite3-dev nlohmann-json3-dev libpcre2-dev libicu-dev
    xvfb xauth
)
# Building the Debian package (packaging/make-deb.sh): dpkg-shlibdeps, strip.
package_tools=(dpkg-dev binutils)
if [ "${1:-}" = "--package" ]; then
    packages+=("${package_tools[@]}")
fi
# The libFuzzer harnesses (tests/fuzz): clang 16 with its libFuzzer and sanitizers.
fuzz_tools=(clang-16 libfuzzer-16-dev)
if [ "${1:-}" = "--fuzz" ]; then
    packages+=("${fuzz_tools[@]}")
fi
# The package test (tests/package/run.sh) also validates it as Debian and the desktop
# would: lintian, desktop-file-validate, appstreamcli, man (groff); and reads the
# desktop's recent-files list with GLib itself (tests/glib_reference.py).
if [ "${1:-}" = "--test" ]; then
    packages+=(golang-go "${package_tools[@]}" lintian desktop-file-utils appstream man-db groff-base shared-mime-info
               libglib2.0-0 python3 "${fuzz_tools[@]}")
fi

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "installing: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
