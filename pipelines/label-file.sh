#!/usr/bin/env bash
# Label a file (any format decodebin reads) with lstmphonemes and print the phoneme
# timeline it posts on the bus: start and end in seconds, TIMIT phone, 39-class phone,
# confidence.
#   pipelines/label-file.sh AUDIO [extra lstmphonemes properties, e.g. model=my.phm]
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
audio="${1:?usage: label-file.sh AUDIO [lstmphonemes properties]}"
shift
[[ -r "$audio" ]] || die "cannot read audio file '$audio'"
require_element lstmphonemes

gst-launch-1.0 -m filesrc location="$audio" ! decodebin ! audioconvert ! audioresample ! \
  lstmphonemes "$@" ! fakesink sync=false 2>&1 |
  "$phonemes_root/pipelines/print-timeline.awk"
