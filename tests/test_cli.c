/* test_cli.c: the `phonemes` command: --help, exit codes, error messages, and a small
 * end-to-end run: synthesize a corpus, train a few hundred updates, evaluate, label. */
#include <stdio.h>
#include <math.h>
#include <string.h>

#include "phonemes.h"

static const char *tool;
static char *workdir;

/* Runs `phonemes` with the NULL-terminated `args`; returns the exit status, stdout and
 * stderr. */
static int
run_tool_argv (char **out, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) tool);
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
                               out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* Runs `phonemes ARGS...` (NULL-terminated). */
static int
run_tool (char **out, char **err, const char *first, ...)
{
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  va_list ap;

  va_start (ap, first);
  for (const char *a = first; a; a = va_arg (ap, const char *))
    g_ptr_array_add (args, (char *) a);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  return run_tool_argv (out, err, (const char *const *) args->pdata);
}

static void
test_help (void)
{
  const char *commands[] = { "label", "features", "corpus", "align", "train", "eval" };

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++) {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_tool (&out, &err, commands[i], "--help", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "Usage"));
    g_assert_nonnull (strstr (out, commands[i]));
  }
  {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_tool (&out, &err, "corpus", "synth", "--help", NULL), ==, 0);
    g_assert_nonnull (strstr (out, "--minutes"));
  }
}

static void
test_usage_errors (void)
{
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
  g_autofree char *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL;

  g_assert_cmpint (run_tool (&o1, &e1, NULL), ==, 2);
  g_assert_nonnull (strstr (e1, "Usage"));
  g_assert_cmpint (run_tool (&o2, &e2, "frobnicate", NULL), ==, 2);
  g_assert_nonnull (strstr (e2, "unknown command 'frobnicate'"));
  g_assert_cmpint (run_tool (&o3, &e3, "train", "--out", "x.phm", NULL), ==, 2);
  g_assert_nonnull (strstr (e3, "--corpus"));
  g_assert_cmpint (run_tool (&o4, &e4, "label", "--no-such-option", "a.wav", NULL), ==, 2);
  g_assert_nonnull (strstr (e4, "no-such-option"));
  g_assert_cmpint (run_tool (&o5, &e5, "round-weights", NULL), ==, 2);
  g_assert_nonnull (strstr (e5, "--output"));
}

