/* cmd_label.c: `phonemes label`: the lstmphonemes element's labelling, offline. The audio
 * comes through the elements that go in front of the element (tool_audio.c) and streams
 * into the same PhLabeller, so the output is the element's for every input it reads. */
#include <stdio.h>
#include <gst/gst.h>

#include "commands.h"
#include "decoder_options.h"
#include "label_formats.h"
#include "tool_audio.h"
#include "tool_common.h"
#include "tool_options.h"

typedef struct {
  PhLabeller *labeller;
  const PhFeatureConfig *features;  /* the model's */
  ToolAudioSource source;           /* the file's own rate, for .PHN samples */
  gboolean frames;
  gboolean posteriors;
  PhVisemeSet viseme_set;           /* the visemes of JSON lines (and of --visemes) */
  gboolean flushing;                /* the last segment ends at the audio's end */
  guint64 samples_at_flush;         /* samples seen at the model's rate, then */
  LabelWriter *writer;              /* segments, unless --frames or --posteriors */
} LabelRun;

/* The start of frame `index` in ns, as the element computes it (rounded down). */
static guint64
frame_ns (const LabelRun *run, guint64 index)
{
  return ph_frame_to_ns (index, run->features->hop_length, run->features->sample_rate);
}

static void
print_frame (const PhFrame *frame, gpointer user_data)
{
  const LabelRun *run = user_data;
  double seconds = (double) frame->index * run->features->hop_length /
                   run->features->sample_rate;

  if (run->posteriors) {
    printf ("%.3f", seconds);
    for (guint k = 0; k < PH_NUM_PHONES; k++)
      printf (" %.5f", frame->posteriors[k]);
    printf ("\n");
  } else if (run->frames) {
    printf ("%.3f %s %.4f\n", seconds, ph_phone_name (frame->phone), frame->confidence);
  }
}

/* A segment timed as the element's message: frame times, the last one clipped to the
 * audio; samples at the file's rate rounded down. */
static void
write_segment (const PhSegment *segment, gpointer user_data)
{
  LabelRun *run = user_data;
  LabelSegment out = { .phone = segment->phone, .confidence = segment->confidence,
                       .viseme = ph_viseme_name_of_phone (run->viseme_set, segment->phone) };

  if (!run->writer)
    return;
  out.start_ns = frame_ns (run, segment->start_frame);
  out.end_ns = frame_ns (run, segment->start_frame + segment->n_frames);
  if (run->flushing) {
    guint64 seen = ph_samples_to_ns (run->samples_at_flush, run->features->sample_rate);
    out.end_ns = MAX (MIN (out.end_ns, seen), out.start_ns);
  }
  out.start_sample = ph_scale_round_down (out.start_ns, run->source.source_rate,
                                         PH_NS_PER_SECOND);
  out.end_sample = ph_scale_round_down (out.end_ns, run->source.source_rate, PH_NS_PER_SECOND);
  label_writer_add (run->writer, &out);
}

static const PhLabellerCallbacks callbacks = { print_frame, write_segment };

/* Each buffer of decoded audio goes to the labeller as it arrives, as in the element. */
static void
label_samples (const gint16 *s16, const float *f32, gsize n, gpointer user_data)
{
  LabelRun *run = user_data;

  if (f32)
    ph_labeller_push_f32 (run->labeller, f32, n, &callbacks, run);
  else
    ph_labeller_push_s16 (run->labeller, s16, n, &callbacks, run);
}

static int
label_file (PhModel *model, const char *path, guint min_segment_frames,
            const ToolDecoderOptions *decoder, double warp, LabelRun *run)
{
  g_autoptr (GError) error = NULL;

  run->features = &model->features;
  run->labeller = ph_labeller_new (model, min_segment_frames, &error);
  if (!run->labeller)
    return tool_fail ("label", error);
  if (!tool_decoder_options_apply (decoder, run->labeller, &error) ||
      (warp != 1.0 && !ph_labeller_set_vtlp_warp (run->labeller, warp, &error))) {
    ph_labeller_free (run->labeller);
    return tool_fail ("label", error);
  }
  if (!tool_audio_stream (path, model->features.sample_rate, label_samples, run, &run->source,
                          &error)) {
    ph_labeller_free (run->labeller);
    return tool_fail ("label", error);
  }
  run->flushing = TRUE;
  run->samples_at_flush = ph_labeller_samples_seen (run->labeller);
  ph_labeller_flush (run->labeller, &callbacks, run);
  ph_labeller_free (run->labeller);
  return 0;
}

