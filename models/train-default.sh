#!/usr/bin/env bash
# Regenerates models/default.phm from data that Debian packages provide, with this
# project's own tools, and measures it on held-out data. About an hour on a
# 2-core machine.
#
#   models/train-default.sh [WORKDIR]      (default WORKDIR: work-data/default-model)
#
# 1. synthetic corpora: flite, Festival and espeak-ng voices (38 of 39; flite-slt is left
#    out entirely, to measure a voice never seen in training), training texts only, the
#    minutes weighted by naturalness: the 6 diphone and unit-selection voices (flite
#    kal16, kal, awb, rms; Festival kal, ked) take three quarters, the 32 espeak-ng
#    variants (one formant synthesizer) a quarter, as augmentation; a validation corpus
#    (training texts, other renderings); a test corpus of held-out texts; a corpus of the
#    left-out voice; per-voice corpora of held-out text that is not fortunes (WordNet's
#    example sentences) for the natural voices;
# 2. bootstrap: train on the synthetic corpus with augmentation (gain, noise,
#    telephone band, reverberation) and streaming cepstral mean normalisation;
# 3. real speech: force-align the Asterisk prompts (one professional speaker, 8 kHz)
#    with their transcripts using the bootstrap model; 20% of the prompts (by a hash of
#    the text) are held out for evaluation and never trained on;
# 4. train on synthetic + aligned real speech, starting from the bootstrap model;
#    re-align the real prompts with the new model, and train once more;
#    (steps 2-4 run for two random seeds in parallel)
# 5. keep the seed whose model scores best on the validation corpus, round its
#    recurrent weights to bfloat16 values (phonemes round-weights), and add the phone LM
#    of the segment decoder, estimated from the training texts (phonemes lm);
# 6. speaker robustness: re-align the real prompts with that model and fine-tune it for
#    2 epochs with vocal-tract-length perturbation added to the augmentation (VTLP: the
#    filterbank warped by 0.8-1.2 on 70% of the utterances), three fine-tuning seeds
#    side by side; keep the one with the lower phone error rate on real speech of speakers
#    never trained on (bench/real/run's validation set, pocketsphinx-testdata: it only
#    chooses, it is never trained on), round it and add the LM again;
# 7. evaluate on the held-out sets, write models/default-eval.txt (per-voice table first).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$root/work-data/default-model}"
phonemes="${PHONEMES:-$root/build/tools/phonemes}"   # PHONEMES: another build of the tool
asterisk=/usr/share/asterisk/sounds/en_US_f_Allison
transcripts=/usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz

for pkg in asterisk-core-sounds-en-wav asterisk-core-sounds-en fortunes fortunes-min \
           festival festvox-kallpc16k festvox-kdlpc16k wordnet-base; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    { echo "train-default: installing $pkg"; apt-get install -y -qq "$pkg" >/dev/null; }
done
[[ -x "$phonemes" ]] || { meson setup "$root/build" >/dev/null; ninja -C "$root/build"; }
mkdir -p "$work"
cd "$work"

# Shared training settings: two LSTM layers of 128 cells, output delay 3 frames (30 ms),
# TBPTT k1 = k2 = 20, Adam, batches of 8 utterances; speed perturbation 0.9-1.5x, reaching
# up to the shorter vocal tracts and higher voices the training voices lack
# (models/README.md, "Where the unseen voice loses"). Two random seeds train side by side
# (one core each); the one with the better validation accuracy is kept.
synth_minutes=240
# Each natural voice weighs 16 espeak-ng variants: 6 x 16 against 32 x 1.
voice_weights='flite-*=16,festival-*=16'
# The voices of the per-voice held-out table: those trained on, and flite-slt (unseen).
heldout_voices=(flite-awb flite-rms flite-kal16 flite-kal festival-kal festival-ked flite-slt)
real_repeat=8
read -r -a seeds <<< "${SEEDS:-1 2}"
train_opts=(--hidden 128 --layers 2 --delay 3 --cmn-window 300 --k1 20 --k2 20
            --batch 8 --threads 1 --speed-range 0.9,1.5)
# Step 6's seeds (trained side by side), and its options besides train_opts.
read -r -a vtlp_seeds <<< "${VTLP_SEEDS:-5 6 7}"
vtlp_opts=(--augment all,vtlp --epochs 2 --lr 2e-4 --valid synth-valid)