static void
test_bad_inputs (void)
{
  g_autofree char *bad_wav = g_build_filename (workdir, "not-audio.wav", NULL);
  g_autofree char *bad_model = g_build_filename (workdir, "not-a-model.phm", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
  g_autofree char *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL, *o6 = NULL, *e6 = NULL;
  g_autofree char *o7 = NULL, *e7 = NULL;

  g_assert_true (g_file_set_contents (bad_wav, "hello, not a RIFF file", -1, NULL));
  g_assert_true (g_file_set_contents (bad_model, "PHLSTM garbage", -1, NULL));
  g_assert_cmpint (run_tool (&o1, &e1, "features", "--rate", "16000", bad_wav, NULL), ==, 1);
  g_assert_nonnull (strstr (e1, "not-audio.wav"));
  g_assert_cmpint (run_tool (&o2, &e2, "label", "--model", bad_model, bad_wav, NULL), ==, 1);
  g_assert_nonnull (strstr (e2, "not-a-model.phm"));
  g_assert_cmpint (run_tool (&o3, &e3, "train", "--corpus", workdir, "--out", "x.phm",
                             "--schedule", "sometimes", NULL), ==, 1);
  g_assert_nonnull (strstr (e3, "--schedule"));
  g_assert_cmpint (run_tool (&o4, &e4, "train", "--corpus", workdir, "--out", "x.phm",
                             "--speed-range", "1.3,0.9", NULL), ==, 1);
  g_assert_nonnull (strstr (e4, "bad speed range '1.3,0.9'"));
  g_assert_cmpint (run_tool (&o5, &e5, "train", "--corpus", workdir, "--out", "x.phm",
                             "--augment", "gain,echo", NULL), ==, 1);
  g_assert_nonnull (strstr (e5, "unknown augmentation 'echo'"));
  g_assert_cmpint (run_tool (&o6, &e6, "train", "--corpus", workdir, "--out", "x.phm",
                             "--dropout", "1.5", NULL), ==, 1);
  g_assert_nonnull (strstr (e6, "dropout = 1.5"));
  g_assert_cmpint (run_tool (&o7, &e7, "round-weights", "--model", bad_model, "--output",
                             "x.phm", NULL), ==, 1);
  g_assert_nonnull (strstr (e7, "not-a-model.phm"));
}

/* Fraction of frames of the most frequent 39-class phone: what always guessing it scores. */
static double
majority_rate (const char *corpus)
{
  g_autoptr (GPtrArray) list = ph_corpus_list (corpus, 0, NULL);
  guint64 counts[PH_NUM_PHONES39] = { 0 }, total = 0, best = 0;

  for (guint i = 0; i < list->len; i++) {
    PhUtterance *u = g_ptr_array_index (list, i);
    g_autoptr (GArray) labels = ph_labels_read_phn (u->label_path, 0, NULL);
    for (guint k = 0; labels && k < labels->len; k++) {
      PhLabel *l = &g_array_index (labels, PhLabel, k);
      gint c = ph_phone_fold39 (l->phone);
      if (c >= 0)
        counts[c] += l->end - l->start;
      total += l->end - l->start;
    }
  }
  for (guint c = 0; c < PH_NUM_PHONES39; c++)
    best = MAX (best, counts[c]);
  return total ? (double) best / total : 1;
}

static double
json_number (const char *json, const char *key)
{
  g_autofree char *needle = g_strdup_printf ("\"%s\": ", key);
  const char *p = strstr (json, needle);

  g_assert_nonnull (p);
  return g_ascii_strtod (p + strlen (needle), NULL);
}

/* Frame accuracy (39 classes) of `phonemes label --frames` output against a .PHN. */
static double
label_frames_accuracy (const char *frames_text, const char *phn_path)
{
  g_autoptr (GArray) labels = ph_labels_read_phn (phn_path, 0, NULL);
  g_auto (GStrv) lines = g_strsplit (frames_text, "\n", -1);
  guint n = 0, correct = 0;

  g_assert_nonnull (labels);
  for (guint i = 0; lines[i] && *lines[i]; i++) {
    char phone[16];
    double t, confidence;
    g_assert_cmpint (sscanf (lines[i], "%lf %15s %lf", &t, phone, &confidence), ==, 3);
    guint64 centre = (guint64) i * 160 + 80;
    for (guint k = 0; k < labels->len; k++) {
      PhLabel *l = &g_array_index (labels, PhLabel, k);
      if (centre >= l->start && centre < l->end) {
        gint ref = ph_phone_fold39 (l->phone);
        n++;
        correct += ref >= 0 && ref == ph_phone_fold39 (ph_phone_index (phone));
        break;
      }
    }
  }
  return n ? (double) correct / n : 0;
}

/* Seconds of audio in the WAV files of corpus subfolder `voice`. */
static double
voice_seconds (const char *corpus, const char *voice)
{
  g_autofree char *dir = g_build_filename (corpus, voice, NULL);
  g_autoptr (GPtrArray) list = ph_corpus_list (dir, 0, NULL);
  double seconds = 0;

  g_assert_nonnull (list);
  for (guint i = 0; i < list->len; i++) {
    PhUtterance *u = g_ptr_array_index (list, i);
    PhAudio audio = { 0 };
    g_assert_true (ph_audio_read (u->audio_path, &audio, NULL));
    seconds += (double) audio.n_samples / audio.sample_rate;
    ph_audio_clear (&audio);
  }
  return seconds;
}

/* --voice-weights shares the minutes in proportion to the weights (within an utterance
 * of at most 6 s per voice), and refuses malformed or unmatched items. */
static void
test_voice_weights (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "weighted", NULL);
  g_autofree char *o = NULL, *e = NULL;
  const char *bad[] = { "flite-kal16=-1", "flite-kal16", "=2", "nosuchvoice=2",
                        "flite-kal*=0", "flite-kal16=x" };
  double heavy, light;

  g_assert_cmpint (run_tool (&o, &e, "corpus", "synth", "--out", corpus, "--minutes", "0.5",
                             "--voices", "flite-kal16,flite-kal", "--voice-weights",
                             "flite-kal16=4", NULL), ==, 0);
  heavy = voice_seconds (corpus, "flite-kal16");
  light = voice_seconds (corpus, "flite-kal");
  g_test_message ("flite-kal16 (weight 4): %.1f s, flite-kal (weight 1): %.1f s", heavy, light);
  g_assert_cmpfloat (fabs (heavy - 24), <, 6.5);
  g_assert_cmpfloat (fabs (light - 6), <, 6.5);
  g_assert_cmpfloat (heavy, >, 2 * light);
  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    g_autofree char *o2 = NULL, *e2 = NULL;
    g_autofree char *out = g_build_filename (workdir, "weighted-bad", NULL);
    g_assert_cmpint (run_tool (&o2, &e2, "corpus", "synth", "--out", out, "--minutes", "0.1",
                               "--voices", "flite-kal16,flite-kal", "--voice-weights", bad[i],
                               NULL), !=, 0);
    g_assert_nonnull (strstr (e2, "--voice-weights"));
  }
}

