/* test_cli.c: the `phonemes` command: --help, exit codes, error messages, and a small
 * end-to-end run: synthesize a corpus, train a few hundred updates, evaluate, label. */
#include <stdio.h>
#include <math.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <glib/gstdio.h>

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

/* `phonemes --version` prints meson's project version. */
static void
test_version (void)
{
  g_autofree char *out = NULL, *err = NULL;
  g_autofree char *expected = g_strdup_printf ("phonemes %s\n", g_getenv ("PH_VERSION"));

  g_assert_nonnull (g_getenv ("PH_VERSION"));
  g_assert_cmpint (run_tool (&out, &err, "--version", NULL), ==, 0);
  g_assert_cmpstr (out, ==, expected);
}

/* Options that exclude each other are a usage error naming both, not a silent choice. */
static void
test_conflicting_options (void)
{
  const char *const cases[][8] = {
    { "label", "--frames", "--posteriors", "a.wav" },
    { "features", "--config", "m.phm", "--rate", "8000", "a.wav" },
    { "train", "--corpus", "c", "--out", "m.phm", "--init", "i.phm", "--resume" },
    { "train", "--corpus", "c", "--out", "m.phm", "--valid", "v", "--valid-fraction" },
    { "align", "--print-phones", "--text", "hello", "--output", "x.PHN" },
  };
  const char *const named[][2] = {
    { "--frames", "--posteriors" }, { "--config", "--rate" }, { "--init", "--resume" },
    { "--valid", "--valid-fraction" }, { "--print-phones", "--output" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *out = NULL, *err = NULL;
    const char *args[10] = { NULL };
    guint n = 0;
    for (; n < 8 && cases[i][n]; n++)
      args[n] = cases[i][n];
    if (!g_strcmp0 (args[n - 1], "--valid-fraction"))
      args[n++] = "0.1";
    g_assert_cmpint (run_tool_argv (&out, &err, args), ==, 2);
    g_assert_nonnull (strstr (err, named[i][0]));
    g_assert_nonnull (strstr (err, named[i][1]));
    g_assert_nonnull (strstr (err, "cannot be used together"));
  }
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

/* Runs `phonemes ARGS...` and checks it fails with `status` and `expect` on stderr. */
static void
assert_tool_fails (int status, const char *expect, const char *const *args)
{
  g_autofree char *out = NULL, *err = NULL;
  g_assert_cmpint (run_tool_argv (&out, &err, args), ==, status);
  g_test_message ("%s", err);
  g_assert_nonnull (strstr (err, expect));
}

/* Options are checked before use and readers take only regular files (issue 17): a
 * negative --rate asked for 17 GB, a FIFO blocked forever, a directory gave GLib's
 * garbled "Failed to map". */
static void
test_unreadable_inputs (void)
{
  g_autofree char *wav = g_build_filename (workdir, "tone.wav", NULL);
  g_autofree char *fifo = g_build_filename (workdir, "fifo", NULL);
  float samples[1600];
  GError *error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    samples[i] = 0.3f * sinf (0.05f * i);
  g_assert_true (ph_audio_write_wav (wav, samples, G_N_ELEMENTS (samples), 16000, &error));
  g_assert_no_error (error);
  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);

  assert_tool_fails (2, "--rate is -1",
                     (const char *const[]) { "features", "--rate", "-1", wav, NULL });
  assert_tool_fails (1, "sample_rate is 1000000 Hz",
                     (const char *const[]) { "features", "--rate", "1000000", wav, NULL });
  assert_tool_fails (1, "it is a FIFO", (const char *const[]) { "label", fifo, NULL });
  assert_tool_fails (1, "it is a directory", (const char *const[]) { "label", workdir, NULL });
  assert_tool_fails (2, "it is a FIFO",
                     (const char *const[]) { "align", "--text-file", fifo, wav, NULL });
  assert_tool_fails (1, "it is a FIFO",
                     (const char *const[]) { "label", "--model", fifo, wav, NULL });
  /* Numeric options are checked alike everywhere (eval took 0, train took nan). */
  assert_tool_fails (2, "--min-segment-frames is 0",
                     (const char *const[]) { "eval", "--corpus", workdir,
                                             "--min-segment-frames", "0", NULL });
  assert_tool_fails (2, "--valid-fraction",
                     (const char *const[]) { "train", "--corpus", workdir, "--out", "x.phm",
                                             "--valid-fraction", "nan", NULL });
  g_remove (fifo);
  g_remove (wav);
}

/* Runs `phonemes ARGS...` with LC_ALL=`locale`; the exit status, and stderr in *err. */
static int
run_tool_in_locale (const char *locale, char **err, const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) env = g_environ_setenv (g_get_environ (), "LC_ALL", locale, TRUE);
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int status = 0;

  g_ptr_array_add (argv, (char *) tool);
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_DEFAULT, NULL, NULL,
                               &out, err, &status, &error));
  g_assert_no_error (error);
  return WIFEXITED (status) ? WEXITSTATUS (status) : -1;
}

