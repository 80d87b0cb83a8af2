#!/usr/bin/env bash
# Builds the .deb and the portable archive from an already-built tree (one cpack run), then:
#   .deb      contents, shlibdeps dependencies, no rpath, stripped; unpacked into a scratch root,
#             the installed grym-synth-cli --version and an offscreen start of grym-synth;
#             lintian (no errors; warnings are listed), AppStream metainfo validation
#   portable  unpacked in a temporary folder and moved elsewhere, every library resolves inside it,
#             the Qt platform plugin comes from it, grym-synth-cli --version and an offscreen start
# usage: check_packages.sh BUILD_DIR APP_ID VERSION
set -euo pipefail
build=$(cd "$1" && pwd)
app_id=$2
version=$3

work=$(mktemp -d "${TMPDIR:-/tmp}/grym-packaging.XXXXXX")
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
pass() { echo "ok:   $*"; }

# The programs must not touch the real home while being tested.
export HOME=$work/home XDG_DATA_HOME=$work/home/data XDG_CONFIG_HOME=$work/home/config
export XDG_CACHE_HOME=$work/home/cache XDG_RUNTIME_DIR=$work/home/runtime
mkdir -p "$HOME" "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
unset LD_LIBRARY_PATH QT_PLUGIN_PATH

# Offscreen start. With --screenshot (the desktop app's own option) the app loads, draws its window,
# saves it as PNG and quits by itself; a build without that option must still be running after
# 15 s (it got through start-up into its event loop) and is then stopped.
gui_supports() {  # PROGRAM OPTION: does PROGRAM --help list OPTION?
  local help
  help=$(QT_QPA_PLATFORM=offscreen timeout -k 5 30 "$1" --help 2>&1) || true
  grep -q -- "$2" <<<"$help"
}
start_offscreen() {  # PROGRAM SCREENSHOT LOG
  local program=$1 shot=$2 log=$3
  if gui_supports "$program" --screenshot; then
    QT_QPA_PLATFORM=offscreen timeout -k 5 90 "$program" --screenshot "$shot" >"$log" 2>&1 && [ -s "$shot" ]
  else
    echo "note: $program has no --screenshot option; checking that it keeps running" >>"$log"
    local status=0
    QT_QPA_PLATFORM=offscreen timeout -k 5 15 "$program" >>"$log" 2>&1 || status=$?
    [ "$status" -eq 124 ]
  fi
}

echo "== cpack (DEB + TGZ) from $build"
if ! (cd "$work" && cpack --config "$build/CPackConfig.cmake" -G "DEB;TGZ" -B "$work/out" >"$work/cpack.log" 2>&1); then
  cat "$work/cpack.log"
  echo "FAIL: cpack"
  exit 1