/* A Festival voice, when installed: one short sentence, its phones labelled in TIMIT
 * symbols, the labels tiling the audio. */
static void
test_festival_voice (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "festival", NULL);
  g_autofree char *text = g_build_filename (workdir, "festival.txt", NULL);
  g_autofree char *o = NULL, *e = NULL, *list_out = NULL, *list_err = NULL;
  g_autofree char *dir = g_build_filename (corpus, "festival-kal", NULL);
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GArray) labels = NULL;
  g_autoptr (GString) phones = g_string_new (" ");
  PhAudio audio = { 0 };
  PhUtterance *u;

  g_assert_cmpint (run_tool (&list_out, &list_err, "corpus", "synth", "--list-voices", NULL),
                   ==, 0);
  if (!strstr (list_out, "festival-kal")) {
    g_test_skip ("needs festival and festvox-kallpc16k");
    return;
  }
  g_assert_true (g_file_set_contents (text, "She sells seven shiny shells.\n", -1, NULL));
  g_assert_cmpint (run_tool (&o, &e, "corpus", "synth", "--out", corpus, "--minutes", "0.01",
                             "--voices", "festival-kal", "--text", text, "--text-split", "all",
                             NULL), ==, 0);
  list = ph_corpus_list (dir, 0, NULL);
  g_assert_nonnull (list);
  g_assert_cmpuint (list->len, ==, 1);
  u = g_ptr_array_index (list, 0);
  g_assert_true (ph_audio_read (u->audio_path, &audio, NULL));
  g_assert_cmpuint (audio.sample_rate, ==, 16000);
  labels = ph_labels_read_phn (u->label_path, audio.n_samples, NULL);
  g_assert_nonnull (labels);
  g_assert_cmpuint (g_array_index (labels, PhLabel, labels->len - 1).end, ==, audio.n_samples);
  for (guint i = 0; i < labels->len; i++)
    g_string_append_printf (phones, "%s ",
                            ph_phone_name (g_array_index (labels, PhLabel, i).phone));
  g_test_message ("festival-kal: %s", phones->str);
  g_assert_nonnull (strstr (phones->str, " h# sh iy s eh l z s eh v "));
  ph_audio_clear (&audio);
}

