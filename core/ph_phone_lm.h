/* ph_phone_lm.h: a phone bigram over phone classes, estimated from text, for the
 * decoder (ph_decoder.h).
 *
 * The 61 TIMIT phones map onto K classes (a class set); the LM gives
 * log P(first class) and log P(class | previous class) for sequences of *segments*, so
 * a class never follows itself (a segment's length is the decoder's business, not the
 * LM's). Phones that belong to no class (PH_PHONE_LM_NO_CLASS, e.g. "q" in the
 * 40-class set) are never output by the decoder.
 *
 * Estimation: the builder counts class bigrams in phone sequences (one per sentence,
 * silence at both ends, consecutive repeats of a class merged), then interpolates the
 * bigram with the add-one unigram by Witten-Bell:
 *
 *   P(k | j) = (c(j,k) + T(j) P1(k)) / (c(j) + T(j)),  T(j) = distinct successors of j
 *   P1(k)    = (c(k) + 1) / (N + K)
 *
 * renormalised over k != j. The first class is estimated the same way from the sentence
 * starts (with the silence at the start, it is almost always silence). */
#pragma once

#include <glib.h>
#include "ph_phoneset.h"

G_BEGIN_DECLS

#define PH_PHONE_LM_NO_CLASS 255
#define PH_PHONE_LM_MAX_CLASSES PH_NUM_PHONES
/* Log probabilities are floored here, so every stored value is finite. */
#define PH_PHONE_LM_LOG_FLOOR (-30.0f)

/* The class sets the builder offers. */
typedef enum {
  /* The 39-class folding, with the six closures split off as a 40th class: TIMIT
   * writes a closure before every stop and affricate, which the folding would make an
   * in-word silence. "q" has no class. The default. */
  PH_PHONE_LM_CLASSES_40 = 40,
  /* Every TIMIT phone its own class. */
  PH_PHONE_LM_CLASSES_61 = 61,
} PhPhoneLmClassSet;

typedef struct {
  guint n_classes;                          /* K, 1..PH_PHONE_LM_MAX_CLASSES */
  guint8 class_of_phone[PH_NUM_PHONES];     /* 0..K-1 or PH_PHONE_LM_NO_CLASS */
  float *log_start;                         /* [K]: log P(first class) */
  float *log_bigram;                        /* [K][K]: row = previous class; the
                                             * diagonal is unused (PH_PHONE_LM_LOG_FLOOR) */
} PhPhoneLm;

/* An LM of `n_classes` classes with the given phone map, all probabilities uniform
 * over the other classes. Checks nothing: see ph_phone_lm_validate. */
PhPhoneLm *ph_phone_lm_new (guint n_classes, const guint8 *class_of_phone);
PhPhoneLm *ph_phone_lm_copy (const PhPhoneLm *lm);
void ph_phone_lm_free (PhPhoneLm *lm);

/* FALSE + GError (naming `name`) unless the class count is in range, every phone maps
 * to a class or PH_PHONE_LM_NO_CLASS, every class has a phone, and every log
 * probability is finite and <= 0. */
gboolean ph_phone_lm_validate (const PhPhoneLm *lm, const char *name, GError **error);

/* Fills class_of_phone[PH_NUM_PHONES] for `set`; returns its class count. */
guint ph_phone_lm_class_map (PhPhoneLmClassSet set, guint8 *class_of_phone);

/* Counts phone sequences and turns them into an LM (see above). */
typedef struct _PhPhoneLmBuilder PhPhoneLmBuilder;

PhPhoneLmBuilder *ph_phone_lm_builder_new (PhPhoneLmClassSet set);
void ph_phone_lm_builder_free (PhPhoneLmBuilder *builder);

/* Adds one sentence: `n` TIMIT phone indices in order, without the silences around
 * it (the builder adds h# at both ends). Phones of no class are skipped. */
void ph_phone_lm_builder_add (PhPhoneLmBuilder *builder, const gint *phones, gsize n);

/* Sentences and segments (after merging) counted so far. */
guint64 ph_phone_lm_builder_sentences (const PhPhoneLmBuilder *builder);
guint64 ph_phone_lm_builder_segments (const PhPhoneLmBuilder *builder);

/* The Witten-Bell estimate of everything added (a new LM; the builder is unchanged). */
PhPhoneLm *ph_phone_lm_builder_estimate (const PhPhoneLmBuilder *builder);

/* Expands a dictionary pronunciation as TIMIT transcribes speech: a closure before
 * every stop and affricate (b -> bcl b, ch -> tcl ch) unless one is already there.
 * Returns a new GArray of gint. */
GArray *ph_phone_lm_expand_closures (const gint *phones, gsize n);

G_END_DECLS
