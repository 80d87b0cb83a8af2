#!/usr/bin/env bash
# Without a display, the desktop app and `setup.sh run` say so in plain words, name what works
# instead, and exit non-zero (instead of Qt's "could not load the Qt platform plugin" advice).
# Usage: no_display_test.sh GRYM_SYNTH_BINARY SETUP_SCRIPT
set -u
app=$1 setup=$2
status=0
check() {  # name, expected text, command...
  local name=$1 text=$2; shift 2
  local out rc
  out=$(env -u DISPLAY -u WAYLAND_DISPLAY -u QT_QPA_PLATFORM "$@" 2>&1); rc=$?
  if [ "$rc" -eq 0 ]; then echo "FAIL $name: exit status 0"; status=1; fi
  if ! grep -qF "$text" <<<"$out"; then echo "FAIL $name: no '$text' in: $out"; status=1; fi
  if grep -qi "reinstalling" <<<"$out"; then echo "FAIL $name: Qt's reinstall advice: $out"; status=1; fi
  if ! grep -qF "grym-synth-cli" <<<"$out"; then echo "FAIL $name: does not name grym-synth-cli: $out"; status=1; fi
  [ "$status" -eq 0 ] && echo "ok $name: $(head -1 <<<"$out")"
}
check "grym-synth" "no display" "$app"
check "setup.sh run" "no display" "$setup" run
exit $status
