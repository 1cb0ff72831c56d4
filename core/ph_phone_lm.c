/* ph_phone_lm.c: the class bigram of the decoder, its class sets and its estimation. */
#include "ph_phone_lm.h"

#include <math.h>
#include <string.h>

#include "ph_error.h"

PhPhoneLm *
ph_phone_lm_new (guint n_classes, const guint8 *class_of_phone)
{
  PhPhoneLm *lm = g_new0 (PhPhoneLm, 1);
  float uniform = n_classes > 1 ? -logf ((float) (n_classes - 1)) : 0.0f;

  lm->n_classes = n_classes;
  memcpy (lm->class_of_phone, class_of_phone, PH_NUM_PHONES);
  lm->log_start = g_new (float, n_classes);
  lm->log_bigram = g_new (float, (gsize) n_classes * n_classes);
  for (guint j = 0; j < n_classes; j++)
    {
      lm->log_start[j] = -logf ((float) n_classes);
      for (guint k = 0; k < n_classes; k++)
        lm->log_bigram[(gsize) j * n_classes + k] = j == k ? PH_PHONE_LM_LOG_FLOOR : uniform;
    }
  return lm;
}

PhPhoneLm *
ph_phone_lm_copy (const PhPhoneLm *lm)
{
  PhPhoneLm *copy = ph_phone_lm_new (lm->n_classes, lm->class_of_phone);

  memcpy (copy->log_start, lm->log_start, lm->n_classes * sizeof (float));
  memcpy (copy->log_bigram, lm->log_bigram,
          (gsize) lm->n_classes * lm->n_classes * sizeof (float));
  return copy;
}

void
ph_phone_lm_free (PhPhoneLm *lm)
{
  if (!lm)
    return;
  g_free (lm->log_start);
  g_free (lm->log_bigram);
  g_free (lm);
}

static gboolean
check_log_probs (const float *values, gsize n, const char *name, const char *what,
                 GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (values[i]) || values[i] > 0.0f)
      {
        g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                     "%s: phone LM %s[%" G_GSIZE_FORMAT "] is %g, expected a finite log "
                     "probability (<= 0)", name, what, i, values[i]);
        return FALSE;
      }
  return TRUE;
}

gboolean
ph_phone_lm_validate (const PhPhoneLm *lm, const char *name, GError **error)
{
  guint K = lm->n_classes;
  gboolean used[PH_PHONE_LM_MAX_CLASSES] = { FALSE };

  if (K < 1 || K > PH_PHONE_LM_MAX_CLASSES)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: phone LM has %u classes, expected 1..%d", name, K,
                   PH_PHONE_LM_MAX_CLASSES);
      return FALSE;
    }
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    {
      guint8 k = lm->class_of_phone[p];
      if (k == PH_PHONE_LM_NO_CLASS)
        continue;
      if (k >= K)
        {
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s: phone LM maps phone \"%s\" to class %u, expected 0..%u or %d "
                       "(none)", name, ph_phone_name (p), k, K - 1, PH_PHONE_LM_NO_CLASS);
          return FALSE;
        }
      used[k] = TRUE;
    }
  for (guint k = 0; k < K; k++)
    if (!used[k])
      {
        g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                     "%s: phone LM class %u has no phone", name, k);
        return FALSE;
      }
  return check_log_probs (lm->log_start, K, name, "start", error) &&
      check_log_probs (lm->log_bigram, (gsize) K * K, name, "bigram", error);
}

guint
ph_phone_lm_class_map (PhPhoneLmClassSet set, guint8 *class_of_phone)
{
  if (set == PH_PHONE_LM_CLASSES_61)
    {
      for (gint p = 0; p < PH_NUM_PHONES; p++)
        class_of_phone[p] = (guint8) p;
      return PH_NUM_PHONES;
    }
  /* The 39 fold groups keep their indices; closures become class 39. */
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    {
      gint fold = ph_phone_fold39 (p);
      if (ph_phone_is_closure (p))
        class_of_phone[p] = PH_NUM_PHONES39;
      else
        class_of_phone[p] = fold < 0 ? PH_PHONE_LM_NO_CLASS : (guint8) fold;
    }
  return PH_NUM_PHONES39 + 1;
}

/* ---- estimation ---- */

struct _PhPhoneLmBuilder {
  guint n_classes;
  guint8 class_of_phone[PH_NUM_PHONES];
  guint64 *bigram;   /* [K][K] counts, row = previous */
  guint64 *start;    /* [K] first segments */
  guint64 sentences;
  guint64 segments;
};

