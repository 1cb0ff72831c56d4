#!/usr/bin/env bash
# Write the phones of a file (any format decodebin reads) as a TIMIT .PHN file: one
# `start_sample end_sample phone` line per phone, at 16 kHz like TIMIT, tiling the audio.
# Beside its WAV it makes a corpus utterance that `phonemes eval --corpus DIR`, `phonemes
# train` and `lstmadapt labels-location=` read (e.g. correct it by hand, then adapt on it).
#   pipelines/write-phn.sh AUDIO OUT.PHN [lstmphonemes properties]
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
usage="usage: write-phn.sh AUDIO OUT.PHN [lstmphonemes properties]"
audio="${1:?$usage}"
out="${2:?$usage}"
shift 2
[[ -r "$audio" ]] || die "cannot read audio file '$audio'"
require_element lstmphonemes

gst-launch-1.0 -m filesrc location="$audio" ! decodebin ! audioconvert ! audioresample ! \
  lstmphonemes "$@" ! fakesink sync=false |
  awk -v format=phn -f "$phonemes_root/pipelines/to-labels.awk" > "$out"
