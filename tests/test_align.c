/* test_align.c: forced alignment on synthetic posteriors made from a known
 * segmentation, checked against that segmentation (and against an exhaustive search
 * over all segmentations for small cases). */
#include <math.h>
#include <string.h>

#include "phonemes.h"

typedef struct {
  const char *phone;
  guint frames;
} Seg;

static gint
P (const char *name)
{
  gint p = ph_phone_index (name);
  g_assert_cmpint (p, >=, 0);
  return p;
}

/* Peaked posteriors: mass `peak` on the segment's phone, the rest spread with noise. */
static float *
posteriors_from_segments (const Seg *segs, guint n_segs, float peak, guint32 seed,
                          guint *n_frames)
{
  GRand *rand = g_rand_new_with_seed (seed);
  guint total = 0, t = 0;
  float *post;

  for (guint i = 0; i < n_segs; i++)
    total += segs[i].frames;
  post = g_new0 (float, (gsize) total * PH_NUM_PHONES);
  for (guint i = 0; i < n_segs; i++)
    for (guint k = 0; k < segs[i].frames; k++, t++) {
      float *row = post + (gsize) t * PH_NUM_PHONES;
      double sum = 0;
      for (gint p = 0; p < PH_NUM_PHONES; p++)
        sum += row[p] = (float) g_rand_double_range (rand, 0.1, 1.0);
      for (gint p = 0; p < PH_NUM_PHONES; p++)
        row[p] = (float) ((1.0 - peak) * row[p] / sum);
      row[P (segs[i].phone)] += peak;
    }
  g_rand_free (rand);
  *n_frames = total;
  return post;
}

static GPtrArray *
words_from (const char *phones)
{
  g_autoptr (GError) error = NULL;
  GPtrArray *words = ph_words_parse_phones (phones, &error);
  g_assert_no_error (error);
  return words;
}

/* Exact config: every phone on its own posterior, nothing optional but silences. */
static void
plain_config (PhAlignConfig *config, guint min_frames)
{
  ph_align_config_init (config);
  config->min_frames = min_frames;
  config->score_by_class = FALSE;
  config->relabel_variants = FALSE;
  config->optional_closures = FALSE;
}

static void
assert_labels_match (const PhAlignment *a, const Seg *segs, guint n_segs, guint hop)
{
  guint64 start = 0;

  g_assert_cmpuint (a->labels->len, ==, n_segs);
  for (guint i = 0; i < n_segs; i++) {
    const PhLabel *l = &g_array_index (a->labels, PhLabel, i);
    g_assert_cmpstr (ph_phone_name (l->phone), ==, segs[i].phone);
    g_assert_cmpuint (l->start, ==, start);
    g_assert_cmpuint (l->end, ==, start + (guint64) segs[i].frames * hop);
    start = l->end;
  }
}

static void
test_recovers_boundaries (void)
{
  const Seg segs[] = {
    { "h#", 7 }, { "hh", 3 }, { "ax", 4 }, { "l", 5 }, { "ow", 9 },
    { "pau", 4 }, { "w", 3 }, { "er", 8 }, { "l", 4 }, { "d", 2 }, { "h#", 10 },
  };
  g_autoptr (GPtrArray) words = words_from ("hh ax l ow / w er l d");
  PhAlignConfig config;
  guint n_frames;
  g_autofree float *post = posteriors_from_segments (segs, G_N_ELEMENTS (segs), 0.6f, 1,
                                                     &n_frames);
  g_autoptr (GError) error = NULL;
  PhAlignment *a;

  plain_config (&config, 2);
  a = ph_align (post, n_frames, words, &config, 160, &error);
  g_assert_no_error (error);
  assert_labels_match (a, segs, G_N_ELEMENTS (segs), 160);
  g_assert_cmpint (g_array_index (a->word_index, gint, 0), ==, -1);
  g_assert_cmpint (g_array_index (a->word_index, gint, 1), ==, 0);
  g_assert_cmpint (g_array_index (a->word_index, gint, 6), ==, 1);
  g_assert_cmpint (g_array_index (a->word_index, gint, 5), ==, -1);
  /* confidence is the mean posterior of the phone: >= the peak */
  for (guint i = 0; i < a->confidence->len; i++)
    g_assert_cmpfloat (g_array_index (a->confidence, float, i), >=, 0.6f);
  g_assert_cmpfloat (a->mean_confidence, >=, 0.6f);
  ph_alignment_free (a);

  /* the same from log posteriors, in frame units */
  for (guint i = 0; i < n_frames * PH_NUM_PHONES; i++)
    post[i] = logf (post[i]);
  config.posteriors_are_log = TRUE;
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  assert_labels_match (a, segs, G_N_ELEMENTS (segs), 1);
  ph_alignment_free (a);
}

