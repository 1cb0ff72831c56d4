#!/usr/bin/env bash
# Write the phones of a file (any format decodebin reads) as a TIMIT .PHN file: one
# `start_sample end_sample phone` line per phone at the file's sample rate (as `phonemes
# label` writes it), tiling the audio. Beside its WAV it makes a corpus utterance that
# `phonemes eval --corpus DIR`, `phonemes train` and `lstmadapt labels-location=` read
# (e.g. correct it by hand, then adapt on it).
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

exec /usr/bin/python3 "$phonemes_root/pipelines/phonemes-labels.py" --format phn \
  --output "$out" "$audio" "$@"
