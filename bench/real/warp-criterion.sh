#!/bin/sh
# bench/real/warp-criterion.sh: an unsupervised per-speaker warp criterion (bench/real/README.md,
# "Per-speaker warp"): for each speaker and warp, the mean over frames of the labeller's
# frame confidence (the max posterior, `phonemes label --frames`) over the speaker's first
# SECONDS of audio (its files in order). Prints "speaker warp mean_confidence frames".
# Usage: bench/real/warp-criterion.sh [PHONEMES [MODEL [SECONDS]]]
set -eu
tool=${1:-build/tools/phonemes}
model=${2:-models/default.phm}
seconds=${3:-30}
data=/usr/share/pocketsphinx/test/data
warps="0.88 0.92 0.96 1.0 1.04 1.08 1.12"
asterisk_files() {
  "$tool" corpus import --held-out-fraction 0.2 \
    --transcripts /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz \
    --list-split /usr/share/asterisk/sounds/en_US_f_Allison 2>/dev/null |
    awk -F '\t' '$1 == "test" { print $2 }' | head -40
}
for speaker in librivox cards goforward asterisk; do
  case $speaker in
    librivox) files=$(ls $data/librivox/*.wav) ;;
    cards) files=$(ls $data/cards/*.wav) ;;
    goforward) files=build/bench-data/real/goforward.wav ;;
    asterisk) files=$(asterisk_files) ;;
  esac
  for w in $warps; do
    for f in $files; do nice "$tool" label --model "$model" --warp "$w" --frames "$f"; done |
      awk -v s=$speaker -v w=$w -v max=$((seconds * 100)) \
        'NR <= max { sum += $3; n++ } END { printf "%s %s %.4f %d\n", s, w, sum / n, n }'
  done
done