/* Reading a text piece by piece: audio of words 3..5 of a 6-word text. With
 * start_words and partial_end the path covers just those words, boundaries exact;
 * without, every word of the text is forced in. Audio of words 1..2 only: partial_end
 * alone ends after word 2, even with fewer frames than the whole text needs. */
static void
test_partial_reading (void)
{
  const Seg middle[] = {
    { "h#", 9 }, { "ae", 7 }, { "f", 5 }, { "pau", 6 }, { "uw", 8 }, { "sh", 6 },
    { "pau", 4 }, { "ey", 9 }, { "v", 5 }, { "h#", 12 },
  };
  const Seg head[] = {
    { "h#", 6 }, { "aa", 8 }, { "s", 6 }, { "pau", 5 }, { "iy", 7 }, { "m", 5 }, { "h#", 9 },
  };
  g_autoptr (GPtrArray) words = words_from ("aa s / iy m / ow n / ae f / uw sh / ey v");
  PhAlignConfig config;
  guint n_frames;
  g_autofree float *post = posteriors_from_segments (middle, G_N_ELEMENTS (middle), 0.6f, 3,
                                                     &n_frames);
  g_autofree float *post_head = NULL;
  g_autoptr (GError) error = NULL;
  PhAlignment *a;

  plain_config (&config, 3);
  config.start_words = 4;
  config.partial_end = TRUE;
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  assert_labels_match (a, middle, G_N_ELEMENTS (middle), 1);
  g_assert_cmpint (a->first_word, ==, 3);
  g_assert_cmpint (a->last_word, ==, 5);
  ph_alignment_free (a);

  /* a start further in than start_words allows: the path begins at the last word it
   * may begin at (words 0..2), squeezed in */
  config.start_words = 3;
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->first_word, ==, 2);
  g_assert_cmpint (a->last_word, ==, 5);
  g_assert_cmpfloat (a->mean_confidence, <, 0.6f);
  ph_alignment_free (a);

  plain_config (&config, 3);
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpint (a->first_word, ==, 0);
  g_assert_cmpint (a->last_word, ==, 5);
  ph_alignment_free (a);

  plain_config (&config, 5);
  post_head = posteriors_from_segments (head, G_N_ELEMENTS (head), 0.6f, 4, &n_frames);
  g_assert_cmpuint (n_frames, <, 12 * 5);   /* fewer than the whole text's phones need */
  a = ph_align (post_head, n_frames, words, &config, 1, &error);
  g_assert_null (a);
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_clear_error (&error);
  config.partial_end = TRUE;
  a = ph_align (post_head, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  assert_labels_match (a, head, G_N_ELEMENTS (head), 1);
  g_assert_cmpint (a->first_word, ==, 0);
  g_assert_cmpint (a->last_word, ==, 1);
  ph_alignment_free (a);
}

/* Boundaries within one frame when the posteriors are blurred across each boundary. */
static void
test_blurred_boundaries (void)
{
  const Seg segs[] = {
    { "s", 6 }, { "iy", 9 }, { "m", 5 }, { "ix", 7 }, { "n", 6 }, { "z", 8 },
  };
  g_autoptr (GPtrArray) words = words_from ("s iy / m ix n z");
  PhAlignConfig config;
  guint n_frames, t = 0;
  g_autofree float *post = posteriors_from_segments (segs, G_N_ELEMENTS (segs), 0.5f, 7,
                                                     &n_frames);
  g_autoptr (GError) error = NULL;
  PhAlignment *a;

  /* the frame on each side of a boundary: half the peak goes to the other phone */
  for (guint i = 0; i + 1 < G_N_ELEMENTS (segs); i++) {
    t += segs[i].frames;
    post[(gsize) (t - 1) * PH_NUM_PHONES + P (segs[i + 1].phone)] += 0.3f;
    post[(gsize) t * PH_NUM_PHONES + P (segs[i].phone)] += 0.3f;
  }
  plain_config (&config, 1);
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->labels->len, ==, G_N_ELEMENTS (segs)); /* no silence inserted */
  t = 0;
  for (guint i = 0; i < G_N_ELEMENTS (segs); i++) {
    const PhLabel *l = &g_array_index (a->labels, PhLabel, i);
    g_assert_cmpstr (ph_phone_name (l->phone), ==, segs[i].phone);
    g_assert_cmpint (ABS ((gint64) l->start - (gint64) t), <=, 1);
    t += segs[i].frames;
  }
  ph_alignment_free (a);
}

