#!/usr/bin/env bash
# Self-training, no labels at all: lstmadapt trains on the frames the model itself is
# confident about (confidence-threshold), with an L2 pull toward the starting weights
# (anchor-weight) so it cannot drift away. Live from the microphone until Ctrl-C, or
# over a file; the adapted model is written to OUT.phm at the end.
#   pipelines/adapt-self.sh OUT.phm [AUDIO|mic] [lstmadapt properties]
#   e.g. ... confidence-threshold=0.9 anchor-weight=0.01;  MODEL=start.phm to start
#   from a model other than the built-in one; PACE=fast runs a file as fast as training
#   goes instead of in real time.
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
usage="usage: adapt-self.sh OUT.phm [AUDIO|mic] [lstmadapt properties]"
out="${1:?$usage}"
shift
audio=mic
if [[ $# -gt 0 && "$1" != *=* ]]; then
  audio="$1"
  shift
fi
audio_source "$audio"
adapt_pacing "$audio"
require_element lstmphonemes
require_element lstmadapt
expect_written "$out"

gst-launch-1.0 -e -m "${source[@]}" ! audioconvert ! audioresample ! \
  lstmphonemes ${MODEL:+model="$MODEL"} ! \
  lstmadapt mode=self save-location="$out" "${pacing[@]}" "$@" ! \
  fakesink sync="$sink_sync" 2>&1 |
  survive_ctrl_c "$phonemes_root/pipelines/print-adapt.awk"
check_written
