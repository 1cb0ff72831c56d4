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
adapt_pacing "$audio"
require_element lstmphonemes
require_element lstmadapt
expect_written "$out"

gst-launch-1.0 -e -m "${source[@]}" ! audioconvert ! audioresample ! \
  lstmphonemes ${MODEL:+model="$MODEL"} ! \
  lstmadapt mode=supervised labels-location="$labels" save-location="$out" "${pacing[@]}" "$@" ! \
  fakesink sync="$sink_sync" |
  survive_ctrl_c "$phonemes_root/pipelines/print-adapt.awk"
check_written
