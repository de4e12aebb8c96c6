#!/usr/bin/env bash
# The Debian package, as a user and as Debian would see it (ctest label `package`):
#   tests/package/run.sh BUILD_DIR SOURCE_DIR VERSION
# 1. builds it with packaging/make-deb.sh; 2. validates it: lintian (no errors),
#    desktop-file-validate, appstreamcli validate --no-net, every manual page through
#    groff with warnings on, the MIME type through update-mime-database and GLib's own
#    content-type guess; 3. unpacks it into a temporary root (dpkg -x) and runs the
#    installed programs with HOME and the XDG folders pointing at empty folders:
#    --version (the installed datasets and bridge, not the source tree), make-base from
#    the installed corpus, info and generate on it, the offscreen studio's first start
#    (screenshots of every page, the default .ftproj project, the desktop's recent list),
#    a second launch on an open project (raises the first instead), bash completion;
#    and checks that nothing was written outside those folders.
# Exit 77 (skipped) when dpkg-deb/dpkg-shlibdeps/lintian are missing (packaging/install-deps.sh --test installs them).
set -euo pipefail

build="$(realpath "$1")"; src="$(realpath "$2")"; want_version="$3"
for tool in dpkg-deb dpkg-shlibdeps lintian desktop-file-validate appstreamcli man update-mime-database; do
    command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed (packaging/install-deps.sh --test)"; exit 77; }
done

