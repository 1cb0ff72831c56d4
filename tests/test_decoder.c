/* test_decoder.c: the phone LM's estimate against hand-computed Witten-Bell values, and
 * the streaming decoder against a brute-force search over every segmentation of small
 * lattices; streaming output for any lag and chunking; the labeller decoding with a
 * model's LM. (Model files with an LM: test_model.c.) */
#include <math.h>
#include <string.h>

#include "phonemes.h"
#include "test_common.h"

/* ---- the LM ---- */

static void
test_closure_expansion (void)
{
  gint in[] = { ph_phone_index ("b"), ph_phone_index ("iy"), ph_phone_index ("tcl"),
                ph_phone_index ("t"), ph_phone_index ("ch") };
  const char *expected[] = { "bcl", "b", "iy", "tcl", "t", "tcl", "ch" };
  g_autoptr (GArray) out = ph_phone_lm_expand_closures (in, G_N_ELEMENTS (in));

  g_assert_cmpuint (out->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < out->len; i++)
    g_assert_cmpstr (ph_phone_name (g_array_index (out, gint, i)), ==, expected[i]);
}

static void
test_class_sets (void)
{
  guint8 map[PH_NUM_PHONES];

  g_assert_cmpuint (ph_phone_lm_class_map (PH_PHONE_LM_CLASSES_40, map), ==, 40);
  g_assert_cmpuint (map[ph_phone_index ("ix")], ==, map[ph_phone_index ("ih")]);
  g_assert_cmpuint (map[ph_phone_index ("bcl")], ==, map[ph_phone_index ("kcl")]);
  g_assert_cmpuint (map[ph_phone_index ("bcl")], !=, map[ph_phone_index ("h#")]);
  g_assert_cmpuint (map[ph_phone_index ("pau")], ==, map[ph_phone_index ("h#")]);
  g_assert_cmpuint (map[ph_phone_index ("q")], ==, PH_PHONE_LM_NO_CLASS);
  g_assert_cmpuint (ph_phone_lm_class_map (PH_PHONE_LM_CLASSES_61, map), ==, 61);
  g_assert_cmpuint (map[60], ==, 60);
}

/* One sentence "s iy": segments h# s iy h#. By hand, with N = 4 segments and K = 40:
 * unigram P1 = (c + 1) / 44 (sil 3/44, s 2/44, iy 2/44, others 1/44). Row sil has one
 * successor type (s, once): P(s | sil) = (1 + P1'(s)) / 2 with P1' the unigram
 * renormalised without sil: P1'(s) = (2/44) / (41/44) = 2/41, so 43/82. An unseen
 * successor of sil, e.g. iy: (0 + 2/41) / 2 = 1/41. The start row (sil once):
 * P(start = sil) = (1 + 3/44) / 2 = 47/88. */
static void
test_witten_bell_by_hand (void)
{
  PhPhoneLmBuilder *builder = ph_phone_lm_builder_new (PH_PHONE_LM_CLASSES_40);
  gint sentence[] = { ph_phone_index ("s"), ph_phone_index ("iy") };
  guint8 map[PH_NUM_PHONES];

  ph_phone_lm_builder_add (builder, sentence, 2);
  g_assert_cmpuint (ph_phone_lm_builder_segments (builder), ==, 4);
  PhPhoneLm *lm = ph_phone_lm_builder_estimate (builder);
  ph_phone_lm_class_map (PH_PHONE_LM_CLASSES_40, map);
  guint sil = map[ph_phone_index ("h#")], s = map[ph_phone_index ("s")],
        iy = map[ph_phone_index ("iy")];

  g_assert_cmpfloat_with_epsilon (lm->log_bigram[sil * 40 + s], log (43.0 / 82), 1e-6);
  g_assert_cmpfloat_with_epsilon (lm->log_bigram[sil * 40 + iy], log (1.0 / 41), 1e-6);
  g_assert_cmpfloat_with_epsilon (lm->log_start[sil], log (47.0 / 88), 1e-6);
  /* every row is a distribution over the classes other than its own */
  for (guint j = 0; j < 40; j++) {
    double sum = 0;
    for (guint k = 0; k < 40; k++)
      if (k != j)
        sum += exp (lm->log_bigram[j * 40 + k]);
    g_assert_cmpfloat_with_epsilon (sum, 1.0, 1e-5);
  }
  g_assert_true (ph_phone_lm_validate (lm, "test", NULL));
  ph_phone_lm_free (lm);
  ph_phone_lm_builder_free (builder);
}

