#!/usr/bin/awk -f
# Turns the "phoneme" element messages that `gst-launch-1.0 -m` prints into a timeline:
#   start_s  end_s  phone  phone39  confidence
function field(line, name,    m, v) {
  if (!match(line, " " name "=\\([a-z0-9]+\\)(\"([^\"\\\\]|\\\\.)*\"|[^,;]*)"))
    return ""
  v = substr(line, RSTART, RLENGTH)
  sub(/^[^)]*\)/, "", v)
  gsub(/^"|"$/, "", v)
  gsub(/\\/, "", v)
  return v
}
/: phoneme, / {
  start = field($0, "timestamp") / 1e9
  dur = field($0, "duration") / 1e9
  printf "%8.3f %8.3f  %-5s %-4s %.2f\n", start, start + dur, field($0, "phone"), field($0, "phone39"), field($0, "confidence")
  fflush()   # line by line, for live pipelines
  n++
}
END {
  if (n == 0) { print "no phoneme messages: is the plugin built (./quickstart label) and found (export GST_PLUGIN_PATH=$PWD/build/plugin)?" > "/dev/stderr"; exit 1 }
}
