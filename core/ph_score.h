/* ph_score.h: scoring: frame accuracy (61 and folded 39 classes), phone error rate of
 * segment sequences, confusion matrix. */
#pragma once

#include <glib.h>
#include "ph_phoneset.h"

G_BEGIN_DECLS

typedef struct {
  guint64 frames;                 /* frames with a reference label */
  guint64 correct61;
  guint64 correct39;              /* "q" frames never count as correct in 39 */
  guint64 confusion39[PH_NUM_PHONES39][PH_NUM_PHONES39]; /* [reference][hypothesis] */
  guint64 per_phone_total[PH_NUM_PHONES];
  guint64 per_phone_correct[PH_NUM_PHONES];
  guint64 phone_errors;           /* edit distance, summed over utterances */
  guint64 phone_reference;        /* reference phones (folded, q removed, merged) */
} PhScore;

void ph_score_init (PhScore *score);

/* Adds frames: reference and hypothesis TIMIT-61 indices (-1 reference = skip). */
void ph_score_add_frames (PhScore *score, const gint *reference, const gint *hypothesis,
                          gsize n);

/* Adds one utterance's phone sequences (TIMIT-61 indices). Both are folded to 39
 * classes, "q" dropped and repeats merged before the edit distance. */
void ph_score_add_sequence (PhScore *score, const gint *reference, gsize n_ref,
                            const gint *hypothesis, gsize n_hyp);

/* Levenshtein distance between two integer sequences. */
guint ph_edit_distance (const gint *a, gsize na, const gint *b, gsize nb);

double ph_score_frame_accuracy61 (const PhScore *score);
double ph_score_frame_accuracy39 (const PhScore *score);
double ph_score_phone_error_rate (const PhScore *score);

G_END_DECLS