static void
test_lm_validation (void)
{
  guint8 map[PH_NUM_PHONES];
  g_autoptr (GError) error = NULL;

  ph_phone_lm_class_map (PH_PHONE_LM_CLASSES_40, map);
  PhPhoneLm *lm = ph_phone_lm_new (40, map);
  g_assert_true (ph_phone_lm_validate (lm, "x.phm", &error));
  lm->log_bigram[5] = NAN;
  g_assert_false (ph_phone_lm_validate (lm, "x.phm", &error));
  g_assert_nonnull (strstr (error->message, "bigram[5]"));
  g_clear_error (&error);
  lm->log_bigram[5] = -1;
  lm->class_of_phone[3] = 45;
  g_assert_false (ph_phone_lm_validate (lm, "x.phm", &error));
  g_assert_nonnull (strstr (error->message, "x.phm"));
  ph_phone_lm_free (lm);
}

/* ---- the decoder against brute force ---- */

#define SMALL_K 3

/* Three classes: phones 0-19, 20-39, 40-60; random log probabilities. */
static PhPhoneLm *
small_lm (GRand *rand)
{
  guint8 map[PH_NUM_PHONES];

  for (gint p = 0; p < PH_NUM_PHONES; p++)
    map[p] = (guint8) (p / 20 < SMALL_K ? p / 20 : SMALL_K - 1);
  PhPhoneLm *lm = ph_phone_lm_new (SMALL_K, map);
  for (guint k = 0; k < SMALL_K; k++) {
    lm->log_start[k] = (float) -g_rand_double_range (rand, 0.1, 3);
    for (guint j = 0; j < SMALL_K; j++)
      if (j != k)
        lm->log_bigram[j * SMALL_K + k] = (float) -g_rand_double_range (rand, 0.1, 3);
  }
  return lm;
}

static void
random_posteriors (GRand *rand, float *out, guint n_frames)
{
  for (guint t = 0; t < n_frames; t++) {
    double sum = 0;
    for (gint p = 0; p < PH_NUM_PHONES; p++)
      sum += out[t * PH_NUM_PHONES + p] = (float) pow (g_rand_double (rand), 4);
    for (gint p = 0; p < PH_NUM_PHONES; p++)
      out[t * PH_NUM_PHONES + p] /= (float) sum;
  }
}

/* The score of one class sequence, or -inf when a segment is shorter than min_duration. */
static double
path_score (const guint *classes, guint n, const float *post, const PhPhoneLm *lm,
            const PhDecoderConfig *c)
{
  double score = 0;
  guint run = 0;

  for (guint t = 0; t < n; t++) {
    double mass = 0;
    for (gint p = 0; p < PH_NUM_PHONES; p++)
      if (lm->class_of_phone[p] == classes[t])
        mass += post[t * PH_NUM_PHONES + p];
    score += log (mass);
    if (t == 0 || classes[t] != classes[t - 1]) {
      if (t > 0 && run < c->min_duration)
        return -INFINITY;
      double lp = t == 0 ? lm->log_start[classes[t]]
                         : lm->log_bigram[classes[t - 1] * lm->n_classes + classes[t]];
      score += c->lm_weight * lp - c->insertion_penalty;
      run = 0;
    }
    run++;
  }
  return run < c->min_duration ? -INFINITY : score;
}

