#!/usr/bin/env bash
# Measures whether the Asterisk prompts in other languages (other real speakers) help
# the shipped model on real English voices it never heard (issue 13, lever 2): the
# experiment behind models/README.md, "Real speech of more speakers". About 45 minutes
# on the shared 2-core machine (two fine-tunes at a time, 6-8 minutes each).
#
#   models/measure-multilingual.sh [WORKDIR]     (default WORKDIR: work-data/multilingual)
#   SEED=2 models/measure-multilingual.sh WORKDIR2   (the fine-tunes with another seed)
#
# 1. data: a 40-minute synthetic corpus (the recipe's voices and weights, training
#    texts), the English Asterisk prompts aligned by the shipped model as the recipe
#    aligns them (20% held out, --min-confidence 0.1), and the prompts in Spanish
#    (es_MX Allison: the same speaker as the English ones), Canadian French (June),
#    Italian (Carlo, male; and Menardi, from asterisk-prompt-it-menardi-wav, read with
#    core-sounds-it's transcripts, which it shares most prompt names with) and Russian,
#    phonemized by espeak-ng (tools/phonemize-transcripts, table
#    tools/data/espeak-timit.tsv), aligned by the shipped model with
#    `corpus import --phones` (sounds English lacks aligned, not trained on), 16 kHz,
#    20% of each held out, --min-confidence 0.1;
# 2. fine-tunes of models/default.phm with the recipe's training options, 3 epochs at
#    lr 3e-4: the control (synthetic + English, the English listed twice) and, with the
#    same recipe, + each language source listed twice, + all four core-sounds languages
#    listed once, Russian listed once, and Russian and all four with every vowel
#    unlabelled (consonants only: --vowels-align-only); each then rounded and given its
#    phone LM as step 5 of models/train-default.sh does;
# 3. each scored by bench/real/run (validation: pocketsphinx-testdata; test: Asterisk
#    English held-out) and on flite-slt (synthetic, never trained on): WORKDIR/table.txt.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${1:-$root/work-data/multilingual}"
phonemes="${PHONEMES:-$root/build/tools/phonemes}"
sounds=/usr/share/asterisk/sounds

for pkg in asterisk-core-sounds-en-wav asterisk-core-sounds-en espeak-ng \
           asterisk-core-sounds-{es,fr,it,ru}{,-wav}; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
    { echo "measure-multilingual: installing $pkg"; apt-get install -y -qq "$pkg" >/dev/null; }
done
[[ -x "$phonemes" ]] || { meson setup "$root/build" >/dev/null; ninja -C "$root/build"; }
mkdir -p "$work" && cd "$work"

echo "== 1. data"
synth () {  # DIR MINUTES SEED ARGS...
  [[ -d "$1" ]] || "$phonemes" corpus synth --out "$1" --minutes "$2" --seed "$3" "${@:4}"
}
weighted=(--exclude-voice flite-slt --voice-weights 'flite-*=16,festival-*=16')
synth synth-train 40 11 "${weighted[@]}" --text-split train
synth synth-valid 5 4 "${weighted[@]}" --text-split train
synth unseen-voice 5 3 --voices flite-slt --text-split test

import () {  # OUT SPEAKER_DIR ARGS...
  [[ -d "$1" ]] || "$phonemes" corpus import --model "$root/models/default.phm" --out "$1" \
    --rate 16000 --speaker "$(basename "$2")" --held-out-fraction 0.2 --min-confidence 0.1 \
    "${@:3}" "$2"
}
import real-en "$sounds/en_US_f_Allison" \
  --transcripts /usr/share/doc/asterisk-core-sounds-en/core-sounds-en.txt.gz
# language, espeak-ng voice, speaker directory
sources=("es es-419 $sounds/es_MX_f_Allison" "fr fr-fr $sounds/fr_CA_f_June"
         "it it $sounds/it_IT_m_Carlo" "ru ru $sounds/ru_RU_f_IvrvoiceRU")