/* Text in and out (issue 17): accented text arguments work in a UTF-8 and in a plain C
 * locale (there was no setlocale: "Invalid byte sequence in conversion input"), and a
 * lexicon's terminal escape codes are not echoed. */
static void
test_text_and_messages (void)
{
  g_autofree char *wav = g_build_filename (workdir, "text.wav", NULL);
  g_autofree char *lexicon = g_build_filename (workdir, "escapes.dict", NULL);
  float samples[16000];
  const char *locales[] = { "C.UTF-8", "C" };

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    samples[i] = 0.3f * sinf (0.05f * i) * (i % 3000 < 1500);
  g_assert_true (ph_audio_write_wav (wav, samples, G_N_ELEMENTS (samples), 16000, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (locales); i++) {
    g_autofree char *err = NULL;
    int status = run_tool_in_locale (locales[i], &err, (const char *const[]) {
        "align", "--text", "na\xc3\xafve caf\xc3\xa9", wav, NULL });
    g_test_message ("%s: %s", locales[i], err);
    g_assert_null (strstr (err, "Invalid byte sequence"));
    g_assert_cmpint (status, ==, 0);
  }

  g_assert_true (g_file_set_contents (lexicon, "hello HH AH0 L OW1\nbad\x1b[2Jword X\n", -1,
                                      NULL));
  {
    g_autofree char *err = NULL;
    g_assert_cmpint (run_tool_in_locale ("C.UTF-8", &err, (const char *const[]) {
        "align", "--lexicon", lexicon, "--text", "hello", wav, NULL }), !=, 0);
    g_test_message ("%s", err);
    g_assert_nonnull (strstr (err, "escapes.dict:2:"));
    g_assert_null (strchr (err, '\x1b'));
    g_assert_nonnull (strstr (err, "bad\\x1B[2Jword"));
  }
  g_remove (lexicon);
  g_remove (wav);
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

/* --max-updates N stops after exactly N weight updates, even inside a batch whose
 * utterances hold many chunks (issue 15: the limit was checked after each batch, and
 * --max-updates 1 did 9 updates). */
static void
test_train_max_updates_exact (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "max-updates-corpus", NULL);
  g_autofree char *model = g_build_filename (workdir, "max-updates.phm", NULL);
  g_autofree char *synth_out = NULL, *synth_err = NULL;

  g_assert_cmpint (run_tool (&synth_out, &synth_err, "corpus", "synth", "--out", corpus, "--minutes",
                             "0.1", "--voices", "flite-kal16", "--seed", "6", NULL), ==, 0);
  for (guint i = 0; i < 2; i++) {
    const char *limit = i == 0 ? "1" : "7";
    g_autofree char *o = NULL, *e = NULL;
    g_autofree char *expected = g_strdup_printf ("epoch 1: %s updates,", limit);

    g_assert_cmpint (run_tool (&o, &e, "train", "--corpus", corpus, "--out", model,
                               "--hidden", "8", "--batch", "4", "--k1", "5", "--k2", "5",
                               "--epochs", "3", "--valid-fraction", "0", "--max-updates",
                               limit, NULL), ==, 0);
    g_assert_nonnull (strstr (o, expected));
    g_assert_null (strstr (o, "epoch 2:"));
  }
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

  /* Resuming at or past --epochs trains nothing and says so (issue 17: it printed "best
   * model (validation accuracy 200.00%) written"); without the best model it fails. */
  {
    g_autofree char *o6 = NULL, *e6 = NULL, *o7 = NULL, *e7 = NULL, *o8 = NULL, *e8 = NULL;
    g_autofree char *state = g_strconcat (r, ".ckpt.state", NULL);

    g_assert_cmpint (run_small_training (corpus, r, "2", TRUE, &o6, &e6), ==, 0);
    g_assert_nonnull (strstr (o6, "nothing to train"));
    g_assert_null (strstr (o6, "written"));
    g_assert_cmpint (g_remove (r), ==, 0);
    g_assert_cmpint (run_small_training (corpus, r, "2", TRUE, &o7, &e7), ==, 1);
    g_assert_nonnull (strstr (e7, "does not exist"));

    /* A junk state file is an error, not a silent restart at epoch 0. */
    g_assert_true (g_file_set_contents (state, "epoch -1\nbest x\n", -1, NULL));
    g_assert_cmpint (run_small_training (corpus, r, "3", TRUE, &o8, &e8), ==, 1);
    g_assert_nonnull (strstr (e8, "is not a training state file"));
    g_assert_null (strstr (o8, "epoch 1:"));
  }
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

/* Runs gst-launch-1.0 with `args` (NULL-terminated) and the uninstalled plugin; its
 * stdout. */
static char *
run_gst_launch (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  const char *plugin_dir = g_getenv ("PH_GST_PLUGIN_DIR");
  g_auto (GStrv) env = plugin_dir ? g_environ_setenv (g_get_environ (), "GST_PLUGIN_PATH",
                                                      plugin_dir, TRUE) : g_get_environ ();
  g_autofree char *err = NULL;
  char *out = NULL;
  int status;

  g_ptr_array_add (argv, "gst-launch-1.0");
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) argv->pdata, env, G_SPAWN_SEARCH_PATH, NULL,
                               NULL, &out, &err, &status, &error));
  g_assert_no_error (error);
  if (!WIFEXITED (status) || WEXITSTATUS (status) != 0)
    g_error ("gst-launch-1.0 failed: %s", err);
  return out;
}