/* The best class per frame over all K^n sequences. */
static void
brute_force (const float *post, guint n, const PhPhoneLm *lm, const PhDecoderConfig *c,
             guint *best)
{
  guint seq[16] = { 0 };
  double best_score = -INFINITY;
  guint total = 1;

  for (guint t = 0; t < n; t++)
    total *= lm->n_classes;
  for (guint code = 0; code < total; code++) {
    guint x = code;
    for (guint t = 0; t < n; t++, x /= lm->n_classes)
      seq[t] = x % lm->n_classes;
    double score = path_score (seq, n, post, lm, c);
    if (score > best_score) {
      best_score = score;
      memcpy (best, seq, n * sizeof (guint));
    }
  }
  g_assert_true (isfinite (best_score));
}

static void
collect_segment (const PhDecodedSegment *segment, gpointer user_data)
{
  g_array_append_val ((GArray *) user_data, *segment);
}

/* Checks that `segments` tile n frames with the classes of `classes`, and that each
 * phone is its class's member with the most posterior mass. */
static void
assert_segments_match (GArray *segments, const guint *classes, guint n, const float *post,
                       const PhPhoneLm *lm)
{
  guint64 t = 0;

  for (guint i = 0; i < segments->len; i++) {
    PhDecodedSegment *s = &g_array_index (segments, PhDecodedSegment, i);
    g_assert_cmpuint (s->start_frame, ==, t);
    double sums[PH_NUM_PHONES] = { 0 };
    for (guint64 f = s->start_frame; f < s->start_frame + s->n_frames; f++) {
      g_assert_cmpuint (lm->class_of_phone[s->phone], ==, classes[f]);
      for (gint p = 0; p < PH_NUM_PHONES; p++)
        sums[p] += post[f * PH_NUM_PHONES + p];
    }
    if (i + 1 < segments->len)
      g_assert_cmpuint (classes[s->start_frame + s->n_frames], !=, classes[s->start_frame]);
    for (gint p = 0; p < PH_NUM_PHONES; p++)
      if (lm->class_of_phone[p] == lm->class_of_phone[s->phone])
        g_assert_cmpfloat (sums[p], <=, sums[s->phone]);
    g_assert_cmpfloat_with_epsilon (s->confidence, sums[s->phone] / s->n_frames, 1e-5);
    t += s->n_frames;
  }
  g_assert_cmpuint (t, ==, n);
}

static GArray *
decode (const PhPhoneLm *lm, const PhDecoderConfig *config, const float *post, guint n)
{
  GArray *segments = g_array_new (FALSE, FALSE, sizeof (PhDecodedSegment));
  g_autoptr (GError) error = NULL;
  PhDecoder *decoder = ph_decoder_new (lm, config, &error);

  g_assert_no_error (error);
  for (guint t = 0; t < n; t++) {
    ph_decoder_push (decoder, post + t * PH_NUM_PHONES, collect_segment, segments);
    g_assert_cmpuint (ph_decoder_pending_frames (decoder), <=, config->max_lag);
  }
  ph_decoder_flush (decoder, collect_segment, segments);
  ph_decoder_free (decoder);
  return segments;
}

static void
test_decoder_matches_brute_force (void)
{
  GRand *rand = g_rand_new_with_seed (11);

  for (guint trial = 0; trial < 60; trial++) {
    guint n = 4 + trial % 5;   /* 4..8 frames: 3^8 = 6561 sequences */
    PhDecoderConfig config;
    float post[8 * PH_NUM_PHONES];
    guint best[8];
    PhPhoneLm *lm = small_lm (rand);

    ph_decoder_config_init (&config);
    config.min_duration = 1 + trial % 3;
    config.lm_weight = (float) g_rand_double_range (rand, 0, 3);
    config.insertion_penalty = (float) g_rand_double_range (rand, 0, 2);
    config.max_lag = n;          /* covers the utterance: exact Viterbi */
    random_posteriors (rand, post, n);
    brute_force (post, n, lm, &config, best);
    GArray *segments = decode (lm, &config, post, n);
    assert_segments_match (segments, best, n, post, lm);
    g_array_unref (segments);
    ph_phone_lm_free (lm);
  }
  g_rand_free (rand);
}

