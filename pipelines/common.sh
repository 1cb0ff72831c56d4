# shellcheck shell=bash
# common.sh: sourced by the pipeline scripts (bash). Finds the plugin and builds the
# source part of a pipeline.
#
# The plugin: the one on GST_PLUGIN_PATH when it is set, else this checkout's build
# (build/plugin, made by ./quickstart) if there is one, else the installed one.
# The microphone: autoaudiosrc (PulseAudio, PipeWire or ALSA, whichever runs); set
# PHONEMES_MIC to another source, e.g. PHONEMES_MIC="pulsesrc device=NAME".

phonemes_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

die () {
  echo "$(basename "$0"): $*" >&2
  exit 1
}

# Without GST_PLUGIN_PATH, puts this checkout's built plugin on it (when built); a
# GST_PLUGIN_PATH that is set is respected as it is.
use_built_plugin () {
  if [[ -z "${GST_PLUGIN_PATH:-}" && -f "$phonemes_root/build/plugin/libgstphonemes.so" ]]; then
    export GST_PLUGIN_PATH="$phonemes_root/build/plugin"
  fi
}

# Fails with a hint when GStreamer does not know element $1. (--exists alone would also
# require the plugin's version to be at least GStreamer's own.)
require_element () {
  gst-inspect-1.0 --exists --atleast-version=0.0.0 "$1" ||
    die "GStreamer element '$1' not found: build the plugin (./quickstart label)" \
      "or install it (meson install)"
}

# Prints the sample rate (Hz) of audio file $1 as decodebin decodes it; fails when it
# cannot be read.
audio_file_rate () {
  local out
  out="$(gst-launch-1.0 -v filesrc location="$1" ! decodebin ! fakesink num-buffers=1 2>&1)" ||
    return 1
  [[ "$out" =~ caps\ =\ audio/x-raw[^$'\n']*rate=\(int\)([0-9]+) ]] || return 1
  echo "${BASH_REMATCH[1]}"
}

# Sets the array `source` to the pipeline part that yields raw audio: a file that
# decodebin reads, or the microphone when $1 is "mic" or empty.
audio_source () {
  if [[ -z "${1:-}" || "$1" == mic ]]; then
    # shellcheck disable=SC2034  # `source` is the callers' result
    read -ra source <<< "${PHONEMES_MIC:-autoaudiosrc}"
  else
    [[ -r "$1" ]] || die "cannot read audio file '$1'"
    # shellcheck disable=SC2034
    source=(filesrc "location=$1" ! decodebin)
  fi
}

use_built_plugin

# Runs "$@" with SIGINT ignored: the filter behind `gst-launch-1.0 -e | ...` must outlive
# Ctrl-C so that it still prints what the EOS flushes (and gst-launch-1.0 does not die
# writing into a closed pipe before the model is saved).
survive_ctrl_c () {
  ( trap '' INT; exec "$@" )
}

# Notes the time before a run that must write file $1; check_written fails unless the
# run wrote it.
expect_written () {
  written_marker="$(mktemp)"
  written_file="$1"
  trap 'rm -f "$written_marker"' EXIT
}
check_written () {
  [[ -s "$written_file" && "$written_file" -nt "$written_marker" ]] ||
    die "nothing was written to $written_file (see the messages above)"
  echo "wrote $written_file" >&2
}

# Pacing of audio through lstmadapt, for `audio_source ARG`: real time by default, as a
# live source would be (training that falls behind drops windows, counted); with
# PACE=fast a file runs as fast as training goes: it may all queue (max-backlog=360000
# frames, 1 h of audio) and EOS waits until it is trained. Sets `pacing` (lstmadapt
# properties) and `sink_sync`.
# shellcheck disable=SC2034  # pacing, sink_sync: the results
adapt_pacing () {
  if [[ "${PACE:-}" == fast && -n "${1:-}" && "$1" != mic ]]; then
    pacing=(max-backlog=360000)
    sink_sync=false
  else
    pacing=()
    sink_sync=true
  fi
}
