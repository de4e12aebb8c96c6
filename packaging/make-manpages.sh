#!/usr/bin/env bash
# Writes the manual pages from the programs' own --help, so they say what the programs do:
#   ftstudio.1                the studio (its Qt command-line options)
#   ftstudio-cli.1            the engine: every command, environment, files, exit status
#   ftstudio-cli-COMMAND.1    one per command, with its options and those of its subcommands
# usage: packaging/make-manpages.sh CLI GUI OUTDIR [DATE]
# Run by `cmake --install` (app/CMakeLists.txt); the package test checks them with groff.
set -euo pipefail

cli="$1"; gui="$2"; out="$3"
# The date on the pages: SOURCE_DATE_EPOCH (reproducible builds) when set, else today.
date="${4:-$(date -u -d "@${SOURCE_DATE_EPOCH:-$(date +%s)}" +%Y-%m-%d)}"
version="$("$cli" --version | head -1 | cut -d' ' -f2)"
mkdir -p "$out"

# Text to roff: backslashes kept, leading dots and quotes made literal, - as a hyphen.
roff() { sed -e 's/\\/\\e/g' -e "s/^\\([.']\\)/\\\\\\&\\1/" -e 's/-/\\-/g'; }
# The description of `help`: the paragraph after the usage line, up to the first section.
description() { awk 'NR > 2 && /^[a-z]+:$/ { exit } NR > 2 && NF { print }' | roff; }
# An options section as tagged paragraphs: "  --name VALUE   help" lines, continuations joined.
options() {
    sed -e 's/\\/\\e/g' -e 's/-/\\-/g' | awk '
        function lit(t) { return (t ~ /^[.'"'"']/) ? "\\&" t : t }
        /^[a-z]+:$/ { in_opts = ($0 == "options:"); next }
        !in_opts { next }
        /^  \\-/ {
            line = substr($0, 3)
            split(line, parts, /  +/)
            flag = parts[1]; text = substr(line, length(flag) + 1); sub(/^ +/, "", text)
            print ".TP"
            n = split(flag, words, " ")
            printf "\\fB%s\\fR", words[1]
            for (i = 2; i <= n; ++i) printf " \\fI%s\\fR", words[i]
            printf "\n%s\n", lit(text)
            next
        }
        /^    / && NF { sub(/^ +/, ""); print lit($0); next }
    '
}
# "  name   text" rows of a commands:/formats: section, as NAME<TAB>TEXT (continuations joined).
subcommands() {
    awk '
        /^(commands|formats):$/ { on = 1; next }
        /^[a-z]+:$/ { on = 0 }
        on && /^  [a-z]/ { if (name) print name "\t" text; name = $1; text = $0; sub(/^  [a-z-]+ +/, "", text); next }
        on && /^     / && name { t = $0; sub(/^ +/, "", t); text = text " " t; next }
        on && !NF { if (name) print name "\t" text; name = "" }
        END { if (name) print name "\t" text }
    '
}
header() {  # NAME SECTION-TITLE
    printf '.TH %s 1 "%s" "ftstudio %s" "Fine-Tuning Studio"\n' "$(echo "$1" | tr a-z A-Z | roff)" "$date" "$version"
}
command_page() {  # COMMAND
    local cmd="$1" help synopsis
    help="$("$cli" "$cmd" --help)"
    {
        header "ftstudio-cli-$cmd"
        echo ".SH NAME"
        local summary desc
        summary="$(grep -P "^  $cmd\\s" <<<"$top" | sed -E "s/^  $cmd +//" | roff)"
        echo "ftstudio-cli-$cmd \\- $summary"
        echo ".SH SYNOPSIS"
        synopsis="$(head -1 <<<"$help" | sed 's/^usage: //')"
        echo ".B $(roff <<<"$synopsis")"
        echo ".SH DESCRIPTION"
        desc="$(description <<<"$help")"
        echo "${desc:-ftstudio\\-cli $cmd: $summary.}"
        local subs
        subs="$(subcommands <<<"$help")"
        # Subcommands named in the text only ("'ftstudio-cli bench load --help'").
        for s in $(grep -oP "ftstudio-cli $cmd \\K[a-z]+(?= --help)" <<<"$help" | sort -u); do
            grep -qP "^$s\\t" <<<"$subs" || subs+=$'\n'"$s"$'\t'"see below"
        done
        if [ -n "$(options <<<"$help")" ]; then
            echo ".SH OPTIONS"
            options <<<"$help"
        fi
        if [ -n "${subs//[$'\n\t ']/}" ]; then
            echo ".SH COMMANDS"
            while IFS=$'\t' read -r s text; do
                [ -n "$s" ] || continue
                local shelp
                shelp="$("$cli" "$cmd" "$s" --help)"
                echo ".SS $(roff <<<"$cmd $s")"
                echo ".B $(head -1 <<<"$shelp" | sed 's/^usage: //' | roff)"
                echo ".PP"
                description <<<"$shelp"
                options <<<"$shelp"
            done <<<"$subs"
        fi
        echo ".SH SEE ALSO"
        echo ".BR ftstudio\\-cli (1),"
        echo ".BR ftstudio (1)"
    } > "$out/ftstudio-cli-$cmd.1"
}

top="$("$cli" --help)"
commands=($(subcommands <<<"$top" | cut -f1))

{
    header ftstudio-cli
    cat <<'ROFF'
.SH NAME
ftstudio-cli \- the headless engine of Fine-Tuning Studio
.SH SYNOPSIS
.B ftstudio-cli
.I command
.RI [ options ]
.br
.B ftstudio-cli
.BR \-\-help " | " \-\-version
.SH DESCRIPTION
.B ftstudio-cli
builds the embedded base model, describes and runs models, manages projects and
datasets, trains adapters and whole models from a run config (LoRA, QLoRA, prefix
tuning, SFT, DPO, PPO, GRPO, RLVR and more), merges and exports them.
The studio
.BR ftstudio (1)
runs it as its engine; scripts and servers run it directly.
Every failure is one line on standard error.
.SH COMMANDS
ROFF
    while IFS=$'\t' read -r c text; do
        echo ".TP"
        echo "\\fB$c\\fR"
        text="${text%.}"
        echo "$(roff <<<"$text"). See \\fBftstudio\\-cli\\-$(roff <<<"$c")\\fR(1)."
    done < <(subcommands <<<"$top")
    cat <<'ROFF'
.SH OPTIONS
.TP
.BR \-h ", " \-\-help
Print the commands and exit.
.TP
.BR \-V ", " \-\-version
Print the version, the libtorch version, and the folders this copy uses: its datasets,
the sentencepiece bridge and the data folder.
.SH ENVIRONMENT
.TP
.B FTSTUDIO_DATA_DIR
The data folder (default: \fI$XDG_DATA_HOME/ftstudio\fR, else \fI~/.local/share/ftstudio\fR):
the embedded base model and the studio's projects and runs.
.TP
.B FTSTUDIO_DATASETS_DIR
The sample datasets and the base-model corpus (default: \fI/usr/share/ftstudio/datasets\fR).
.TP
.B FTSTUDIO_SPM_BRIDGE
The sentencepiece bridge library (default: \fI/usr/lib/ftstudio/libftspm_bridge.so\fR).
.TP
.BR RANK ", " WORLD_SIZE ", " LOCAL_RANK ", " MASTER_ADDR ", " MASTER_PORT
Set by torchrun: \fBtrain\fR joins a data-parallel run (Slurm's \fBSLURM_PROCID\fR,
\fBSLURM_NTASKS\fR and \fBSLURM_LOCALID\fR are read the same way).
.SH FILES
.TP
.I ~/.local/share/ftstudio/models/ftstudio-tiny-base
The embedded base model, built by \fBftstudio-cli make-base\fR.
.TP
.I /usr/share/ftstudio/datasets
Sample instruction, preference and verifiable-reward datasets, and the base-model corpus.
.TP
.I /usr/share/doc/ftstudio
The run-config reference, the events format and the other documents.
.SH EXIT STATUS
0 on success, 1 when the command failed (the reason is on standard error), 2 for a usage
error.
.SH EXAMPLES
.nf
ftstudio\-cli make\-base
ftstudio\-cli generate \-\-prompt 'The cat' \-\-max\-new\-tokens 40
ftstudio\-cli train \-\-config run.json
ftstudio\-cli train \-\-config run.json \-\-nproc\-per\-node 2
ftstudio\-cli export gguf \-\-adapter runs/x/adapter \-\-out model.gguf
.fi
.SH SEE ALSO
.BR ftstudio (1),
ROFF
    for ((i = 0; i < ${#commands[@]}; ++i)); do
        sep=","; [ $i -eq $((${#commands[@]} - 1)) ] && sep=""
        echo ".BR ftstudio\\-cli\\-$(roff <<<"${commands[$i]}") (1)$sep"
    done
} > "$out/ftstudio-cli.1"

for c in "${commands[@]}"; do
    command_page "$c"
done

# The studio: Qt's parser prints "  -x, --name <VALUE>   text".
guihelp="$(QT_QPA_PLATFORM=offscreen "$gui" --help 2>/dev/null)"  # Qt notes XDG_RUNTIME_DIR on stderr
{
    header ftstudio
    cat <<'ROFF'
.SH NAME
ftstudio \- Fine-Tuning Studio, fine-tune language models on a workstation
.SH SYNOPSIS
.B ftstudio
.RI [ options ]
.RI [ file.ftproj ]
.SH DESCRIPTION
.B ftstudio
loads a base model from a local Hugging Face folder, curates instruction and preference
datasets in an editable table, labels preference pairs A/B, trains with LoRA, QLoRA,
prefix tuning, DPO, PPO, GRPO and more while showing live loss and memory curves, and
compares generations of the base model and its adapters side by side.
Training and generation run in
.BR ftstudio\-cli (1)
processes, so the window never waits on them.
.PP
On the first start it builds the embedded base model and a default project holding the
sample datasets. A project (\fI.ftproj\fR, an SQLite database) opened by a second launch
while a studio has it open raises that studio's window instead.
.SH OPTIONS
ROFF
    awk '/^Options:$/ || /^Arguments:$/ { on = 1; next } on && /^  / {
            line = substr($0, 3); split(line, parts, /  +/); flag = parts[1]
            text = substr(line, length(flag) + 1); sub(/^ +/, "", text)
            print ".TP"; print "\\fB" flag "\\fR"; print text }' <<<"$guihelp" \
        | sed -e 's/-/\\-/g' -e 's/<\([A-Za-z]*\)>/\\fI\1\\fB/g'
    cat <<'ROFF'
.SH ENVIRONMENT
.TP
.B FTSTUDIO_DATA_DIR
The data folder (default: \fI~/.local/share/ftstudio\fR): the embedded base model, the
default project and the output folders of runs.
.TP
.B FTSTUDIO_CLI
The engine to run (default: \fBftstudio\-cli\fR beside \fBftstudio\fR).
.SH FILES
.TP
.I ~/.config/ftstudio/Fine\-Tuning Studio.conf
Settings: window layout, recent projects and models, the last run config.
.TP
.I ~/.local/share/ftstudio/projects/default.ftproj
The default project.
.TP
.I ~/.local/share/recently\-used.xbel
The desktop's recent files, where opened projects are added.
.SH SEE ALSO
.BR ftstudio\-cli (1)
ROFF
} > "$out/ftstudio.1"