work="$(mktemp -d)"
cleanup() {
    [ -n "${first_pid:-}" ] && kill "$first_pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
ok() { echo "ok: $*"; }

echo "== building the package"
deb="$(SOURCE_DATE_EPOCH=1765065600 "$src/packaging/make-deb.sh" "$build" "$work/dist" | tail -1)"
[ "$(basename "$deb")" = "ftstudio_${want_version}_$(dpkg --print-architecture).deb" ] ||
    fail "package name $(basename "$deb") does not carry the CMake version $want_version"
echo "$deb: $(du -k "$deb" | cut -f1) KiB, $(dpkg-deb -c "$deb" | grep -vc '/$') files"

echo "== lintian"
lintian --fail-on error --pedantic --info "$deb" 2>&1 | grep -v '^N:\|running with root' | tee "$work/lintian.log" || true
if grep -q '^E:' "$work/lintian.log"; then fail "lintian reports errors"; else ok "lintian: no errors"; fi

root="$work/root"
dpkg-deb -x "$deb" "$root"
dpkg-deb -I "$deb" control | grep -q '^Depends: .*libtorch' || fail "Depends does not name libtorch"

echo "== desktop entry, AppStream, MIME type"
desktop-file-validate "$root/usr/share/applications/ftstudio.desktop" && ok "desktop-file-validate" ||
    fail "desktop-file-validate"
appstreamcli validate --no-net --pedantic "$root/usr/share/metainfo/io.github.ftstudio.FineTuningStudio.metainfo.xml" \
    >"$work/appstream.log" 2>&1 && ok "appstreamcli validate" || { cat "$work/appstream.log"; fail "appstreamcli validate"; }
grep -q "<release version=\"$want_version\"" "$root/usr/share/metainfo/io.github.ftstudio.FineTuningStudio.metainfo.xml" ||
    fail "the metainfo's releases do not name $want_version"
cp -r "$root/usr/share/mime" "$work/mime"
update-mime-database "$work/mime" >/dev/null 2>&1
grep -q 'application/x-ftstudio-project' "$work/mime/globs2" || fail "update-mime-database: no glob for .ftproj"
guess="$(XDG_DATA_DIRS="$work:/usr/share" XDG_DATA_HOME="$work/none" \
    python3 "$src/tests/glib_reference.py" content-type my-run.ftproj)"
[ "$guess" = "application/x-ftstudio-project" ] && ok "GLib: my-run.ftproj is $guess" ||
    fail "GLib guesses $guess for a .ftproj file"
for size in 16 22 24 32 48 64 128 256 512; do
    [ -f "$root/usr/share/icons/hicolor/${size}x${size}/apps/ftstudio.png" ] || fail "no ${size}x${size} icon"
done

echo "== manual pages"
pages=0
for page in "$root"/usr/share/man/man1/*.1.gz; do
    warnings="$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z "$page" 2>&1 >/dev/null || true)"
    [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
    pages=$((pages + 1))
done
for cmd in $("$root/usr/bin/ftstudio-cli" --help | awk '/^commands:$/ { on = 1; next } on && /^  [a-z]/ { print $1 }'); do
    [ -f "$root/usr/share/man/man1/ftstudio-cli-$cmd.1.gz" ] || fail "no manual page for ftstudio-cli $cmd"
done
for page in ftstudio ftstudio-cli ftstudio-cli-train; do
    [ -f "$root/usr/share/man/man1/$page.1.gz" ] || fail "no manual page $page(1)"
done
zcat "$root/usr/share/man/man1/ftstudio-cli-train.1.gz" | grep -q 'nproc' || fail "ftstudio-cli-train(1) lacks --nproc-per-node"
ok "$pages manual pages render without warnings"

echo "== the installed programs, in an empty home"
home="$work/home"; mkdir -p "$home" "$work/tmp"; chmod 0700 "$work/tmp"
run_env=(env -i PATH="$root/usr/bin:/usr/bin:/bin" HOME="$home" XDG_DATA_HOME="$home/.local/share"
         XDG_CONFIG_HOME="$home/.config" XDG_CACHE_HOME="$home/.cache" XDG_RUNTIME_DIR="$work/tmp"
         TMPDIR="$work/tmp" QT_QPA_PLATFORM=offscreen LANG=C.UTF-8)
cli="$root/usr/bin/ftstudio-cli"
"${run_env[@]}" "$cli" --version | tee "$work/version.txt"
head -1 "$work/version.txt" | grep -q "^ftstudio-cli $want_version " || fail "--version is not $want_version"
grep -q "^datasets  *$root/usr/share/ftstudio/datasets$" "$work/version.txt" || fail "datasets not from the package"
grep -q "^sentencepiece bridge  *$root/usr/lib/ftstudio/libftspm_bridge.so$" "$work/version.txt" ||
    fail "the sentencepiece bridge is not the package's"
grep -q "$src" "$work/version.txt" && fail "the installed program uses the source tree"
grep -q "$build" "$work/version.txt" && fail "the installed program uses the build tree"

"${run_env[@]}" "$cli" make-base --steps 30 --threads 1 >"$work/make-base.log" 2>&1 ||
    { cat "$work/make-base.log"; fail "make-base from the installed corpus"; }
base="$home/.local/share/ftstudio/models/ftstudio-tiny-base"
"${run_env[@]}" "$cli" info --model "$base" | tee "$work/info.txt" | head -3
grep -q "LlamaForCausalLM" "$work/info.txt" && ok "info on the base built from the installed corpus" || fail "info"
"${run_env[@]}" "$cli" generate --model "$base" --prompt "The cat" --max-new-tokens 8 >/dev/null ||
    fail "generate with the installed program"

echo "== the headless quickstart from the installed paths (docs/packaging.md): LoRA SFT on the shipped data"
cat > "$work/run.json" <<JSON
{"model": "$base", "output_dir": "$home/.local/share/ftstudio/runs/quickstart",
 "technique": {"name": "lora", "r": 8, "lora_alpha": 16, "target_modules": ["all-linear"]},
 "objective": {"name": "sft", "template": "alpaca"},
 "data": {"train": "$root/usr/share/ftstudio/datasets/sft/instructions.jsonl"},
 "training": {"max_seq_len": 128, "batch_size": 8, "max_steps": 6, "optimizer": {"lr": 1e-3}},
 "eval": {"every_steps": 6}, "checkpoint": {"every_steps": 6}}
JSON
"${run_env[@]}" "$cli" train --config "$work/run.json" --no-stdin --quiet >"$work/train.log" 2>&1 ||
    { cat "$work/train.log"; fail "training with the installed program"; }
adapter="$home/.local/share/ftstudio/runs/quickstart/adapter"
"${run_env[@]}" "$cli" generate --model "$base" --adapter "$adapter" --prompt "What is 2 + 3?" --max-new-tokens 4 \
    >/dev/null && ok "trained a LoRA adapter on /usr/share/ftstudio/datasets and generated with it" ||
    fail "generate with the adapter trained by the installed program"

echo "== the installed studio (offscreen): first start, screenshots of every page"
gui="$root/usr/bin/ftstudio"
"${run_env[@]}" "$gui" --version | grep -q "$want_version" || fail "ftstudio --version is not $want_version"
"${run_env[@]}" timeout 300 "$gui" --screenshots "$work/shots" >"$work/gui.log" 2>&1 ||
    { cat "$work/gui.log"; fail "the studio's first start"; }
shots=$(ls "$work/shots"/*.png 2>/dev/null | wc -l)
[ "$shots" -eq 7 ] && ok "$shots screenshots" || fail "$shots screenshots, expected 7 (one per page)"
project="$home/.local/share/ftstudio/projects/default.ftproj"
[ -f "$project" ] && ok "default project $project" || fail "no default.ftproj"
grep -q "file://$project" "$home/.local/share/recently-used.xbel" 2>/dev/null &&
    ok "the project is on the desktop's recent list" || fail "the project is not in recently-used.xbel"

echo "== one studio per project"
"${run_env[@]}" "$gui" "$project" >"$work/first.log" 2>&1 &
first_pid=$!
for _ in $(seq 1 120); do
    compgen -G "$work/tmp/ftstudio-*" >/dev/null && break
    sleep 0.5
done
if "${run_env[@]}" timeout 60 "$gui" "$project" >"$work/second.log" 2>&1 && grep -q "raised its window" "$work/second.log"; then
    ok "a second launch on the open project raised the first"
else
    cat "$work/second.log"; fail "the second launch did not hand over to the first"
fi
kill "$first_pid" 2>/dev/null; wait "$first_pid" 2>/dev/null || true; first_pid=""

echo "== bash completion"
complete_words() {
    PATH="$root/usr/bin:$PATH" bash -c '
        source "$1"; shift
        COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _ftstudio_cli; echo "${COMPREPLY[*]}"' \
        _ "$root/usr/share/bash-completion/completions/ftstudio-cli" "$@"
}
[ "$(complete_words ftstudio-cli tra)" = "train" ] || fail "completion of 'ftstudio-cli tra'"
[[ " $(complete_words ftstudio-cli train --)" == *" --nproc-per-node "* ]] || fail "completion of train options"
[ "$(complete_words ftstudio-cli data imp)" = "import" ] || fail "completion of 'data imp'"
[ "$(complete_words ftstudio-cli data import --lay)" = "--layout" ] || fail "completion of 'data import --lay'"
[ "$(complete_words ftstudio-cli bench lo)" = "load" ] || fail "completion of 'bench lo'"
ok "bash completion"

echo "== nothing written outside the XDG folders"
outside="$(cd "$home" && find . -mindepth 1 -maxdepth 2 | grep -v '^\./\.local\|^\./\.config\|^\./\.cache' || true)"
[ -z "$outside" ] || fail "written outside the XDG folders: $outside"

if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all package checks passed"