/* A silence appears only where the posteriors show one. */
static void
test_optional_silence_only_when_supported (void)
{
  const Seg without[] = { { "b", 4 }, { "iy", 6 }, { "g", 3 }, { "ow", 7 } };
  const Seg with[] = { { "h#", 5 }, { "b", 4 }, { "iy", 6 }, { "pau", 5 }, { "g", 3 },
                       { "ow", 7 }, { "h#", 3 } };
  g_autoptr (GPtrArray) words = words_from ("b iy / g ow");
  PhAlignConfig config;
  guint n_frames;
  g_autoptr (GError) error = NULL;
  g_autofree float *post1 = posteriors_from_segments (without, G_N_ELEMENTS (without), 0.6f, 3,
                                                      &n_frames);
  PhAlignment *a;

  plain_config (&config, 2);
  a = ph_align (post1, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  assert_labels_match (a, without, G_N_ELEMENTS (without), 1);
  ph_alignment_free (a);

  g_autofree float *post2 = posteriors_from_segments (with, G_N_ELEMENTS (with), 0.6f, 4,
                                                      &n_frames);
  a = ph_align (post2, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  assert_labels_match (a, with, G_N_ELEMENTS (with), 1);
  ph_alignment_free (a);

  /* without optional silence the pau frames must go to neighbouring phones */
  config.optional_silence = FALSE;
  a = ph_align (post2, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->labels->len, ==, 4);
  ph_alignment_free (a);
}

/* "pau" posteriors count as silence at the ends; the model's h# inside a text as pau. */
static void
test_silence_class (void)
{
  const Seg segs[] = { { "pau", 5 }, { "ay", 6 }, { "h#", 4 }, { "n", 5 }, { "pau", 6 } };
  g_autoptr (GPtrArray) words = words_from ("ay / n");
  PhAlignConfig config;
  guint n_frames;
  g_autoptr (GError) error = NULL;
  g_autofree float *post = posteriors_from_segments (segs, G_N_ELEMENTS (segs), 0.6f, 5,
                                                     &n_frames);
  const char *expect[] = { "h#", "ay", "pau", "n", "h#" };
  PhAlignment *a;

  plain_config (&config, 2);
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->labels->len, ==, 5);
  for (guint i = 0; i < 5; i++) {
    const PhLabel *l = &g_array_index (a->labels, PhLabel, i);
    g_assert_cmpstr (ph_phone_name (l->phone), ==, expect[i]);
  }
  g_assert_cmpuint (g_array_index (a->labels, PhLabel, 2).start, ==, 11);
  ph_alignment_free (a);
}

/* Optional closures appear when the model hears them; variants are renamed. */
static void
test_closures_and_variants (void)
{
  const Seg segs[] = { { "kcl", 4 }, { "k", 3 }, { "ix", 5 }, { "t", 3 }, { "h#", 4 } };
  g_autoptr (GPtrArray) words = words_from ("k ih t");
  PhAlignConfig config;
  guint n_frames;
  g_autoptr (GError) error = NULL;
  g_autofree float *post = posteriors_from_segments (segs, G_N_ELEMENTS (segs), 0.6f, 6,
                                                     &n_frames);
  PhAlignment *a;

  ph_align_config_init (&config);
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  assert_labels_match (a, segs, G_N_ELEMENTS (segs), 1);
  g_assert_cmpint (g_array_index (a->word_index, gint, 0), ==, 0); /* closure is in the word */
  ph_alignment_free (a);

  /* a flapped t comes out dx */
  {
    const Seg water[] = { { "w", 4 }, { "ao", 6 }, { "dx", 2 }, { "axr", 6 } };
    g_autoptr (GPtrArray) w = words_from ("w ao t er");
    g_autofree float *p2 = posteriors_from_segments (water, G_N_ELEMENTS (water), 0.6f, 9,
                                                     &n_frames);
    PhAlignment *b = ph_align (p2, n_frames, w, &config, 1, &error);
    g_assert_no_error (error);
    assert_labels_match (b, water, G_N_ELEMENTS (water), 1);
    ph_alignment_free (b);
  }

  /* relabelling off: the lexicon's phone is kept */
  config.relabel_variants = FALSE;
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (ph_phone_name (g_array_index (a->labels, PhLabel, 2).phone), ==, "ih");
  ph_alignment_free (a);
}

/* Every label spans at least min_frames even where the posteriors say less. */
static void
test_min_frames (void)
{
  const Seg segs[] = { { "f", 6 }, { "ay", 1 }, { "v", 1 }, { "s", 8 } };
  g_autoptr (GPtrArray) words = words_from ("f ay v s");
  PhAlignConfig config;
  guint n_frames;
  g_autoptr (GError) error = NULL;
  g_autofree float *post = posteriors_from_segments (segs, G_N_ELEMENTS (segs), 0.7f, 8,
                                                     &n_frames);

  for (guint min = 1; min <= 4; min++) {
    PhAlignment *a;
    guint64 end = 0;
    plain_config (&config, min);
    a = ph_align (post, n_frames, words, &config, 1, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (a->labels->len, ==, 4);
    for (guint i = 0; i < a->labels->len; i++) {
      const PhLabel *l = &g_array_index (a->labels, PhLabel, i);
      g_assert_cmpuint (l->start, ==, end);
      g_assert_cmpuint (l->end - l->start, >=, min);
      end = l->end;
    }
    g_assert_cmpuint (end, ==, n_frames);
    if (min == 1)
      assert_labels_match (a, segs, G_N_ELEMENTS (segs), 1);
    ph_alignment_free (a);
  }
}

/* Reference: the best total score over every segmentation of 3 phones into T frames. */
static void
test_matches_exhaustive_search (void)
{
  const gint phones[3] = { P ("m"), P ("aa"), P ("m") };
  const guint T = 12, min = 2;
  GRand *rand = g_rand_new_with_seed (11);
  g_autofree float *post = g_new (float, T * PH_NUM_PHONES);
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_word_free);
  PhAlignConfig config;
  g_autoptr (GError) error = NULL;
  double best = -INFINITY;
  guint best_a = 0, best_b = 0;
  PhAlignment *a;

  for (guint i = 0; i < T * PH_NUM_PHONES; i++)
    post[i] = (float) g_rand_double_range (rand, 0.01, 1.0);
  g_rand_free (rand);
  g_ptr_array_add (words, ph_word_new ("mam", phones, 3));
  plain_config (&config, min);
  config.optional_silence = FALSE;
  for (guint b1 = min; b1 <= T - 2 * min; b1++)
    for (guint b2 = b1 + min; b2 <= T - min; b2++) {
      double score = 0;
      for (guint t = 0; t < T; t++) {
        gint p = t < b1 ? phones[0] : t < b2 ? phones[1] : phones[2];
        score += log (post[t * PH_NUM_PHONES + p]);
      }
      if (score > best) {
        best = score;
        best_a = b1;
        best_b = b2;
      }
    }
  a = ph_align (post, T, words, &config, 1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->labels->len, ==, 3);
  g_assert_cmpuint (g_array_index (a->labels, PhLabel, 1).start, ==, best_a);
  g_assert_cmpuint (g_array_index (a->labels, PhLabel, 2).start, ==, best_b);
  g_assert_cmpfloat (fabs (a->log_score * T - best), <, 1e-6);
  ph_alignment_free (a);
}

/* Best score over every way to cut T frames into the units that are kept. */
static double
best_cut (const float *post, guint T, guint t, const gint *phones, const gboolean *optional,
          guint n_units, guint u, guint min)
{
  double best = -INFINITY;

  if (u == n_units)
    return t == T ? 0 : -INFINITY;
  if (optional[u])
    best = best_cut (post, T, t, phones, optional, n_units, u + 1, min);
  for (guint end = t + min; end <= T; end++) {
    double score = 0;
    for (guint k = t; k < end; k++) {
      const float *row = post + k * PH_NUM_PHONES;
      double p = ph_phone_is_silence (phones[u]) ? row[P ("h#")] + row[P ("pau")] + row[P ("epi")]
                                                 : row[phones[u]];
      score += log (p);
    }
    best = MAX (best, score + best_cut (post, T, end, phones, optional, n_units, u + 1, min));
  }
  return best;
}

/* Optional silences against the same exhaustive search, on random posteriors. */
static void
test_optional_units_exhaustive (void)
{
  const gint unit_phones[] = { P ("h#"), P ("s"), P ("ow"), P ("pau"), P ("n"), P ("h#") };
  const gboolean optional[] = { TRUE, FALSE, FALSE, TRUE, FALSE, TRUE };
  const gint w1[] = { P ("s"), P ("ow") }, w2[] = { P ("n") };
  const guint T = 11;
  g_autoptr (GPtrArray) words = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_word_free);
  g_autofree float *post = g_new (float, T * PH_NUM_PHONES);
  PhAlignConfig config;

  g_ptr_array_add (words, ph_word_new ("so", w1, 2));
  g_ptr_array_add (words, ph_word_new ("n", w2, 1));
  for (guint32 seed = 1; seed <= 20; seed++) {
    GRand *rand = g_rand_new_with_seed (seed);
    g_autoptr (GError) error = NULL;
    guint min = 1 + seed % 2;
    double best;
    PhAlignment *a;

    for (guint i = 0; i < T * PH_NUM_PHONES; i++)
      post[i] = (float) g_rand_double_range (rand, 0.001, 1.0);
    g_rand_free (rand);
    plain_config (&config, min);
    best = best_cut (post, T, 0, unit_phones, optional, G_N_ELEMENTS (unit_phones), 0, min);
    a = ph_align (post, T, words, &config, 1, &error);
    g_assert_no_error (error);
    g_assert_cmpfloat (fabs (a->log_score * T - best), <, 1e-6);
    ph_alignment_free (a);
  }
}

