#!/usr/bin/env bash
# Starts the desktop app under Xvfb with two sample clips loaded, generates four takes of one
# prompt, opens them in Compare Takes with a loop range selected, and saves the window as a PNG
# (the app grabs its own window: no screenshot tool needed).
#   scripts/screenshot.sh [OUT.png]        default: docs/screenshot.png
# Needs a built tree (scripts/setup.sh build) and xvfb-run; the sample clips are made with sox.
# The takes come from the tiny random-weight AudioLDM pipeline of the golden tests
# (tests/data/golden/audioldm_pipeline_ddim), so they are noise: the shot shows the app, not a model.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$here/docs/screenshot.png}
app=${GRYM_SYNTH:-$here/build/app/grym-synth}
[ -x "$app" ] || { echo "screenshot: $app is not built; run scripts/setup.sh build first" >&2; exit 1; }
command -v xvfb-run >/dev/null || { echo "screenshot: xvfb-run is missing (apt-get install xvfb xauth)" >&2; exit 1; }
command -v sox >/dev/null || { echo "screenshot: sox is missing (apt-get install sox)" >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A sample clip: a plucked arpeggio over a soft pad, in stereo at 44.1 kHz.
sox -n -r 44100 -c 2 "$work/pluck.wav" synth 0.6 pluck C3 : synth 0.6 pluck E3 : synth 0.6 pluck G3 : \
    synth 0.6 pluck C4 : synth 0.6 pluck G3 : synth 0.6 pluck E3 : synth 1.2 pluck C3 fade 0 1.2 0.8 2>/dev/null
sox -n -r 44100 -c 2 "$work/pad.wav" synth 4.8 sine C3 sine E3 sine G3 tremolo 3 40 gain -18 fade 0.5 4.8 1.5
sox -m "$work/pluck.wav" "$work/pad.wav" "$work/arpeggio in C.wav" norm -3
sox -n -r 16000 -c 1 "$work/rain texture.wav" synth 6 pinknoise band 2000 1500 tremolo 7 30 gain -12 fade 0.3 6 1

# Fresh settings, so the shot shows the default layout, and the tiny model as the installed one.
export XDG_CONFIG_HOME="$work/config" XDG_DATA_HOME="$work/data"
mkdir -p "$work/data/grym-synth/models"
cp -r "$here/tests/data/golden/audioldm_pipeline_ddim" "$work/data/grym-synth/models/audioldm"
# What Generate is given (the history folder's settings format).
cat >"$work/takes.json" <<'JSON'
{"prompt": "glass wind chimes, close", "negative_prompt": "low quality", "seed": 7, "steps": 10, "guidance": 2.5, "duration": 4.0}
JSON
mkdir -p "$(dirname "$out")"
# Four takes side by side, 1.2-2.4 s selected as the loop range in all of them.
xvfb-run -a -s "-screen 0 1600x1000x24" "$app" --screenshot "$out" --generate "$work/takes.json" --takes 4 --compare \
    --select 1.2:2.4 "$work/rain texture.wav" "$work/arpeggio in C.wav"
echo "screenshot: $out"
