#!/usr/bin/awk -f
# Turns the "phoneme" element messages that `gst-launch-1.0 -m` prints into label files:
#   -v format=phn   a TIMIT .PHN file: start sample, end sample (at -v rate=, default
#                   16000, TIMIT's rate), phone; the phones tile the audio
#   -v format=srt   SubRip subtitles }  -v group=phone (default): one cue per phone, with
#   -v format=vtt   WebVTT subtitles }  its confidence; -v group=word: one cue per
#                   word-sized group, the phones between pauses, at most -v max_phones=
#                   (default 6) per cue. Silences (h#, pau, epi) get no cue.
function field(line, name,    v) {
  if (!match(line, " " name "=\\([a-z0-9]+\\)(\"([^\"\\\\]|\\\\.)*\"|[^,;]*)"))
    return ""
  v = substr(line, RSTART, RLENGTH)
  sub(/^[^)]*\)/, "", v)
  gsub(/^"|"$/, "", v)
  gsub(/\\/, "", v)
  return v
}
# hh:mm:ss,mmm (srt) or hh:mm:ss.mmm (vtt) from nanoseconds.
function cue_time(ns,    msec) {
  msec = int(ns / 1e6 + 0.5)
  return sprintf("%02d:%02d:%02d%s%03d", int(msec / 3600000), int(msec / 60000) % 60,
                 int(msec / 1000) % 60, format == "srt" ? "," : ".", msec % 1000)
}
function emit_cue(start, end, text) {
  cues++
  if (format == "srt")
    printf "%d\n", cues
  printf "%s --> %s\n%s\n\n", cue_time(start), cue_time(end), text
  fflush()
}
function flush_group() {
  if (group_n > 0)
    emit_cue(group_start, group_end, group_text)
  group_n = 0
}
function is_silence(phone) {
  return phone == "h#" || phone == "pau" || phone == "epi"
}
BEGIN {
  if (format == "") format = "srt"
  if (group == "") group = "phone"
  if (rate == "") rate = 16000
  if (max_phones == "") max_phones = 6
  if (format !~ /^(phn|srt|vtt)$/ || group !~ /^(phone|word)$/) {
    print "to-labels.awk: format must be phn, srt or vtt and group phone or word" > "/dev/stderr"
    bad = 1
    exit 2
  }
  if (format == "vtt")
    printf "WEBVTT\n\n"
}
/: phoneme, / {
  start = field($0, "timestamp") + 0
  end = start + field($0, "duration")
  phone = field($0, "phone")
  n++
  if (format == "phn") {
    printf "%d %d %s\n", int(start * rate / 1e9 + 0.5), int(end * rate / 1e9 + 0.5), phone
    fflush()
  } else if (is_silence(phone)) {
    flush_group()
  } else if (group == "phone") {
    emit_cue(start, end, sprintf("%s (%d%%)", phone, 100 * field($0, "confidence") + 0.5))
  } else {
    if (group_n == 0) {
      group_start = start
      group_text = phone
    } else {
      group_text = group_text " " phone
    }
    group_end = end
    if (++group_n >= max_phones)
      flush_group()
  }
}
END {
  if (bad)
    exit 2
  flush_group()
  if (n == 0) {
    print "no phoneme messages: is the lstmphonemes plugin built? (./quickstart label)" \
      > "/dev/stderr"
    exit 1
  }
}