static void
test_end_to_end (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "corpus", NULL);
  g_autofree char *one = g_build_filename (workdir, "one", NULL);
  g_autofree char *model = g_build_filename (workdir, "model.phm", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
  g_autofree char *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL;
  g_autoptr (GPtrArray) list = NULL;
  PhUtterance *first;
  double accuracy, majority;

  g_assert_cmpint (run_tool (&o1, &e1, "corpus", "synth", "--out", corpus, "--minutes", "1.5",
                             "--voices", "flite-kal16", "--seed", "3", NULL), ==, 0);
  g_assert_cmpint (run_tool (&o2, &e2, "train", "--corpus", corpus, "--out", model,
                             "--hidden", "48", "--max-updates", "600", "--epochs", "40",
                             "--lr", "0.01", "--batch", "4", "--valid-fraction", "0",
                             "--patience", "40", NULL), ==, 0);
  g_assert_nonnull (strstr (o2, "frames/s"));
  g_assert_cmpint (run_tool (&o3, &e3, "eval", "--model", model, "--corpus", corpus, "--json",
                             NULL), ==, 0);
  accuracy = json_number (o3, "frame_accuracy39");
  majority = majority_rate (corpus);
  g_test_message ("training-set frame accuracy %.3f, majority class %.3f", accuracy, majority);
  g_assert_cmpfloat (accuracy, >, majority + 0.15);

  /* label --frames agrees with eval's view of one utterance. */
  list = ph_corpus_list (corpus, 0, NULL);
  first = g_ptr_array_index (list, 0);
  g_assert_cmpint (g_mkdir_with_parents (one, 0755), ==, 0);
  {
    g_autofree char *wav = g_build_filename (one, "u.wav", NULL);
    g_autofree char *phn = g_build_filename (one, "u.PHN", NULL);
    g_autofree char *wav_data = NULL, *phn_data = NULL;
    gsize wav_len, phn_len;
    g_assert_true (g_file_get_contents (first->audio_path, &wav_data, &wav_len, NULL));
    g_assert_true (g_file_get_contents (first->label_path, &phn_data, &phn_len, NULL));
    g_assert_true (g_file_set_contents (wav, wav_data, wav_len, NULL));
    g_assert_true (g_file_set_contents (phn, phn_data, phn_len, NULL));
    g_assert_cmpint (run_tool (&o4, &e4, "eval", "--model", model, "--corpus", one, "--json",
                               NULL), ==, 0);
    g_assert_cmpint (run_tool (&o5, &e5, "label", "--model", model, "--frames", wav, NULL), ==, 0);
    g_assert_cmpfloat_with_epsilon (label_frames_accuracy (o5, phn),
                                    json_number (o4, "frame_accuracy39"), 1e-6);
  }

  /* round-weights: another model file, scoring within a point of the original. */
  {
    g_autofree char *rounded = g_build_filename (workdir, "rounded.phm", NULL);
    g_autofree char *o6 = NULL, *e6 = NULL, *o7 = NULL, *e7 = NULL;
    g_autofree char *original_data = NULL, *rounded_data = NULL;
    gsize original_len, rounded_len;

    g_assert_cmpint (run_tool (&o6, &e6, "round-weights", "--model", model, "--output", rounded,
                               NULL), ==, 0);
    g_assert_true (g_file_get_contents (model, &original_data, &original_len, NULL));
    g_assert_true (g_file_get_contents (rounded, &rounded_data, &rounded_len, NULL));
    g_assert_cmpuint (rounded_len, ==, original_len);
    g_assert_true (memcmp (rounded_data, original_data, original_len) != 0);
    g_assert_cmpint (run_tool (&o7, &e7, "eval", "--model", rounded, "--corpus", corpus,
                               "--json", NULL), ==, 0);
    g_test_message ("rounded model: frame accuracy %.4f (original %.4f)",
                    json_number (o7, "frame_accuracy39"), accuracy);
    g_assert_cmpfloat (fabs (json_number (o7, "frame_accuracy39") - accuracy), <, 0.01);
  }
}


/* `phonemes train` on `corpus` with small fixed settings and every augmentation, 2 threads
 * and seed 5. */
