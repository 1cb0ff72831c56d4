#!/usr/bin/env bash
# Enroll a voice in one command: shows the enrollment prompts one at a time and records
# each from the microphone (Enter ends a recording), adapts the model to the reading
# with `lstmadapt mode=prompted replay-passes=...` (the element follows the reading,
# aligns it with the adapting model and trains; when the reading ends it goes over it
# again on its training thread, re-aligning before each pass, and keeps the weights that
# decode its held-back segments best), saves the adapted model, and prints the phone
# error rate on held-back prompts of the same reading, before and after.
#
#   pipelines/enroll.sh OUT.phm [DIR]
#
# DIR keeps the recordings, DIR/NN.wav for prompt NN (default: OUT.phm's name with
# .enroll). A prompt whose recording is already there is not recorded again: re-running
# on a DIR of finished recordings adapts again without a microphone (any format
# decodebin reads, named NN.wav).
#
# Every HOLD_EVERY-th prompt is held back for the before/after figures (never trained
# on, never used to choose anything); the others are read into the element as one
# reading. The element itself holds back every REPLAY_HOLDOUT-th segment of the reading
# to choose between its passes (early stopping); when no pass beats the starting model
# there, OUT.phm is the starting model unchanged (a voice already well recognised is
# left alone).
#
# Environment:
#   MODEL       the model to start from (default: the built-in one)
#   PROMPTS     the sentences, one per line, '#' comments (default
#               tools/data/enroll-prompts.txt: phonetically rich, public domain)
#   COUNT       prompts to read (default 18, about a minute of speech)
#   HOLD_EVERY  see above (default 6: of 18 prompts, 3 held back, 15 read)
#   MAX_PASSES  passes over the reading at most, the first as it is read (default 3)
#   REPLAY_HOLDOUT  the element's replay-holdout (default 4)
#   ADAPT_OPTS  more lstmadapt properties, e.g. "learning-rate=5e-4 k1=40 k2=40"
#   PHONEMES    the phonemes tool (default: this checkout's build, else PATH)
#   PHONEMES_MIC  another source than autoaudiosrc (common.sh)
#
# Scoring: each held-back recording is aligned to its prompt with the starting
# model (phonemes align, so the reference is the prompt's dictionary pronunciation),
# then `phonemes eval` scores the models on them (39 classes). A few sentences make a
# small test set: a difference of a couple of points is noise.
set -euo pipefail
# shellcheck source=pipelines/common.sh
source "$(dirname "$0")/common.sh"
usage="usage: enroll.sh OUT.phm [DIR]"
out="${1:?$usage}"
dir="${2:-${out%.phm}.enroll}"
prompts_file="${PROMPTS:-$phonemes_root/tools/data/enroll-prompts.txt}"
count="${COUNT:-18}"
hold_every="${HOLD_EVERY:-6}"
max_passes="${MAX_PASSES:-3}"
replay_holdout="${REPLAY_HOLDOUT:-4}"
model="${MODEL:-}"

positive () { [[ "$2" =~ ^[1-9][0-9]*$ ]] || die "$1 must be a positive whole number, not '$2'"; }
positive COUNT "$count"
positive HOLD_EVERY "$hold_every"
positive MAX_PASSES "$max_passes"
[[ "$replay_holdout" =~ ^([2-9]|[1-9][0-9]+)$ ]] ||
  die "REPLAY_HOLDOUT must be a whole number of at least 2, not '$replay_holdout'"
[[ -r "$prompts_file" ]] || die "cannot read the prompts '$prompts_file'"
[[ -z "$model" || -r "$model" ]] || die "cannot read the model '$model'"
phonemes="${PHONEMES:-$phonemes_root/build/tools/phonemes}"
[[ -x "$phonemes" ]] || phonemes="$(command -v phonemes)" ||
  die "the phonemes tool was not found: build it (./quickstart label) or set PHONEMES"
require_element lstmphonemes
require_element lstmadapt
mkdir -p "$dir"