static void
test_errors_and_edge_cases (void)
{
  g_autoptr (GPtrArray) words = words_from ("hh ax l ow");
  g_autoptr (GPtrArray) empty = words_from ("  ");
  g_autofree float *post = g_new0 (float, 10 * PH_NUM_PHONES);
  PhAlignConfig config;
  GError *error = NULL;
  PhAlignment *a;

  ph_align_config_init (&config);
  config.min_frames = 3;
  /* 4 phones x 3 frames need 12 frames */
  a = ph_align (post, 10, words, &config, 1, &error);
  g_assert_null (a);
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "too short"));
  g_clear_error (&error);

  /* empty text: all silence; NaN posteriors do not crash */
  post[5] = NAN;
  a = ph_align (post, 10, empty, &config, 160, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (a->labels->len, ==, 1);
  g_assert_cmpstr (ph_phone_name (g_array_index (a->labels, PhLabel, 0).phone), ==, "h#");
  g_assert_cmpuint (g_array_index (a->labels, PhLabel, 0).end, ==, 1600);
  ph_alignment_free (a);

  /* no frames; bad phone; bad config; bad symbol */
  a = ph_align (post, 0, words, &config, 1, &error);
  g_assert_null (a);
  g_clear_error (&error);
  g_autoptr (GPtrArray) bad = g_ptr_array_new_with_free_func ((GDestroyNotify) ph_word_free);
  gint bad_phone = 61;
  g_ptr_array_add (bad, ph_word_new ("x", &bad_phone, 1));
  a = ph_align (post, 10, bad, &config, 1, &error);
  g_assert_null (a);
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_clear_error (&error);
  config.min_frames = 0;
  a = ph_align (post, 10, words, &config, 1, &error);
  g_assert_null (a);
  g_clear_error (&error);
  g_assert_null (ph_words_parse_phones ("hh zz", &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_clear_error (&error);
}

static void
test_parse_phones (void)
{
  g_autoptr (GPtrArray) words = words_from ("HH AX0 L OW1 | w er l d / h# ax-h");

  g_assert_cmpuint (words->len, ==, 3);
  PhWord *w = g_ptr_array_index (words, 0);
  g_assert_cmpuint (w->phones->len, ==, 4);
  g_assert_cmpint (g_array_index (w->phones, gint, 1), ==, P ("ax"));
  w = g_ptr_array_index (words, 2);
  g_assert_cmpint (g_array_index (w->phones, gint, 0), ==, P ("h#"));
  g_assert_cmpint (g_array_index (w->phones, gint, 1), ==, P ("ax-h"));
}

/* "r*": aligned like any phone, marked unlabelled in the words and in the result. */
static void
test_align_only_phones (void)
{
  const Seg segs[] = {
    { "h#", 5 }, { "p", 3 }, { "eh", 4 }, { "r", 3 }, { "ow", 6 }, { "pau", 3 },
    { "m", 3 }, { "ey", 5 }, { "h#", 5 },
  };
  g_autoptr (GPtrArray) words = words_from ("p eh r* ow / m ey");
  const PhWord *first = g_ptr_array_index (words, 0);
  const PhWord *second = g_ptr_array_index (words, 1);
  g_autoptr (GError) error = NULL;
  PhAlignConfig config;
  guint n_frames;
  g_autofree float *post = posteriors_from_segments (segs, G_N_ELEMENTS (segs), 0.6f, 5,
                                                     &n_frames);
  PhAlignment *a;

  g_assert_cmpint (g_array_index (first->phones, gint, 2), ==, P ("r"));
  g_assert_nonnull (first->unlabelled);
  g_assert_true (g_array_index (first->unlabelled, gboolean, 2));
  g_assert_false (g_array_index (first->unlabelled, gboolean, 1));
  g_assert_null (second->unlabelled); /* no marks: NULL */
  plain_config (&config, 2);
  a = ph_align (post, n_frames, words, &config, 1, &error);
  g_assert_no_error (error);
  assert_labels_match (a, segs, G_N_ELEMENTS (segs), 1);
  g_assert_cmpuint (a->unlabelled->len, ==, a->labels->len);
  for (guint i = 0; i < a->labels->len; i++)
    g_assert_cmpint (g_array_index (a->unlabelled, gboolean, i), ==, i == 3);
  ph_alignment_free (a);

  /* a lone '*' is not a phone */
  g_assert_null (ph_words_parse_phones ("p *", &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
}

/* Hand-made case: one phone shifted by 2, one missing from the hypothesis. */
static void
test_compare_boundaries (void)
{
  const PhLabel ref[] = { { 0, 10, 60 }, { 10, 20, 48 }, { 20, 35, 16 }, { 35, 40, 44 },
                          { 40, 60, 11 }, { 60, 70, 60 } };
  const PhLabel hyp[] = { { 0, 12, 60 }, { 12, 20, 49 }, { 20, 40, 8 }, { 40, 58, 11 },
                          { 58, 70, 58 } };
  g_autoptr (GArray) r = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  g_autoptr (GArray) h = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  PhBoundaryStats stats;

  g_array_append_vals (r, ref, G_N_ELEMENTS (ref));
  g_array_append_vals (h, hyp, G_N_ELEMENTS (hyp));
  ph_align_compare_boundaries (r, h, 1, &stats);
  /* hh~hv, ax~ah, ow matched; l missing. errors: hh 2,0; ax 0,5; ow 0,2 */
  g_assert_cmpuint (stats.n_reference, ==, 4);
  g_assert_cmpuint (stats.n_matched, ==, 3);
  g_assert_cmpuint (stats.n_boundaries, ==, 6);
  g_assert_cmpuint (stats.n_within, ==, 3);
  g_assert_cmpfloat (fabs (stats.mean_abs_error - 9.0 / 6), <, 1e-9);
  g_assert_cmpfloat (fabs (stats.mean_error - (2.0 + 5 - 2) / 6), <, 1e-9);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/align/recovers-boundaries", test_recovers_boundaries);
  g_test_add_func ("/align/blurred-boundaries", test_blurred_boundaries);
  g_test_add_func ("/align/partial-reading", test_partial_reading);
  g_test_add_func ("/align/optional-silence", test_optional_silence_only_when_supported);
  g_test_add_func ("/align/silence-class", test_silence_class);
  g_test_add_func ("/align/closures-and-variants", test_closures_and_variants);
  g_test_add_func ("/align/min-frames", test_min_frames);
  g_test_add_func ("/align/exhaustive", test_matches_exhaustive_search);
  g_test_add_func ("/align/optional-exhaustive", test_optional_units_exhaustive);
  g_test_add_func ("/align/errors", test_errors_and_edge_cases);
  g_test_add_func ("/align/parse-phones", test_parse_phones);
  g_test_add_func ("/align/align-only-phones", test_align_only_phones);
  g_test_add_func ("/align/compare-boundaries", test_compare_boundaries);
  return g_test_run ();
}
