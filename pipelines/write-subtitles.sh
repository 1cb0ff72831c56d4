#!/usr/bin/env bash
# Write the phones of a file (any format decodebin reads) as subtitles: SubRip (.srt) or
# WebVTT (.vtt), chosen by the output's extension; one cue per phone with its confidence,
# or with `word` one cue per word-sized group (the phones between pauses). Play them
# along: e.g. `mpv --sub-file=OUT.vtt AUDIO`, or a video's subtitles track.
#   pipelines/write-subtitles.sh AUDIO OUT.srt|OUT.vtt [phone|word] [lstmphonemes properties]
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
usage="usage: write-subtitles.sh AUDIO OUT.srt|OUT.vtt [phone|word] [lstmphonemes properties]"
audio="${1:?$usage}"
out="${2:?$usage}"
shift 2
group=phone
if [[ "${1:-}" == phone || "${1:-}" == word ]]; then
  group="$1"
  shift
fi
case "$out" in
  *.srt) format=srt ;;
  *.vtt) format=vtt ;;
  *) die "the output must end in .srt or .vtt: $out" ;;
esac
[[ -r "$audio" ]] || die "cannot read audio file '$audio'"
require_element lstmphonemes

exec /usr/bin/python3 "$phonemes_root/pipelines/phonemes-labels.py" --format "$format" \
  --group "$group" --output "$out" "$audio" "$@"
