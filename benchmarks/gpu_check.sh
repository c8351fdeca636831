#!/usr/bin/env bash
# The project's check on a CUDA machine, in one call (docs/gpu-check.md):
#   1. pytest -m cuda                      the CUDA tests, junit XML
#   2. the paper-model step                lstm-2L-1.3m on full War and Peace with the paper's
#                                          recipe through the workflow, its test loss and
#                                          bootstrap std beside the paper's 1.077
#   3. bench_training.py --device cuda     a subset of the grid's shapes at 1/2/4/8 runs per
#                                          device, and the projection of the 216 runs
# Each step has its own time limit (`timeout`), so a slow one cannot eat the next ones' time;
# status.tsv and summary.md grow by one step as each ends. --dry-run runs the same plumbing
# on the CPU with tiny settings (the CUDA tests skip; the demo preset's corpus; one batch).
#
#   bash benchmarks/gpu_check.sh --prepare               # here: corpus + wheels into build/gpu-check
#   bash benchmarks/gpu_check.sh --out gpu-check-today   # on the GPU box
#   bash benchmarks/gpu_check.sh --dry-run --out /tmp/check
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 2

usage() {
    cat <<'EOF'
usage: benchmarks/gpu_check.sh [options]
  --out DIR          output folder (default: $OUT if set, else gpu-check-<UTC date-time>)
  --dry-run          the same steps on the CPU with tiny settings (CI; under a minute)
  --steps LIST       steps to run, comma-separated (default 1,2,3)
  --timeouts A,B,C   seconds for steps 1,2,3 (default 110,260,100; dry run 120,180,120;
                     also $GPU_CHECK_TIMEOUTS)
  --model ID         grid model of step 2 (default lstm-2L-1.3m)
  --dropouts "D ..." its dropouts, packed onto the one device (default "0.25"; "0 0.25 0.5"
                     is the paper's cross-validation, three runs at once)
  --venv PATH        Python environment to use (default: .venv if it imports torch, else
                     the python3 on PATH)
  --bundle DIR       corpus and wheels made by --prepare (default build/gpu-check if present,
                     except in a dry run)
  --work DIR         step 2's working directory, kept for a rerun to resume (default
                     build/gpu-check-work, or a new temporary folder with --dry-run)
  --prepare          make the bundle here (network needed) and exit: War and Peace, found
                     by sha256, and the device's missing wheels (Snakemake, jsonschema)
EOF
}

DRY=0 PREPARE=0 OUTDIR=${OUT:-} STEPS=1,2,3 TIMEOUTS=${GPU_CHECK_TIMEOUTS:-}
MODEL=lstm-2L-1.3m DROPOUTS=0.25 VENV="" BUNDLE="" WORK=""
while (($#)); do
    case $1 in
        --out) OUTDIR=$2; shift ;;
        --dry-run) DRY=1 ;;
        --steps) STEPS=$2; shift ;;
        --timeouts) TIMEOUTS=$2; shift ;;
        --model) MODEL=$2; shift ;;
        --dropouts) DROPOUTS=$2; shift ;;
        --venv) VENV=$2; shift ;;
        --bundle) BUNDLE=$2; shift ;;
        --work) WORK=$2; shift ;;
        --prepare) PREPARE=1 ;;
        -h | --help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

# --- the Python: a given venv, the repo's .venv, or the machine's python3 --------------------
if [[ -n $VENV ]]; then
    PY=$VENV/bin/python
elif [[ -x .venv/bin/python ]] && .venv/bin/python -c "import torch" 2>/dev/null; then
    PY=$REPO/.venv/bin/python
else
    PY=$(command -v python3)
fi
[[ -x $PY ]] || { echo "no Python at $PY" >&2; exit 2; }
export PATH="$(dirname "$PY"):$PATH" PYTHONUNBUFFERED=1
export PYTHONPATH="$REPO/src${PYTHONPATH:+:$PYTHONPATH}"