mapfile -t prompts < <(grep -v '^[[:space:]]*\(#\|$\)' "$prompts_file" | head -n "$count")

# The part prompt $1 (from 0) plays: held-back or read.
part_of () {
  if (( ($1 + 1) % hold_every == 0 )); then echo held-back; else echo read; fi
}
count_part () {
  local i n=0
  for i in "${!prompts[@]}"; do [[ "$(part_of "$i")" == "$1" ]] && n=$((n + 1)); done
  echo "$n"
}
n_held="$(count_part held-back)"
n_read="$(count_part read)"
(( n_held >= 1 && n_read >= 1 )) ||
  die "${#prompts[@]} prompts with HOLD_EVERY=$hold_every: $n_held held back, $n_read to" \
    "read; each part needs one at least (more prompts?)"

recording () { printf '%s/%02d.wav' "$dir" "$(($1 + 1))"; }

# The audio format of the recordings and of the reading: 16 kHz mono S16LE.
pcm16k=(audioconvert ! audioresample ! "audio/x-raw,format=S16LE,rate=16000,channels=1")

# Decodes recording $1 into $2 as 16 kHz mono S16LE, raw or (with "wavenc" as $3) WAV.
convert_recording () {
  gst-launch-1.0 -q filesrc location="$1" ! decodebin ! "${pcm16k[@]}" ${3:+! "$3"} ! \
    filesink location="$2" || die "cannot read the recording $1"
}

# Records the microphone into $1 until Enter. gst-launch-1.0 -e turns the SIGINT into
# an EOS, so the WAV header is finished before it exits.
record () {
  local part="$1.part.wav" pid
  local -a mic
  read -ra mic <<< "${PHONEMES_MIC:-autoaudiosrc}"
  gst-launch-1.0 -q -e "${mic[@]}" ! "${pcm16k[@]}" ! wavenc ! filesink location="$part" &
  pid=$!
  sleep 0.5   # a source that cannot start fails at once: say so before the reading
  kill -0 "$pid" 2>/dev/null ||
    die "the microphone source '${mic[*]}' did not start (PHONEMES_MIC picks another)"
  read -r _
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" || die "recording into $1 failed (PHONEMES_MIC picks another source)"
  mv "$part" "$1"
}

record_missing () {
  local i file
  for i in "${!prompts[@]}"; do
    file="$(recording "$i")"
    [[ -s "$file" ]] && continue
    [[ -t 0 ]] || die "no recording $file of prompt $((i + 1)) and no terminal to record it"
    printf '\nprompt %d of %d: read it aloud, then press Enter\n\n    %s\n\n' \
      "$((i + 1))" "${#prompts[@]}" "${prompts[$i]}" >&2
    record "$file"
  done
}

# Appends recording $1 to the reading as raw 16 kHz S16LE, then 0.5 s of silence.
append_to_reading () {
  convert_recording "$1" "$dir/piece.raw"
  cat "$dir/piece.raw" >> "$dir/reading.raw"
  head -c 16000 /dev/zero >> "$dir/reading.raw"
  rm -f "$dir/piece.raw"
}

# The enrollment prompts' recordings, one after another, as one reading; its text.
make_reading () {
  local i
  : > "$dir/reading.raw"
  reading_text=""
  for i in "${!prompts[@]}"; do
    [[ "$(part_of "$i")" == read ]] || continue
    append_to_reading "$(recording "$i")"
    reading_text+="${prompts[$i]} "
  done
}

# lstmadapt over the reading, from model $1 (empty: built-in) into $2, its passes after
# the reading on the element's training thread; its progress lines go to $dir/adapt.log
# too.
adapt_reading () {
  expect_written "$2"
  gst-launch-1.0 -e -m filesrc location="$dir/reading.raw" ! \
    rawaudioparse format=pcm pcm-format=s16le sample-rate=16000 num-channels=1 ! \
    audioconvert ! lstmphonemes ${1:+model="$1"} ! \
    lstmadapt mode=prompted prompt-text="$reading_text" save-location="$2" \
      replay-passes="$((max_passes - 1))" replay-holdout="$replay_holdout" ${ADAPT_OPTS:-} \
      max-backlog=360000 ! fakesink sync=false 2>&1 |
    survive_ctrl_c "$phonemes_root/pipelines/print-adapt.awk" | tee "$dir/adapt.log" >&2
  check_written
}