/* Posteriors that clearly favour one class for runs of frames. */
static void
clear_runs (GRand *rand, float *post, guint n, guint *truth)
{
  guint cls = 0;

  for (guint t = 0; t < n; t++) {
    if (t % 12 == 0)
      cls = (cls + 1 + g_rand_int_range (rand, 0, SMALL_K - 1)) % SMALL_K;
    truth[t] = cls;
    for (gint p = 0; p < PH_NUM_PHONES; p++)
      post[t * PH_NUM_PHONES + p] = (guint) (p / 20 < SMALL_K ? p / 20 : SMALL_K - 1) == cls
          ? 0.04f : 0.0004f;
  }
}

/* Tracebacks converge long before the lag: segments come out while frames arrive, and
 * the result equals the offline decode. */
static void
test_decoder_streams (void)
{
  GRand *rand = g_rand_new_with_seed (5);
  guint n = 240, truth[240];
  float *post = g_new (float, n * PH_NUM_PHONES);
  PhPhoneLm *lm = small_lm (rand);
  PhDecoderConfig config;
  GArray *segments = g_array_new (FALSE, FALSE, sizeof (PhDecodedSegment));

  clear_runs (rand, post, n, truth);
  ph_decoder_config_init (&config);
  PhDecoder *decoder = ph_decoder_new (lm, &config, NULL);
  guint max_pending = 0;
  for (guint t = 0; t < n; t++) {
    ph_decoder_push (decoder, post + t * PH_NUM_PHONES, collect_segment, segments);
    max_pending = MAX (max_pending, ph_decoder_pending_frames (decoder));
  }
  guint before_flush = segments->len;
  ph_decoder_flush (decoder, collect_segment, segments);
  g_assert_cmpuint (max_pending, <, config.max_lag);
  g_assert_cmpuint (before_flush, ==, segments->len - 1);
  assert_segments_match (segments, truth, n, post, lm);
  ph_decoder_free (decoder);
  g_array_unref (segments);
  ph_phone_lm_free (lm);
  g_free (post);
  g_rand_free (rand);
}

/* Checks that `segments` are a path the decoder may take: they tile n frames, each at
 * least min_duration long, the class changing at every boundary. */
static void
assert_valid_path (GArray *segments, guint n, const PhPhoneLm *lm, guint min_duration)
{
  guint64 t = 0;

  for (guint i = 0; i < segments->len; i++) {
    PhDecodedSegment *s = &g_array_index (segments, PhDecodedSegment, i);
    g_assert_cmpuint (s->start_frame, ==, t);
    g_assert_cmpuint (s->n_frames, >=, min_duration);
    if (i > 0)
      g_assert_cmpuint (lm->class_of_phone[s->phone], !=,
                        lm->class_of_phone[g_array_index (segments, PhDecodedSegment,
                                                          i - 1).phone]);
    t += s->n_frames;
  }
  g_assert_cmpuint (t, ==, n);
}

/* A short lag still gives a valid path (the states that disagree with a forced
 * decision must go, or a later traceback contradicts it), and a lag covering the stream
 * gives the offline one. Flat posteriors keep many paths alive for long. */