int
ph_cmd_label (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *format_name = NULL, *group_name = NULL;
  g_autofree char *visemes_name = NULL;
  gboolean frames = FALSE, posteriors = FALSE;
  gint min_segment_frames = PH_DEFAULT_MIN_SEGMENT_FRAMES;
  double warp = 1.0;
  ToolDecoderOptions decoder;
  tool_decoder_options_init (&decoder);
  g_autofree char *format_help = g_strdup_printf (
      "Segment output: %s (default phn: 'start_sample end_sample phone' at the file's rate)",
      label_format_names ());
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
    TOOL_DECODER_OPTION_ENTRIES (&decoder),
    { "warp", 0, 0, G_OPTION_ARG_DOUBLE, &warp,
      "Read the spectrum through a filterbank with frequencies scaled by W (0.7..1.4; "
      "default 1 = none, as the element): speaker normalisation, for measurement "
      "(bench/real/README.md, \"Per-speaker warp\")", "W" },
    { "format", 'f', 0, G_OPTION_ARG_STRING, &format_name, format_help, "FORMAT" },
    { "group", 0, 0, G_OPTION_ARG_STRING, &group_name,
      "srt, vtt: one cue per spoken 'phone' (default, with its confidence) or per 'word' "
      "(the phones between silences, at most 6)", "phone|word" },
    { "visemes", 0, 0, G_OPTION_ARG_STRING, &visemes_name,
      "Label segments with their viseme (mouth shape, for lip sync) in this set: oculus "
      "(15: sil PP FF TH DD kk CH SS nn RR aa E ih oh ou) or preston-blair (10: rest MBP FV L "
      "WQ etc AI E O U). jsonl always has an oculus 'viseme' field, as the element's messages",
      "SET" },
    { NULL },
  };
  LabelFormat format = LABEL_FORMAT_PHN;
  LabelGroup group = LABEL_GROUP_PHONE;
  LabelRun run = { 0 };
  PhModel *model;
  int status;

  tool_parse_options ("label", "AUDIO",
                      "label speech with TIMIT phones, as the lstmphonemes element does. AUDIO "
                      "is any file GStreamer's decodebin reads (WAV, FLAC, MP3, Ogg...) or - "
                      "for standard input", entries, &argc, &argv);
  if (argc != 2) {
    fprintf (stderr, "phonemes label: expected one AUDIO file (see --help)\n");
    return 2;
  }
  if (!tool_options_exclusive ("label", (ToolOptionUse[]) {
        { "--frames", frames }, { "--posteriors", posteriors },
        { "--format", format_name != NULL } }, 3))
    return 2;
  if (!tool_options_exclusive ("label", (ToolOptionUse[]) {
        { "--frames", frames }, { "--visemes", visemes_name != NULL } }, 2) ||
      !tool_options_exclusive ("label", (ToolOptionUse[]) {
        { "--posteriors", posteriors }, { "--visemes", visemes_name != NULL } }, 2))
    return 2;
  run.viseme_set = PH_VISEME_SET_OCULUS;
  if (visemes_name && !ph_viseme_set_from_name (visemes_name, &run.viseme_set)) {
    fprintf (stderr, "phonemes label: unknown --visemes '%s' (expected oculus or "
             "preston-blair)\n", visemes_name);
    return 2;
  }
  if (format_name && !label_format_from_name (format_name, &format)) {
    fprintf (stderr, "phonemes label: unknown --format '%s' (expected one of: %s)\n",
             format_name, label_format_names ());
    return 2;
  }
  if (group_name && (!label_group_from_name (group_name, &group) ||
                     (format != LABEL_FORMAT_SRT && format != LABEL_FORMAT_VTT))) {
    fprintf (stderr, "phonemes label: --group takes phone or word, with --format srt or vtt\n");
    return 2;
  }
  if (!tool_min_segment_frames_valid ("label", min_segment_frames))
    return 2;
  if (!(warp >= PH_VTLP_MIN_WARP && warp <= PH_VTLP_MAX_WARP)) {
    fprintf (stderr, "phonemes label: --warp %g is outside %g..%g\n", warp, PH_VTLP_MIN_WARP,
             PH_VTLP_MAX_WARP);
    return 2;
  }
  model = tool_load_model (model_path);
  if (!model)
    return 1;
  if (g_strcmp0 (argv[1], "-") == 0)   /* a stream: each line as soon as it is known */
    setvbuf (stdout, NULL, _IOLBF, 0);
  run.frames = frames;
  run.posteriors = posteriors;
  if (!frames && !posteriors)
    run.writer = label_writer_new (format, group, visemes_name != NULL, stdout);
  status = label_file (model, argv[1], (guint) min_segment_frames, &decoder, warp, &run);
  tool_decoder_options_clear (&decoder);
  if (run.writer)
    label_writer_finish (run.writer, status == 0);
  ph_model_unref (model);
  return status;
}
