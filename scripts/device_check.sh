#!/usr/bin/env bash
# The GPU check (docs/GPU.md): on a machine with pip's PyTorch (CUDA), nvcc, CMake and ninja but
# none of our Debian libraries and no network, it unpacks the .debs scripts/fetch_device_debs.sh
# fetched into a private prefix (no root), builds the headless preset (core, CLI, core tests)
# against pip's libtorch, runs every golden case on CUDA in float32, float16 and bfloat16, and
# benchmarks AudioLDM (float16, 10/50/200 steps) and wav2vec2. A failing phase is recorded and the
# next one runs; the whole check stays inside --deadline seconds.
#
#   OUT=/path scripts/device_check.sh [options]
#
#   --debs DIR          the .debs (default device/debs)
#   --prefix DIR        where they are unpacked (default device/prefix; rebuilt on each unpack)
#   --torch-prefix DIR  libtorch's CMake prefix (default: python3 -c 'import torch;print(torch.utils.cmake_prefix_path)')
#   --build-dir DIR     build folder (default build-headless)
#   --full-configs DIR  full-size model configs (default device/full_configs, else shared/golden/full_configs)
#   --model DIR         a real AudioLDM folder to benchmark instead of random full-size weights
#   --device DEV        cuda (default) or cpu
#   --jobs N            build jobs (default: nproc)
#   --deadline S        seconds for the whole check (default 470)
#   --skip-unpack       use the prefix as it is
#   --skip-build        use the build folder as it is (no configure, no build)
#   --configure-only    unpack and configure, then stop
#
# Results: $OUT (default ./device-out) gets summary.json, device_check.log, phases.tsv and each
# phase's own output (golden_<dtype>.txt, bench_audioldm_fp16.json, bench_wav2vec2.json, ...).
# Sourcing the script (". scripts/device_check.sh") defines its functions without running it.

set -uo pipefail

repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
multiarch=x86_64-linux-gnu

# ---------------------------------------------------------------- unpacking -------------------