static void
test_decoder_lag_bound (void)
{
  GRand *rand = g_rand_new_with_seed (9);
  guint n = 80;
  float *post = g_new (float, n * PH_NUM_PHONES);
  PhDecoderConfig config;

  ph_decoder_config_init (&config);
  for (guint trial = 0; trial < 40; trial++) {
    PhPhoneLm *lm = small_lm (rand);
    random_posteriors (rand, post, n);
    for (guint i = 0; i < n * PH_NUM_PHONES; i++)
      post[i] = 0.9f / PH_NUM_PHONES + 0.1f * post[i];
    config.min_duration = 2 + trial % 4;
    config.insertion_penalty = trial % 2 ? 0.0f : 0.3f;
    for (guint lag = 1; lag <= 8; lag++) {
      config.max_lag = lag;
      GArray *segments = decode (lm, &config, post, n);
      assert_valid_path (segments, n, lm, config.min_duration);
      g_array_unref (segments);
    }
    config.max_lag = n;
    GArray *offline = decode (lm, &config, post, n);
    config.max_lag = PH_DECODER_MAX_LAG;
    GArray *long_lag = decode (lm, &config, post, n);
    g_assert_cmpuint (offline->len, ==, long_lag->len);
    g_assert_cmpmem (offline->data, offline->len * sizeof (PhDecodedSegment),
                     long_lag->data, long_lag->len * sizeof (PhDecodedSegment));
    g_array_unref (offline);
    g_array_unref (long_lag);
    ph_phone_lm_free (lm);
  }
  g_free (post);
  g_rand_free (rand);
}

static void
test_decoder_bad_input (void)
{
  GRand *rand = g_rand_new_with_seed (3);
  PhPhoneLm *lm = small_lm (rand);
  PhDecoderConfig config;
  g_autoptr (GError) error = NULL;
  float post[PH_NUM_PHONES];

  ph_decoder_config_init (&config);
  config.max_lag = 0;
  g_assert_null (ph_decoder_new (lm, &config, &error));
  g_assert_nonnull (strstr (error->message, "lag"));
  g_clear_error (&error);
  config.max_lag = 10;
  config.lm_weight = NAN;
  g_assert_null (ph_decoder_new (lm, &config, &error));
  g_assert_nonnull (strstr (error->message, "LM weight"));
  config.lm_weight = 1;
  /* NaN, infinite and negative posteriors count as 0: segments still tile */
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    post[p] = p % 3 == 0 ? NAN : p % 3 == 1 ? -INFINITY : -1;
  GArray *segments = g_array_new (FALSE, FALSE, sizeof (PhDecodedSegment));
  PhDecoder *decoder = ph_decoder_new (lm, &config, NULL);
  for (guint t = 0; t < 20; t++)
    ph_decoder_push (decoder, post, collect_segment, segments);
  ph_decoder_flush (decoder, collect_segment, segments);
  g_assert_cmpuint (segments->len, >=, 1);
  g_assert_cmpuint (g_array_index (segments, PhDecodedSegment, 0).start_frame, ==, 0);
  ph_decoder_free (decoder);
  g_array_unref (segments);
  ph_phone_lm_free (lm);
  g_rand_free (rand);
}

/* ---- the labeller and model files ---- */

static PhModel *
model_with_lm (void)
{
  PhModel *model = test_random_model (13, 16, 1, 2, 7, 0.3, 0.5);
  PhPhoneLm *lm = test_random_phone_lm (2, 50);

  ph_model_set_lm (model, lm);
  ph_phone_lm_free (lm);
  return model;
}

static float *
noise_audio (guint n)
{
  GRand *rand = g_rand_new_with_seed (4);
  float *audio = g_new (float, n);

  for (guint i = 0; i < n; i++)
    audio[i] = (float) (0.3 * sin (i * (0.01 + 0.002 * (i / 1600 % 7))) +
                        0.05 * g_rand_double_range (rand, -1, 1));
  g_rand_free (rand);
  return audio;
}

typedef struct {
  GArray *segments;   /* PhSegment */
  GArray *posteriors; /* float */
} Labels;

static void
on_label_frame (const PhFrame *frame, gpointer user_data)
{
  g_array_append_vals (((Labels *) user_data)->posteriors, frame->posteriors, PH_NUM_PHONES);
}

