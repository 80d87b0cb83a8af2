#!/usr/bin/env bash
# One-step set-up for a Debian 12 machine: installs what is missing, configures, builds,
# then either starts the desktop app (run) or runs the whole test suite (test).
# Idempotent: a second call only rebuilds what changed (ccache + a precompiled torch header).
set -euo pipefail
mode=${1:-run}
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

packages=(
  build-essential cmake ninja-build ccache pkg-config git
  libtorch-dev libopenblas0-pthread
  libsndfile1-dev libsamplerate0-dev nlohmann-json3-dev libpcre2-dev libcpp-httplib-dev catch2
  qt6-base-dev qt6-multimedia-dev qt6-charts-dev libqt6opengl6-dev libxkbcommon-dev libgl-dev libvulkan-dev
  qt6-qpa-plugins libqt6svg6
  xvfb xauth sox libsox-fmt-all espeak-ng lintian dpkg-dev file
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

export CCACHE_DIR=${CCACHE_DIR:-$HOME/.cache/ccache}
jobs=$(nproc)
cmake --preset default >/dev/null
cmake --build --preset default -j "$jobs"

case "$mode" in
  run)
    exec ./build/app/grym-synth "${@:2}"
    ;;
  test)
    export QT_QPA_PLATFORM=offscreen
    ctest --preset default -j "$jobs" --output-on-failure --timeout 1200
    ;;
  build)
    ;;
  *)
    echo "usage: scripts/setup.sh [run|test|build]" >&2
    exit 2
    ;;
esac
