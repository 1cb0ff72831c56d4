#!/usr/bin/env bash
# Label a file (any format decodebin reads) with lstmphonemes and print the phoneme
# timeline it posts on the bus: start and end in seconds, TIMIT phone, 39-class phone,
# confidence.
#   pipelines/label-file.sh AUDIO [extra lstmphonemes properties, e.g. model=my.phm]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
audio="${1:?usage: label-file.sh AUDIO [lstmphonemes properties]}"
shift
# Use the uninstalled plugin when this checkout has been built.
[[ -f "$here/build/plugin/libgstphonemes.so" ]] && export GST_PLUGIN_PATH="$here/build/plugin${GST_PLUGIN_PATH:+:$GST_PLUGIN_PATH}"

gst-launch-1.0 -q -m filesrc location="$audio" ! decodebin ! audioconvert ! audioresample ! \
  lstmphonemes "$@" ! fakesink sync=false |
  "$here/pipelines/print-timeline.awk"
