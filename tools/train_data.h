/* train_data.h: corpora loaded for training and evaluation, augmentation, scoring. */
#pragma once

#include "tool_common.h"

/* One labelled utterance: audio at the model's rate, its labels in samples at that rate. */
typedef struct {
  char *path;
  PhAudio audio;
  GArray *labels;      /* PhLabel */
  float *features;     /* [n_frames][dim], filled by train_utt_compute */
  gint *targets;       /* [n_frames] */
  guint n_frames;
} TrainUtt;

/* Loads every utterance under each of `dirs` (ph_corpus_list with `flags`), resampled to
 * `rate`. Unreadable or malformed files are reported on stderr and skipped; FALSE +
 * GError only when a directory cannot be listed or nothing usable is found. */
GPtrArray *train_corpus_load (char **dirs, guint flags, guint rate, GError **error);

typedef enum {
  AUGMENT_GAIN = 1 << 0,       /* +-12 dB */
  AUGMENT_NOISE = 1 << 1,      /* white or pink noise at 5..40 dB SNR */
  AUGMENT_TELEPHONE = 1 << 2,  /* 300-3400 Hz band, as on a phone line */
  AUGMENT_REVERB = 1 << 3,     /* a synthetic room, RT60 0.15..0.7 s */
  AUGMENT_SPEED = 1 << 4,      /* speed (default 0.85..1.15x): tempo, pitch and formants */
  AUGMENT_VTLP = 1 << 5,       /* 0.8..1.2 filterbank warp: formants alone (vocal tract) */
} AugmentFlags;

/* What train_utt_compute does to an utterance before computing its features. */
typedef struct {
  guint flags;                 /* AugmentFlags */
  double speed_min, speed_max; /* AUGMENT_SPEED's range of factors */
} Augment;

#define AUGMENT_DEFAULT_SPEED_RANGE "0.85,1.15"

/* Parses "none", "all" (every one but vtlp) or a comma list of
 * gain,noise,telephone,reverb,speed,vtlp, and the speed range "MIN,MAX" (0.5..2). */
gboolean augment_parse (const char *text, const char *speed_range, Augment *augment,
                        GError **error);

/* Computes features and frame targets for `utt` with `config`. With `augment` (or NULL),
 * the audio is first distorted by a copy deterministic in `seed`. */
void train_utt_compute (TrainUtt *utt, const PhFeatureConfig *config, const Augment *augment,
                        guint64 seed);

/* Labels `utt` with `labeller` and adds its frames and phone sequence to `score`. */
void train_utt_score (TrainUtt *utt, PhLabeller *labeller, PhScore *score);

void train_utt_free (TrainUtt *utt);