/* The segments lstmphonemes posts for `path` (decodebin ! audioconvert ! audioresample in
 * front, as the README's pipeline) as .PHN lines at `file_rate`: sample = timestamp x
 * rate / 1 s, rounded down. */
static char *
element_phn (const char *path, guint file_rate)
{
  g_autofree char *location = g_strdup_printf ("location=%s", path);
  const char *args[] = { "-m", "filesrc", location, "!", "decodebin", "!", "audioconvert", "!",
                         "audioresample", "!", "lstmphonemes", "!", "fakesink", NULL };
  g_autofree char *gst = run_gst_launch (args);
  g_auto (GStrv) lines = g_strsplit (gst, "\n", -1);
  GString *phn = g_string_new (NULL);

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
    g_string_append_printf (phn, "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %s\n",
                            start * file_rate / G_GUINT64_CONSTANT (1000000000),
                            end * file_rate / G_GUINT64_CONSTANT (1000000000), phone);
  }
  g_assert_cmpuint (phn->len, >, 0);
  return g_string_free (phn, FALSE);
}

/* `source` re-encoded by GStreamer into workdir/NAME: `chain` is the gst-launch part
 * between audioresample and filesink (e.g. "audio/x-raw,rate=44100 ! wavenc"). */
static char *
encode (const char *source, const char *name, const char *chain)
{
  char *path = g_build_filename (workdir, name, NULL);
  g_autofree char *location = g_strdup_printf ("location=%s", source);
  g_autofree char *sink = g_strdup_printf ("location=%s", path);
  g_auto (GStrv) chain_args = g_strsplit (chain, " ", -1);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  g_autofree char *out = NULL;
  const char *head[] = { "-q", "filesrc", location, "!", "decodebin", "!", "audioconvert", "!",
                         "audioresample", "!" };

  for (guint i = 0; i < G_N_ELEMENTS (head); i++)
    g_ptr_array_add (args, (char *) head[i]);
  for (guint i = 0; chain_args[i]; i++)
    g_ptr_array_add (args, chain_args[i]);
  g_ptr_array_add (args, "!");
  g_ptr_array_add (args, "filesink");
  g_ptr_array_add (args, sink);
  g_ptr_array_add (args, NULL);
  out = run_gst_launch ((const char *const *) args->pdata);
  return path;
}

static gboolean
needs_plugin_and_default_model (void)
{
  if (!g_getenv ("PH_GST_PLUGIN_DIR")) {
    g_test_skip ("needs the plugin");
    return FALSE;
  }
  return TRUE;
}

/* `phonemes label FILE` prints exactly the element's segments for FILE. */
static void
assert_label_matches_element (const char *path, guint file_rate)
{
  g_autofree char *cli = NULL, *err = NULL;
  g_autofree char *from_element = element_phn (path, file_rate);

  g_test_message ("%s at %u Hz", path, file_rate);
  g_assert_cmpint (run_tool (&cli, &err, "label", path, NULL), ==, 0);
  g_assert_cmpstr (cli, ==, from_element);
}

/* `label --format textgrid` reads back (core's TextGrid reader, as `train` uses it) as
 * the very labels of the .PHN output. */
