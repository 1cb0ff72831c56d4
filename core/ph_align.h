/* ph_align.h: forced alignment of a known phone sequence to a model's per-frame
 * posteriors (Viterbi over a left-to-right chain of phones).
 *
 * The text is a list of words, each a list of TIMIT-61 phones. The state chain is
 *
 *   [h#?] word1 [pau?] word2 ... wordN [h#?]
 *
 * where the bracketed silences are optional (skipped unless the audio supports them)
 * and every phone spans at least `min_frames` frames. With `optional_closures`, each
 * stop or affricate (b d g p t k jh ch) gets an optional closure in front of it
 * (bcl b, tcl ch, ...), as TIMIT transcribes them; a closure already written in the
 * word is kept as given.
 *
 * Scores are scaled likelihoods: log P(class | frame) - prior_scale * log prior(class).
 * With `score_by_class`, a phone's class is its 39-class fold group minus the silence
 * group (ax scores with ah and ax-h, ix with ih, ...; t and d also with the flap dx)
 * and a closure's class is all six closures; without it every phone scores on its own posterior. The optional silences
 * always score on h# + pau + epi, whatever the model calls silence. With
 * `relabel_variants` each aligned phone is then named after the member of its class
 * with the most posterior mass over its frames (so a dictionary "ah" the model hears as
 * "ax" comes out "ax"); closures and silences keep their names. */
#pragma once

#include <glib.h>
#include "ph_phoneset.h"

G_BEGIN_DECLS

/* One word of the text: what was written and how it is pronounced. */
typedef struct {
  char *text;     /* the word as written (normalised), may be NULL */
  GArray *phones; /* gint TIMIT-61 indices, at least one */
  GArray *unlabelled; /* gboolean per phone: TRUE for "align only" phones (written
                       * "phone*"), whose span gets no label; NULL = all labelled */
} PhWord;

/* A word of `n_phones` phones (copied); `text` is copied and may be NULL. Free with
 * ph_word_free. */
PhWord *ph_word_new (const char *text, const gint *phones, guint n_phones);
void ph_word_free (PhWord *word);

/* Parses a phone transcription: TIMIT or ARPAbet symbols separated by spaces, words
 * separated by "/" or "|" (e.g. "hh ax l ow / w er l d"). A symbol ending in "*" is
 * aligned as that phone but marked unlabelled (a sound with no TIMIT counterpart, e.g.
 * a trilled r written "r*"): its span is left without a label in a training corpus,
 * so no loss is taken there. Returns a GPtrArray of
 * PhWord* (an empty one for blank text), or NULL + GError naming the bad symbol. */
GPtrArray *ph_words_parse_phones (const char *text, GError **error);

#define PH_ALIGN_DEFAULT_MIN_FRAMES 2

typedef struct {
  guint min_frames;           /* frames per phone, at least 1 (default 2) */
  gboolean posteriors_are_log; /* input holds natural-log posteriors (default FALSE) */
  gboolean optional_silence;  /* allow h# at both ends and pau between words (TRUE) */
  gboolean optional_closures; /* allow a closure before each stop/affricate (TRUE) */
  gboolean score_by_class;    /* score phones by their variant class (TRUE) */
  gboolean relabel_variants;  /* name phones after the best class member (TRUE) */
  float prior_scale;          /* alpha in log p - alpha * log prior, >= 0 (default 0) */
  const float *prior;         /* [PH_NUM_PHONES] average posteriors, or NULL = uniform */
  /* Reading a text piece by piece (a prompt read aloud, aligned a stretch of audio at a
   * time): the path may start in any of the first `start_words` words (0 or 1 = the
   * first word only; words whose first unit lies more than 255 units in cannot start
   * it) and, with `partial_end`, end after any word. The result says which words it
   * went through (first_word, last_word). Defaults: 0, FALSE. */
  guint start_words;
  gboolean partial_end;
} PhAlignConfig;

/* Fills `config` with the defaults above. */
void ph_align_config_init (PhAlignConfig *config);

/* The result: labels tiling [0, n_frames * hop) in order, with per-label details. */
typedef struct {
  GArray *labels;     /* PhLabel (ph_labels.h), start/end in samples = frames * hop */
  GArray *confidence; /* float per label: mean over its frames of the posterior mass of
                       * its scoring class (its own posterior without score_by_class) */
  GArray *word_index; /* gint per label: index of its word in the text, -1 for silence */
  GArray *unlabelled; /* gboolean per label: TRUE for a phone the text marked "align
                       * only" (PhWord.unlabelled); its span should get no label */
  float mean_confidence; /* mean of the confidences of the word phones (not silences) */
  double log_score;      /* Viterbi score of the best path, per frame */
  gint first_word, last_word; /* first and last word of the text aligned, -1 if none */
} PhAlignment;

void ph_alignment_free (PhAlignment *alignment);

/* Aligns `words` (PhWord*, may be empty: the result is all h#) to `n_frames` frames of
 * `posteriors` [n_frames][PH_NUM_PHONES]. `hop` converts frames to samples in the
 * labels (1 = frame units). NULL + GError when there are fewer frames than the text's
 * phones need (n_phones * min_frames; with partial_end, those of the shortest word that
 * may start the path), a phone index is out of range or the config is invalid. Time
 * and memory O(n_frames * states); never crashes on NaN input. */
PhAlignment *ph_align (const float *posteriors, guint n_frames, const GPtrArray *words,
                       const PhAlignConfig *config, guint hop, GError **error);

/* Boundary agreement between a reference and an aligned labelling of the same speech
 * (PhLabel arrays, same units). The two phone sequences are matched by edit distance
 * over their 39-class folds with silences and "q" left out; for every matched pair
 * both the start and the end boundary are compared. */
typedef struct {
  guint n_boundaries;  /* boundaries compared (2 per matched phone) */
  guint n_within;      /* of those, |error| <= tolerance */
  guint n_matched;     /* phones matched */
  guint n_reference;   /* non-silence phones in the reference */
  double mean_abs_error; /* mean |error| over compared boundaries, in label units */
  double mean_error;     /* mean of aligned - reference: a systematic shift shows here */
} PhBoundaryStats;

void ph_align_compare_boundaries (const GArray *reference, const GArray *aligned,
                                  guint64 tolerance, PhBoundaryStats *stats);

G_END_DECLS