static void
on_label_segment (const PhSegment *segment, gpointer user_data)
{
  g_array_append_val (((Labels *) user_data)->segments, *segment);
}

/* Labels `audio` pushed in chunks of the given sizes (cycled; 0 = all at once). */
static Labels
label_in_chunks (PhModel *model, const PhDecoderConfig *config, const float *audio, guint n,
                 const guint *chunks, guint n_chunks)
{
  PhLabellerCallbacks callbacks = { on_label_frame, on_label_segment };
  Labels labels = { g_array_new (FALSE, FALSE, sizeof (PhSegment)),
                    g_array_new (FALSE, FALSE, sizeof (float)) };
  PhLabeller *labeller = ph_labeller_new (model, 3, NULL);

  g_assert_true (ph_labeller_set_segmenter (labeller, PH_SEGMENTER_DECODER, config, NULL));
  g_assert_true (ph_labeller_uses_decoder (labeller));
  for (guint pos = 0, i = 0; pos < n; i++) {
    guint size = n_chunks ? MIN (chunks[i % n_chunks], n - pos) : n;
    ph_labeller_push_f32 (labeller, audio + pos, size, &callbacks, &labels);
    pos += size;
  }
  ph_labeller_flush (labeller, &callbacks, &labels);
  ph_labeller_free (labeller);
  return labels;
}

static void
labels_clear (Labels *labels)
{
  g_array_unref (labels->segments);
  g_array_unref (labels->posteriors);
}

/* The labeller's segments equal the decoder's on the labeller's own posteriors, for
 * any chunking of the audio. */
static void
test_labeller_decodes (void)
{
  PhModel *model = model_with_lm ();
  guint n = 16000 * 3;
  float *audio = noise_audio (n);
  PhDecoderConfig config;
  guint chunks[][3] = { { 0 }, { 160, 0, 0 }, { 1, 333, 4096 }, { 7919, 17, 1 } };

  ph_decoder_config_init (&config);
  config.max_lag = 20;
  config.insertion_penalty = 0;   /* a random model: let it change phones often */
  Labels whole = label_in_chunks (model, &config, audio, n, NULL, 0);
  g_assert_cmpuint (whole.segments->len, >, 1);
  for (guint c = 1; c < G_N_ELEMENTS (chunks); c++) {
    Labels chunked = label_in_chunks (model, &config, audio, n, chunks[c],
                                      chunks[c][1] ? 3 : 1);
    g_assert_cmpuint (chunked.segments->len, ==, whole.segments->len);
    g_assert_cmpmem (chunked.segments->data, chunked.segments->len * sizeof (PhSegment),
                     whole.segments->data, whole.segments->len * sizeof (PhSegment));
    labels_clear (&chunked);
  }
  /* the same segments from a decoder run on the frames' posteriors */
  config.min_duration = 3;
  GArray *direct = decode (model->lm, &config, (const float *) whole.posteriors->data,
                           whole.posteriors->len / PH_NUM_PHONES);
  g_assert_cmpuint (direct->len, ==, whole.segments->len);
  for (guint i = 0; i < direct->len; i++) {
    PhDecodedSegment *d = &g_array_index (direct, PhDecodedSegment, i);
    PhSegment *s = &g_array_index (whole.segments, PhSegment, i);
    g_assert_cmpuint (d->start_frame, ==, s->start_frame);
    g_assert_cmpuint (d->n_frames, ==, s->n_frames);
    g_assert_cmpint (d->phone, ==, s->phone);
  }
  g_array_unref (direct);
  labels_clear (&whole);
  g_free (audio);
  ph_model_unref (model);
}