echo "== 1. synthetic corpora"
# synth-valid (training texts, voices seen in training) is the only set that chooses
# epochs and seeds; the three test sets never choose anything.
synth () {  # DIR MINUTES SEED ARGS...
  [[ -d "$1" ]] || "$phonemes" corpus synth --out "$1" --minutes "$2" --seed "$3" "${@:4}"
}
weighted=(--exclude-voice flite-slt --voice-weights "$voice_weights")
synth synth-train "$synth_minutes" 1 "${weighted[@]}" --text-split train
synth synth-valid 10 4 "${weighted[@]}" --text-split train
synth synth-test 10 2 "${weighted[@]}" --text-split test
synth unseen-voice 5 3 --voices flite-slt --text-split test

# WordNet's example sentences (Debian wordnet-base): held-out text that is not fortunes.
# One in 12 of those of 4 words or more, less every sentence whose letters occur in the
# training texts (fortune entries and sentences.txt, compared on their letters only).
heldout_text () {  # OUT
  local LC_ALL=C
  for pos in noun verb adj adv; do sed -n 's/^[^|]*| //p' "/usr/share/wordnet/data.$pos"; done |
    grep -o '"[^"]*"' | tr -d '"' | awk 'NF >= 4' | sort -u | awk 'NR % 12 == 0' > "$1.all"
  awk 'BEGIN { RS = "\n%\n" } { s = tolower($0); gsub(/[^a-z]/, "", s); print s }' \
    /usr/share/games/fortunes/* "$root/tools/data/sentences.txt" > "$1.training-letters"
  awk '{ s = tolower($0); gsub(/[^a-z]/, "", s); print s }' "$1.all" > "$1.letters"
  # grep -o reports non-overlapping matches only: repeat until no sentence is found.
  : > "$1.found"
  while grep -o -F -f <(grep -v -x -F -f "$1.found" "$1.letters") "$1.training-letters" |
        sort -u > "$1.new" && [[ -s "$1.new" ]]; do
    cat "$1.new" >> "$1.found"
  done
  paste -d '\t' "$1.letters" "$1.all" | awk -F '\t' 'NR == FNR { found[$0] = 1; next }
    !($1 in found) { print $2 }' "$1.found" - > "$1"
  echo "held-out text: $(wc -l < "$1") WordNet example sentences" \
       "($(wc -l < "$1.found") found in the training texts, left out)"
  rm -f "$1".{all,training-letters,letters,found,new}
}
[[ -s heldout-text.txt ]] || heldout_text heldout-text.txt
for voice in "${heldout_voices[@]}"; do
  synth "heldout-$voice" 3 7 --voices "$voice" --text heldout-text.txt --text-split all
done

# Training keeps only confidently aligned prompts; the evaluation keeps every one.
align_real () {  # MODEL OUTDIR MIN_CONFIDENCE
  rm -rf "$2"
  "$phonemes" corpus import --model "$1" --out "$2" --transcripts "$transcripts" \
    --rate 16000 --speaker allison --held-out-fraction 0.2 --min-confidence "$3" "$asterisk"
}

# The synthetic corpus and the aligned real prompts (listed real_repeat times, each pass
# with its own augmentation: the 20 minutes of real speech weigh about two thirds as
# much as the 4 hours of synthetic speech).
mixed () {  # REAL_DIR [SYNTH_DIR]
  echo --corpus "${2:-../synth-train}"
  for _ in $(seq "$real_repeat"); do echo --corpus "$1/train"; done
}

# Steps 2-4 for one seed, in seed-SEED/, ending with seed-SEED/final.phm.
train_seed () {  # SEED
  local opts=("${train_opts[@]}" --augment all --seed "$1" --valid ../synth-valid)
  mkdir -p "seed-$1" && cd "seed-$1"
  echo "== 2. bootstrap on synthetic speech"
  [[ -f bootstrap.phm ]] || "$phonemes" train --corpus ../synth-train --out bootstrap.phm \
    --epochs 6 "${opts[@]}"
  echo "== 3. align the real prompts with the bootstrap model"
  align_real bootstrap.phm real-1 0.1
  echo "== 4. train on synthetic + real speech, re-align, train again"
  "$phonemes" train $(mixed real-1) --init bootstrap.phm --out round1.phm --epochs 3 \
    --lr 5e-4 "${opts[@]}"
  align_real round1.phm real-2 0.1
  "$phonemes" train $(mixed real-2) --init round1.phm --out final.phm --epochs 4 \
    --lr 3e-4 "${opts[@]}"
}

pids=()
for seed in "${seeds[@]}"; do
  echo "== 2-4. seed $seed (log: $work/seed-$seed.log)"
  (train_seed "$seed") > "seed-$seed.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

json_field () {  # FIELD: from `phonemes eval --json` on stdin
  sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"
}
accuracy39 () {  # MODEL CORPUS
  "$phonemes" eval --model "$1" --corpus "$2" --json | json_field frame_accuracy39
}
echo "== 5. keep the seed with the best validation accuracy (synth-valid), round it"
best_seed="" best_accuracy=-1
for seed in "${seeds[@]}"; do
  accuracy=$(accuracy39 "seed-$seed/final.phm" synth-valid)
  echo "seed $seed: validation frame accuracy (39 classes) $accuracy"
  if awk "BEGIN { exit !($accuracy > $best_accuracy) }"; then
    best_seed=$seed best_accuracy=$accuracy
  fi
done
# Its recurrent weights rounded to bfloat16 values: the step reads them from half the
# bytes on CPUs with AVX-512 (models/README.md gives what it changes: nothing measurable).
"$phonemes" round-weights --model "seed-$best_seed/final.phm" --output final.phm
# The decoder's phone bigram from the training split of the texts (never the test texts,
# nor any evaluation transcript): model file version 2.
"$phonemes" lm --model final.phm --output final.phm

echo "== 6. fine-tune with VTLP; keep the seed that does best on real validation speech"
align_real final.phm real-vtlp 0.1
vtlp_seed () {  # SEED: vtlp-SEED.phm, rounded, with the LM
  "$phonemes" train $(mixed real-vtlp synth-train) --init final.phm --out "vtlp-$1.raw.phm" \
    "${train_opts[@]}" "${vtlp_opts[@]}" --seed "$1"
  "$phonemes" round-weights --model "vtlp-$1.raw.phm" --output "vtlp-$1.phm"
  "$phonemes" lm --model "vtlp-$1.phm" --output "vtlp-$1.phm"
}
pids=()
for seed in "${vtlp_seeds[@]}"; do
  (vtlp_seed "$seed") > "vtlp-$seed.log" 2>&1 &
  pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
real_validation_per () {  # MODEL: bench/real/run's validation PER (a fraction)
  "$root/bench/real/run" --no-build --phonemes "$phonemes" --model "$1" --set validation \
    --pocketsphinx none --json | tr -d ' \n' |
    sed -n 's/.*"key":"validation_all"[^}]*"ours":{"per":\([0-9.]*\).*/\1/p'
}
best_vtlp="" best_per=2
for seed in "${vtlp_seeds[@]}"; do
  per=$(real_validation_per "vtlp-$seed.phm")
  echo "VTLP seed $seed: real validation phone error rate $per"
  if awk "BEGIN { exit !($per < $best_per) }"; then
    best_vtlp=$seed best_per=$per
  fi