if ((PREPARE)); then
    exec "$PY" benchmarks/gpu_check.py prepare "${BUNDLE:-build/gpu-check}"
fi

if ((DRY)); then
    TIMEOUTS=${TIMEOUTS:-120,180,120}
    # Step 2 plans (snakemake -n) on the demo preset, whose corpora ship in .test/data.
    BASE=.test/config.yaml STEP2_MODEL=lstm-1L-10k STEP2_DROPOUTS="" PLAN_ONLY=(-n)
    WORK=${WORK:-$(mktemp -d "${TMPDIR:-/tmp}/gpu-check-work.XXXXXX")}
    BENCH=(--device cpu --threads 1 --models rnn-1L-50k lstm-1L-50k gru-1L-50k --pack 1
        --batches 1 --score-chars 0 --matmul-size 64)
else
    TIMEOUTS=${TIMEOUTS:-110,260,100}
    BASE=config.yaml STEP2_MODEL=$MODEL STEP2_DROPOUTS=$DROPOUTS PLAN_ONLY=()
    WORK=${WORK:-build/gpu-check-work}
    # Every type at the grid's corners (1 and 3 layers, 50k and 1.3m): the projection
    # interpolates the 24 other shapes between them (bench_training.py).
    BENCH=(--device cuda --threads 2 --pack 1 2 4 8 --batches 20 --models
        rnn-1L-50k rnn-3L-50k rnn-1L-1.3m rnn-3L-1.3m lstm-1L-50k lstm-3L-50k lstm-1L-1.3m
        lstm-3L-1.3m gru-1L-50k gru-3L-50k gru-1L-1.3m gru-3L-1.3m)