static void
assert_textgrid_reads_back (const char *wav, guint rate)
{
  g_autofree char *phn_path = g_build_filename (workdir, "readback.PHN", NULL);
  g_autofree char *grid_path = g_build_filename (workdir, "readback.TextGrid", NULL);
  g_autofree char *phn = NULL, *grid = NULL, *e1 = NULL, *e2 = NULL;
  g_autoptr (GArray) from_phn = NULL, from_grid = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_cmpint (run_tool (&phn, &e1, "label", wav, NULL), ==, 0);
  g_assert_cmpint (run_tool (&grid, &e2, "label", "--format", "textgrid", wav, NULL), ==, 0);
  g_assert_true (g_file_set_contents (phn_path, phn, -1, NULL));
  g_assert_true (g_file_set_contents (grid_path, grid, -1, NULL));
  from_phn = ph_labels_read_phn (phn_path, 0, &error);
  g_assert_no_error (error);
  from_grid = ph_labels_read_textgrid (grid_path, rate, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (from_grid->len, ==, from_phn->len);
  for (guint i = 0; i < from_phn->len; i++) {
    const PhLabel *a = &g_array_index (from_phn, PhLabel, i);
    const PhLabel *b = &g_array_index (from_grid, PhLabel, i);
    g_assert_true (a->start == b->start && a->end == b->end && a->phone == b->phone);
  }
}

/* The same for synthetic speech at 16 kHz (the model's rate); its TextGrid reads back. */
static void
test_label_matches_element (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "match", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL;
  g_autoptr (GPtrArray) list = NULL;

  if (!needs_plugin_and_default_model ())
    return;
  g_assert_cmpint (run_tool (&o1, &e1, "corpus", "synth", "--out", corpus, "--minutes", "0.2",
                             "--voices", "flite-kal16", "--seed", "6", NULL), ==, 0);
  list = ph_corpus_list (corpus, 0, NULL);
  assert_label_matches_element (((PhUtterance *) g_ptr_array_index (list, 0))->audio_path,
                                16000);
  assert_textgrid_reads_back (((PhUtterance *) g_ptr_array_index (list, 0))->audio_path, 16000);
}

/* At other rates and in other formats too: the bundled 8 kHz recording, the same at
 * 44.1 kHz, and as FLAC, Ogg Vorbis and MP3 (the command reads what decodebin reads). */
static void
test_label_matches_element_any_input (void)
{
  g_autofree char *sample = g_build_filename (g_getenv ("PH_SOURCE_ROOT"), "samples",
                                              "speech.wav", NULL);
  const struct { const char *name, *chain; guint rate; } inputs[] = {
    { "speech-44k.wav", "audio/x-raw,rate=44100 ! wavenc", 44100 },
    { "speech.flac", "flacenc", 8000 },
    { "speech.ogg", "audio/x-raw,rate=16000 ! vorbisenc ! oggmux", 16000 },
    { "speech.mp3", "audio/x-raw,rate=22050 ! lamemp3enc ! id3v2mux", 22050 },
  };

  if (!needs_plugin_and_default_model ())
    return;
  assert_label_matches_element (sample, 8000);
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++) {
    g_autofree char *path = encode (sample, inputs[i].name, inputs[i].chain);
    assert_label_matches_element (path, inputs[i].rate);
  }
}