# unpack_debs DEBS_DIR PREFIX: every .deb in DEBS_DIR extracted under PREFIX (dpkg-deb -x, no
# root), absolute symlinks re-pointed into PREFIX and pkg-config files relocated to it.
unpack_debs() {
  local debs=$1 prefix=$2 deb link target
  if ! compgen -G "$debs/*.deb" >/dev/null; then
    echo "unpack_debs: no .deb files in $debs (run scripts/fetch_device_debs.sh where Debian's archive is reachable)" >&2
    return 1
  fi
  if [ -e "$prefix" ] && [ ! -e "$prefix/.grym-device-prefix" ] && [ -n "$(ls -A "$prefix" 2>/dev/null)" ]; then
    echo "unpack_debs: $prefix exists and was not made by this script; not touching it" >&2
    return 1
  fi
  rm -rf "$prefix"
  mkdir -p "$prefix"
  prefix=$(cd "$prefix" && pwd)
  touch "$prefix/.grym-device-prefix"
  for deb in "$debs"/*.deb; do
    extract_deb "$deb" "$prefix" || { echo "unpack_debs: cannot unpack $deb" >&2; return 1; }
  done
  # Debian links some development symlinks absolutely (/lib/...): keep them inside the prefix.
  while IFS= read -r link; do
    target=$(readlink "$link")
    case "$target" in /*) ln -sfn "$prefix$target" "$link" ;; esac
  done < <(find "$prefix" -type l)
  relocate_pkgconfig "$prefix"
}

# extract_deb DEB DIR: dpkg-deb -x, or on a machine without dpkg, binutils' ar and tar (a .deb
# is an ar archive whose data.tar.* holds the files).
extract_deb() {
  local deb=$1 dir=$2 member
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$deb" "$dir"
    return
  fi
  member=$(ar t "$deb" | grep '^data\.tar') || return 1
  case "$member" in
    *.xz) ar p "$deb" "$member" | tar -xJ -C "$dir" ;;
    *.zst) ar p "$deb" "$member" | zstd -dc | tar -x -C "$dir" ;;
    *.gz) ar p "$deb" "$member" | tar -xz -C "$dir" ;;
    *) ar p "$deb" "$member" | tar -x -C "$dir" ;;
  esac
}

# relocate_pkgconfig PREFIX: the .pc files name /usr; make them name PREFIX/usr.
relocate_pkgconfig() {
  local prefix=$1 pc
  while IFS= read -r pc; do
    sed -i -e "s|^prefix=/usr\$|prefix=$prefix/usr|" -e "s|=/usr/|=$prefix/usr/|g" \
           -e "s|-I/usr/|-I$prefix/usr/|g" -e "s|-L/usr/|-L$prefix/usr/|g" "$pc"
  done < <(find "$prefix" -name '*.pc' -type f)
}

# prefix_env PREFIX: environment so pkg-config finds the prefix's .pc files (which name its
# headers and libraries) and the linker and the programs built find its shared libraries (the
# system's stay as a fallback).
prefix_env() {
  local prefix=$1
  local libs="$prefix/usr/lib/$multiarch:$prefix/lib/$multiarch:$prefix/usr/lib"
  export PKG_CONFIG_PATH="$prefix/usr/lib/$multiarch/pkgconfig:$prefix/usr/share/pkgconfig${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH}"
  export LD_LIBRARY_PATH="$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  if ! command -v pkg-config >/dev/null && [ -x "$prefix/usr/bin/pkgconf" ]; then
    mkdir -p "$prefix/bin"
    ln -sfn "$prefix/usr/bin/pkgconf" "$prefix/bin/pkg-config"
    export PATH="$prefix/bin:$PATH"
  fi
}

# ---------------------------------------------------------------- configure / build ------------

default_torch_prefix() {
  python3 -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null
}

# configure_build SOURCE BUILD_DIR TORCH_PREFIX PREFIX: the headless preset against that
# libtorch, with the prefix's packages first.
configure_build() {
  local src=$1 build=$2 torch=$3 prefix=$4
  local libdir="$prefix/usr/lib/$multiarch"
  local args=(--preset headless -S "$src" -B "$build"
              "-DCMAKE_PREFIX_PATH=$torch;$prefix/usr"
              "-DCMAKE_EXE_LINKER_FLAGS=-Wl,-rpath-link,$libdir:$prefix/lib/$multiarch"
              "-DCMAKE_BUILD_RPATH=$libdir;$prefix/lib/$multiarch")
  [ -d "$prefix/usr/include/openssl" ] && args+=("-DOPENSSL_ROOT_DIR=$prefix/usr")
  # CUDA builds of libtorch look for nvcc; name the one on PATH and the GPU's architecture so
  # torch's CMake need not probe for them.
  if command -v nvcc >/dev/null; then
    args+=("-DCMAKE_CUDA_COMPILER=$(command -v nvcc)")
    local cap
    cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' ')
    [ -n "$cap" ] && export TORCH_CUDA_ARCH_LIST=${TORCH_CUDA_ARCH_LIST:-$cap}
  fi
  cmake "${args[@]}"
}

# ---------------------------------------------------------------- phases ----------------------

log() { echo "[$(date -u +%H:%M:%S)] $*" | tee -a "$OUT/device_check.log" >&2; }

remaining() { echo $((deadline_at - SECONDS)); }

# run_phase NAME CAP_SECONDS COMMAND...: runs it under `timeout` (the cap, or what is left of
# the deadline), appends its output to the log and one row to phases.tsv; never stops the script.
run_phase() {
  local name=$1 cap=$2
  shift 2
  local left limit start rc status
  left=$(remaining)
  limit=$((cap < left ? cap : left))
  if [ "$limit" -le 5 ]; then
    log "phase $name: skipped (deadline reached)"
    printf '%s\tskipped\t-\t0\n' "$name" >>"$OUT/phases.tsv"
    return 1
  fi
  log "phase $name: start (limit ${limit}s): $*"
  start=$SECONDS
  # A new bash, so the phase may be one of this script's functions (exported in main).
  timeout --kill-after=10 "$limit" bash -c '"$@"' phase "$@" >>"$OUT/device_check.log" 2>&1
  rc=$?
  case $rc in
    0) status=ok ;;
    124|137) status=timeout ;;
    *) status=failed ;;
  esac
  log "phase $name: $status (exit $rc) after $((SECONDS - start))s"
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$((SECONDS - start))" >>"$OUT/phases.tsv"
  [ "$rc" = 0 ]
}

# A command's stdout into a file of $OUT (and the log), for run_phase.
capture() {
  local file=$1
  shift
  "$@" | tee "$OUT/$file"
  return "${PIPESTATUS[0]}"
}

# Peak GPU memory as nvidia-smi sees it (the whole device, MiB), sampled every 100 ms into a
# file while a phase runs.
start_vram_sampler() {
  command -v nvidia-smi >/dev/null || return 0
  nvidia-smi --query-gpu=memory.used --format=csv,noheader,nounits -lms 100 >"$OUT/$1" 2>/dev/null &
  vram_sampler=$!
}
stop_vram_sampler() {
  [ -n "${vram_sampler:-}" ] && kill "$vram_sampler" 2>/dev/null && wait "$vram_sampler" 2>/dev/null
  vram_sampler=
}

run_golden() {
  local cli=$1 device=$2 dtype=$3
  local cases=("$repo_root"/tests/data/golden/*/)
  "$cli" golden --device "$device" --dtype "$dtype" "${cases[@]%/}"
}

