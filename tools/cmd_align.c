/* cmd_align.c: `phonemes align`: force-align a transcript to audio with the model. */
#include <stdio.h>
#include <string.h>

#include "aligner.h"
#include "commands.h"
#include "tool_audio.h"
#include "tool_common.h"
#include "tool_options.h"

typedef struct {
  char *model_path;
  char *text;
  char *text_file;
  char *phones;
  char *lexicon_path;
  char *output;
  char *reference;
  gboolean frames_out;
  gboolean print_phones;
  gboolean no_silence;
  gboolean no_closures;
  gboolean keep_phones;
  gint min_frames;
  double prior_scale;
  double tolerance_ms;
} AlignOptions;

static void
align_options_clear (AlignOptions *o)
{
  g_free (o->model_path);
  g_free (o->text);
  g_free (o->text_file);
  g_free (o->phones);
  g_free (o->lexicon_path);
  g_free (o->output);
  g_free (o->reference);
}

/* The transcript from --text, --text-file or --phones; NULL with a message if none. */
static char *
read_transcript (const AlignOptions *o, gboolean *is_phones)
{
  g_autoptr (GError) error = NULL;
  char *text = NULL;
  guint given = (o->text != NULL) + (o->text_file != NULL) + (o->phones != NULL);

  *is_phones = o->phones != NULL;
  if (given != 1) {
    fprintf (stderr, "phonemes align: give the transcript with exactly one of --text, "
             "--text-file or --phones (see --help)\n");
    return NULL;
  }
  if (o->text_file && !(text = ph_file_read_bounded (o->text_file, PH_FILE_MAX_TEXT_BYTES,
                                                      "text file", NULL, &error))) {
    fprintf (stderr, "phonemes align: %s\n", error->message);
    return NULL;
  }
  if (text) {
    char *line = g_strdup (aligner_skip_sample_range (text));
    g_free (text);
    return line;
  }
  return g_strdup (o->text ? o->text : o->phones);
}

static void
print_words (const GPtrArray *words)
{
  for (guint w = 0; w < words->len; w++) {
    const PhWord *word = g_ptr_array_index ((GPtrArray *) words, w);
    printf ("%s\t", word->text ? word->text : "-");
    for (guint i = 0; i < word->phones->len; i++)
      printf ("%s%s", i ? " " : "", ph_phone_name (g_array_index (word->phones, gint, i)));
    printf ("\n");
  }
}

/* --frames-out: "start_frame end_frame phone confidence word" per label. */
static void
print_frame_labels (const PhAlignment *a, const GPtrArray *words)
{
  for (guint i = 0; i < a->labels->len; i++) {
    const PhLabel *l = &g_array_index (a->labels, PhLabel, i);
    gint w = g_array_index (a->word_index, gint, i);
    const PhWord *word = w >= 0 ? g_ptr_array_index ((GPtrArray *) words, w) : NULL;
    printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s %.4f %s\n", l->start, l->end,
            ph_phone_name (l->phone), g_array_index (a->confidence, float, i),
            word && word->text ? word->text : "-");
  }
}

static void
print_phn (const GArray *labels)
{
  for (guint i = 0; i < labels->len; i++) {
    const PhLabel *l = &g_array_index (labels, PhLabel, i);
    printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n", l->start, l->end,
            ph_phone_name (l->phone));
  }
}

/* --reference: boundary agreement with a hand (or synthesis) labelling, on stderr. */
static gboolean
report_reference (const AlignOptions *o, const GArray *labels, guint rate)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) reference = ph_labels_read_phn (o->reference, 0, &error);
  guint64 tolerance = (guint64) (o->tolerance_ms * rate / 1000.0 + 0.5);
  PhBoundaryStats stats;

  if (reference == NULL) {
    tool_fail ("align", error);
    return FALSE;
  }
  ph_align_compare_boundaries (reference, labels, tolerance, &stats);
  fprintf (stderr, "reference %s: %u of %u phones matched; boundaries within %.0f ms: "
           "%u/%u (%.1f%%); mean |error| %.1f ms, mean error %+.1f ms\n", o->reference,
           stats.n_matched, stats.n_reference, o->tolerance_ms, stats.n_within,
           stats.n_boundaries,
           stats.n_boundaries ? 100.0 * stats.n_within / stats.n_boundaries : 0.0,
           1000.0 * stats.mean_abs_error / rate, 1000.0 * stats.mean_error / rate);
  return TRUE;
}