fi
IFS=, read -r LIMIT1 LIMIT2 LIMIT3 <<<"$TIMEOUTS"
OUTDIR=${OUTDIR:-gpu-check-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$OUTDIR" "$WORK" || exit 2
OUTDIR=$(cd "$OUTDIR" && pwd) WORK=$(cd "$WORK" && pwd)
LOG=$OUTDIR/log.txt SUMMARY=$OUTDIR/summary.md STATUS=$OUTDIR/status.tsv
POST_LIMIT=60 # each step's short follow-up (report, archive, projection)

# --- the bundle: wheels the Python lacks into a site folder, the corpus folder searched ---------
if [[ -z $BUNDLE && -d build/gpu-check ]] && ((!DRY)); then BUNDLE=build/gpu-check; fi
if [[ -n $BUNDLE ]]; then
    BUNDLE=$(cd "$BUNDLE" && pwd) || exit 2
    if [[ -d $BUNDLE/corpora ]]; then
        export VISRNN_CORPUS_DIRS="$BUNDLE/corpora${VISRNN_CORPUS_DIRS:+:$VISRNN_CORPUS_DIRS}"
    fi
    if [[ -d $BUNDLE/wheels ]]; then
        SITE=${TMPDIR:-/tmp}/gpu-check-site
        export PYTHONPATH="$SITE:$PYTHONPATH" PATH="$SITE/bin:$PATH"
        mapfile -t WHEELS < <("$PY" benchmarks/gpu_check.py missing "$BUNDLE/wheels")
        if ((${#WHEELS[@]})); then
            echo "installing ${#WHEELS[@]} wheels into $SITE" | tee -a "$LOG"
            "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir \
                --upgrade --target "$SITE" "${WHEELS[@]}" >>"$LOG" 2>&1 ||
                echo "wheel install failed (see log.txt)" | tee -a "$LOG"
        fi
    fi
fi

# --- records ---------------------------------------------------------------------------------
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "$*" | tee -a "$LOG"; }

# status OF a step from its exit code, seconds and limit: `timeout` exits 124, or 137 when its
# KILL after the grace period was needed.
outcome() {
    local rc=$1 seconds=$2 limit=$3
    if ((rc == 0)); then
        echo ok
    elif ((rc == 124)) || { ((rc == 137)) && awk -v s="$seconds" -v l="$limit" 'BEGIN { exit !(s >= l) }'; }; then
        echo "timed out"
    else
        echo failed
    fi
}

# record STEP NAME RC SECONDS LIMIT: one status line, one summary heading.
record() {
    local state
    state=$(outcome "$3" "$4" "$5")
    printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$state" "$3" "$4" "$5" >>"$STATUS"
    printf '\n## Step %s: %s: %s (exit %s, %s s of %s s)\n\n' "$1" "$2" "$state" "$3" "$4" "$5" >>"$SUMMARY"
    say "=== step $1 ($2): $state, exit $3, $4 s of $5 s"
    [[ $state == ok ]]
}

# timed LIMIT FILE CMD...: CMD under its limit, output to FILE and the log; its exit code.
timed() {
    local limit=$1 file=$2
    shift 2
    : >"$file"
    timeout --kill-after=15 "$limit" "$@" 2>&1 | tee -a "$LOG" "$file"
    return "${PIPESTATUS[0]}"
}

wants() { [[ ,$STEPS, == *,$1,* ]]; }

GPU=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | paste -sd';')
{
    echo "# GPU check: $( ((DRY)) && echo "DRY RUN (CPU, tiny settings)" || echo "paper scale")"
    echo
    echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC'); host: ${HOSTNAME:-unknown}; $(nproc) CPUs"
    echo "- GPU: ${GPU:-none (no nvidia-smi)}"
    echo "- python: $PY; $("$PY" -c 'import sys, torch; print(f"Python {sys.version.split()[0]}, torch {torch.__version__}, CUDA available: {torch.cuda.is_available()}")' 2>&1 | tail -1)"
    echo "- commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown); command: benchmarks/gpu_check.sh --steps $STEPS --timeouts $LIMIT1,$LIMIT2,$LIMIT3$( ((DRY)) && echo " --dry-run")"
} >"$SUMMARY"
printf 'step\tname\tstatus\texit\tseconds\tlimit_s\n' >"$STATUS"
cat "$SUMMARY" | tee -a "$LOG"
FAILED=0

# --- 1. the CUDA tests -----------------------------------------------------------------------
if wants 1; then
    say "=== step 1: pytest -m cuda (limit $LIMIT1 s)"
    started=$(now)
    mapfile -t CUDA_TESTS < <(grep -l "mark\.cuda" tests/test_*.py)
    PARALLEL=()
    if "$PY" -c "import xdist" 2>/dev/null; then PARALLEL=(-n 4); fi
    timed "$LIMIT1" "$WORK/pytest.txt" "$PY" -m pytest -m cuda "${CUDA_TESTS[@]}" "${PARALLEL[@]}" \
        -p no:cacheprovider --junitxml="$OUTDIR/pytest_cuda.xml"
    rc=$?
    record 1 "pytest -m cuda" "$rc" "$(since "$started")" "$LIMIT1" || FAILED=1
    { echo "${CUDA_TESTS[*]}:"; grep -E "^(SKIPPED|FAILED|ERROR)|[0-9]+ (passed|failed|skipped|error)" "$WORK/pytest.txt" | tail -15 | sed 's/^/    /'; } >>"$SUMMARY"
fi

# --- 2. the paper's best family on War and Peace, through the workflow ------------------------
if wants 2; then
    say "=== step 2: $STEP2_MODEL on War and Peace from $BASE (limit $LIMIT2 s)"
    started=$(now)
    rm -f "$WORK/report.md" "$WORK/snakemake.txt"
    read -ra DROPOUT_LIST <<<"$STEP2_DROPOUTS"
    timeout "$POST_LIMIT" "$PY" benchmarks/gpu_check.py config --base "$BASE" --workdir "$WORK" \
        --model "$STEP2_MODEL" --dropouts "${DROPOUT_LIST[@]}" >"$WORK/targets.txt" 2>"$WORK/config.txt"
    rc=$?
    tee -a "$LOG" <"$WORK/config.txt"
    mapfile -t TARGETS <"$WORK/targets.txt"
    if ((rc == 0)) && ((${#TARGETS[@]})); then
        timed "$LIMIT2" "$WORK/snakemake.txt" "$PY" -m snakemake -s "$REPO/Snakefile" \
            --directory "$WORK" --cores "$(nproc)" --rerun-incomplete --nolock \
            --printshellcmds "${PLAN_ONLY[@]}" "${TARGETS[@]}" --resources gpu=1
        rc=$?
    elif ((rc == 3)); then
        say "War and Peace not found by sha256: carry it (--prepare, then carry build/gpu-check) or list its folder in \$VISRNN_CORPUS_DIRS"
    fi
    seconds=$(since "$started")
    if [[ -f $WORK/results/wp/tables/test_losses.csv ]]; then
        timeout "$POST_LIMIT" "$PY" benchmarks/gpu_check.py report --workdir "$WORK" \
            --model "$STEP2_MODEL" >"$WORK/report.md" 2>>"$LOG"
    fi
    # Tables, small figures, logs and job timings: not checkpoints, splits or scores.
    (cd "$WORK" && find config.yaml config.txt snakemake.txt report.md results -type f \
        \( -name '*.csv' -o -name '*.png' -o -name '*.json' -o -name '*.log' -o -name '*.tsv' \
        -o -name '*.txt' -o -name '*.md' -o -name '*.yaml' \) -size -2M 2>/dev/null |
        tar -czf "$OUTDIR/paper_model.tar.gz" -T - 2>>"$LOG")
    record 2 "$STEP2_MODEL, wp, dropouts ${STEP2_DROPOUTS:-of $BASE}" "$rc" "$seconds" "$LIMIT2" || FAILED=1
    if [[ -s $WORK/report.md ]]; then
        cat "$WORK/report.md" >>"$SUMMARY"
    elif ((DRY)); then
        { echo "Planned only (snakemake -n):"; echo '```'
          sed -n '/^Job stats:/,/^total/{p;/^total/q}' "$WORK/snakemake.txt"; echo '```'; } >>"$SUMMARY"
    else
        { echo "No test loss: the last lines of the run (all of it in log.txt, per-epoch"
          echo "lines in paper_model.tar.gz: results/wp/logs/train/):"; echo '```'
          tail -n 3 "$WORK/config.txt" 2>/dev/null
          tail -n 8 "$WORK/snakemake.txt" 2>/dev/null
          tail -n 3 "$WORK"/results/wp/logs/train/*/*.log 2>/dev/null; echo '```'; } >>"$SUMMARY"
    fi
fi

# --- 3. training throughput and the grid's projected wall time --------------------------------
if wants 3; then
    say "=== step 3: bench_training.py ${BENCH[*]} (limit $LIMIT3 s)"
    started=$(now)
    rm -f "$OUTDIR/bench_training.csv"
    timed "$LIMIT3" "$OUTDIR/bench_training.txt" "$PY" benchmarks/bench_training.py "${BENCH[@]}" \
        --rates-csv "$OUTDIR/bench_training.csv"
    rc=$?
    seconds=$(since "$started")
    # The projection again from the rates written so far, so that a step cut short still
    # projects from the shapes it measured.
    timeout "$POST_LIMIT" "$PY" benchmarks/bench_training.py --project-from "$OUTDIR/bench_training.csv" \
        >"$WORK/projection.txt" 2>>"$LOG"
    record 3 "bench_training.py" "$rc" "$seconds" "$LIMIT3" || FAILED=1
    { echo '```'; grep -v "^projected wall time" "$OUTDIR/bench_training.txt" | grep -E "^ *(model|[a-z]+-[0-9]L-)" ;
      echo; cat "$WORK/projection.txt"; echo '```'; } >>"$SUMMARY" 2>/dev/null
    { echo; echo "(the projection again, from bench_training.csv)"; cat "$WORK/projection.txt"; } \
        >>"$OUTDIR/bench_training.txt"
fi

echo | tee -a "$LOG"
cat "$SUMMARY"
exit "$FAILED"
