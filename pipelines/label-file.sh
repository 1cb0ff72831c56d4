#!/usr/bin/env bash
# Label a file (any format decodebin reads) with lstmphonemes and print the phoneme
# timeline it posts on the bus: start and end in seconds, TIMIT phone, 39-class phone,
# confidence. (phonemes-labels.py --format F writes the same as .PHN, TextGrid, JSON
# lines, Audacity labels or subtitles.)
#   pipelines/label-file.sh AUDIO [extra lstmphonemes properties, e.g. model=my.phm]
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
audio="${1:?usage: label-file.sh AUDIO [lstmphonemes properties]}"
shift
[[ -r "$audio" ]] || die "cannot read audio file '$audio'"
require_element lstmphonemes

exec /usr/bin/python3 "$phonemes_root/pipelines/phonemes-labels.py" --format timeline \
  "$audio" "$@"