done
cp final.phm before-vtlp.phm
cp "vtlp-$best_vtlp.phm" final.phm

echo "== 7. evaluate on held-out data"
align_real final.phm real-eval 0
# One row per voice: 39-class frame accuracy and phone error rate on held-out text that
# is not fortunes (flite-slt: never trained on).
per_voice_table () {  # MODEL
  echo "## per voice, held-out WordNet sentences (3 min each): voice, frame accuracy (39 classes), phone error rate (39)"
  for voice in "${heldout_voices[@]}"; do
    local json
    json=$("$phonemes" eval --model "$1" --corpus "heldout-$voice" --json)
    printf '%-14s %s %s\n' "$voice" "$(json_field frame_accuracy39 <<< "$json")" \
      "$(json_field phone_error_rate <<< "$json")"
  done
}
evaluate () {  # MODEL
  per_voice_table "$1"
  echo "## synthetic speech, held-out texts, voices seen in training"
  "$phonemes" eval --model "$1" --corpus synth-test --json
  echo "## a synthetic voice never seen in training (flite-slt)"
  "$phonemes" eval --model "$1" --corpus unseen-voice --json
  echo "## held-out real prompts (Asterisk, 20% never trained on)"
  "$phonemes" eval --model "$1" --corpus real-eval/test --json
}
{
  echo "# models/default.phm evaluation ($(date -u +%Y-%m-%d), models/train-default.sh):"
  echo "# seed $best_seed of ${seeds[*]}, validation frame accuracy $best_accuracy;" \
    "VTLP fine-tune seed $best_vtlp of ${vtlp_seeds[*]}, real validation PER $best_per"
  evaluate final.phm
} > eval.txt
# The other seeds on the same sets: how much the figures move with the seed.
for seed in "${seeds[@]}"; do
  [[ "$seed" == "$best_seed" ]] || evaluate "seed-$seed/final.phm" > "eval-seed-$seed.txt"
done
evaluate before-vtlp.phm > eval-before-vtlp.txt   # what step 6 changed
cp final.phm "$root/models/default.phm"
cp eval.txt "$root/models/default-eval.txt"
echo "models/default.phm written; figures in models/default-eval.txt"