/* Greedy without an LM; the decoder refused without one; AUTO picks by the model. */
static void
test_labeller_segmenter_choice (void)
{
  PhModel *plain = test_random_model (13, 16, 1, 2, 7, 0.3, 0.5);
  PhModel *with_lm = model_with_lm ();
  PhDecoderConfig config;
  g_autoptr (GError) error = NULL;
  PhLabeller *labeller = ph_labeller_new (plain, 3, NULL);

  ph_decoder_config_init (&config);
  g_assert_false (ph_labeller_uses_decoder (labeller));
  g_assert_false (ph_labeller_set_segmenter (labeller, PH_SEGMENTER_DECODER, &config, &error));
  g_assert_nonnull (strstr (error->message, "no phone LM"));
  ph_labeller_set_model (labeller, with_lm);
  g_assert_true (ph_labeller_uses_decoder (labeller));
  guint64 greedy_latency = ph_labeller_latency_samples (labeller) + 3 * 160;
  g_assert_cmpuint (ph_labeller_segment_latency_samples (labeller), ==,
                    ph_labeller_latency_samples (labeller) +
                    (PH_DECODER_DEFAULT_MAX_LAG + 1) * 160);
  g_assert_true (ph_labeller_set_segmenter (labeller, PH_SEGMENTER_GREEDY, &config, NULL));
  g_assert_false (ph_labeller_uses_decoder (labeller));
  g_assert_cmpuint (ph_labeller_segment_latency_samples (labeller), ==, greedy_latency);
  ph_labeller_free (labeller);
  ph_model_unref (plain);
  ph_model_unref (with_lm);
}

/* Switching segmenters mid-stream keeps the segments tiling the stream. */
static void
test_labeller_switch_keeps_tiling (void)
{
  PhModel *model = model_with_lm ();
  PhModel *plain = ph_model_copy (model);
  guint n = 16000 * 2;
  float *audio = noise_audio (n);
  PhLabellerCallbacks callbacks = { on_label_frame, on_label_segment };
  Labels labels = { g_array_new (FALSE, FALSE, sizeof (PhSegment)),
                    g_array_new (FALSE, FALSE, sizeof (float)) };
  PhLabeller *labeller = ph_labeller_new (model, 3, NULL);

  ph_model_set_lm (plain, NULL);
  for (guint part = 0; part < 4; part++) {
    ph_labeller_set_model (labeller, part % 2 ? plain : model);
    ph_labeller_push_f32 (labeller, audio + part * (n / 4), n / 4, &callbacks, &labels);
  }
  ph_labeller_flush (labeller, &callbacks, &labels);
  guint64 t = 0;
  for (guint i = 0; i < labels.segments->len; i++) {
    PhSegment *s = &g_array_index (labels.segments, PhSegment, i);
    g_assert_cmpuint (s->start_frame, ==, t);
    g_assert_cmpuint (s->n_frames, >, 0);
    t += s->n_frames;
  }
  g_assert_cmpuint (t, ==, labels.posteriors->len / PH_NUM_PHONES);
  labels_clear (&labels);
  ph_labeller_free (labeller);
  g_free (audio);
  ph_model_unref (model);
  ph_model_unref (plain);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/phone-lm/closure-expansion", test_closure_expansion);
  g_test_add_func ("/phone-lm/class-sets", test_class_sets);
  g_test_add_func ("/phone-lm/witten-bell-by-hand", test_witten_bell_by_hand);
  g_test_add_func ("/phone-lm/validation", test_lm_validation);
  g_test_add_func ("/decoder/matches-brute-force", test_decoder_matches_brute_force);
  g_test_add_func ("/decoder/streams", test_decoder_streams);
  g_test_add_func ("/decoder/lag-bound", test_decoder_lag_bound);
  g_test_add_func ("/decoder/bad-input", test_decoder_bad_input);
  g_test_add_func ("/decoder/labeller-decodes", test_labeller_decodes);
  g_test_add_func ("/decoder/labeller-segmenter-choice", test_labeller_segmenter_choice);
  g_test_add_func ("/decoder/labeller-switch-keeps-tiling", test_labeller_switch_keeps_tiling);
  return g_test_run ();
}