write_summary() {
  python3 - "$OUT" <<'PY' || log "summary: python3 failed; phases.tsv has the phase results"
import json, os, sys
out = sys.argv[1]
def load(name):
    p = os.path.join(out, name)
    if not os.path.exists(p): return None
    try:
        with open(p) as f: return json.load(f)
    except Exception as e: return {"unreadable": str(e)}
summary = {"phases": [], "environment": load("environment.json")}
with open(os.path.join(out, "phases.tsv")) as f:
    for line in f:
        name, status, rc, secs = line.rstrip("\n").split("\t")
        summary["phases"].append({"name": name, "status": status, "exit": rc, "seconds": int(secs)})
golden = {}
for dtype in ("float32", "float16", "bfloat16"):
    p = os.path.join(out, f"golden_{dtype}.txt")
    if os.path.exists(p):
        cases = {}
        for line in open(p):
            if line.startswith(("PASS ", "FAIL ")):
                cases[os.path.basename(line.split()[1].rstrip("/"))] = line[:4]
        golden[dtype] = cases
summary["golden"] = golden
summary["bench_audioldm_fp16"] = load("bench_audioldm_fp16.json")
summary["bench_wav2vec2"] = load("bench_wav2vec2.json")
def peak(name):
    p = os.path.join(out, name)
    vals = [int(v) for v in open(p).read().split() if v.strip().isdigit()] if os.path.exists(p) else []
    return max(vals) if vals else None
summary["nvidia_smi_peak_used_mib"] = {"bench_audioldm_fp16": peak("vram_audioldm.txt"),
                                        "bench_wav2vec2": peak("vram_wav2vec2.txt")}
with open(os.path.join(out, "summary.json"), "w") as f:
    json.dump(summary, f, indent=2)
PY
}