static int
run_small_training (const char *corpus, const char *out_path, const char *epochs,
                    gboolean resume, char **out, char **err)
{
  const char *args[] = { "train", "--corpus", corpus, "--out", out_path, "--epochs", epochs,
                         "--hidden", "16", "--batch", "4", "--threads", "2", "--seed", "5",
                         "--augment", "all,vtlp", "--valid-fraction", "0.2",
                         resume ? "--resume" : NULL, NULL };

  return run_tool_argv (out, err, args);
}

/* The same seed and thread count give the same model, byte for byte; --resume picks up
 * at the epoch the checkpoint reached. */
static void
test_train_deterministic_and_resumable (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "det-corpus", NULL);
  g_autofree char *a = g_build_filename (workdir, "det-a.phm", NULL);
  g_autofree char *b = g_build_filename (workdir, "det-b.phm", NULL);
  g_autofree char *r = g_build_filename (workdir, "det-r.phm", NULL);
  g_autofree char *data_a = NULL, *data_b = NULL;
  gsize len_a, len_b;
  g_autofree char *o = NULL, *e = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
  g_autofree char *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL;

  g_assert_cmpint (run_tool (&o, &e, "corpus", "synth", "--out", corpus, "--minutes", "0.5",
                             "--voices", "espeak-en-us*", "--seed", "4", NULL), ==, 0);
  g_assert_cmpint (run_small_training (corpus, a, "2", FALSE, &o2, &e2), ==, 0);
  g_assert_cmpint (run_small_training (corpus, b, "2", FALSE, &o3, &e3), ==, 0);
  g_assert_true (g_file_get_contents (a, &data_a, &len_a, NULL));
  g_assert_true (g_file_get_contents (b, &data_b, &len_b, NULL));
  g_assert_cmpmem (data_a, len_a, data_b, len_b);

  g_assert_cmpint (run_small_training (corpus, r, "1", FALSE, &o4, &e4), ==, 0);
  g_assert_cmpint (run_small_training (corpus, r, "2", TRUE, &o5, &e5), ==, 0);
  g_assert_null (strstr (o5, "epoch 1:"));
  g_assert_nonnull (strstr (o5, "epoch 2:"));
}

/* The value after `key` in a gst-launch message line ("key=(type)value"), unquoted and
 * unescaped, or NULL. */
static char *
message_field (const char *line, const char *key)
{
  g_autofree char *needle = g_strdup_printf (" %s=(", key);
  const char *p = strstr (line, needle);
  GString *value = g_string_new (NULL);

  if (!p || !(p = strchr (p + strlen (needle), ')'))) {
    g_string_free (value, TRUE);
    return NULL;
  }
  for (p++; *p && *p != ',' && *p != ';'; p++)
    if (*p == '\\' && p[1])
      g_string_append_c (value, *++p);
    else if (*p != '"')
      g_string_append_c (value, *p);
  return g_string_free (value, FALSE);
}

/* `phonemes label` prints exactly the segments lstmphonemes posts for the same 16 kHz
 * audio, converted to samples (timestamp x rate / 1 s, rounded down). */