fi
deb=$(ls "$work"/out/*.deb)
tgz=$(ls "$work"/out/*.tar.gz)
echo "built $(basename "$deb") ($(du -h "$deb" | cut -f1)) and $(basename "$tgz") ($(du -h "$tgz" | cut -f1))"

echo "== .deb contents"
contents=$(dpkg-deb --contents "$deb" | awk '{print $6}')
for path in ./usr/bin/grym-synth ./usr/bin/grym-synth-cli \
            "./usr/share/applications/$app_id.desktop" "./usr/share/metainfo/$app_id.metainfo.xml" \
            ./usr/share/icons/hicolor/scalable/apps/grym-synth.svg \
            ./usr/share/icons/hicolor/48x48/apps/grym-synth.png \
            ./usr/share/icons/hicolor/256x256/apps/grym-synth.png \
            ./usr/share/man/man1/grym-synth.1.gz ./usr/share/man/man1/grym-synth-cli.1.gz \
            ./usr/share/bash-completion/completions/grym-synth-cli \
            ./usr/share/doc/grym-synth/copyright ./usr/share/doc/grym-synth/changelog.gz; do
  grep -qxF "$path" <<<"$contents" && pass "contains $path" || fail "missing $path"
done
grep -q '^\./usr/lib/' <<<"$contents" && fail "the .deb must not carry libraries" || pass "no bundled libraries"
depends=$(dpkg-deb --field "$deb" Depends)
echo "Depends: $depends"
# Every library the programs link must come with a dependency on the package that ships it
# (that is what dpkg-shlibdeps is for); the plugins loaded at run time are added by hand.
root=$work/root
dpkg-deb -x "$deb" "$root"
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
needed=$(for program in grym-synth grym-synth-cli; do
           readelf -d "$root/usr/bin/$program" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'
         done | sort -u)
for soname in $needed; do
  # One of the two paths is always unknown to dpkg (usrmerge), so its status is not used.
  owner=$( (dpkg-query -S "/usr/lib/$multiarch/$soname" "/lib/$multiarch/$soname" 2>/dev/null || true) \
          | head -1 | cut -d: -f1)
  if [ -z "$owner" ]; then
    fail "no installed package ships $soname"
  elif tr ',|' '\n\n' <<<"$depends" | awk '{print $1}' | grep -qxF "$owner"; then
    pass "depends on $owner for $soname"
  else
    fail "Depends lacks $owner (for $soname)"
  fi
done
for dependency in libtorch qt6-qpa-plugins libqt6svg6; do
  grep -q "$dependency" <<<"$depends" && pass "depends on $dependency" || fail "Depends lacks $dependency"
done
[ "$(dpkg-deb --field "$deb" Version)" = "$version" ] && pass "version $version" || fail "package version"

echo "== .deb installed into a scratch root ($root)"
for program in grym-synth grym-synth-cli; do
  binary=$root/usr/bin/$program
  readelf -d "$binary" | grep -qE 'RPATH|RUNPATH' && fail "$program has an rpath" || pass "$program has no rpath"
  readelf -S "$binary" | grep -q '\.debug_info' && fail "$program is not stripped" || pass "$program is stripped"
done
out=$("$root/usr/bin/grym-synth-cli" --version) && grep -qF "$version" <<<"$out" \
  && pass "installed grym-synth-cli --version: $out" || fail "installed grym-synth-cli --version: $out"
if gui_supports "$root/usr/bin/grym-synth" --version; then
  out=$(QT_QPA_PLATFORM=offscreen timeout -k 5 60 "$root/usr/bin/grym-synth" --version 2>&1) && grep -qF "$version" <<<"$out" \
    && pass "installed grym-synth --version: $out" || fail "installed grym-synth --version: $out"
fi
if start_offscreen "$root/usr/bin/grym-synth" "$work/deb-shot.png" "$work/deb-gui.log"; then
  pass "installed grym-synth started offscreen"
else
  cat "$work/deb-gui.log"; fail "installed grym-synth did not start offscreen"
fi

echo "== desktop integration metadata"
if command -v desktop-file-validate >/dev/null; then
  desktop-file-validate "$root/usr/share/applications/$app_id.desktop" && pass "desktop entry valid" || fail "desktop entry"
fi
grep -q '^MimeType=.*audio/x-wav;.*audio/flac;.*audio/ogg;.*audio/mpeg;.*audio/x-aiff;' \
  "$root/usr/share/applications/$app_id.desktop" && pass "desktop entry opens WAV, FLAC, Ogg, MP3, AIFF" \
  || fail "desktop entry MimeType"
grep -q '^Exec=grym-synth %F$' "$root/usr/share/applications/$app_id.desktop" && pass "Exec passes files" || fail "Exec"
if command -v appstreamcli >/dev/null; then
  # --no-net: no URL checks; only errors fail (pedantic hints such as "no screenshots" do not).
  if appstreamcli validate --no-net "$root/usr/share/metainfo/$app_id.metainfo.xml" >"$work/appstream.log" 2>&1 \
     || ! grep -q '^E:' "$work/appstream.log"; then
    pass "AppStream metainfo has no errors"
  else
    cat "$work/appstream.log"; fail "AppStream metainfo"
  fi
  grep -q "release version=\"$version\"" "$root/usr/share/metainfo/$app_id.metainfo.xml" \
    && pass "metainfo release $version" || fail "metainfo release version"
fi

echo "== lintian"
if command -v lintian >/dev/null; then
  # Exit status is non-zero only for errors; warnings and informational tags are listed.
  if lintian --fail-on error --tag-display-limit 0 "$deb" >"$work/lintian.log" 2>&1; then
    pass "lintian: no errors"
  else
    fail "lintian reported errors"
  fi
  sed 's/^/  lintian: /' "$work/lintian.log"
else
  echo "skip: lintian is not installed"
fi

echo "== portable archive"
mkdir -p "$work/unpack" "$work/elsewhere/some folder"
tar -xzf "$tgz" -C "$work/unpack"
top=$(ls "$work/unpack")
# Moved after unpacking (and a space in the path): nothing may depend on where it was built or unpacked.
portable="$work/elsewhere/some folder/$top"
mv "$work/unpack/$top" "$portable"
for program in grym-synth grym-synth-cli; do
  trace=$(cd / && LD_TRACE_LOADED_OBJECTS=1 "$portable/bin/$program")
  if grep -q 'not found' <<<"$trace"; then
    grep 'not found' <<<"$trace"; fail "$program: unresolved libraries"
  fi
  for library in libtorch_cpu libc10 libQt6Core libQt6Widgets; do
    [ "$program" = grym-synth-cli ] && [ "${library#libQt6}" != "$library" ] && continue
    resolved=$(grep -F "$library." <<<"$trace" | head -1)
    [[ "$resolved" == *"=> $portable/"* ]] && pass "$program loads the bundled $library" \
      || fail "$program does not load $library from the archive: $resolved"
  done
done
out=$(cd / && "$portable/bin/grym-synth-cli" --version) && grep -qF "$version" <<<"$out" \
  && pass "portable grym-synth-cli --version: $out" || fail "portable grym-synth-cli --version"
if (cd / && export QT_DEBUG_PLUGINS=1 && start_offscreen "$portable/bin/grym-synth" "$work/portable-shot.png" "$work/portable-gui.log"); then
  pass "portable grym-synth started offscreen"
else
  tail -40 "$work/portable-gui.log"; fail "portable grym-synth did not start offscreen"
fi
grep -qF "$portable/lib/qt6/plugins/platforms/libqoffscreen.so" "$work/portable-gui.log" \
  && pass "portable grym-synth uses its bundled Qt platform plugin" \
  || fail "portable grym-synth did not load the bundled offscreen plugin"

echo
if [ "$failures" -ne 0 ]; then
  echo "$failures packaging check(s) failed"
  exit 1
fi
echo "all packaging checks passed"
