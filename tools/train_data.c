/* train_data.c: corpora for training and evaluation, augmentation, scoring. */
#include "train_data.h"

#include "ph_random.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void
train_utt_free (TrainUtt *utt)
{
  if (!utt)
    return;
  g_free (utt->path);
  ph_audio_clear (&utt->audio);
  if (utt->labels)
    g_array_unref (utt->labels);
  g_free (utt->features);
  g_free (utt->targets);
  g_free (utt);
}

/* Reads the labels of `u` in samples at the audio's original rate. */
static GArray *
read_labels (const PhUtterance *u, const PhAudio *audio, GError **error)
{
  if (g_str_has_suffix (u->label_path, ".TextGrid") || g_str_has_suffix (u->label_path, ".textgrid"))
    return ph_labels_read_textgrid (u->label_path, audio->sample_rate, error);
  return ph_labels_read_phn (u->label_path, audio->n_samples, error);
}

static void
rescale_labels (GArray *labels, guint from_rate, guint to_rate)
{
  if (from_rate == to_rate)
    return;
  for (guint i = 0; i < labels->len; i++) {
    PhLabel *l = &g_array_index (labels, PhLabel, i);
    l->start = l->start * to_rate / from_rate;
    l->end = l->end * to_rate / from_rate;
  }
}

static TrainUtt *
load_utterance (const PhUtterance *u, guint rate, GError **error)
{
  TrainUtt *utt = g_new0 (TrainUtt, 1);
  guint original_rate;

  utt->path = g_strdup (u->audio_path);
  if (!ph_audio_read (u->audio_path, &utt->audio, error))
    goto fail;
  utt->labels = read_labels (u, &utt->audio, error);
  if (!utt->labels)
    goto fail;
  original_rate = utt->audio.sample_rate;
  ph_audio_resample (&utt->audio, rate);
  rescale_labels (utt->labels, original_rate, rate);
  return utt;
fail:
  train_utt_free (utt);
  return NULL;
}

GPtrArray *
train_corpus_load (char **dirs, guint flags, guint rate, GError **error)
{
  GPtrArray *utts = g_ptr_array_new_with_free_func ((GDestroyNotify) train_utt_free);
  guint skipped = 0;

  for (char **dir = dirs; dir && *dir; dir++) {
    g_autoptr (GPtrArray) list = ph_corpus_list (*dir, flags, error);
    ToolProgress progress;

    if (!list) {
      g_ptr_array_unref (utts);
      return NULL;
    }
    tool_progress_start (&progress, "loading", list->len);
    for (guint i = 0; i < list->len; i++) {
      g_autoptr (GError) local = NULL;
      TrainUtt *utt = load_utterance (g_ptr_array_index (list, i), rate, &local);

      if (utt)
        g_ptr_array_add (utts, utt);
      else {
        fprintf (stderr, "phonemes: skipping: %s\n", local->message);
        skipped++;
      }
      tool_progress_update (&progress, i + 1);
    }
    tool_progress_finish (&progress);
  }
  if (utts->len == 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "no usable labelled utterances found (%u skipped)", skipped);
    g_ptr_array_unref (utts);
    return NULL;
  }
  return utts;
}

/* "MIN,MAX" speed factors, 0.5 <= MIN <= MAX <= 2. */
static gboolean
parse_speed_range (const char *text, Augment *augment, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  char *end_min = NULL, *end_max = NULL;

  if (g_strv_length (parts) == 2) {
    augment->speed_min = g_ascii_strtod (parts[0], &end_min);
    augment->speed_max = g_ascii_strtod (parts[1], &end_max);
  }
  if (end_min == NULL || *end_min || end_min == parts[0] || *end_max || end_max == parts[1]
      || !(augment->speed_min >= 0.5 && augment->speed_min <= augment->speed_max
           && augment->speed_max <= 2.0)) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "bad speed range '%s' (expected MIN,MAX with 0.5 <= MIN <= MAX <= 2)", text);
    return FALSE;
  }
  return TRUE;
}

gboolean
augment_parse (const char *text, const char *speed_range, Augment *augment, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ",", -1);
  guint *flags = &augment->flags;

  *flags = 0;
  if (!parse_speed_range (speed_range, augment, error))
    return FALSE;
  for (char **p = parts; *p; p++) {
    const char *w = g_strstrip (*p);
    if (!strcmp (w, "none") || !*w)
      continue;
    else if (!strcmp (w, "all"))
      *flags |= AUGMENT_GAIN | AUGMENT_NOISE | AUGMENT_TELEPHONE | AUGMENT_REVERB |
          AUGMENT_SPEED; /* not vtlp: it gained nothing on held-out voices (models/README.md) */
    else if (!strcmp (w, "vtlp"))
      *flags |= AUGMENT_VTLP;
    else if (!strcmp (w, "speed"))
      *flags |= AUGMENT_SPEED;
    else if (!strcmp (w, "gain"))
      *flags |= AUGMENT_GAIN;
    else if (!strcmp (w, "noise"))
      *flags |= AUGMENT_NOISE;
    else if (!strcmp (w, "telephone"))
      *flags |= AUGMENT_TELEPHONE;
    else if (!strcmp (w, "reverb"))
      *flags |= AUGMENT_REVERB;
    else {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "unknown augmentation '%s' (expected none, all, gain, noise, telephone, reverb, "
                   "speed, vtlp)",
                   w);
      return FALSE;
    }
  }
  return TRUE;
}