/* `phonemes label -` reads standard input (here an MP3, which is not seekable there). */
static void
test_label_standard_input (void)
{
  g_autofree char *sample = g_build_filename (g_getenv ("PH_SOURCE_ROOT"), "samples",
                                              "speech.wav", NULL);
  g_autofree char *mp3 = NULL, *from_file = NULL, *from_stdin = NULL, *e1 = NULL, *e2 = NULL;
  g_autofree char *command = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  if (!needs_plugin_and_default_model ())
    return;
  mp3 = encode (sample, "stdin.mp3", "lamemp3enc");
  g_assert_cmpint (run_tool (&from_file, &e1, "label", mp3, NULL), ==, 0);
  command = g_strdup_printf ("'%s' label - < '%s'", tool, mp3);
  g_assert_true (g_spawn_sync (NULL, (char *[]) { "/bin/sh", "-c", command, NULL }, NULL,
                               G_SPAWN_DEFAULT, NULL, NULL, &from_stdin, &e2, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_assert_cmpuint (strlen (from_file), >, 0);
  g_assert_cmpstr (from_stdin, ==, from_file);
}

/* `label --warp W` (bench/real's per-speaker warp): 1 is the plain labelling, another
 * warp labels the same speech otherwise, and a warp out of 0.7..1.4 is a usage error. */
static void
test_label_warp (void)
{
  g_autofree char *sample = g_build_filename (g_getenv ("PH_SOURCE_ROOT"), "samples",
                                              "speech.wav", NULL);
  g_autofree char *plain = NULL, *one = NULL, *warped = NULL, *e1 = NULL, *e2 = NULL;
  g_autofree char *e3 = NULL;

  g_assert_cmpint (run_tool (&plain, &e1, "label", sample, NULL), ==, 0);
  g_assert_cmpint (run_tool (&one, &e2, "label", "--warp", "1", sample, NULL), ==, 0);
  g_assert_cmpint (run_tool (&warped, &e3, "label", "--warp", "0.88", sample, NULL), ==, 0);
  g_assert_cmpuint (strlen (plain), >, 0);
  g_assert_cmpstr (one, ==, plain);
  g_assert_cmpuint (strlen (warped), >, 0);
  g_assert_cmpstr (warped, !=, plain);
  assert_tool_fails (2, "--warp 1.5 is outside",
                     (const char *const[]) { "label", "--warp", "1.5", sample, NULL });
}

/* What GStreamer cannot read is an error naming the file, exit status 1: a missing file,
 * an empty one, text, and a video without sound. */
static void
test_label_unreadable_audio (void)
{
  g_autofree char *missing = g_build_filename (workdir, "missing.wav", NULL);
  g_autofree char *empty = g_build_filename (workdir, "empty.wav", NULL);
  g_autofree char *text = g_build_filename (workdir, "text.mp3", NULL);
  g_autofree char *video = g_build_filename (workdir, "video.ogg", NULL);
  g_autofree char *location = g_strdup_printf ("location=%s", video);
  const char *make_video[] = { "-q", "videotestsrc", "num-buffers=5", "!", "theoraenc", "!",
                               "oggmux", "!", "filesink", location, NULL };
  const struct { const char *path, *says; } cases[] = {
    { missing, "No such file" }, { empty, "cannot decode" }, { text, "cannot decode" },
    { video, "no audio stream" },
  };
  g_autofree char *made = run_gst_launch (make_video);

  g_assert_true (g_file_set_contents (empty, "", 0, NULL));
  g_assert_true (g_file_set_contents (text, "hello, this is not audio\n", -1, NULL));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    g_autofree char *out = NULL, *err = NULL;
    g_assert_cmpint (run_tool (&out, &err, "label", cases[i].path, NULL), ==, 1);
    g_assert_nonnull (strstr (err, cases[i].path));
    g_assert_nonnull (strstr (err, cases[i].says));
    g_assert_cmpstr (out, ==, "");
  }
}

/* `phonemes features` reads through the same GStreamer input: the same frames from a WAV,
 * its lossless FLAC and standard input. */
static void
test_features_any_input (void)
{
  g_autofree char *sample = g_build_filename (g_getenv ("PH_SOURCE_ROOT"), "samples",
                                              "speech.wav", NULL);
  g_autofree char *flac = encode (sample, "features.flac", "flacenc");
  g_autofree char *from_wav = NULL, *from_flac = NULL, *from_stdin = NULL;
  g_autofree char *e1 = NULL, *e2 = NULL, *e3 = NULL, *command = NULL;
  g_autoptr (GError) error = NULL;
  int status;

  g_assert_cmpint (run_tool (&from_wav, &e1, "features", "--rate", "16000", sample, NULL), ==, 0);
  g_assert_cmpint (run_tool (&from_flac, &e2, "features", "--rate", "16000", flac, NULL), ==, 0);
  command = g_strdup_printf ("'%s' features --rate 16000 - < '%s'", tool, flac);
  g_assert_true (g_spawn_sync (NULL, (char *[]) { "/bin/sh", "-c", command, NULL }, NULL,
                               G_SPAWN_DEFAULT, NULL, NULL, &from_stdin, &e3, &status, &error));
  g_assert_no_error (error);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  g_assert_cmpuint (strlen (from_wav), >, 1000);
  g_assert_cmpstr (from_flac, ==, from_wav);
  g_assert_cmpstr (from_stdin, ==, from_wav);
}

/* `phonemes align` too: the same alignment of the bundled recording from its WAV and its
 * lossless FLAC copy. */
static void
test_align_any_input (void)
{
  const char *text = "The number you have dialed is not in service. Please check the number "
                     "and try again.";
  g_autofree char *sample = g_build_filename (g_getenv ("PH_SOURCE_ROOT"), "samples",
                                              "speech.wav", NULL);
  g_autofree char *flac = NULL, *from_wav = NULL, *from_flac = NULL, *e1 = NULL, *e2 = NULL;

  flac = encode (sample, "align.flac", "flacenc");
  g_assert_cmpint (run_tool (&from_wav, &e1, "align", "--text", text, sample, NULL), ==, 0);
  g_assert_cmpint (run_tool (&from_flac, &e2, "align", "--text", text, flac, NULL), ==, 0);
  g_assert_cmpuint (strlen (from_wav), >, 100);
  g_assert_cmpstr (from_flac, ==, from_wav);
}

/* `--visemes SET` labels each segment of the .PHN with its phone's viseme in SET. */
static void
test_label_visemes (void)
{
  g_autofree char *sample = g_build_filename (g_getenv ("PH_SOURCE_ROOT"), "samples",
                                              "speech.wav", NULL);
  const char *sets[] = { "oculus", "preston-blair" };
  g_autofree char *phones = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
  g_auto (GStrv) phone_lines = NULL;

  if (!needs_plugin_and_default_model ())
    return;
  g_assert_cmpint (run_tool (&phones, &e1, "label", sample, NULL), ==, 0);
  phone_lines = g_strsplit (phones, "\n", -1);
  for (guint s = 0; s < G_N_ELEMENTS (sets); s++) {
    g_autofree char *out = NULL, *err = NULL;
    g_auto (GStrv) lines = NULL;
    PhVisemeSet set;
    g_assert_true (ph_viseme_set_from_name (sets[s], &set));
    g_assert_cmpint (run_tool (&out, &err, "label", "--visemes", sets[s], sample, NULL), ==, 0);
    lines = g_strsplit (out, "\n", -1);
    g_assert_cmpuint (g_strv_length (lines), ==, g_strv_length (phone_lines));
    for (guint i = 0; phone_lines[i] && *phone_lines[i]; i++) {
      guint64 a, b, c, d;
      char phone[16], viseme[16];
      g_assert_cmpint (sscanf (phone_lines[i], "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
                               " %15s", &a, &b, phone), ==, 3);
      g_assert_cmpint (sscanf (lines[i], "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %15s",
                               &c, &d, viseme), ==, 3);
      g_assert_true (a == c && b == d);
      g_assert_cmpstr (viseme, ==, ph_viseme_name_of_phone (set, ph_phone_index (phone)));
    }
  }
  g_assert_cmpint (run_tool (&o2, &e2, "label", "--visemes", "disney", sample, NULL), ==, 2);
  g_assert_nonnull (strstr (e2, "disney"));
}

/* Peak resident memory (MB) of `phonemes ARGS...` (NULL-terminated), output discarded. */
static double
tool_peak_rss_mb (const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  struct rusage usage;
  int status;
  pid_t pid;

  g_ptr_array_add (argv, (char *) tool);
  for (const char *const *a = args; *a; a++)
    g_ptr_array_add (argv, (char *) *a);
  g_ptr_array_add (argv, NULL);
  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0) {
    if (!freopen ("/dev/null", "w", stdout))
      _exit (127);
    execv (tool, (char **) argv->pdata);
    _exit (127);
  }
  g_assert_cmpint (wait4 (pid, &status, 0, &usage), ==, pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  return usage.ru_maxrss / 1024.0;
}

/* Ten minutes at 44.1 kHz (53 MB of WAV) stream through `phonemes label`: memory stays
 * far below the file's size (reading it whole took 118 MB and more). */
static void
test_label_streams_long_file (void)
{
  g_autofree char *wav = g_build_filename (workdir, "ten-minutes.wav", NULL);
  g_autofree char *location = g_strdup_printf ("location=%s", wav);
  const char *make[] = { "-q", "audiotestsrc", "wave=pink-noise", "num-buffers=2584",
                         "samplesperbuffer=10240", "!",
                         "audio/x-raw,rate=44100,channels=1,format=S16LE", "!", "wavenc", "!",
                         "filesink", location, NULL };
  const char *label[] = { "label", wav, NULL };
  g_autofree char *out = run_gst_launch (make);
  double peak = tool_peak_rss_mb (label);

  g_test_message ("peak memory labelling 10 minutes at 44.1 kHz: %.1f MB", peak);
  g_assert_cmpfloat (peak, <, 64);
  g_remove (wav);
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

/* `phonemes lm` adds a phone LM (model file version 2) that `label` then decodes with;
 * bad options and a decoder without an LM are errors that say so. */
static void
test_phone_lm (void)
{
  g_autofree char *text = g_build_filename (workdir, "lm-text.txt", NULL);
  g_autofree char *with_lm = g_build_filename (workdir, "with-lm.phm", NULL);
  g_autofree char *without = g_build_filename (workdir, "without-lm.phm", NULL);
  g_autofree char *wav = g_build_filename (workdir, "lm-tone.wav", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
  g_autofree char *o4 = NULL, *e4 = NULL, *o5 = NULL, *e5 = NULL, *o6 = NULL, *e6 = NULL;
  g_autofree char *o7 = NULL, *e7 = NULL;
  float samples[16000];

  for (guint i = 0; i < G_N_ELEMENTS (samples); i++)
    samples[i] = (float) (0.3 * sin (i * (0.05 + 0.02 * (i / 2000))));
  g_assert_true (ph_audio_write_wav (wav, samples, G_N_ELEMENTS (samples), 16000, NULL));
  g_assert_true (g_file_set_contents (text, "The cat sat on the mat.\nA big dog ran "
                                      "away.\n", -1, NULL));
  g_assert_cmpint (run_tool (&o1, &e1, "lm", "--text", text, "--output", with_lm, NULL), ==, 0);
  g_assert_nonnull (strstr (e1, "2 sentences"));
  g_assert_cmpint (run_tool (&o2, &e2, "label", "--model", with_lm, "--decoder", "lm", wav,
                             NULL), ==, 0);
  g_assert_nonnull (strstr (o2, "h#"));
  g_assert_cmpint (run_tool (&o3, &e3, "lm", "--remove", "--model", with_lm, "--output",
                             without, NULL), ==, 0);
  g_assert_cmpint (run_tool (&o4, &e4, "label", "--model", without, "--decoder", "lm", wav,
                             NULL), ==, 1);
  g_assert_nonnull (strstr (e4, "no phone LM"));
  g_assert_cmpint (run_tool (&o5, &e5, "label", "--decoder", "beam", wav, NULL), ==, 1);
  g_assert_nonnull (strstr (e5, "auto, greedy or lm"));
  g_assert_cmpint (run_tool (&o6, &e6, "lm", "--classes", "7", "--output", without, NULL), ==, 2);
  g_assert_nonnull (strstr (e6, "40 or 61"));
  g_assert_cmpint (run_tool (&o7, &e7, "label", "--model", with_lm, "--max-lag", "0", wav,
                             NULL), ==, 1);
  g_assert_nonnull (strstr (e7, "lag"));
}

/* The phone transcription of a synthetic utterance's .PHN: its phones without
 * silences and closures, the second one marked align-only ("*"). */
static char *
phones_of_reference (const char *phn_path)
{
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;
  GString *out = g_string_new (NULL);
  guint n = 0;

  g_assert_true (g_file_get_contents (phn_path, &text, NULL, NULL));
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i]; i++) {
    char phone[16];
    gint p;
    if (sscanf (lines[i], "%*u %*u %15s", phone) != 1)
      continue;
    p = ph_phone_index (phone);
    if (p < 0 || ph_phone_is_silence (p) || ph_phone_is_closure (p))
      continue;
    g_string_append_printf (out, "%s%s%s", n ? " " : "", phone, n == 1 ? "*" : "");
    n++;
  }
  return g_string_free (out, FALSE);
}

/* corpus import --phones: phone transcriptions instead of words; an align-only phone
 * ("r*") is aligned but left as a gap in the .PHN, which training reads as no target
 * (and trains on); --lexicon with --phones is refused. */
static void
test_import_phones (void)
{
  g_autofree char *corpus = g_build_filename (workdir, "phones-src", NULL);
  g_autofree char *voice = g_build_filename (corpus, "flite-kal16", NULL);
  g_autofree char *transcripts = g_build_filename (workdir, "phones.txt", NULL);
  g_autofree char *out = g_build_filename (workdir, "phones-out", NULL);
  g_autofree char *model = g_build_filename (workdir, "phones-trained.phm", NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL, *o3 = NULL, *e3 = NULL;
  g_autofree char *o4 = NULL, *e4 = NULL;
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GDir) dir = NULL;
  const char *name;
  guint files = 0, gaps = 0;

  if (!g_getenv ("PH_HAVE_DEFAULT_MODEL")) {
    g_test_skip ("this build has no default model");
    return;
  }
  g_assert_cmpint (run_tool (&o1, &e1, "corpus", "synth", "--out", corpus, "--minutes", "0.2",
                             "--voices", "flite-kal16", "--seed", "3", NULL), ==, 0);
  dir = g_dir_open (voice, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".PHN")) {
      g_autofree char *path = g_build_filename (voice, name, NULL);
      g_autofree char *id = g_strndup (name, strlen (name) - 4);
      g_autofree char *phones = phones_of_reference (path);
      g_string_append_printf (text, "%s: %s\n", id, phones);
    }
  g_assert_true (g_file_set_contents (transcripts, text->str, -1, NULL));
  g_assert_cmpint (run_tool (&o2, &e2, "corpus", "import", "--phones", "--transcripts",
                             transcripts, "--out", out, voice, NULL), ==, 0);

  g_clear_pointer (&dir, g_dir_close);
  g_free (voice);
  voice = g_build_filename (out, "flite-kal16", NULL);
  dir = g_dir_open (voice, 0, NULL);
  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, ".PHN")) {
      g_autofree char *path = g_build_filename (voice, name, NULL);
      g_autoptr (GArray) labels = ph_labels_read_phn (path, 0, NULL);
      g_assert_nonnull (labels);
      files++;
      for (guint i = 1; i < labels->len; i++)
        gaps += g_array_index (labels, PhLabel, i).start >
                g_array_index (labels, PhLabel, i - 1).end;
    }
  g_assert_cmpuint (files, >, 0);
  g_assert_cmpuint (gaps, ==, files); /* one align-only phone each: one gap each */

  /* the corpus with gaps trains */
  g_assert_cmpint (run_tool (&o3, &e3, "train", "--corpus", out, "--out", model, "--hidden", "8",
                             "--epochs", "1", "--max-updates", "3", NULL), ==, 0);
  g_assert_cmpint (run_tool (&o4, &e4, "corpus", "import", "--phones", "--lexicon",
                             transcripts, "--out", out, corpus, NULL), ==, 2);
  g_assert_nonnull (strstr (e4, "--lexicon has no use with --phones"));
}