main() {
  local debs="$repo_root/device/debs" prefix="$repo_root/device/prefix" torch="" build="$repo_root/build-headless"
  local configs="" model="" device=cuda jobs deadline=470 skip_unpack=0 skip_build=0 configure_only=0
  jobs=$(nproc)
  while [ $# -gt 0 ]; do
    case "$1" in
      --debs) debs=$2; shift 2 ;;
      --prefix) prefix=$2; shift 2 ;;
      --torch-prefix) torch=$2; shift 2 ;;
      --build-dir) build=$2; shift 2 ;;
      --full-configs) configs=$2; shift 2 ;;
      --model) model=$2; shift 2 ;;
      --device) device=$2; shift 2 ;;
      --jobs) jobs=$2; shift 2 ;;
      --deadline) deadline=$2; shift 2 ;;
      --skip-unpack) skip_unpack=1; shift ;;
      --skip-build) skip_build=1; shift ;;
      --configure-only) configure_only=1; shift ;;
      -h|--help) sed -n '2,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; return 0 ;;
      *) echo "device_check: unknown option '$1' (see --help)" >&2; return 2 ;;
    esac
  done
  OUT=${OUT:-$repo_root/device-out}
  mkdir -p "$OUT"
  OUT=$(cd "$OUT" && pwd)
  export OUT repo_root multiarch
  export -f unpack_debs extract_deb relocate_pkgconfig configure_build capture run_golden
  : >"$OUT/phases.tsv"
  : >"$OUT/device_check.log"
  deadline_at=$((SECONDS + deadline))
  mkdir -p "$(dirname "$prefix")"
  [ -z "$torch" ] && torch=$(default_torch_prefix)
  if [ -z "$configs" ]; then
    for c in "$repo_root/device/full_configs" "$repo_root/shared/golden/full_configs" "$repo_root/../shared/golden/full_configs"; do
      [ -d "$c" ] && { configs=$c; break; }
    done
  fi

  {
    echo "{"
    echo "  \"started_utc\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\","
    echo "  \"git_commit\": \"$(git -C "$repo_root" rev-parse HEAD 2>/dev/null)\","
    echo "  \"torch_prefix\": \"$torch\","
    echo "  \"python_torch\": \"$(python3 -c 'import torch;print(torch.__version__, torch.version.cuda)' 2>/dev/null)\","
    echo "  \"nvcc\": \"$(nvcc --version 2>/dev/null | tail -1)\","
    echo "  \"gpu\": \"$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -1)\","
    echo "  \"cxx\": \"$(c++ --version 2>/dev/null | head -1)\","
    echo "  \"cmake\": \"$(cmake --version 2>/dev/null | head -1)\","
    echo "  \"cores\": $(nproc)"
    echo "}"
  } >"$OUT/environment.json"
  nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || true
  log "device check: torch prefix '$torch', prefix $prefix, build $build, out $OUT"

  if [ "$skip_unpack" = 0 ]; then
    run_phase unpack 120 unpack_debs "$debs" "$prefix"
  fi
  [ -d "$prefix" ] && prefix=$(cd "$prefix" && pwd)
  prefix_env "$prefix"

  if [ "$skip_build" = 0 ]; then
    if [ -z "$torch" ]; then
      log "no libtorch: give --torch-prefix (python3 could not import torch)"
      printf 'configure\tfailed\t-\t0\n' >>"$OUT/phases.tsv"
    else
      run_phase configure 180 configure_build "$repo_root" "$build" "$torch" "$prefix"
      if [ "$configure_only" = 1 ]; then
        write_summary
        grep -q $'^configure\tok' "$OUT/phases.tsv"
        return
      fi
      run_phase build_cli 330 cmake --build "$build" -j "$jobs" --target grym-synth-cli
      run_phase build_tests 240 cmake --build "$build" -j "$jobs" --target test_core
    fi
  fi

  local cli="$build/app/grym-synth-cli"
  # float16 needs CUDA; a CPU run (--device cpu, for trying the script) stays in float32.
  local narrow=fp16 narrow_golden=(float16 bfloat16)
  [ "$device" = cpu ] && { narrow=fp32; narrow_golden=(); }
  if [ -x "$cli" ]; then
    # Order: float32 golden first (is the arithmetic right?), then the benchmarks (the targets),
    # then the narrow-dtype golden cases, so a short deadline drops the least important.
    run_phase golden_float32 90 capture golden_float32.txt run_golden "$cli" "$device" float32
    local random_model=""
    if [ -z "$model" ] && [ -n "$configs" ]; then
      random_model=$(mktemp -d "${TMPDIR:-/tmp}/grym-ldm-full.XXXXXX")
      model=$random_model/audioldm-s-full-v2
      run_phase make_random_model 90 "$cli" make-random-model "$configs/audioldm-s-full-v2" "$model"
    fi
    local reference=()
    [ -n "$configs" ] && [ -f "$configs/timing.json" ] && reference=(--reference "$configs/timing.json")
    if [ -n "$model" ]; then
      start_vram_sampler vram_audioldm.txt
      run_phase bench_audioldm_fp16 150 "$cli" bench audioldm --model "$model" --device "$device" --precision "$narrow" \
        --steps 10,50,200 --repeats 3 --out "$OUT/bench_audioldm_fp16.json" "${reference[@]}"
      stop_vram_sampler
    else
      log "bench audioldm: no --model and no full-size configs (device/full_configs); skipped"
    fi
    [ -n "$random_model" ] && rm -rf "$random_model"
    if [ -n "$configs" ]; then
      start_vram_sampler vram_wav2vec2.txt
      run_phase bench_wav2vec2 60 capture bench_wav2vec2.json "$cli" bench wav2vec2 \
        --config "$configs/wav2vec2-base-960h" --seconds 10 --repeats 5 --device "$device" --dtype "$narrow" --json
      stop_vram_sampler
    fi
    for dtype in "${narrow_golden[@]}"; do
      run_phase "golden_$dtype" 90 capture "golden_$dtype.txt" run_golden "$cli" "$device" "$dtype"
    done
  else
    log "no CLI at $cli: nothing to run"
  fi
  write_summary
  log "device check done in ${SECONDS}s; summary: $OUT/summary.json"
  ! grep -qv $'\tok\t' "$OUT/phases.tsv"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  main "$@"
fi
