#!/usr/bin/env bash
# kill -9 a command that changes a project file: data import, export, dedupe --apply,
# split, and project undo / redo (of a 30,000-row import), each SIGKILLed at a seeded
# random moment of its run (5-95 % of the time it takes uninterrupted), one operation
# after another over TRIALS trials. After each kill the project must pass SQLite's
# integrity check and be exactly as it was before the command or exactly as the
# finished command leaves it (datasets, row counts, splits, the undo history's length
# and what of it is undone, and a checksum of every row's fields) - never half-applied;
# an export must have left either no file or the whole file. Prints a table; exits 1
# when any trial fails.
#   packaging/chaos-project.sh BUILD_DIR [TRIALS] [SEED]   (packaging/ftstudio.sh chaos-project)
# Needs python3 (its sqlite3 module reads the project independently of the studio).
set -euo pipefail
build="$(realpath "$1")"; trials="${2:-20}"; seed="${3:-1}"
cli="$build/bin/ftstudio-cli"
python="${PYTHON:-/usr/bin/python3}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
RANDOM=$seed

# The project's state as a line of text, read with Python's sqlite3 (not the studio's code).
state() {  # PROJECT
    "$python" - "$1" <<'PY'
import hashlib, sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
check = db.execute("PRAGMA integrity_check").fetchone()[0]
out = ["integrity=" + check]
for (name, did) in db.execute("SELECT name, id FROM datasets ORDER BY name"):
    h = hashlib.sha256()
    n = 0
    for row in db.execute("SELECT id, fields_json, tags_json, split FROM rows WHERE dataset_id = ? ORDER BY id", (did,)):
        h.update(repr(row).encode()); n += 1
    out.append("%s:%d:%s" % (name, n, h.hexdigest()[:12]))
out.append("undo=%d/%d/%d" % (db.execute("SELECT count(*) FROM undo_steps").fetchone()[0],
                              db.execute("SELECT count(*) FROM undo_changes").fetchone()[0],
                              db.execute("SELECT coalesce(sum(undone), 0) FROM undo_steps").fetchone()[0]))
print(" ".join(out))
PY
}

# A project with 30,000 instruction rows, one in ten a duplicate, and a file of 30,000 more.
"$python" - "$work" <<'PY'
import json, sys
with open(sys.argv[1] + "/rows.jsonl", "w") as f:
    for i in range(30000):
        k = i - i % 10 if i % 10 == 9 else i  # every tenth row repeats an earlier one
        f.write(json.dumps({"instruction": "Add %d and %d." % (k % 100, k // 100), "output": str(k % 100 + k // 100),
                            "tags": ["t%d" % (k % 7)]}) + "\n")
with open(sys.argv[1] + "/more.jsonl", "w") as f:
    for i in range(30000):
        f.write(json.dumps({"instruction": "Name the number %d." % i, "output": "It is %d." % i}) + "\n")
PY
"$cli" project create --file "$work/base.ftproj" >/dev/null
"$cli" data import --project "$work/base.ftproj" --dataset rows --file "$work/rows.jsonl" >/dev/null
# The same project with that import undone: what redo starts from.
cp "$work/base.ftproj" "$work/undone.ftproj"
"$cli" project undo --file "$work/undone.ftproj" >/dev/null

operations=(import export dedupe split undo redo)
start_for() {  # OPERATION: the project the operation starts from
    if [ "$1" = redo ]; then echo "$work/undone.ftproj"; else echo "$work/base.ftproj"; fi
}
command_for() {  # OPERATION PROJECT OUT
    case "$1" in
        import) echo "data import --project $2 --dataset more --file $work/more.jsonl" ;;
        export) echo "data export --project $2 --dataset rows --file $3" ;;
        dedupe) echo "data dedupe --project $2 --dataset rows --apply" ;;
        split) echo "data split --project $2 --dataset rows --eval 0.2 --test 0.1 --seed 5" ;;
        undo) echo "project undo --file $2" ;;
        redo) echo "project redo --file $2" ;;
    esac
}

# Each operation once, uninterrupted: its time and the state it leaves.
declare -A seconds after before
for op in "${operations[@]}"; do
    before[$op]="$(state "$(start_for "$op")")"
    cp "$(start_for "$op")" "$work/ref-$op.ftproj"
    start=$(date +%s.%N)
    # shellcheck disable=SC2046
    "$cli" $(command_for "$op" "$work/ref-$op.ftproj" "$work/ref-$op.jsonl") >/dev/null
    seconds[$op]=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
    after[$op]="$(state "$work/ref-$op.ftproj")"
done
echo "uninterrupted: $(for op in "${operations[@]}"; do printf '%s %ss  ' "$op" "${seconds[$op]}"; done)"

printf '%-6s %-8s %-12s %-10s %-10s %s\n' trial operation "killed at" integrity "state" "export file"
failures=0
for ((t = 1; t <= trials; ++t)); do
    op="${operations[$(((t - 1) % ${#operations[@]}))]}"
    project="$work/trial-$t.ftproj"; out="$work/trial-$t.jsonl"
    cp "$(start_for "$op")" "$project"
    delay=$(awk -v s="${seconds[$op]}" -v r="$((RANDOM % 91 + 5))" 'BEGIN { printf "%.3f", s * r / 100 }')
    # shellcheck disable=SC2046
    "$cli" $(command_for "$op" "$project" "$out") >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    how="${delay}s"
    kill -9 "$pid" 2>/dev/null || how="$how (done)"
    wait "$pid" 2>/dev/null || true
    now="$(state "$project")"
    integrity="${now%% *}"; integrity="${integrity#integrity=}"
    if [ "$now" = "${before[$op]}" ]; then shown=before; elif [ "$now" = "${after[$op]}" ]; then shown=after; else shown=MIXED; fi
    exported="-"
    if [ "$op" = export ]; then
        if [ ! -e "$out" ]; then exported=none
        elif cmp -s "$out" "$work/ref-export.jsonl"; then exported=whole
        else exported=PARTIAL; fi
        leftovers="$(compgen -G "$out.*" || true)"
        [ -n "$leftovers" ] && exported="$exported+temp"
    fi
    ok=yes
    [ "$integrity" = ok ] || ok=no
    [ "$shown" != MIXED ] || ok=no
    [ "$exported" != PARTIAL ] || ok=no
    [ "$ok" = yes ] || { failures=$((failures + 1)); echo "  now:    $now"; echo "  before: ${before[$op]}"; echo "  after:  ${after[$op]}"; }
    printf '%-6s %-8s %-12s %-10s %-10s %s\n' "$t" "$op" "$how" "$integrity" "$shown" "$exported"
done
echo "$((trials - failures))/$trials trials left the project whole: before or after, never in between"
((failures == 0))