static double
uniform (guint64 *state, double lo, double hi)
{
  return lo + (hi - lo) * ph_random_double (state);
}

static double
gaussian (guint64 *state)
{
  double u1 = uniform (state, 1e-12, 1.0), u2 = uniform (state, 0.0, 1.0);

  return sqrt (-2 * log (u1)) * cos (2 * G_PI * u2);
}

static double
rms (const float *x, gsize n)
{
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (double) x[i] * x[i];
  return n ? sqrt (sum / n) : 0;
}

static void
add_noise (float *x, gsize n, guint64 *rng)
{
  double snr_db = uniform (rng, 5, 40);
  double level = MAX (rms (x, n), 1e-4) / pow (10, snr_db / 20);
  gboolean pink = uniform (rng, 0, 1) < 0.5;
  double b0 = 0, b1 = 0, b2 = 0;

  for (gsize i = 0; i < n; i++) {
    double w = gaussian (rng);
    if (pink) {
      /* Paul Kellet's economy pink filter, scaled to unit variance roughly. */
      b0 = 0.99765 * b0 + w * 0.0990460;
      b1 = 0.96300 * b1 + w * 0.2965164;
      b2 = 0.57000 * b2 + w * 1.0526913;
      w = (b0 + b1 + b2 + w * 0.1848) * 0.25;
    }
    x[i] += (float) (level * w);
  }
}

/* RBJ biquad, applied in place. */
static void
biquad (float *x, gsize n, guint rate, double freq, gboolean highpass)
{
  double w0 = 2 * G_PI * freq / rate, alpha = sin (w0) / G_SQRT2; /* Butterworth, Q = 1/sqrt 2 */
  double cw = cos (w0);
  double b0 = highpass ? (1 + cw) / 2 : (1 - cw) / 2;
  double b1 = highpass ? -(1 + cw) : 1 - cw;
  double a0 = 1 + alpha, a1 = -2 * cw, a2 = 1 - alpha;
  double x1 = 0, x2 = 0, y1 = 0, y2 = 0;

  for (gsize i = 0; i < n; i++) {
    double y = (b0 * x[i] + b1 * x1 + b0 * x2 - a1 * y1 - a2 * y2) / a0;
    x2 = x1;
    x1 = x[i];
    y2 = y1;
    y1 = y;
    x[i] = (float) y;
  }
}

static void
telephone_band (float *x, gsize n, guint rate)
{
  double top = MIN (3400.0, rate * 0.45);

  for (int pass = 0; pass < 2; pass++) {
    biquad (x, n, rate, 300, TRUE);
    biquad (x, n, rate, top, FALSE);
  }
}

/* A sparse synthetic room: the direct path plus exponentially decaying reflections. */
static void
add_reverb (float *x, gsize n, guint rate, guint64 *rng)
{
  enum { TAPS = 48 };
  double rt60 = uniform (rng, 0.15, 0.7);
  double mix = uniform (rng, 0.3, 1.0);
  gsize delay[TAPS];
  double gain[TAPS];
  float *dry = g_memdup2 (x, n * sizeof (float));
  double norm = 1;

  for (int k = 0; k < TAPS; k++) {
    double t = uniform (rng, 0.003, rt60);
    delay[k] = (gsize) (t * rate);
    gain[k] = mix * (uniform (rng, 0, 1) < 0.5 ? -1 : 1) * pow (10, -3 * t / rt60) *
        uniform (rng, 0.1, 0.5);
    norm += gain[k] * gain[k];
  }
  for (gsize i = 0; i < n; i++) {
    double y = dry[i];
    for (int k = 0; k < TAPS; k++)
      if (i >= delay[k])
        y += gain[k] * dry[i - delay[k]];
    x[i] = (float) (y / sqrt (norm));
  }
  g_free (dry);
}

/* Speed perturbation: plays the audio `factor` times faster, which shifts formants and
 * pitch with the tempo, as a shorter or longer vocal tract would (Kaldi's "speed
 * perturbation"). Rates are whole hundreds of Hz so the resampler stays polyphase. */