PhPhoneLmBuilder *
ph_phone_lm_builder_new (PhPhoneLmClassSet set)
{
  PhPhoneLmBuilder *b = g_new0 (PhPhoneLmBuilder, 1);

  b->n_classes = ph_phone_lm_class_map (set, b->class_of_phone);
  b->bigram = g_new0 (guint64, (gsize) b->n_classes * b->n_classes);
  b->start = g_new0 (guint64, b->n_classes);
  return b;
}

void
ph_phone_lm_builder_free (PhPhoneLmBuilder *b)
{
  if (!b)
    return;
  g_free (b->bigram);
  g_free (b->start);
  g_free (b);
}

/* Counts the segment of class k after the one of class `previous` (-1: the first). */
static void
count_segment (PhPhoneLmBuilder *b, gint previous, guint k)
{
  if (previous < 0)
    b->start[k]++;
  else
    b->bigram[(gsize) previous * b->n_classes + k]++;
  b->segments++;
}

void
ph_phone_lm_builder_add (PhPhoneLmBuilder *b, const gint *phones, gsize n)
{
  guint silence = b->class_of_phone[ph_phone_index ("h#")];
  gint previous = -1;

  count_segment (b, previous, silence);
  previous = (gint) silence;
  for (gsize i = 0; i < n; i++)
    {
      if (phones[i] < 0 || phones[i] >= PH_NUM_PHONES)
        continue;
      guint8 k = b->class_of_phone[phones[i]];
      if (k == PH_PHONE_LM_NO_CLASS || (gint) k == previous)
        continue;
      count_segment (b, previous, k);
      previous = k;
    }
  if (previous != (gint) silence)
    count_segment (b, previous, silence);
  b->sentences++;
}

guint64
ph_phone_lm_builder_sentences (const PhPhoneLmBuilder *b)
{
  return b->sentences;
}

guint64
ph_phone_lm_builder_segments (const PhPhoneLmBuilder *b)
{
  return b->segments;
}

static float
floored_log (double p)
{
  return p > 0 ? MAX ((float) log (p), PH_PHONE_LM_LOG_FLOOR) : PH_PHONE_LM_LOG_FLOOR;
}

/* Witten-Bell: the row's counts interpolated with `unigram`, over the classes other
 * than `exclude` (-1: none), written as floored logs to `out`. */
static void
estimate_row (const guint64 *counts, const double *unigram, guint K, gint exclude,
              float *out)
{
  double total = 0, types = 0, norm = 0;

  for (guint k = 0; k < K; k++)
    if ((gint) k != exclude)
      {
        total += (double) counts[k];
        types += counts[k] > 0;
      }
  for (guint k = 0; k < K; k++)
    if ((gint) k != exclude)
      norm += unigram[k];
  for (guint k = 0; k < K; k++)
    {
      if ((gint) k == exclude)
        {
          out[k] = PH_PHONE_LM_LOG_FLOOR;
          continue;
        }
      double p1 = unigram[k] / norm;
      double p = total > 0 ? ((double) counts[k] + types * p1) / (total + types) : p1;
      out[k] = floored_log (p);
    }
}

PhPhoneLm *
ph_phone_lm_builder_estimate (const PhPhoneLmBuilder *b)
{
  guint K = b->n_classes;
  PhPhoneLm *lm = ph_phone_lm_new (K, b->class_of_phone);
  double *unigram = g_new0 (double, K);
  double n = 0;

  /* Every segment is counted once, either as a start or as a bigram's second class. */
  for (guint k = 0; k < K; k++)
    {
      unigram[k] = (double) b->start[k];
      for (guint j = 0; j < K; j++)
        unigram[k] += (double) b->bigram[(gsize) j * K + k];
      n += unigram[k];
    }
  for (guint k = 0; k < K; k++)
    unigram[k] = (unigram[k] + 1) / (n + K);
  estimate_row (b->start, unigram, K, -1, lm->log_start);
  for (guint j = 0; j < K; j++)
    estimate_row (b->bigram + (gsize) j * K, unigram, K, (gint) j,
                  lm->log_bigram + (gsize) j * K);
  g_free (unigram);
  return lm;
}

GArray *
ph_phone_lm_expand_closures (const gint *phones, gsize n)
{
  GArray *out = g_array_sized_new (FALSE, FALSE, sizeof (gint), 2 * n);

  for (gsize i = 0; i < n; i++)
    {
      gint closure = ph_phone_closure_before (phones[i]);
      gboolean has_one = i > 0 && ph_phone_is_closure (phones[i - 1]);
      if (closure >= 0 && !has_one)
        g_array_append_val (out, closure);
      g_array_append_val (out, phones[i]);
    }
  return out;
}
