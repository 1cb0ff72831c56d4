#!/usr/bin/env bash
# Regenerates models/default.phm from data that Debian packages provide, with this
# project's own tools, and measures it on held-out data. About 15 minutes on a
# 2-core machine.
#
#   models/train-default.sh [WORKDIR]      (default WORKDIR: work-data/default-model)
#
# 1. synthetic corpora: flite and espeak-ng voices (36 of 37; flite-slt is left out
#    entirely, to measure a voice never seen in training), training texts only;
#    a test corpus of held-out texts; a corpus of the left-out voice;
# 2. bootstrap: train on the synthetic corpus with augmentation (gain, noise,
#    telephone band, reverberation) and streaming cepstral mean normalisation;
# 3. real speech: force-align the Asterisk prompts (one professional speaker, 8 kHz)
#    with their transcripts using the bootstrap model; 20% of the prompts (by a hash of
#    the text) are held out for evaluation and never trained on;
# 4. train on synthetic + aligned real speech, starting from the bootstrap model;
#    re-align the real prompts with the new model, and train once more;
# 5. evaluate on the three held-out sets, write models/default-eval.txt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$root/work-data/default-model}"
phonemes="${PHONEMES:-$root/build/tools/phonemes}"   # PHONEMES: another build of the tool
asterisk=/usr/share/asterisk/sounds/en_US_f_Allison
transcripts=/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz

for pkg in asterisk-core-sounds-en-wav asterisk-core-sounds-en fortunes fortunes-min; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    { echo "train-default: installing $pkg"; apt-get install -y -qq "$pkg" >/dev/null; }
done
[[ -x "$phonemes" ]] || { meson setup "$root/build" >/dev/null; ninja -C "$root/build"; }
mkdir -p "$work"
cd "$work"

# Shared training settings: two LSTM layers of 128 cells, output delay 3 frames (30 ms),
# TBPTT k1 = k2 = 20, Adam, batches of 8 utterances; speed perturbation 0.9-1.5x, reaching
# up to the shorter vocal tracts and higher voices the training voices lack
# (models/README.md, "Where the unseen voice loses").
train_opts=(--hidden 128 --layers 2 --delay 3 --cmn-window 300 --k1 20 --k2 20
            --batch 8 --threads 2 --augment all --speed-range 0.9,1.5 --seed 1)

echo "== 1. synthetic corpora"
[[ -d synth-train ]] || "$phonemes" corpus synth --out synth-train --minutes 120 --seed 1 \
  --exclude-voice flite-slt --text-split train
[[ -d synth-test ]] || "$phonemes" corpus synth --out synth-test --minutes 10 --seed 2 \
  --exclude-voice flite-slt --text-split test
[[ -d unseen-voice ]] || "$phonemes" corpus synth --out unseen-voice --minutes 5 --seed 3 \
  --voices flite-slt --text-split test

echo "== 2. bootstrap on synthetic speech"
[[ -f bootstrap.phm ]] || "$phonemes" train --corpus synth-train --valid synth-test \
  --out bootstrap.phm --epochs 6 "${train_opts[@]}"

# Training keeps only confidently aligned prompts; the evaluation keeps every one.
align_real () {  # MODEL OUTDIR MIN_CONFIDENCE
  rm -rf "$2"
  "$phonemes" corpus import --model "$1" --out "$2" --transcripts "$transcripts" \
    --rate 16000 --speaker allison --held-out-fraction 0.2 --min-confidence "$3" "$asterisk"
}

echo "== 3. align the real prompts with the bootstrap model"
align_real bootstrap.phm real-1 0.1

echo "== 4. train on synthetic + real speech, re-align, train again"
# The real prompts are listed four times (each pass gets its own augmentation), so the
# 20 minutes of real speech weigh about two thirds as much as the 2 hours of synthetic
# speech.
"$phonemes" train --corpus synth-train --corpus real-1/train --corpus real-1/train \
  --corpus real-1/train --corpus real-1/train --valid synth-test \
  --init bootstrap.phm --out round1.phm --epochs 3 --lr 5e-4 "${train_opts[@]}"
align_real round1.phm real-2 0.1
"$phonemes" train --corpus synth-train --corpus real-2/train --corpus real-2/train \
  --corpus real-2/train --corpus real-2/train --valid synth-test \
  --init round1.phm --out final.phm --epochs 4 --lr 3e-4 "${train_opts[@]}"

echo "== 5. evaluate on held-out data"
align_real final.phm real-eval 0
{
  echo "# models/default.phm evaluation ($(date -u +%Y-%m-%d), models/train-default.sh)"
  echo "## synthetic speech, held-out texts, voices seen in training"
  "$phonemes" eval --model final.phm --corpus synth-test --json
  echo "## a synthetic voice never seen in training (flite-slt)"
  "$phonemes" eval --model final.phm --corpus unseen-voice --json
  echo "## held-out real prompts (Asterisk, 20% never trained on)"
  "$phonemes" eval --model final.phm --corpus real-eval/test --json
} > eval.txt
cp final.phm "$root/models/default.phm"
cp eval.txt "$root/models/default-eval.txt"
echo "models/default.phm written; figures in models/default-eval.txt"
