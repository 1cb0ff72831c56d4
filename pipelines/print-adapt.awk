#!/usr/bin/awk -f
# Turns the "lstmadapt" element messages that `gst-launch-1.0 -m` prints (one per weight
# publication) into progress lines: running time, optimizer updates, frames trained,
# training windows dropped (training fell behind the audio), mean loss of the last
# window, and what was measured since the previous line: frame accuracy on the targeted
# frames (supervised, prompted; "n/a" when no frame had a target), or in self mode the
# agreement of the labeller with the frozen starting model; prompted, how far the
# reading of the prompt got ("prompt 17/48 words"), and with replay-passes each pass
# over the reading and the one kept ("replay kept pass 2: held-back phone error rate
# ..."). The element's warnings and
# errors are passed on to stderr; an error makes the exit status 1.
function field(line, name,    v) {
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
# gst-launch-1.0 (1.22 here) prints an element's error from the thread that posts it (its
# bus sync handler), the whole line in one write, while its main thread prints each -m
# message in two writes: "Got message #N from element "E" (TYPE): ", then the message.
# The error can land between the two, at the end of such a header: it is found wherever
# it starts, and the message cut from its header comes on a line of its own after it.
/ERROR: from element / {
  if (!errors++)
    print substr($0, index($0, "ERROR: from element ")) > "/dev/stderr"
  next
}
/^WARNING: from element / { print > "/dev/stderr"; next }
/: lstmadapt, / || /^lstmadapt, / {
  if (field($0, "agreement") != "")
    measure = sprintf("agreement %5.3f", field($0, "agreement"))
  else if (field($0, "accuracy") != "")
    measure = sprintf("accuracy %5.3f", field($0, "accuracy"))
  else
    measure = "accuracy   n/a"
  if (field($0, "prompt-words") != "")
    measure = measure sprintf("  prompt %d/%d words", field($0, "prompt-words-read"),
                              field($0, "prompt-words"))
  if (field($0, "replay-final") == "true")
    measure = measure sprintf("  replay kept pass %d: held-back phone error rate %.1f%% " \
                              "(starting weights %.1f%%, %d phones)", field($0, "replay-pass"),
                              100 * field($0, "held-back-per"),
                              100 * field($0, "held-back-per-start"),
                              field($0, "held-back-phones"))
  else if (field($0, "held-back-per") != "")
    measure = measure sprintf("  replay pass %d: held-back phone error rate %.1f%%",
                              field($0, "replay-pass"), 100 * field($0, "held-back-per"))
  else if (field($0, "replay-pass") != "")
    measure = measure sprintf("  replay pass %d", field($0, "replay-pass"))
  printf "%8.1f s  updates %6d  frames %8d  dropped %4d  loss %7.3f  %s\n",
         field($0, "running-time") / 1e9, field($0, "updates"), field($0, "frames-trained"),
         field($0, "windows-dropped"), field($0, "loss"), measure
  fflush()
  n++
}
END {
  if (errors)
    exit 1
  if (n == 0)
    print "no lstmadapt messages (no weights published: too little audio with targets?)" \
      > "/dev/stderr"
}
