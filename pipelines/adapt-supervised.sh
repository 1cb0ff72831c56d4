#!/usr/bin/env bash
# Adapt the model to a recorded voice from its phone labels: lstmphonemes labels the
# file while lstmadapt trains on the labels (a TIMIT .PHN file: a corpus, or
# write-phn.sh output corrected by hand) with truncated BPTT: every k1 frames it
# backpropagates over the last k2 frames and updates once; lstmphonemes switches to the
# new weights at its next buffer. At the end the adapted model is written to OUT.phm;
# label with it: pipelines/label-file.sh AUDIO model=OUT.phm.
# The file plays in real time, as a live source would: training never holds the audio
# back, so a machine that cannot keep up drops training windows (reported). PACE=fast
# runs as fast as training goes instead, nothing dropped.
# The .PHN counts samples at the rate of AUDIO (TIMIT's convention, what `phonemes align`
# and `phonemes label` write): the script tells lstmadapt that rate (labels-rate=), as it
# sees the audio after audioresample. Labels at another rate: pass labels-rate=HZ
# (write-phn.sh writes 16000). Labels that do not fit the audio stop it with an error.
#   pipelines/adapt-supervised.sh AUDIO LABELS.PHN OUT.phm [lstmadapt properties]
#   e.g. ... k1=20 k2=20 learning-rate=0.001;  MODEL=start.phm to start from a model
#   other than the built-in one; PACE=fast.
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
usage="usage: adapt-supervised.sh AUDIO LABELS.PHN OUT.phm [lstmadapt properties]"
audio="${1:?$usage}"
labels="${2:?$usage}"
out="${3:?$usage}"
shift 3
[[ -r "$labels" ]] || die "cannot read the labels '$labels'"
audio_source "$audio"
labels_rate=()
if [[ " $* " != *" labels-rate="* ]]; then
  rate="$(audio_file_rate "$audio")" || die "cannot read the sample rate of '$audio'"
  labels_rate=(labels-rate="$rate")
fi
adapt_pacing "$audio"
require_element lstmphonemes
require_element lstmadapt
expect_written "$out"

gst-launch-1.0 -e -m "${source[@]}" ! audioconvert ! audioresample ! \
  lstmphonemes ${MODEL:+model="$MODEL"} ! \
  lstmadapt mode=supervised labels-location="$labels" "${labels_rate[@]}" save-location="$out" \
    "${pacing[@]}" "$@" ! \
  fakesink sync="$sink_sync" 2>&1 |
  survive_ctrl_c "$phonemes_root/pipelines/print-adapt.awk"
check_written
