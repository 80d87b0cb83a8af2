#!/usr/bin/env bash
# Downloads the Debian 12 packages the headless build (core, CLI, core tests) needs and that a
# GPU machine with only pip's PyTorch, nvcc, CMake and ninja lacks: the -dev packages, their
# pkg-config dependencies and the runtime libraries they pull in. Run it where Debian's archive is
# reachable; scripts/device_check.sh unpacks the result there without root (docs/GPU.md).
#
#   scripts/fetch_device_debs.sh [--dest DIR] [--configs DIR] [--list]
#
# --dest DIR     where the .debs go (default device/debs, ignored by git); stale .debs are removed
# --configs DIR  full-size model configs to copy beside it, as DEST/../full_configs (default:
#                shared/golden/full_configs, looked for above the checkout)
# --list         print the package closure and exit without downloading
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
dest=$here/device/debs
configs=""
list_only=0
while [ $# -gt 0 ]; do
  case "$1" in
    --dest) dest=$2; shift 2 ;;
    --configs) configs=$2; shift 2 ;;
    --list) list_only=1; shift ;;
    -h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "fetch_device_debs: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done

# What CMakeLists.txt / core/CMakeLists.txt / tests/CMakeLists.txt find, without Qt and without
# libtorch (the pip wheel carries it, with its own OpenBLAS/MKL). pkgconf: the machine may have
# no pkg-config at all.
wanted=(
  libsndfile1-dev libsamplerate0-dev libebur128-dev nlohmann-json3-dev libpcre2-dev libcpp-httplib-dev
  catch2 libcli11-dev libcurl4-openssl-dev libssl-dev pkgconf
)
# Left out of the closure: the C library and compiler runtime (any machine with a working g++
# has them, and a second libc in LD_LIBRARY_PATH would break every program), the C library's
# headers, and the pkg-config transitional package.
skip_regex='^(libc6|libc6-dev|libc-dev-bin|linux-libc-dev|libcrypt1|libcrypt-dev|libgcc-s1|gcc-[0-9]+-base|libstdc\+\+6|libnsl2|libnsl-dev|libtirpc3|libtirpc-dev|libtirpc-common|rpcsvc-proto|pkg-config)$'

closure=$(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
            --no-replaces --no-enhances "${wanted[@]}" \
          | grep -v '^ ' | grep -v '^<' | sort -u | grep -Ev "$skip_regex")
if [ "$list_only" = 1 ]; then
  echo "$closure"
  exit 0
fi

mkdir -p "$dest"
cd "$dest"
# shellcheck disable=SC2086  # one package per word
apt-get download $closure 2>&1 >/dev/null | grep -v "unsandboxed as root" >&2 || true
# Keep exactly the closure's current versions: older downloads would unpack over newer ones.
for deb in *.deb; do
  pkg=$(dpkg-deb -f "$deb" Package)
  ver=$(dpkg-deb -f "$deb" Version)
  current=$(apt-cache policy "$pkg" | sed -n 's/^  Candidate: //p')
  if ! grep -qx "$pkg" <<<"$closure" || [ "$ver" != "$current" ]; then rm -f "$deb"; fi
done
{
  echo "# Debian packages for scripts/device_check.sh, fetched $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  # shellcheck disable=SC2016  # dpkg-deb's own ${Field} syntax
  for deb in *.deb; do dpkg-deb --show --showformat='${Package} ${Version} ${Installed-Size}\n' "$deb"; done
} >MANIFEST.txt
# The full-size model configs the benchmarks build random weights from travel alongside
# (device/full_configs, a few hundred KiB), so the GPU machine needs nothing from shared/.
if [ -z "$configs" ]; then
  for c in "$here/shared/golden/full_configs" "$here/../shared/golden/full_configs" "$here/../../shared/golden/full_configs"; do
    [ -d "$c" ] && { configs=$c; break; }
  done
fi
if [ -n "$configs" ]; then
  rm -rf "$dest/../full_configs"
  cp -r "$configs" "$dest/../full_configs"
  chmod -R u+w "$dest/../full_configs"
  echo "fetch_device_debs: copied $configs to $(cd "$dest/.." && pwd)/full_configs"
else
  echo "fetch_device_debs: no shared/golden/full_configs found (give --configs DIR): the benchmarks will be skipped" >&2
fi
echo "fetch_device_debs: $(find . -name '*.deb' | wc -l) packages, $(du -sh . | cut -f1) in $dest"