/* corpus import --list-split: the split --held-out-fraction makes, without aligning or
 * --out; by the text (a prompt in two recordings, differing in case and punctuation, is
 * on one side), non-speech transcripts left out; bench/real/run reads its test side. */
static void
test_import_list_split (void)
{
  g_autofree char *src = g_build_filename (workdir, "split-src", NULL);
  g_autofree char *sub = g_build_filename (src, "digits", NULL);
  g_autofree char *transcripts = g_build_filename (workdir, "split.txt", NULL);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autofree char *o1 = NULL, *e1 = NULL, *o2 = NULL, *e2 = NULL;
  g_auto (GStrv) lines = NULL;
  guint tests = 0, trains = 0;
  const char *side_a = NULL, *side_b = NULL;
  const char *others[] = { "digits/a.wav", "b.wav", "tone.wav" };

  g_assert_cmpint (g_mkdir_with_parents (sub, 0755), ==, 0);
  for (guint i = 0; i < 40; i++) {
    g_autofree char *wav = g_strdup_printf ("%s/p%02u.wav", src, i);
    g_assert_true (g_file_set_contents (wav, "not read by --list-split", -1, NULL));
    g_string_append_printf (text, "p%02u: Prompt number %u, please.\n", i, i * 7919);
  }
  for (guint i = 0; i < G_N_ELEMENTS (others); i++) {
    g_autofree char *wav = g_build_filename (src, others[i], NULL);
    g_assert_true (g_file_set_contents (wav, "not read by --list-split", -1, NULL));
  }
  g_string_append (text, "digits/a: Press the pound key.\nb: press the POUND key\n"
                   "tone: [a beep tone]\n");
  g_assert_true (g_file_set_contents (transcripts, text->str, -1, NULL));

  g_assert_cmpint (run_tool (&o1, &e1, "corpus", "import", "--held-out-fraction", "0.5",
                             "--transcripts", transcripts, "--list-split", src, NULL), ==, 0);
  lines = g_strsplit (o1, "\n", -1);
  for (guint i = 0; lines[i] && *lines[i]; i++) {
    g_auto (GStrv) f = g_strsplit (lines[i], "\t", -1);
    g_assert_cmpuint (g_strv_length (f), ==, 3);
    g_assert_true (g_str_equal (f[0], "test") || g_str_equal (f[0], "train"));
    g_assert_true (g_file_test (f[1], G_FILE_TEST_EXISTS));
    g_assert_null (strstr (f[1], "tone.wav"));
    tests += g_str_equal (f[0], "test");
    trains += g_str_equal (f[0], "train");
    if (g_str_has_suffix (f[1], "/a.wav"))
      side_a = g_str_equal (f[0], "test") ? "test" : "train";
    if (g_str_has_suffix (f[1], "/b.wav"))
      side_b = g_str_equal (f[0], "test") ? "test" : "train";
  }
  g_assert_cmpuint (tests + trains, ==, 42);
  g_assert_cmpuint (tests, >=, 8);  /* about half of 41 distinct prompts */
  g_assert_cmpuint (trains, >=, 8);
  g_assert_nonnull (side_a);
  g_assert_cmpstr (side_a, ==, side_b);

  /* without a fraction everything is train */
  g_assert_cmpint (run_tool (&o2, &e2, "corpus", "import", "--transcripts", transcripts,
                             "--list-split", src, NULL), ==, 0);
  g_assert_null (strstr (o2, "test\t"));
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
  g_test_add_func ("/cli/version", test_version);
  g_test_add_func ("/cli/conflicting-options", test_conflicting_options);
  g_test_add_func ("/cli/bad-inputs", test_bad_inputs);
  g_test_add_func ("/cli/unreadable-inputs", test_unreadable_inputs);
  g_test_add_func ("/cli/text-and-messages", test_text_and_messages);
  g_test_add_func ("/cli/end-to-end", test_end_to_end);
  g_test_add_func ("/cli/voice-weights", test_voice_weights);
  g_test_add_func ("/cli/festival-voice", test_festival_voice);
  g_test_add_func ("/cli/train-deterministic-resumable", test_train_deterministic_and_resumable);
  g_test_add_func ("/cli/train-max-updates-exact", test_train_max_updates_exact);
  g_test_add_func ("/cli/alignment-accuracy", test_alignment_accuracy);
  g_test_add_func ("/cli/label-matches-element", test_label_matches_element);
  g_test_add_func ("/cli/phone-lm", test_phone_lm);
  g_test_add_func ("/cli/label-matches-element-any-input", test_label_matches_element_any_input);
  g_test_add_func ("/cli/label-standard-input", test_label_standard_input);
  g_test_add_func ("/cli/label-streams-long-file", test_label_streams_long_file);
  g_test_add_func ("/cli/label-visemes", test_label_visemes);
  g_test_add_func ("/cli/label-warp", test_label_warp);
  g_test_add_func ("/cli/label-unreadable-audio", test_label_unreadable_audio);
  g_test_add_func ("/cli/features-any-input", test_features_any_input);
  g_test_add_func ("/cli/align-any-input", test_align_any_input);
  g_test_add_func ("/cli/import-list-split", test_import_list_split);
  g_test_add_func ("/cli/import-phones", test_import_phones);
  status = g_test_run ();
  {
    g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", workdir);
    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", workdir);
  }
  g_free (workdir);
  return status;
}
