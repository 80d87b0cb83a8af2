#!/usr/bin/env bash
# `grym-synth --screenshot` as scripts/screenshot.sh drives it for the README: with the tiny
# golden AudioLDM pipeline installed, --generate makes the takes, --compare opens them in Compare
# Takes and a PNG of the window is written; without a model it fails and says why; a bad
# --select is refused.
# Usage: screenshot_test.sh GRYM_SYNTH_BINARY TINY_AUDIOLDM_DIR
set -u
app=$1 model=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
fail() { echo "FAIL $*"; status=1; }
export QT_QPA_PLATFORM=offscreen XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
echo '{"prompt": "a bell", "seed": 3, "steps": 3, "guidance": 2.5, "duration": 0.5}' >"$work/takes.json"

# No model installed yet: the generation cannot run, and the app says how many takes were made.
out=$(timeout -k 5 120 "$app" --screenshot "$work/none.png" --generate "$work/takes.json" --takes 2 --compare 2>&1); rc=$?
[ "$rc" -eq 1 ] || fail "without a model: exit status $rc, not 1: $out"
grep -qF "0 of 2 takes were generated" <<<"$out" || fail "without a model: no '0 of 2 takes were generated' in: $out"
[ -e "$work/none.png" ] && fail "without a model: a PNG was written anyway"

out=$(timeout -k 5 30 "$app" --screenshot "$work/bad.png" --select 2:1 2>&1); rc=$?
[ "$rc" -eq 2 ] || fail "--select 2:1: exit status $rc, not 2: $out"
grep -qF -- "--select takes START:END" <<<"$out" || fail "--select 2:1: no explanation in: $out"

mkdir -p "$work/data/grym-synth/models"
cp -r "$model" "$work/data/grym-synth/models/audioldm"
out=$(timeout -k 5 300 "$app" --screenshot "$work/takes.png" --generate "$work/takes.json" --takes 2 --compare --select 0.1:0.3 2>&1); rc=$?
[ "$rc" -eq 0 ] || fail "with the tiny model: exit status $rc: $out"
# A PNG file starts with \x89PNG\r\n\x1a\n.
[ "$(head -c 8 "$work/takes.png" 2>/dev/null | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] ||
  fail "with the tiny model: $work/takes.png is not a PNG"
# Both takes reached the history folder: they were really generated.
takes=$(find "$work/data/grym-synth/history" -name '*.wav' 2>/dev/null | wc -l)
[ "$takes" -eq 2 ] || fail "with the tiny model: $takes clips in the history folder, not 2"

[ "$status" -eq 0 ] && echo "ok: screenshot with generated takes in Compare Takes, refusals explained"
exit $status
