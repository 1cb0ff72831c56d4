/* aligner.h: the model-and-text alignment shared by `phonemes align` and
 * `phonemes corpus import`: posteriors from the labeller, words from the lexicon,
 * Viterbi alignment, labels at the file's sample rate. */
#pragma once

#include <glib.h>
#include "phonemes.h"

typedef struct _Aligner Aligner;

/* An aligner running `model` (reference taken; NULL gives one that only makes words).
 * `lexicon_path` adds user
 * pronunciations (may be NULL). Fails when the lexicon cannot be set up; without
 * flite only phone transcriptions (aligner_words with phones = TRUE) work. */
Aligner *aligner_new (PhModel *model, const char *lexicon_path, GError **error);
void aligner_free (Aligner *aligner);

/* The alignment settings (defaults from ph_align_config_init); change them freely. */
PhAlignConfig *aligner_config (Aligner *aligner);

/* The words of `text`: through the lexicon, or parsed as a phone transcription
 * ("hh ax l ow / w er l d") when `phones` is TRUE. */
GPtrArray *aligner_words (Aligner *aligner, const char *text, gboolean phones, GError **error);

/* The model's posteriors for `audio` (any rate: resampled internally),
 * [*n_frames][PH_NUM_PHONES], newly allocated. */
float *aligner_posteriors (Aligner *aligner, const PhAudio *audio, guint *n_frames);

/* Adds the frames' posteriors to `sum` [PH_NUM_PHONES] (for a prior from the mean). */
void aligner_accumulate (const float *posteriors, guint n_frames, double *sum);

/* Aligns `words` to `posteriors` (from aligner_posteriors); labels in frames. */
PhAlignment *aligner_align (Aligner *aligner, const float *posteriors, guint n_frames,
                            const GPtrArray *words, GError **error);

/* Start sample at `rate` of model frame `frame`: nanoseconds as the element computes
 * them (rounded down), then samples at `rate` (rounded down), as `phonemes label`. */
guint64 aligner_frame_to_sample (const Aligner *aligner, guint64 frame, guint rate);

/* Labels in samples at `rate` from labels in frames, ends clipped to `n_samples`
 * (0 = no clipping), empty spans dropped, and so are the labels `unlabelled` marks
 * (gboolean per frame label, PhAlignment.unlabelled; NULL = keep all): their spans are
 * left as gaps, which training reads as "no target". */
GArray *aligner_labels_at_rate (const Aligner *aligner, const GArray *frame_labels,
                                const GArray *unlabelled, guint rate, guint64 n_samples);

/* Word spans ("start end word" as TIMIT .WRD) from an alignment in frames, at `rate`. */
char *aligner_words_text (const Aligner *aligner, const PhAlignment *alignment,
                          const GPtrArray *words, guint rate, guint64 n_samples);

/* A TIMIT .TXT line holds "start end text": the text after the two numbers, or all of
 * `text` when it does not start with them. */
const char *aligner_skip_sample_range (const char *text);