static void
test_label_matches_element (void)
{
  const char *plugin_dir = g_getenv ("PH_GST_PLUGIN_DIR");
  g_autofree char *corpus = g_build_filename (workdir, "match", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *cli = NULL, *e2 = NULL, *gst = NULL, *e3 = NULL;
  g_autoptr (GPtrArray) list = NULL;
  g_autoptr (GString) from_element = g_string_new (NULL);
  g_auto (GStrv) lines = NULL;
  g_autofree char *location = NULL;
  const char *wav;
  int status;

  if (!plugin_dir || !g_getenv ("PH_HAVE_DEFAULT_MODEL")) {
    g_test_skip ("needs the plugin and the default model");
    return;
  }
  g_assert_cmpint (run_tool (&o1, &e1, "corpus", "synth", "--out", corpus, "--minutes", "0.2",
                             "--voices", "flite-kal16", "--seed", "6", NULL), ==, 0);
  list = ph_corpus_list (corpus, 0, NULL);
  wav = ((PhUtterance *) g_ptr_array_index (list, 0))->audio_path;
  g_assert_cmpint (run_tool (&cli, &e2, "label", wav, NULL), ==, 0);

  location = g_strdup_printf ("location=%s", wav);
  {
    const char *argv[] = { "gst-launch-1.0", "-m", "filesrc", location, "!", "wavparse", "!",
                           "lstmphonemes", "!", "fakesink", NULL };
    g_autoptr (GError) error = NULL;
    g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "GST_PLUGIN_PATH", plugin_dir, TRUE);
    g_assert_true (g_spawn_sync (NULL, (char **) argv, env, G_SPAWN_SEARCH_PATH, NULL, NULL,
                                 &gst, &e3, &status, &error));
    g_assert_no_error (error);
    g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  }
  lines = g_strsplit (gst, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    g_autofree char *ts = NULL, *dur = NULL, *phone = NULL;
    guint64 start, end;
    if (!strstr (lines[i], ": phoneme, "))
      continue;
    ts = message_field (lines[i], "timestamp");
    dur = message_field (lines[i], "duration");
    phone = message_field (lines[i], "phone");
    g_assert_true (ts && dur && phone);
    start = g_ascii_strtoull (ts, NULL, 10);
    end = start + g_ascii_strtoull (dur, NULL, 10);
    g_string_append_printf (from_element, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n",
                            start * 16000 / G_GUINT64_CONSTANT (1000000000),
                            end * 16000 / G_GUINT64_CONSTANT (1000000000), phone);
  }
  g_assert_cmpuint (from_element->len, >, 0);
  g_assert_cmpstr (cli, ==, from_element->str);
}

/* Forced alignment with the built-in model on synthetic speech whose phone timings are
 * known: most boundaries land within 20 ms. */
static void
test_alignment_accuracy (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "align-ref", NULL);
  g_autofree char *out = g_build_filename (workdir, "align-out", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
  const char *line;
  guint within, total;

  if (!g_getenv ("PH_HAVE_DEFAULT_MODEL")) {
    g_test_skip ("this build has no default model");
    return;
  }
  g_assert_cmpint (run_tool (&o1, &e1, "corpus", "synth", "--out", corpus, "--minutes", "0.5",
                             "--voices", "flite-kal16,espeak-en-us", "--text-split", "test",
                             "--seed", "2", NULL), ==, 0);
  g_assert_cmpint (run_tool (&o2, &e2, "corpus", "import", "--out", out, "--compare", corpus,
                             NULL), ==, 0);
  line = strstr (e2, "boundaries within 20 ms: ");
  if (!line)
    line = strstr (o2, "boundaries within 20 ms: ");
  g_assert_nonnull (line);
  g_assert_cmpint (sscanf (line, "boundaries within 20 ms: %u/%u", &within, &total), ==, 2);
  g_test_message ("%u of %u boundaries within 20 ms", within, total);
  g_assert_cmpuint (total, >, 100);
  g_assert_cmpfloat ((double) within / total, >=, 0.75);
}

int
main (int argc, char **argv)
{
  int status;

  g_test_init (&argc, &argv, NULL);
  tool = g_getenv ("PH_TOOL");
  if (!tool) {
    g_printerr ("PH_TOOL must point at the phonemes binary\n");
    return 1;
  }
  workdir = g_dir_make_tmp ("phonemes-cli-XXXXXX", NULL);
  g_test_add_func ("/cli/help", test_help);
  g_test_add_func ("/cli/usage-errors", test_usage_errors);
  g_test_add_func ("/cli/bad-inputs", test_bad_inputs);
  g_test_add_func ("/cli/end-to-end", test_end_to_end);
  g_test_add_func ("/cli/voice-weights", test_voice_weights);
  g_test_add_func ("/cli/festival-voice", test_festival_voice);
  g_test_add_func ("/cli/train-deterministic-resumable", test_train_deterministic_and_resumable);
  g_test_add_func ("/cli/alignment-accuracy", test_alignment_accuracy);
  g_test_add_func ("/cli/label-matches-element", test_label_matches_element);
  status = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", workdir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", workdir);
  }
  g_free (workdir);
  return status;
}