# DIR/PART/: the recordings of the prompts of PART ($1) with the starting model's
# alignment to their prompts, a corpus for `phonemes eval`.
make_corpus () {
  local i name
  rm -rf "${dir:?}/$1"
  mkdir -p "$dir/$1"
  for i in "${!prompts[@]}"; do
    [[ "$(part_of "$i")" == "$1" ]] || continue
    name="$(printf '%02d' "$((i + 1))")"
    convert_recording "$(recording "$i")" "$dir/$1/$name.wav" wavenc
    "$phonemes" align ${model:+--model "$model"} --text "${prompts[$i]}" \
      -o "$dir/$1/$name.PHN" "$dir/$1/$name.wav" 2> "$dir/align.log" ||
      die "cannot align prompt $((i + 1)) to its recording $(recording "$i"):" \
        "$(tail -n 1 "$dir/align.log")"
  done
  rm -f "$dir/align.log"
}

# "ERRORS PHONES": the phone errors (39 classes) of model $2 (empty: built-in) on the
# corpus of part $1, and the reference phones.
part_errors () {
  local scores
  scores="$("$phonemes" eval ${2:+--model "$2"} --corpus "$dir/$1" |
    sed -n 's/^phone error rate (39 classes): .*(\([0-9]*\) errors \/ \([0-9]*\) .*/\1 \2/p')"
  [[ -n "$scores" ]] || die "phonemes eval could not score ${2:-the built-in model} on $dir/$1"
  echo "$scores"
}
percent () { awk -v e="$1" -v n="$2" 'BEGIN { printf "%.1f%%", 100 * e / n }'; }
part_percent () {
  local scores errors phones
  scores="$(part_errors "$1" "$2")"
  read -r errors phones <<< "$scores"
  percent "$errors" "$phones"
}

# Writes the starting model to $1 unchanged (the built-in one is written out by
# round-weights, which leaves its already rounded weights as they are).
copy_start_model () {
  if [[ -n "$model" ]]; then cp "$model" "$1"
  else "$phonemes" round-weights -o "$1" >/dev/null
  fi
}

record_missing
make_reading
make_corpus held-back
echo "adapting to $n_read prompts ($(( $(stat -c %s "$dir/reading.raw") / 32000 )) s with" \
  "pauses), up to $max_passes passes, one segment in $replay_holdout held back by the" \
  "element to choose the weights kept" >&2
adapt_reading "$model" "$dir/adapted.phm"
rm -f "$dir/reading.raw"
# The pass the element kept (0: its starting weights); none when it never got to
# choose (nothing of the reading was aligned, it was not the prompts' text, or the
# adaptation stopped).
kept="$(sed -n 's/.*replay kept pass \([0-9]*\).*/\1/p' "$dir/adapt.log" | tail -n 1)"
if [[ -z "$kept" || "$kept" == 0 ]]; then
  if [[ -z "$kept" ]]; then
    echo "the element kept no adapted weights (nothing of the reading aligned, it was not" \
      "the prompts' text, or adaptation stopped: see its messages above):" >&2
  else
    echo "no pass did better than the starting model on the reading's held-back segments:" >&2
  fi
  echo "$out is the starting model, unchanged" >&2
  copy_start_model "$out"
  chosen="unchanged"
else
  cp "$dir/adapted.phm" "$out"
  chosen="after $kept pass(es)"
fi
before="$(part_percent held-back "$model")"
after="$(part_percent held-back "$out")"
echo "held-back prompts (never trained on, never used to choose): $n_held;" \
  "phone error rate (39 classes) against their pronunciations:"
echo "  before  $before  (${model:-the built-in model})"
echo "  after   $after  ($out: $chosen)"
