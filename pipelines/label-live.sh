#!/usr/bin/env bash
# Label live speech from the microphone and print each phone as it is spoken: start and
# end (s), TIMIT phone, 39-class phone, confidence, and the lag (ms) between the end of
# the phone and the moment lstmphonemes reported it, i.e. the latency it achieves. The
# '#' lines give the latency the element and the whole pipeline report, and a summary
# when you stop with Ctrl-C.
#   pipelines/label-live.sh [extra lstmphonemes properties, e.g. model=my.phm]
#   PHONEMES_MIC="pulsesrc device=NAME" pipelines/label-live.sh     (another source)
#   SECONDS_TO_RUN=10 pipelines/label-live.sh                        (stop by itself)
# The pipeline (run by watch-phonemes.py, which needs PyGObject: python3-gi):
#   autoaudiosrc ! audioconvert ! audioresample ! lstmphonemes ! queue ! fakesink sync=true
# (pipelines/phonemes-labels.py mic --format srt|jsonl|... writes it in other formats.)
# Keep the queue when a synced sink follows lstmphonemes: without it the sink's wait
# for the clock (the whole pipeline latency) holds the streaming thread, and every
# phone is reported that much later (with lstmphonemes report-latency=true, by its own
# latency too: about 160 ms instead of 65 ms after the phone in tests/live).
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
require_element lstmphonemes
audio_source mic

pipeline=("${source[@]}" ! audioconvert ! audioresample ! lstmphonemes "$@" !
          queue ! fakesink sync=true)
/usr/bin/python3 -c 'import gi; gi.require_version("Gst", "1.0")' 2>/dev/null ||
  die "PyGObject for GStreamer not found: install python3-gi and gir1.2-gstreamer-1.0"
exec /usr/bin/python3 "$phonemes_root/pipelines/watch-phonemes.py" \
  ${SECONDS_TO_RUN:+--seconds "$SECONDS_TO_RUN"} "${pipeline[@]}"
