/* cmd_eval.c: `phonemes eval`: frame accuracy, phone error rate, per-phone accuracy and
 * the confusion matrix of a model on a labelled corpus. */
#include <stdio.h>

#include "commands.h"
#include "decoder_options.h"
#include "tool_common.h"
#include "train_data.h"

static void
print_text (const PhScore *s, guint utterances)
{
  printf ("utterances: %u\nframes: %" G_GUINT64_FORMAT "\n", utterances, s->frames);
  printf ("frame accuracy (61 classes): %.2f%%\n", 100 * ph_score_frame_accuracy61 (s));
  printf ("frame accuracy (39 classes): %.2f%%\n", 100 * ph_score_frame_accuracy39 (s));
  printf ("phone error rate (39 classes): %.2f%% (%" G_GUINT64_FORMAT " errors / %"
          G_GUINT64_FORMAT " reference phones)\n", 100 * ph_score_phone_error_rate (s),
          s->phone_errors, s->phone_reference);
  printf ("\nper-phone frame accuracy (61 classes):\n");
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    if (s->per_phone_total[p])
      printf ("  %-5s %6.2f%% of %" G_GUINT64_FORMAT "\n", ph_phone_name (p),
              100.0 * s->per_phone_correct[p] / s->per_phone_total[p], s->per_phone_total[p]);
  printf ("\nconfusion matrix (39 classes, rows = reference, columns = hypothesis):\n     ");
  for (gint h = 0; h < PH_NUM_PHONES39; h++)
    printf (" %5s", ph_phone39_name (h));
  printf ("\n");
  for (gint r = 0; r < PH_NUM_PHONES39; r++) {
    printf ("%-5s", ph_phone39_name (r));
    for (gint h = 0; h < PH_NUM_PHONES39; h++)
      printf (" %5" G_GUINT64_FORMAT, s->confusion39[r][h]);
    printf ("\n");
  }
}

static void
print_json (const PhScore *s, guint utterances)
{
  printf ("{\n  \"utterances\": %u,\n  \"frames\": %" G_GUINT64_FORMAT ",\n", utterances, s->frames);
  printf ("  \"frame_accuracy61\": %.6f,\n  \"frame_accuracy39\": %.6f,\n",
          ph_score_frame_accuracy61 (s), ph_score_frame_accuracy39 (s));
  printf ("  \"phone_error_rate\": %.6f,\n  \"phone_errors\": %" G_GUINT64_FORMAT ",\n"
          "  \"reference_phones\": %" G_GUINT64_FORMAT ",\n", ph_score_phone_error_rate (s),
          s->phone_errors, s->phone_reference);
  printf ("  \"per_phone\": {");
  for (gint p = 0, first = 1; p < PH_NUM_PHONES; p++) {
    if (!s->per_phone_total[p])
      continue;
    printf ("%s\n    \"%s\": {\"frames\": %" G_GUINT64_FORMAT ", \"accuracy\": %.6f}",
            first ? "" : ",", ph_phone_name (p), s->per_phone_total[p],
            (double) s->per_phone_correct[p] / s->per_phone_total[p]);
    first = 0;
  }
  printf ("\n  },\n  \"classes39\": [");
  for (gint h = 0; h < PH_NUM_PHONES39; h++)
    printf ("%s\"%s\"", h ? ", " : "", ph_phone39_name (h));
  printf ("],\n  \"confusion39\": [");
  for (gint r = 0; r < PH_NUM_PHONES39; r++) {
    printf ("%s\n    [", r ? "," : "");
    for (gint h = 0; h < PH_NUM_PHONES39; h++)
      printf ("%s%" G_GUINT64_FORMAT, h ? ", " : "", s->confusion39[r][h]);
    printf ("]");
  }
  printf ("\n  ]\n}\n");
}

int
ph_cmd_eval (int argc, char **argv)
{
  g_autofree char *model_path = NULL;
  g_auto (GStrv) corpora = NULL;
  gboolean json = FALSE, core_test = FALSE, keep_sa = FALSE;
  gint min_segment_frames = PH_DEFAULT_MIN_SEGMENT_FRAMES;
  ToolDecoderOptions decoder;
  tool_decoder_options_init (&decoder);
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
      "Model file (default: the built-in model)", "FILE" },
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME_ARRAY, &corpora,
      "Labelled corpus directory; repeatable", "DIR" },
    { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print the results as JSON", NULL },
    { "timit-core-test", 0, 0, G_OPTION_ARG_NONE, &core_test,
      "TIMIT: only the 24-speaker core test set", NULL },
    { "timit-keep-sa", 0, 0, G_OPTION_ARG_NONE, &keep_sa, "TIMIT: keep SA1/SA2", NULL },
    { "min-segment-frames", 0, 0, G_OPTION_ARG_INT, &min_segment_frames,
      "Segment smoothing, as in `phonemes label` (default 3)", "N" },
    TOOL_DECODER_OPTION_ENTRIES (&decoder),
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) utts = NULL;
  g_autofree PhScore *score = g_new (PhScore, 1);
  guint flags;
  PhModel *model;
  PhLabeller *labeller;
  ToolProgress progress;

  tool_parse_options ("eval", "", "score a model: frame accuracy, phone error rate, confusions",
                      entries, &argc, &argv);
  if (!corpora || argc != 1) {
    fprintf (stderr, "phonemes eval: --corpus DIR is required (see --help)\n");
    return 2;
  }
  flags = (keep_sa ? 0 : PH_CORPUS_TIMIT_SKIP_SA) | (core_test ? PH_CORPUS_TIMIT_CORE_TEST : 0);
  model = tool_load_model (model_path);
  if (!model)
    return 1;
  utts = train_corpus_load (corpora, flags, model->features.sample_rate, &error);
  if (!utts) {
    ph_model_unref (model);
    return tool_fail ("eval", error);
  }
  labeller = ph_labeller_new (model, CLAMP (min_segment_frames, 1, PH_MAX_MIN_SEGMENT_FRAMES), &error);
  g_assert_no_error (error);
  if (!tool_decoder_options_apply (&decoder, labeller, &error)) {
    ph_labeller_free (labeller);
    ph_model_unref (model);
    tool_decoder_options_clear (&decoder);
    return tool_fail ("eval", error);
  }
  tool_decoder_options_clear (&decoder);
  ph_score_init (score);
  tool_progress_start (&progress, "scoring", utts->len);
  for (guint i = 0; i < utts->len; i++) {
    train_utt_score (g_ptr_array_index (utts, i), labeller, score);
    tool_progress_update (&progress, i + 1);
  }
  tool_progress_finish (&progress);
  if (json)
    print_json (score, utts->len);
  else
    print_text (score, utts->len);
  ph_labeller_free (labeller);
  ph_model_unref (model);
  return 0;
}
