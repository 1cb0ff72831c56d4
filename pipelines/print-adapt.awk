#!/usr/bin/awk -f
# Turns the "lstmadapt" element messages that `gst-launch-1.0 -m` prints (one per weight
# publication) into progress lines: running time, optimizer updates, frames trained,
# training windows dropped (training fell behind the audio), mean loss of the last
# window, frame accuracy on the targeted frames since the previous line.
function field(line, name,    v) {
  if (!match(line, " " name "=\\([a-z0-9]+\\)(\"([^\"\\\\]|\\\\.)*\"|[^,;]*)"))
    return ""
  v = substr(line, RSTART, RLENGTH)
  sub(/^[^)]*\)/, "", v)
  gsub(/^"|"$/, "", v)
  gsub(/\\/, "", v)
  return v
}
/: lstmadapt, / {
  printf "%8.1f s  updates %6d  frames %8d  dropped %4d  loss %7.3f  accuracy %5.3f\n",
         field($0, "running-time") / 1e9, field($0, "updates"), field($0, "frames-trained"),
         field($0, "windows-dropped"), field($0, "loss"), field($0, "accuracy")
  fflush()
  n++
}
END {
  if (n == 0)
    print "no lstmadapt messages (no weights published: too little audio with targets?)" \
      > "/dev/stderr"
}
