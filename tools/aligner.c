/* aligner.c: posteriors from the labeller, words from the lexicon, Viterbi alignment
 * and labels at the file's rate, for `phonemes align` and `phonemes corpus import`. */
#include "aligner.h"

#include <string.h>

#ifdef PH_HAVE_LEXICON
#include "ph_lexicon.h"
#include "tool_common.h"
#endif

struct _Aligner {
  PhModel *model;
  PhLabeller *labeller;
  PhAlignConfig config;
#ifdef PH_HAVE_LEXICON
  PhLexicon *lexicon;
#endif
};

Aligner *
aligner_new (PhModel *model, const char *lexicon_path, GError **error)
{
  PhLabeller *labeller = model ? ph_labeller_new (model, 1, error) : NULL;
  Aligner *aligner;

  if (model && labeller == NULL)
    return NULL;
  aligner = g_new0 (Aligner, 1);
  aligner->model = model ? ph_model_ref (model) : NULL;
  aligner->labeller = labeller;
  ph_align_config_init (&aligner->config);
#ifdef PH_HAVE_LEXICON
  aligner->lexicon = ph_lexicon_new (error);
  if (aligner->lexicon == NULL ||
      (lexicon_path && !ph_lexicon_load_file (aligner->lexicon, lexicon_path, error))) {
    aligner_free (aligner);
    return NULL;
  }
#else
  if (lexicon_path) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                 "this build has no lexicon (flite was not found): --lexicon is unavailable");
    aligner_free (aligner);
    return NULL;
  }
#endif
  return aligner;
}

void
aligner_free (Aligner *aligner)
{
  if (aligner == NULL)
    return;
#ifdef PH_HAVE_LEXICON
  ph_lexicon_free (aligner->lexicon);
#endif
  if (aligner->labeller)
    ph_labeller_free (aligner->labeller);
  if (aligner->model)
    ph_model_unref (aligner->model);
  g_free (aligner);
}

PhAlignConfig *
aligner_config (Aligner *aligner)
{
  return &aligner->config;
}

GPtrArray *
aligner_words (Aligner *aligner, const char *text, gboolean phones, GError **error)
{
  if (phones)
    return ph_words_parse_phones (text, error);
#ifdef PH_HAVE_LEXICON
  if (aligner->lexicon)
    return ph_lexicon_pronounce (aligner->lexicon, text, error);
#else
  (void) aligner;
#endif
  g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
               "no lexicon in this build (flite was not found): give phones instead of text");
  return NULL;
}

static void
collect_frame (const PhFrame *frame, gpointer user_data)
{
  GArray *posteriors = user_data;

  g_array_set_size (posteriors, (guint) (frame->index + 1) * PH_NUM_PHONES);
  memcpy (&g_array_index (posteriors, float, frame->index * PH_NUM_PHONES),
          frame->posteriors, PH_NUM_PHONES * sizeof (float));
}

float *
aligner_posteriors (Aligner *aligner, const PhAudio *audio, guint *n_frames)
{
  PhLabellerCallbacks callbacks = { collect_frame, NULL };
  GArray *posteriors = g_array_new (FALSE, FALSE, sizeof (float));
  PhAudio copy = *audio;
  guint rate = aligner->model->features.sample_rate;

  if (audio->sample_rate != rate) {
    copy.samples = g_memdup2 (audio->samples, audio->n_samples * sizeof (float));
    ph_audio_resample (&copy, rate);
  }
  ph_labeller_reset (aligner->labeller);
  ph_labeller_push_f32 (aligner->labeller, copy.samples, copy.n_samples, &callbacks, posteriors);
  ph_labeller_flush (aligner->labeller, &callbacks, posteriors);
  if (copy.samples != audio->samples)
    ph_audio_clear (&copy);
  *n_frames = posteriors->len / PH_NUM_PHONES;
  return (float *) g_array_free (posteriors, FALSE);
}

void
aligner_accumulate (const float *posteriors, guint n_frames, double *sum)
{
  for (guint t = 0; t < n_frames; t++)
    for (guint p = 0; p < PH_NUM_PHONES; p++)
      sum[p] += posteriors[(gsize) t * PH_NUM_PHONES + p];
}

PhAlignment *
aligner_align (Aligner *aligner, const float *posteriors, guint n_frames,
               const GPtrArray *words, GError **error)
{
  return ph_align (posteriors, n_frames, words, &aligner->config, 1, error);
}

guint64
aligner_frame_to_sample (const Aligner *aligner, guint64 frame, guint rate)
{
  return tool_frame_to_file_sample (&aligner->model->features, frame, rate);
}

GArray *
aligner_labels_at_rate (const Aligner *aligner, const GArray *frame_labels,
                        const GArray *unlabelled, guint rate, guint64 n_samples)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (PhLabel));

  for (guint i = 0; i < frame_labels->len; i++) {
    const PhLabel *l = &g_array_index (frame_labels, PhLabel, i);
    PhLabel s = { aligner_frame_to_sample (aligner, l->start, rate),
                  aligner_frame_to_sample (aligner, l->end, rate), l->phone };
    if (n_samples > 0) {
      s.start = MIN (s.start, n_samples);
      s.end = i + 1 == frame_labels->len ? n_samples : MIN (s.end, n_samples);
    }
    if (unlabelled && g_array_index (unlabelled, gboolean, i))
      continue;
    if (s.end > s.start)
      g_array_append_val (out, s);
  }
  return out;
}

char *
aligner_words_text (const Aligner *aligner, const PhAlignment *alignment,
                    const GPtrArray *words, guint rate, guint64 n_samples)
{
  GString *out = g_string_new (NULL);
  guint i = 0, n = alignment->labels->len;

  while (i < n) {
    gint word = g_array_index (alignment->word_index, gint, i);
    guint j = i + 1;
    guint64 start, end;
    const PhWord *w;
    while (j < n && g_array_index (alignment->word_index, gint, j) == word)
      j++;
    if (word >= 0) {
      w = g_ptr_array_index ((GPtrArray *) words, word);
      start = aligner_frame_to_sample (aligner, g_array_index (alignment->labels, PhLabel, i).start,
                                       rate);
      end = aligner_frame_to_sample (aligner, g_array_index (alignment->labels, PhLabel, j - 1).end,
                                     rate);
      if (n_samples > 0)
        end = MIN (end, n_samples);
      g_string_append_printf (out, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n", start, end,
                              w->text ? w->text : "?");
    }
    i = j;
  }
  return g_string_free (out, FALSE);
}

const char *
aligner_skip_sample_range (const char *text)
{
  const char *p = text;

  for (guint field = 0; field < 2; field++) {
    while (g_ascii_isspace (*p))
      p++;
    if (!g_ascii_isdigit (*p))
      return text;
    while (g_ascii_isdigit (*p))
      p++;
  }
  return g_ascii_isspace (*p) ? p : text;
}