static void
configure (Aligner *aligner, const AlignOptions *o, const float *prior)
{
  PhAlignConfig *config = aligner_config (aligner);

  config->min_frames = (guint) o->min_frames;
  config->optional_silence = !o->no_silence;
  config->optional_closures = !o->no_closures;
  config->relabel_variants = !o->keep_phones;
  config->prior_scale = (float) o->prior_scale;
  config->prior = prior;
}

static gboolean
options_valid (const AlignOptions *o, int argc)
{
  if (o->min_frames < 1 || o->min_frames > 100) {
    fprintf (stderr, "phonemes align: --min-frames must be 1..100\n");
    return FALSE;
  }
  if (!(o->prior_scale >= 0 && o->prior_scale <= 10)) {
    fprintf (stderr, "phonemes align: --prior-scale must be 0..10\n");
    return FALSE;
  }
  if (!(o->tolerance_ms > 0)) {
    fprintf (stderr, "phonemes align: --tolerance-ms must be positive\n");
    return FALSE;
  }
  for (guint i = 0; i < 3; i++) {
    static const char *const with_audio[] = { "--output", "--frames-out", "--reference" };
    gboolean given[] = { o->output != NULL, o->frames_out, o->reference != NULL };
    if (!tool_options_exclusive ("align", (ToolOptionUse[]) {
          { "--print-phones", o->print_phones }, { with_audio[i], given[i] } }, 2))
      return FALSE;
  }
  if (!o->print_phones && argc != 2) {
    fprintf (stderr, "phonemes align: expected one AUDIO file (see --help)\n");
    return FALSE;
  }
  return TRUE;
}

/* Labels AUDIO (at the model's `model_rate`), aligns `words`, prints or writes the result
 * at the file's own rate. */
static int
align_audio (Aligner *aligner, guint model_rate, const AlignOptions *o, const char *path,
             const GPtrArray *words)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) labels = NULL;
  g_autofree float *posteriors = NULL;
  float prior[PH_NUM_PHONES];
  double sum[PH_NUM_PHONES] = { 0 };
  PhAudio audio = { 0 };
  ToolAudioSource source;
  PhAlignment *alignment;
  guint n_frames;
  int status = 0;

  /* Decoded and resampled to the model's rate by GStreamer, as for the element. */
  if (!tool_audio_read (path, model_rate, &audio, &source, &error))
    return tool_fail ("align", error);
  posteriors = aligner_posteriors (aligner, &audio, &n_frames);
  aligner_accumulate (posteriors, n_frames, sum);
  for (guint p = 0; p < PH_NUM_PHONES; p++)
    prior[p] = n_frames ? (float) (sum[p] / n_frames) : 0;
  configure (aligner, o, prior);
  alignment = aligner_align (aligner, posteriors, n_frames, words, &error);
  if (alignment == NULL) {
    g_prefix_error (&error, "%s (%.2f s): ", path,
                    (double) source.source_samples / source.source_rate);
    ph_audio_clear (&audio);
    return tool_fail ("align", error);
  }
  labels = aligner_labels_at_rate (aligner, alignment->labels, NULL, source.source_rate,
                                   source.source_samples);
  if (o->frames_out)
    print_frame_labels (alignment, words);
  else if (o->output == NULL)
    print_phn (labels);
  if (o->output && !ph_labels_write_phn (o->output, labels, &error))
    status = tool_fail ("align", error);
  if (o->reference && !report_reference (o, labels, source.source_rate))
    status = 1;
  fprintf (stderr, "%s: %u labels, mean confidence %.3f\n", path, labels->len,
           alignment->mean_confidence);
  ph_alignment_free (alignment);
  ph_audio_clear (&audio);
  return status;
}

