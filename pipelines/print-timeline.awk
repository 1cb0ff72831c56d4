#!/usr/bin/awk -f
# Turns the "phoneme" element messages that `gst-launch-1.0 -m` prints into a timeline:
#   start_s  end_s  phone  phone39  confidence
# The pipeline's warnings and errors are passed on to stderr; an error makes the exit
# status 1.
function field(line, name,    m, v) {
  if (!match(line, " " name "=\\([a-z0-9]+\\)(\"([^\"\\\\]|\\\\.)*\"|[^,;]*)"))
    return ""
  v = substr(line, RSTART, RLENGTH)
  sub(/^[^)]*\)/, "", v)
  gsub(/^"|"$/, "", v)
  gsub(/\\/, "", v)
  return v
}
# What went wrong, from gst-launch-1.0's output (the scripts pass its stderr in too):
# every warning, and the first error (the cause; the errors after it follow from it),
# go to stderr as they are; an error makes the exit status 1.
/^WARNING: erroneous pipeline/ || /^ERROR: pipeline could not be constructed/ {
  print > "/dev/stderr"; errors++; next
}
/^ERROR: from element / { if (!errors++) print > "/dev/stderr"; next }
/^WARNING: from element / { print > "/dev/stderr"; next }
/: phoneme, / {
  start = field($0, "timestamp") / 1e9
  dur = field($0, "duration") / 1e9
  printf "%8.3f %8.3f  %-5s %-4s %.2f\n", start, start + dur, field($0, "phone"), field($0, "phone39"), field($0, "confidence")
  fflush()   # line by line, for live pipelines
  n++
}
END {
  if (errors)
    exit 1
  if (n == 0) { print "no phoneme messages: is the plugin built (./quickstart label) and found (export GST_PLUGIN_PATH=$PWD/build/plugin)?" > "/dev/stderr"; exit 1 }
}