mkdir -p phones
for source in "${sources[@]}"; do
  read -r lang voice dir <<< "$source"
  [[ -s "phones/$lang.txt" ]] || "$root/tools/phonemize-transcripts" --voice "$voice" \
    "/usr/share/doc/asterisk-core-sounds-$lang/core-sounds-$lang.txt.gz" > "phones/$lang.txt"
  import "real-$lang" "$dir" --phones --transcripts "phones/$lang.txt"
  # the same alignment, vowels left unlabelled: consonants only are trained on
  [[ -s "phones/$lang-cons.txt" ]] || "$root/tools/phonemize-transcripts" --voice "$voice" \
    --vowels-align-only "/usr/share/doc/asterisk-core-sounds-$lang/core-sounds-$lang.txt.gz" \
    > "phones/$lang-cons.txt"
  import "real-$lang-cons" "$dir" --phones --transcripts "phones/$lang-cons.txt"
done
# Menardi's Italian conflicts with nothing but is not needed installed: unpacked here.
if [[ ! -d menardi ]]; then
  (mkdir -p debs && cd debs && apt-get download asterisk-prompt-it-menardi-wav >/dev/null &&
   dpkg-deb -x asterisk-prompt-it-menardi-wav_*.deb ../menardi)
fi
import real-it-menardi menardi/usr/share/asterisk/sounds/it_IT_f_Menardi --phones \
  --transcripts phones/it.txt

echo "== 2-3. fine-tunes, scored"
english=(synth-train real-en/train real-en/train)
finetune () {  # NAME CORPUS...: fine-tune, round, LM, score
  local name=$1 args=()
  shift
  for corpus in "$@"; do args+=(--corpus "../$corpus"); done
  mkdir -p "$name"
  (cd "$name" && [[ -f final.phm ]] ||
   { nice "$phonemes" train "${args[@]}" --init "$root/models/default.phm" --out ft.phm \
       --epochs 3 --lr 3e-4 --hidden 128 --layers 2 --delay 3 --cmn-window 300 --k1 20 \
       --k2 20 --batch 8 --threads 1 --augment all --speed-range 0.9,1.5 \
       --seed "${SEED:-1}" --valid ../synth-valid > train.log 2>&1 &&
     "$phonemes" round-weights --model ft.phm --output final.phm &&
     "$phonemes" lm --model final.phm --output final.phm >> train.log 2>&1; })
  nice "$root/bench/real/run" --model "$name/final.phm" --no-install --no-build \
    --pocketsphinx none > "bench-$name.txt" 2>&1
}
runs=("control ${english[*]}"
      "plus-es ${english[*]} real-es/train real-es/train"
      "plus-fr ${english[*]} real-fr/train real-fr/train"
      "plus-it ${english[*]} real-it/train real-it/train"
      "plus-ru ${english[*]} real-ru/train real-ru/train"
      "plus-ru-x1 ${english[*]} real-ru/train"
      "plus-it-menardi ${english[*]} real-it-menardi/train real-it-menardi/train"
      "plus-all ${english[*]} real-es/train real-fr/train real-it/train real-ru/train"
      "plus-ru-cons ${english[*]} real-ru-cons/train real-ru-cons/train"
      "plus-all-cons ${english[*]} real-es-cons/train real-fr-cons/train real-it-cons/train"\
" real-ru-cons/train")
for ((i = 0; i < ${#runs[@]}; i += 2)); do   # two at a time
  finetune ${runs[i]} &
  [[ -z "${runs[i + 1]:-}" ]] || finetune ${runs[i + 1]} &
  wait
done

echo "== table"
row () {  # NAME MODEL
  local bench="bench-$1.txt"
  [[ "$1" != shipped ]] || { nice "$root/bench/real/run" --model "$2" --no-install --no-build \
                               --pocketsphinx none > "$bench" 2>&1; }
  printf '%-16s' "$1"
  grep -E '^\| (validation|test)' "$bench" | awk -F'|' '{ gsub(/ /, "", $6); printf " %7s", $6 }'
  "$phonemes" eval --model "$2" --corpus unseen-voice --json |
    sed -n 's/.*"frame_accuracy39": \([0-9.]*\).*/\1/p' | awk '{ printf " %7.1f%%\n", 100 * $1 }'
}
{
  echo "model            librivox   cards goforward   all    Asterisk-test  flite-slt-frame-acc39"
  row shipped "$root/models/default.phm"
  for run in "${runs[@]}"; do name=${run%% *}; row "$name" "$name/final.phm"; done
} | tee table.txt