static void
change_speed (PhAudio *audio, GArray *labels, double factor)
{
  guint rate = audio->sample_rate;
  guint from = (guint) (rate * factor / 100 + 0.5) * 100;

  if (from == rate)
    return;
  audio->sample_rate = from;
  ph_audio_resample (audio, rate);
  rescale_labels (labels, from, rate);
}

/* A distorted copy of `utt`'s audio (and its labels, which speed changes move), and
 * the VTLP warp its features are to be computed with (1 = none). */
static void
augmented_copy (const TrainUtt *utt, const Augment *augment, guint64 seed, PhAudio *out,
                GArray **labels, double *warp)
{
  guint flags = augment->flags;
  float *x;
  gsize n;
  guint64 rng = seed;

  out->samples = g_memdup2 (utt->audio.samples, utt->audio.n_samples * sizeof (float));
  out->n_samples = utt->audio.n_samples;
  out->sample_rate = utt->audio.sample_rate;
  *labels = g_array_copy (utt->labels);
  if ((flags & AUGMENT_SPEED) && uniform (&rng, 0, 1) < 0.7)
    change_speed (out, *labels, uniform (&rng, augment->speed_min, augment->speed_max));
  *warp = 1.0;
  if ((flags & AUGMENT_VTLP) && uniform (&rng, 0, 1) < 0.7)
    *warp = uniform (&rng, 0.8, 1.2);
  x = out->samples;
  n = out->n_samples;

  if ((flags & AUGMENT_REVERB) && uniform (&rng, 0, 1) < 0.3)
    add_reverb (x, n, out->sample_rate, &rng);
  if ((flags & AUGMENT_TELEPHONE) && uniform (&rng, 0, 1) < 0.3)
    telephone_band (x, n, out->sample_rate);
  if ((flags & AUGMENT_NOISE) && uniform (&rng, 0, 1) < 0.5)
    add_noise (x, n, &rng);
  if (flags & AUGMENT_GAIN) {
    double g = pow (10, uniform (&rng, -12, 12) / 20);
    for (gsize i = 0; i < n; i++)
      x[i] = (float) CLAMP (x[i] * g, -1.0, 1.0);
  }
}

void
train_utt_compute (TrainUtt *utt, const PhFeatureConfig *config, const Augment *augment,
                   guint64 seed)
{
  PhAudio audio = utt->audio;
  GArray *labels = utt->labels;
  double warp = 1.0;

  if (augment)
    augmented_copy (utt, augment, seed, &audio, &labels, &warp);
  g_free (utt->features);
  g_free (utt->targets);
  utt->features = ph_features_compute_warped_f32 (config, warp, audio.samples,
                                                  audio.n_samples, &utt->n_frames, NULL);
  utt->targets = ph_labels_to_frame_targets (labels, config->hop_length, utt->n_frames);
  if (augment) {
    ph_audio_clear (&audio);
    g_array_unref (labels);
  }
}

typedef struct {
  GArray *hypothesis_frames;   /* gint */
  GArray *hypothesis_segments; /* gint */
} ScoreCollector;

static void
collect_frame (const PhFrame *frame, gpointer user_data)
{
  ScoreCollector *c = user_data;

  g_array_append_val (c->hypothesis_frames, frame->phone);
}

static void
collect_segment (const PhSegment *segment, gpointer user_data)
{
  ScoreCollector *c = user_data;

  g_array_append_val (c->hypothesis_segments, segment->phone);
}

void
train_utt_score (TrainUtt *utt, PhLabeller *labeller, PhScore *score)
{
  const PhLabellerCallbacks callbacks = { collect_frame, collect_segment };
  const PhModel *model = ph_labeller_model (labeller);
  ScoreCollector c = {
    g_array_new (FALSE, FALSE, sizeof (gint)),
    g_array_new (FALSE, FALSE, sizeof (gint)),
  };
  g_autoptr (GArray) reference = g_array_new (FALSE, FALSE, sizeof (gint));
  g_autofree gint *targets = NULL;

  ph_labeller_reset (labeller);
  ph_labeller_push_f32 (labeller, utt->audio.samples, utt->audio.n_samples, &callbacks, &c);
  ph_labeller_flush (labeller, &callbacks, &c);
  targets = ph_labels_to_frame_targets (utt->labels, model->features.hop_length,
                                        c.hypothesis_frames->len);
  ph_score_add_frames (score, targets, (const gint *) c.hypothesis_frames->data,
                       c.hypothesis_frames->len);
  for (guint i = 0; i < utt->labels->len; i++)
    g_array_append_val (reference, g_array_index (utt->labels, PhLabel, i).phone);
  ph_score_add_sequence (score, (const gint *) reference->data, reference->len,
                         (const gint *) c.hypothesis_segments->data, c.hypothesis_segments->len);
  g_array_unref (c.hypothesis_frames);
  g_array_unref (c.hypothesis_segments);
}
