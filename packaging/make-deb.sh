#!/usr/bin/env bash
# Builds the Debian package ftstudio_<version>_amd64.deb from a build folder:
#   packaging/make-deb.sh BUILD_DIR OUT_DIR      (packaging/ftstudio.sh deb runs it)
# The version is the CMake project version, read from the built ftstudio-cli --version.
# Depends is computed from the binaries by dpkg-shlibdeps (the sentencepiece bridge's
# libraries included), plus what no ELF file names: Qt's platform plugins, OpenBLAS.
# Maintainer: $DEBFULLNAME <$DEBEMAIL> (Debian's convention), with a default.
# Prints the path of the package on its last line.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
build="$(realpath "$1")"
out="$(realpath -m "$2")"
mkdir -p "$out"

for tool in dpkg-deb dpkg-shlibdeps strip gzip; do
    command -v "$tool" >/dev/null || { echo "make-deb: $tool is missing (apt-get install dpkg-dev binutils)" >&2; exit 1; }
done
version="$("$build/bin/ftstudio-cli" --version | head -1 | cut -d' ' -f2)"
arch="$(dpkg --print-architecture)"
maintainer="${DEBFULLNAME:-Fine-Tuning Studio developers} <${DEBEMAIL:-ftstudio@users.noreply.github.com}>"
# Reproducible: every timestamp from the last commit (or SOURCE_DATE_EPOCH).
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
    SOURCE_DATE_EPOCH="$(git -C "$root" log -1 --format=%ct 2>/dev/null || date +%s)"
fi
export SOURCE_DATE_EPOCH

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
stage="$work/root"
DESTDIR="$stage" cmake --install "$build" --prefix /usr >"$work/install.log" ||
    { cat "$work/install.log" >&2; exit 1; }

# Binaries: no debug information, no build paths, no executable bit on the library.
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
    "$stage/usr/bin/ftstudio" "$stage/usr/bin/ftstudio-cli" "$stage/usr/lib/ftstudio/libftspm_bridge.so"
chmod 0644 "$stage/usr/lib/ftstudio/libftspm_bridge.so"
chmod -R u=rwX,go=rX "$stage/usr/share"

doc="$stage/usr/share/doc/ftstudio"
gzip -9n "$stage"/usr/share/man/man1/*.1

# The Debian changelog, from the AppStream release notes (one source for both).
metainfo="$root/resources/io.github.ftstudio.FineTuningStudio.metainfo.xml"
awk -v maint="$maintainer" '
    function wrap(text,    words, k, line) {  # "  * " items wrapped at 80 columns
        split(text, words, " "); line = "  *"
        for (k = 1; k in words; ++k) {
            if (length(line) + 1 + length(words[k]) > 80) { print line; line = "   " }
            line = line " " words[k]
        }
        print line
    }
    function flush() {
        if (ver == "") return
        printf "ftstudio (%s) unstable; urgency=medium\n\n", ver
        for (i = 1; i <= n; ++i) wrap(items[i])
        cmd = "date -u -R -d " date
        cmd | getline stamp; close(cmd)
        printf "\n -- %s  %s\n\n", maint, stamp
        n = 0
    }
    /<release / { flush(); match($0, /version="[^"]*"/); ver = substr($0, RSTART + 9, RLENGTH - 10)
                  match($0, /date="[^"]*"/); date = substr($0, RSTART + 6, RLENGTH - 7) }
    /<(li|p)>/ && ver != "" { t = $0; gsub(/<[^>]*>/, "", t); gsub(/^ +| +$/, "", t); items[++n] = t }
    END { flush() }
' "$metainfo" > "$work/changelog"
head -1 "$work/changelog" | grep -q "^ftstudio ($version)" ||
    { echo "make-deb: the newest release in $metainfo is not $version (CMakeLists.txt)" >&2; exit 1; }
gzip -9nc "$work/changelog" > "$doc/changelog.gz"
cp "$here/debian-copyright" "$doc/copyright"

# Depends: the shared libraries the binaries and the bridge need, as packages.
mkdir -p "$work/shlibs/debian"
printf 'Source: ftstudio\n\nPackage: ftstudio\nArchitecture: any\n' > "$work/shlibs/debian/control"
depends="$(cd "$work/shlibs" && dpkg-shlibdeps -O -e"$stage/usr/bin/ftstudio" -e"$stage/usr/bin/ftstudio-cli" \
    -e"$stage/usr/lib/ftstudio/libftspm_bridge.so" 2>"$work/shlibdeps.log" | sed -n 's/^shlibs:Depends=//p')" ||
    { cat "$work/shlibdeps.log" >&2; exit 1; }
[ -n "$depends" ] || { echo "make-deb: dpkg-shlibdeps found no dependencies" >&2; cat "$work/shlibdeps.log" >&2; exit 1; }

mkdir -p "$stage/DEBIAN"
installed_kb="$(du -sk --apparent-size "$stage/usr" | cut -f1)"
cat > "$stage/DEBIAN/control" <<CONTROL
Package: ftstudio
Version: $version
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $installed_kb
Depends: $depends, libopenblas0-openmp | libopenblas0-pthread | libopenblas0
Recommends: qt6-wayland
Section: science
Priority: optional
Homepage: https://github.com/ftstudio/ftstudio
Description: fine-tune language models on a workstation
 Fine-Tuning Studio loads a base model from a local Hugging Face folder and
 fine-tunes it on your own data: LoRA, QLoRA (4-bit NF4), prefix tuning,
 P-tuning, adapter tuning, BitFit and full fine-tuning, with instruction
 tuning (SFT), reward models, DPO and its relatives, PPO, GRPO and RLVR.
 .
 The studio (ftstudio) curates instruction and preference datasets in an
 editable table, labels preference pairs, shows live loss and memory curves
 and compares generations of the base model and its adapters side by side.
 Its engine (ftstudio-cli) runs the same work from scripts and servers, on
 one or several processes. Adapters are written in the PEFT layout; merged
 models as transformers folders or GGUF files for llama.cpp and Ollama.
CONTROL
(cd "$stage" && find usr -type f -print0 | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
find "$stage" -depth -newermt "@$SOURCE_DATE_EPOCH" -exec touch --no-dereference --date="@$SOURCE_DATE_EPOCH" {} +

deb="$out/ftstudio_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
echo "$deb"
