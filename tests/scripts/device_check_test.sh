#!/usr/bin/env bash
# The CPU parts of scripts/device_check.sh (docs/GPU.md), without a GPU and without the network:
# (a) unpack_debs extracts .debs into a private prefix (two tiny packages built here with
#     dpkg-deb --build), re-points absolute symlinks into it and relocates .pc files;
# (b) --configure-only configures the headless preset against the libtorch it is given.
# Usage: device_check_test.sh DEVICE_CHECK_SCRIPT TORCH_CMAKE_PREFIX
# shellcheck disable=SC1090,SC2015  # the script is sourced by path; "a && b || fail" is meant
set -u
script=$1 torch=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL $*"; status=1; }
ok() { echo "ok $*"; }

# Two packages: a library with a .pc file and an absolute development symlink, and a header.
make_deb() {  # name, then files to create as "path=content" (a "path->target" is a symlink)
  local name=$1 root=$work/src/$1
  shift
  mkdir -p "$root/DEBIAN"
  printf 'Package: %s\nVersion: 1.0\nArchitecture: all\nMaintainer: test <test@example.org>\nDescription: device_check test package\n' \
    "$name" >"$root/DEBIAN/control"
  for entry in "$@"; do
    case "$entry" in
      *"->"*) mkdir -p "$root/$(dirname "${entry%%->*}")"; ln -s "${entry#*->}" "$root/${entry%%->*}" ;;
      *) mkdir -p "$root/$(dirname "${entry%%=*}")"; printf '%s\n' "${entry#*=}" >"$root/${entry%%=*}" ;;
    esac
  done
  dpkg-deb --root-owner-group --build "$root" "$work/debs/${name}_1.0_all.deb" >/dev/null
}
mkdir -p "$work/debs"
make_deb libgrymfake1 \
  "usr/lib/x86_64-linux-gnu/libgrymfake.so.1=not really a library" \
  "usr/lib/x86_64-linux-gnu/libgrymfake.so->/usr/lib/x86_64-linux-gnu/libgrymfake.so.1" \
  "usr/lib/x86_64-linux-gnu/pkgconfig/grymfake.pc=prefix=/usr
includedir=/usr/include/x86_64-linux-gnu
Name: grymfake
Description: test
Version: 1.0
Libs: -L/usr/lib/x86_64-linux-gnu -lgrymfake
Cflags: -I\${includedir}"
make_deb libgrymfake-dev "usr/include/grymfake.h=#define GRYM_FAKE 1"

# (a) unpacking, through the script's own function.
prefix=$work/prefix
if ! (source "$script" && unpack_debs "$work/debs" "$prefix"); then
  fail "unpack_debs returned non-zero"
else
  for f in usr/include/grymfake.h usr/lib/x86_64-linux-gnu/libgrymfake.so.1 usr/lib/x86_64-linux-gnu/pkgconfig/grymfake.pc; do
    [ -f "$prefix/$f" ] || fail "unpack: $f is not under the prefix"
  done
  [ -e /usr/include/grymfake.h ] && fail "unpack: wrote outside the prefix (/usr/include/grymfake.h)"
  link=$(readlink "$prefix/usr/lib/x86_64-linux-gnu/libgrymfake.so")
  [ "$link" = "$prefix/usr/lib/x86_64-linux-gnu/libgrymfake.so.1" ] || fail "unpack: absolute symlink points to '$link'"
  pc=$prefix/usr/lib/x86_64-linux-gnu/pkgconfig/grymfake.pc
  grep -qx "prefix=$prefix/usr" "$pc" && grep -q -- "-L$prefix/usr/lib" "$pc" \
    && grep -qx "includedir=$prefix/usr/include/x86_64-linux-gnu" "$pc" || fail "unpack: .pc not relocated: $(cat "$pc")"
  cflags=$(source "$script" && prefix_env "$prefix" && pkg-config --cflags grymfake 2>&1 | sed 's/ *$//')
  [ "$cflags" = "-I$prefix/usr/include/x86_64-linux-gnu" ] || fail "pkg-config through prefix_env gave '$cflags'"
  [ "$status" = 0 ] && ok "unpack_debs: 2 packages under $prefix, symlink and .pc relocated"
fi
# A folder the script did not make is left alone.
mkdir -p "$work/foreign" && touch "$work/foreign/keep"
if (source "$script" && unpack_debs "$work/debs" "$work/foreign") 2>/dev/null || [ ! -e "$work/foreign/keep" ]; then
  fail "unpack_debs replaced a folder it did not make"
else
  ok "unpack_debs refuses a foreign non-empty prefix"
fi

# (b) configure only, against the given libtorch, with the unpacked prefix first.
out=$work/out
if ! OUT=$out "$script" --debs "$work/debs" --prefix "$work/prefix2" --torch-prefix "$torch" \
       --build-dir "$work/build" --configure-only --deadline 240 >"$work/configure.txt" 2>&1; then
  fail "--configure-only failed:"; tail -30 "$out/device_check.log"
else
  torch_dir=$(sed -n 's/^Torch_DIR:[A-Z]*=//p' "$work/build/CMakeCache.txt")
  [ "$(realpath "$torch_dir")" = "$(realpath "$torch/Torch")" ] || fail "configure picked Torch_DIR '$torch_dir', not $torch/Torch"
  grep -q "^GRYM_BUILD_UI:BOOL=OFF" "$work/build/CMakeCache.txt" || fail "configure: not the headless preset (GRYM_BUILD_UI)"
  grep -q "^CMAKE_PREFIX_PATH:.*$work/prefix2/usr" "$work/build/CMakeCache.txt" || fail "configure: the prefix is not in CMAKE_PREFIX_PATH"
  grep -q $'^unpack\tok' "$out/phases.tsv" && grep -q $'^configure\tok' "$out/phases.tsv" || fail "phases.tsv: $(cat "$out/phases.tsv")"
  if command -v python3 >/dev/null; then
    python3 -c 'import json,sys; s=json.load(open(sys.argv[1])); assert [p["status"] for p in s["phases"]] == ["ok", "ok"], s' \
      "$out/summary.json" || fail "summary.json: $(cat "$out/summary.json")"
  fi
  [ "$status" = 0 ] && ok "--configure-only (${SECONDS}s so far): headless preset configured against $torch_dir"
fi
exit $status
