#!/usr/bin/env bash
# Runs every libFuzzer target (tests/fuzz, built by the "fuzz" preset) for a fixed time, two at a
# time, each from its committed seed corpus. Fails when any target finds a crash, a leak, a
# timeout (one input over 10 s) or runs out of memory (2 GB); the input that did it is kept in
# the output folder as crash-*/leak-*/timeout-*/oom-* with the target's log beside it.
#   scripts/run_fuzzers.sh [BUILD_DIR] [SECONDS_PER_TARGET] [OUT_DIR]
# CI runs it for 30 s a target; a long run is e.g. `scripts/run_fuzzers.sh build-fuzz 3600`.
# New inputs found are written to OUT_DIR/<target>/corpus, never into tests/fuzz. The mutation
# seed is fixed (GRYM_FUZZ_SEED, default 1) so a CI run is repeatable; give another for new ground.
set -uo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$here/build-fuzz}" && pwd)
seconds=${2:-30}
out=${3:-$(mktemp -d "${TMPDIR:-/tmp}/grym-fuzz-XXXXXX")}
mkdir -p "$out"
out=$(cd "$out" && pwd)  # each target runs in its own folder below it
export LSAN_OPTIONS="suppressions=$here/tests/fuzz/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# target:seed corpus (in tests/fuzz)
targets=(fuzz_safetensors:corpus fuzz_unpickler:corpus_pickle fuzz_audio_file:corpus_audio
         fuzz_api_request:corpus_api fuzz_model_config:corpus_config fuzz_tokenizer:corpus_tokenizer
         fuzz_golden_case:corpus_case)

run_one() {
  local name=${1%%:*} seeds=$here/tests/fuzz/${1#*:}
  local work=$out/$name
  mkdir -p "$work/corpus"
  (cd "$work" && "$build/tests/fuzz/$name" -max_total_time="$seconds" -seed="${GRYM_FUZZ_SEED:-1}" -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 -artifact_prefix="$work/" corpus "$seeds" >"$work/log" 2>&1)
  local rc=$?
  local execs cov
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
  cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -1 | cut -d' ' -f2)
  if [ "$rc" -eq 0 ]; then
    echo "fuzz: $name: ${execs:-?} inputs in ${seconds} s, ${cov:-?} coverage points, no crash"
  else
    echo "fuzz: $name FAILED (exit $rc); input and log in $work:" >&2
    grep -m 5 -E 'ERROR|SUMMARY|Test unit written|what\(\)' "$work/log" >&2
  fi
  return "$rc"
}

failed=0
pids=()
for entry in "${targets[@]}"; do
  if [ ! -x "$build/tests/fuzz/${entry%%:*}" ]; then
    echo "fuzz: ${entry%%:*} is not built in $build (cmake --preset fuzz && cmake --build --preset fuzz)" >&2
    failed=1
    continue
  fi
  run_one "$entry" &
  pids+=($!)
  if [ ${#pids[@]} -ge 2 ]; then
    wait "${pids[0]}" || failed=1
    pids=("${pids[@]:1}")
  fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
exit "$failed"
