/* cmd_label.c: `phonemes label`: the same labelling path as the lstmphonemes element. */
#include <stdio.h>

#include "commands.h"
#include "tool_common.h"

typedef struct {
  gboolean frames;
  gboolean posteriors;
  const PhFeatureConfig *features; /* the model's */
  guint file_rate;
  guint64 file_samples;  /* segments end at the end of the file, as the element's do */
} LabelOutput;

/* The documented .PHN conversion of frame `index`. */
static guint64
frame_to_file_sample (const LabelOutput *out, guint64 index)
{
  return tool_frame_to_file_sample (out->features, index, out->file_rate);
}

static void
print_frame (const PhFrame *frame, gpointer user_data)
{
  const LabelOutput *out = user_data;
  double seconds =
      (double) frame->index * out->features->hop_length / out->features->sample_rate;

  if (out->posteriors) {
    printf ("%.3f", seconds);
    for (guint k = 0; k < PH_NUM_PHONES; k++)
      printf (" %.5f", frame->posteriors[k]);
    printf ("\n");
  } else if (out->frames) {
    printf ("%.3f %s %.4f\n", seconds, ph_phone_name (frame->phone), frame->confidence);
  }
}

static void
print_segment (const PhSegment *segment, gpointer user_data)
{
  const LabelOutput *out = user_data;

  if (out->frames || out->posteriors)
    return;
  printf ("%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n",
          frame_to_file_sample (out, segment->start_frame),
          MIN (frame_to_file_sample (out, segment->start_frame + segment->n_frames),
               out->file_samples),
          ph_phone_name (segment->phone));
}

int
ph_cmd_label (int argc, char **argv)
{
  g_autofree char *model_path = NULL;
  gboolean frames = FALSE, posteriors = FALSE;
  gint min_segment_frames = PH_DEFAULT_MIN_SEGMENT_FRAMES;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
      "Model file (default: the built-in model)", "FILE" },
    { "frames", 0, 0, G_OPTION_ARG_NONE, &frames,
      "One line per 10 ms frame: time_seconds phone confidence", NULL },
    { "posteriors", 0, 0, G_OPTION_ARG_NONE, &posteriors,
      "One line per frame: time_seconds and the 61 posteriors in phone-set order", NULL },
    { "min-segment-frames", 0, 0, G_OPTION_ARG_INT, &min_segment_frames,
      "Smoothing: frames a new phone must last to start a segment (default 3, as the element)",
      "N" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  PhAudio audio = { 0 };
  PhModel *model;
  PhLabeller *labeller;
  LabelOutput out = { 0 };
  PhLabellerCallbacks callbacks = { print_frame, print_segment };

  tool_parse_options ("label", "AUDIO",
                      "label speech with TIMIT phones; default output is .PHN lines "
                      "'start_sample end_sample phone' at the file's sample rate",
                      entries, &argc, &argv);
  if (argc != 2) {
    fprintf (stderr, "phonemes label: expected one AUDIO file (see --help)\n");
    return 2;
  }
  if (!tool_min_segment_frames_valid ("label", min_segment_frames))
    return 2;
  model = tool_load_model (model_path);
  if (!model)
    return 1;
  if (!ph_audio_read (argv[1], &audio, &error)) {
    ph_model_unref (model);
    return tool_fail ("label", error);
  }
  out = (LabelOutput) { frames, posteriors, &model->features, audio.sample_rate,
                        audio.n_samples };
  ph_audio_resample (&audio, model->features.sample_rate);
  labeller = ph_labeller_new (model, min_segment_frames, &error);
  g_assert_no_error (error);
  ph_labeller_push_f32 (labeller, audio.samples, audio.n_samples, &callbacks, &out);
  ph_labeller_flush (labeller, &callbacks, &out);
  ph_labeller_free (labeller);
  ph_audio_clear (&audio);
  ph_model_unref (model);
  return 0;
}
