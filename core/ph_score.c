/* ph_score.c: frame accuracy, phone error rate (folded to 39 classes, as in the
 * TIMIT literature) and a 39-class confusion matrix. */
#include "ph_score.h"
#include "ph_phoneset.h"

#include <string.h>

/* Zeroes every counter. */
void
ph_score_init (PhScore *score)
{
  memset (score, 0, sizeof *score);
}

static gboolean
is_phone61 (gint index)
{
  return index >= 0 && index < PH_NUM_PHONES;
}

/* Adds aligned frame labels. A reference outside 0..60 skips the frame; a hypothesis
 * outside it counts as wrong. */
void
ph_score_add_frames (PhScore *score, const gint *reference, const gint *hypothesis,
                     gsize n)
{
  for (gsize i = 0; i < n; i++)
    {
      gint ref = reference[i], hyp = hypothesis[i];
      if (!is_phone61 (ref))
        continue;
      gint ref39 = ph_phone_fold39 (ref), hyp39 = ph_phone_fold39 (hyp);

      score->frames++;
      score->per_phone_total[ref]++;
      if (ref == hyp)
        {
          score->correct61++;
          score->per_phone_correct[ref]++;
        }
      if (ref39 >= 0 && ref39 == hyp39)
        score->correct39++;
      if (ref39 >= 0 && hyp39 >= 0)
        score->confusion39[ref39][hyp39]++;
    }
}

/* Folds `seq` to 39 classes into `out` (n slots), dropping q and anything out of
 * range and merging repeats. Returns the new length. */
static gsize
fold_and_merge (const gint *seq, gsize n, gint *out)
{
  gsize len = 0;
  for (gsize i = 0; i < n; i++)
    {
      gint p = ph_phone_fold39 (seq[i]);
      if (p < 0)
        continue;
      if (len > 0 && out[len - 1] == p)
        continue;
      out[len++] = p;
    }
  return len;
}

/* Adds one utterance's phone sequences: folded, q dropped, repeats merged, then the
 * edit distance counts as errors against the folded reference length. */
void
ph_score_add_sequence (PhScore *score, const gint *reference, gsize n_ref,
                       const gint *hypothesis, gsize n_hyp)
{
  gint *ref = g_new (gint, MAX (n_ref, 1));
  gint *hyp = g_new (gint, MAX (n_hyp, 1));
  gsize nr = fold_and_merge (reference, n_ref, ref);
  gsize nh = fold_and_merge (hypothesis, n_hyp, hyp);

  score->phone_errors += ph_edit_distance (ref, nr, hyp, nh);
  score->phone_reference += nr;
  g_free (ref);
  g_free (hyp);
}

/* Levenshtein distance (unit cost substitution, insertion, deletion); two rows of
 * nb + 1 counters. */
guint
ph_edit_distance (const gint *a, gsize na, const gint *b, gsize nb)
{
  guint *prev = g_new (guint, nb + 1);
  guint *cur = g_new (guint, nb + 1);

  for (gsize j = 0; j <= nb; j++)
    prev[j] = j;
  for (gsize i = 1; i <= na; i++)
    {
      cur[0] = i;
      for (gsize j = 1; j <= nb; j++)
        {
          guint sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
          guint del = prev[j] + 1;
          guint ins = cur[j - 1] + 1;
          cur[j] = MIN (sub, MIN (del, ins));
        }
      guint *t = prev;
      prev = cur;
      cur = t;
    }
  guint d = prev[nb];
  g_free (prev);
  g_free (cur);
  return d;
}

/* Fraction of scored frames labelled with the exact TIMIT phone; 0 with no frames. */
double
ph_score_frame_accuracy61 (const PhScore *score)
{
  return score->frames ? (double) score->correct61 / score->frames : 0.0;
}

/* Fraction of scored frames right after folding to 39 classes; 0 with no frames. */
double
ph_score_frame_accuracy39 (const PhScore *score)
{
  return score->frames ? (double) score->correct39 / score->frames : 0.0;
}

/* Phone errors over reference phones (can exceed 1); 0 with no reference phones. */
double
ph_score_phone_error_rate (const PhScore *score)
{
  return score->phone_reference ? (double) score->phone_errors / score->phone_reference
                                : 0.0;
}