int
ph_cmd_align (int argc, char **argv)
{
  AlignOptions o = { .min_frames = PH_ALIGN_DEFAULT_MIN_FRAMES, .tolerance_ms = 20 };
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &o.model_path,
      "Model file (default: the built-in model)", "FILE" },
    { "text", 't', 0, G_OPTION_ARG_STRING, &o.text, "The transcript", "TEXT" },
    { "text-file", 0, 0, G_OPTION_ARG_FILENAME, &o.text_file,
      "Read the transcript from FILE (a TIMIT .TXT's sample range is skipped)", "FILE" },
    { "phones", 0, 0, G_OPTION_ARG_STRING, &o.phones,
      "A phone transcript instead of text: TIMIT or ARPAbet symbols, words separated by '/'",
      "PHONES" },
    { "lexicon", 0, 0, G_OPTION_ARG_FILENAME, &o.lexicon_path,
      "Extra pronunciations, lines 'word phone phone ...' (CMUdict style)", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output,
      "Write the .PHN labels to FILE instead of standard output", "FILE" },
    { "frames-out", 0, 0, G_OPTION_ARG_NONE, &o.frames_out,
      "Print 'start_frame end_frame phone confidence word' in model frames (10 ms)", NULL },
    { "print-phones", 0, 0, G_OPTION_ARG_NONE, &o.print_phones,
      "Only print the words and their phones (no AUDIO needed)", NULL },
    { "min-frames", 0, 0, G_OPTION_ARG_INT, &o.min_frames,
      "Frames each phone lasts at least (default 2)", "N" },
    { "prior-scale", 0, 0, G_OPTION_ARG_DOUBLE, &o.prior_scale,
      "Divide posteriors by their mean over the file to this power (default 0: off)", "A" },
    { "no-silence", 0, 0, G_OPTION_ARG_NONE, &o.no_silence,
      "No optional silence at the ends and between words", NULL },
    { "no-closures", 0, 0, G_OPTION_ARG_NONE, &o.no_closures,
      "No optional closure before stops and affricates", NULL },
    { "keep-phones", 0, 0, G_OPTION_ARG_NONE, &o.keep_phones,
      "Keep the dictionary's phones (do not rename ah to ax etc. as the model hears them)",
      NULL },
    { "reference", 0, 0, G_OPTION_ARG_FILENAME, &o.reference,
      "Compare the boundaries with this .PHN file and report on standard error", "FILE" },
    { "tolerance-ms", 0, 0, G_OPTION_ARG_DOUBLE, &o.tolerance_ms,
      "Boundary tolerance for --reference (default 20)", "MS" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) words = NULL;
  g_autofree char *text = NULL;
  gboolean is_phones;
  PhModel *model = NULL;
  Aligner *aligner = NULL;
  int status = 1;

  tool_parse_options ("align", "AUDIO",
                      "force-align a transcript to speech; prints .PHN lines "
                      "'start_sample end_sample phone' at the file's sample rate",
                      entries, &argc, &argv);
  if (!options_valid (&o, argc) || !(text = read_transcript (&o, &is_phones))) {
    align_options_clear (&o);
    return 2;
  }
  if (!o.print_phones && !(model = tool_load_model (o.model_path)))
    goto out;
  if (!(aligner = aligner_new (model, o.lexicon_path, &error)) ||
      !(words = aligner_words (aligner, text, is_phones, &error))) {
    status = tool_fail ("align", error);
    goto out;
  }
  if (o.print_phones) {
    print_words (words);
    status = 0;
  } else {
    status = align_audio (aligner, model->features.sample_rate, &o, argv[1], words);
  }
out:
  aligner_free (aligner);
  if (model)
    ph_model_unref (model);
  align_options_clear (&o);
  return status;
}
