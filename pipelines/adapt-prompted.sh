#!/usr/bin/env bash
# Enroll a voice: read TEXT aloud into the microphone (or give a recording of it), as
# long as you like (tools/data/enroll-prompts.txt has sentences to read). lstmadapt
# follows the reading: it cuts it at pauses, force-aligns each stretch to the words of
# TEXT that come next with the current model (as `phonemes align` does), trains on the
# stretches that match, and prints how far the reading got ("prompt 17/48 words"), while
# lstmphonemes keeps labelling with the weights as they improve. Stop with Ctrl-C when
# done reading (gst-launch-1.0 -e turns it into EOS): the adapted model is written to
# OUT.phm.
#   pipelines/adapt-prompted.sh "TEXT" OUT.phm [AUDIO|mic] [lstmadapt properties]
#   MODEL=start.phm to start from a model other than the built-in one; PACE=fast runs a
#   recording as fast as training goes instead of in real time.
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
usage="usage: adapt-prompted.sh TEXT OUT.phm [AUDIO|mic] [lstmadapt properties]"
text="${1:?$usage}"
out="${2:?$usage}"
shift 2
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
[[ "$audio" == mic ]] && echo "read aloud, then press Ctrl-C:  $text" >&2

gst-launch-1.0 -e -m "${source[@]}" ! audioconvert ! audioresample ! \
  lstmphonemes ${MODEL:+model="$MODEL"} ! \
  lstmadapt mode=prompted prompt-text="$text" save-location="$out" "${pacing[@]}" "$@" ! \
  fakesink sync="$sink_sync" 2>&1 |
  survive_ctrl_c "$phonemes_root/pipelines/print-adapt.awk"
check_written
