/* corpus_import.c: `phonemes corpus import`: recordings with transcripts (a transcript
 * file of "id: text" lines, plain or gzip, or a .txt/.TXT beside each file) are force
 * aligned with the model and written as a TIMIT-style corpus:
 * DIR[/train|/test]/<speaker>/<id>.{wav,PHN,WRD,TXT}. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gstdio.h>

#include "aligner.h"
#include "corpus_import.h"
#include "tool_common.h"

#define MAX_REPORTED_SKIPS 10

typedef struct {
  char *out_dir;
  char *model_path;
  char *transcripts;
  char *lexicon_path;
  gboolean phones;
  char *speaker;
  gint rate;
  double held_out;
  double min_confidence;
  gint min_frames;
  double prior_scale;
  gboolean compare;
  double tolerance_ms;
  gboolean list_split;
} ImportOptions;

/* One recording found under a source. */
typedef struct {
  char *audio_path;
  char *id;        /* path below the source without extension: "digits/1" */
  char *speaker;
} ImportItem;

/* What happened to the recordings. */
typedef struct {
  guint found;
  guint train;
  guint test;
  guint no_transcript;  /* neither a transcript entry nor a .txt beside it */
  guint non_speech;     /* transcript all [brackets] or (a description) */
  guint missing_audio;  /* transcript entries with no recording */
  guint unreadable;
  guint failed;         /* no pronunciation, too short, ... */
  guint low_confidence;
} ImportCounts;

typedef struct {
  const ImportOptions *options;
  GHashTable *transcripts; /* id -> raw text */
  GHashTable *used;        /* ids that found their recording */
  Aligner *aligner;
  float prior[PH_NUM_PHONES];
  ImportCounts counts;
  guint reported;
  /* --compare: boundary agreement with the .PHN beside each recording */
  guint compared;
  guint64 boundaries;
  guint64 within;
  guint64 matched;
  guint64 reference_phones;
  double abs_error_s;
  double error_s;
} Import;

static void
import_item_free (ImportItem *item)
{
  g_free (item->audio_path);
  g_free (item->id);
  g_free (item->speaker);
  g_free (item);
}

static void
report_skip (Import *imp, const char *what, const char *why)
{
  if (imp->reported++ < MAX_REPORTED_SKIPS)
    fprintf (stderr, "phonemes corpus import: skipped %s: %s\n", what, why);
  else if (imp->reported == MAX_REPORTED_SKIPS + 1)
    fprintf (stderr, "phonemes corpus import: (further skips counted, not shown)\n");
}

/* ---- transcripts ---- */

static gboolean
is_gzip (const char *data, gsize len)
{
  return len >= 2 && (guchar) data[0] == 0x1f && (guchar) data[1] == 0x8b;
}

/* The file's text, gunzipped when it is gzip. */
static char *
read_text_file (const char *path, GError **error)
{
  g_autofree char *raw = NULL;
  g_autoptr (GInputStream) memory = NULL;
  g_autoptr (GZlibDecompressor) gunzip = NULL;
  g_autoptr (GInputStream) stream = NULL;
  g_autoptr (GOutputStream) out = NULL;
  gsize len;

  if (!(raw = ph_file_read_bounded (path, PH_FILE_MAX_TEXT_BYTES, "transcript file", &len,
                                    error)))
    return NULL;
  if (!is_gzip (raw, len))
    return g_steal_pointer (&raw);
  memory = g_memory_input_stream_new_from_data (raw, (gssize) len, NULL);
  gunzip = g_zlib_decompressor_new (G_ZLIB_COMPRESSOR_FORMAT_GZIP);
  stream = g_converter_input_stream_new (memory, G_CONVERTER (gunzip));
  out = g_memory_output_stream_new_resizable ();
  if (g_output_stream_splice (out, stream, G_OUTPUT_STREAM_SPLICE_CLOSE_SOURCE, NULL,
                              error) < 0) {
    g_prefix_error (error, "%s: ", path);
    return NULL;
  }
  /* a terminating NUL for the text */
  g_output_stream_write_all (out, "", 1, NULL, NULL, NULL);
  g_output_stream_close (out, NULL, NULL);
  return g_memory_output_stream_steal_data (G_MEMORY_OUTPUT_STREAM (out));
}

/* "id: text" lines; ';' and '#' start comments. */
static gboolean
parse_transcripts (const char *content, const char *path, GHashTable *table, GError **error)
{
  g_auto (GStrv) lines = g_strsplit (content, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++) {
    char *line = g_strstrip (lines[i]);
    char *colon = strchr (line, ':');
    if (line[0] == '\0' || line[0] == ';' || line[0] == '#')
      continue;
    if (colon == NULL || colon == line) {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: expected 'id: text', got '%.40s'", path, i + 1, line);
      return FALSE;
    }
    *colon = '\0';
    g_strstrip (line);
    if (strchr (line, ' ') != NULL) {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s:%u: the id '%s' has spaces (expected 'id: text')", path, i + 1, line);
      return FALSE;
    }
    g_hash_table_replace (table, g_strdup (line), g_strdup (g_strstrip (colon + 1)));
  }
  return TRUE;
}

/* The speech of a transcript: [annotations] removed, spaces collapsed; NULL when
 * nothing is left or it is all a (description). */
static char *
clean_transcript (const char *raw)
{
  GString *out = g_string_new (NULL);
  gint depth = 0;

  for (const char *c = raw; *c; c++) {
    if (*c == '[')
      depth++;
    else if (*c == ']' && depth > 0)
      depth--;
    else if (depth == 0 && g_ascii_isspace (*c)) {
      if (out->len > 0 && out->str[out->len - 1] != ' ')
        g_string_append_c (out, ' ');
    } else if (depth == 0)
      g_string_append_c (out, *c);
  }
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  if (out->len == 0 || (out->str[0] == '(' && out->str[out->len - 1] == ')')) {
    g_string_free (out, TRUE);
    return NULL;
  }
  return g_string_free (out, FALSE);
}

/* The .txt/.TXT beside the recording, or NULL. */
static char *
transcript_beside (const char *audio_path)
{
  const char *dot = strrchr (audio_path, '.');
  g_autofree char *base = g_strndup (audio_path, dot ? (gsize) (dot - audio_path)
                                                     : strlen (audio_path));
  const char *exts[] = { ".txt", ".TXT" };

  for (gsize i = 0; i < G_N_ELEMENTS (exts); i++) {
    g_autofree char *path = g_strconcat (base, exts[i], NULL);
    g_autofree char *text = NULL;
    if ((text = ph_file_read_bounded (path, PH_FILE_MAX_TEXT_BYTES, "transcript file", NULL,
                                      NULL)))
      return g_strdup (aligner_skip_sample_range (text));
  }
  return NULL;
}

/* The raw transcript of `item`, or NULL. */
static char *
transcript_for (Import *imp, const ImportItem *item)
{
  const char *text = NULL;

  if (imp->transcripts) {
    g_autofree char *base = g_path_get_basename (item->id);
    const char *key = g_hash_table_contains (imp->transcripts, item->id) ? item->id : base;
    text = g_hash_table_lookup (imp->transcripts, key);
    if (text) {
      g_hash_table_add (imp->used, g_strdup (key));
      return g_strdup (text);
    }
  }
  return transcript_beside (item->audio_path);
}

/* ---- finding recordings ---- */

static gboolean
is_audio_name (const char *name)
{
  return g_str_has_suffix (name, ".wav") || g_str_has_suffix (name, ".WAV") ||
         g_str_has_suffix (name, ".sph") || g_str_has_suffix (name, ".SPH");
}

static void
add_item (GPtrArray *items, const char *path, const char *id, const char *speaker)
{
  ImportItem *item = g_new0 (ImportItem, 1);
  const char *dot = strrchr (id, '.');

  item->audio_path = g_strdup (path);
  item->id = dot ? g_strndup (id, dot - id) : g_strdup (id);
  item->speaker = g_strdup (speaker);
  g_ptr_array_add (items, item);
}

static gboolean
list_dir (const char *root, const char *rel, const char *speaker, GPtrArray *items,
          GError **error)
{
  g_autofree char *dir_path = rel ? g_build_filename (root, rel, NULL) : g_strdup (root);
  g_autoptr (GDir) dir = g_dir_open (dir_path, 0, error);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (dir == NULL)
    return FALSE;
  while ((name = g_dir_read_name (dir)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, (GCompareFunc) g_ascii_strcasecmp);
  for (guint i = 0; i < names->len; i++) {
    const char *n = *(char **) &names->pdata[i];
    g_autofree char *sub = rel ? g_strconcat (rel, "/", n, NULL) : g_strdup (n);
    g_autofree char *path = g_build_filename (root, sub, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      if (!list_dir (root, sub, speaker, items, error))
        return FALSE;
    } else if (is_audio_name (n)) {
      add_item (items, path, sub, speaker);
    }
  }
  return TRUE;
}

/* Recordings of a source: a directory (searched recursively, speaker = its name) or
 * one audio file (speaker = the directory holding it). */
static gboolean
list_source (const char *source, const char *speaker, GPtrArray *items, GError **error)
{
  g_autofree char *trimmed = g_strdup (source);
  g_autofree char *name = NULL;

  while (strlen (trimmed) > 1 && g_str_has_suffix (trimmed, G_DIR_SEPARATOR_S))
    trimmed[strlen (trimmed) - 1] = '\0';
  if (g_file_test (trimmed, G_FILE_TEST_IS_DIR)) {
    g_autofree char *absolute = g_canonicalize_filename (trimmed, NULL);
    name = g_path_get_basename (absolute);
    return list_dir (trimmed, NULL, speaker ? speaker : name, items, error);
  }
  if (!g_file_test (trimmed, G_FILE_TEST_EXISTS)) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "%s: no such file or directory", source);
    return FALSE;
  }
  {
    g_autofree char *absolute = g_canonicalize_filename (trimmed, NULL);
    g_autofree char *dir = g_path_get_dirname (absolute);
    g_autofree char *base = g_path_get_basename (trimmed);
    name = g_path_get_basename (dir);
    add_item (items, trimmed, base, speaker ? speaker : name);
  }
  return TRUE;
}

/* ---- one recording ---- */

/* The .PHN/.phn beside the recording, read, or NULL. */
static GArray *
reference_beside (const char *audio_path, guint64 n_samples)
{
  const char *dot = strrchr (audio_path, '.');
  g_autofree char *base = g_strndup (audio_path, dot ? (gsize) (dot - audio_path)
                                                     : strlen (audio_path));
  const char *exts[] = { ".PHN", ".phn" };

  for (gsize i = 0; i < G_N_ELEMENTS (exts); i++) {
    g_autofree char *path = g_strconcat (base, exts[i], NULL);
    if (g_file_test (path, G_FILE_TEST_EXISTS))
      return ph_labels_read_phn (path, n_samples, NULL);
  }
  return NULL;
}

/* --compare: adds this recording's boundary agreement to the totals. */
static void
compare_with_reference (Import *imp, const ImportItem *item, const PhAudio *audio,
                        const PhAlignment *alignment)
{
  g_autoptr (GArray) reference = reference_beside (item->audio_path, audio->n_samples);
  g_autoptr (GArray) labels = NULL;
  guint64 tolerance = (guint64) (imp->options->tolerance_ms * audio->sample_rate / 1000 + 0.5);
  PhBoundaryStats stats;

  if (reference == NULL)
    return;
  labels = aligner_labels_at_rate (imp->aligner, alignment->labels, NULL, audio->sample_rate,
                                   audio->n_samples);
  ph_align_compare_boundaries (reference, labels, tolerance, &stats);
  imp->compared++;
  imp->boundaries += stats.n_boundaries;
  imp->within += stats.n_within;
  imp->matched += stats.n_matched;
  imp->reference_phones += stats.n_reference;
  imp->abs_error_s += stats.mean_abs_error * stats.n_boundaries / audio->sample_rate;
  imp->error_s += stats.mean_error * stats.n_boundaries / audio->sample_rate;
}

/* FNV-1a over the lower-cased letters, so punctuation and case do not move a prompt. */
static gboolean
is_held_out (const char *text, double fraction)
{
  guint64 hash = G_GUINT64_CONSTANT (14695981039346656037);

  if (fraction <= 0)
    return FALSE;
  for (const char *c = text; *c; c++)
    if (g_ascii_isalnum (*c)) {
      hash ^= (guchar) g_ascii_tolower (*c);
      hash *= G_GUINT64_CONSTANT (1099511628211);
    }
  return (double) (hash % 1000000) / 1000000.0 < fraction;
}

static gboolean
write_item (Import *imp, const ImportItem *item, PhAudio *audio, const PhAlignment *alignment,
            const GPtrArray *words, const char *text, gboolean test, GError **error)
{
  const ImportOptions *o = imp->options;
  g_autofree char *name = g_strdelimit (g_strdup (item->id), "/\\", '_');
  g_autofree char *dir = o->held_out > 0
    ? g_build_filename (o->out_dir, test ? "test" : "train", item->speaker, NULL)
    : g_build_filename (o->out_dir, item->speaker, NULL);
  g_autofree char *base = g_build_filename (dir, name, NULL);
  g_autofree char *wav = g_strconcat (base, ".wav", NULL);
  g_autofree char *phn = g_strconcat (base, ".PHN", NULL);
  g_autofree char *wrd = g_strconcat (base, ".WRD", NULL);
  g_autofree char *txt = g_strconcat (base, ".TXT", NULL);
  g_autofree char *txt_line = NULL;
  g_autofree char *wrd_text = NULL;
  g_autoptr (GArray) labels = NULL;

  if (o->rate > 0)
    ph_audio_resample (audio, (guint) o->rate);
  labels = aligner_labels_at_rate (imp->aligner, alignment->labels, alignment->unlabelled,
                                   audio->sample_rate, audio->n_samples);
  wrd_text = aligner_words_text (imp->aligner, alignment, words, audio->sample_rate,
                                 audio->n_samples);
  txt_line = g_strdup_printf ("0 %" G_GSIZE_FORMAT " %s\n", audio->n_samples, text);
  if (g_mkdir_with_parents (dir, 0755) != 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "cannot create directory %s: %s", dir,
                 g_strerror (errno));
    return FALSE;
  }
  return ph_audio_write_wav (wav, audio->samples, audio->n_samples, audio->sample_rate, error)
         && ph_labels_write_phn (phn, labels, error)
         && ph_file_write_atomic (wrd, wrd_text, strlen (wrd_text), "words file", error)
         && ph_file_write_atomic (txt, txt_line, strlen (txt_line), "transcript file", error);
}

/* Aligns and writes one recording whose transcript is `text`; FALSE only on a write
 * error (skips are counted). */
static gboolean
import_aligned (Import *imp, const ImportItem *item, const char *text, GError **error)
{
  g_autoptr (GError) skip = NULL;
  g_autoptr (GPtrArray) words = NULL;
  g_autofree float *posteriors = NULL;
  PhAudio audio = { 0 };
  PhAlignment *alignment = NULL;
  gboolean test, ok = TRUE;
  guint n_frames;

  if (!ph_audio_read (item->audio_path, &audio, &skip)) {
    imp->counts.unreadable++;
    report_skip (imp, item->audio_path, skip->message);
    return TRUE;
  }
  words = aligner_words (imp->aligner, text, imp->options->phones, &skip);
  if (words) {
    posteriors = aligner_posteriors (imp->aligner, &audio, &n_frames);
    alignment = aligner_align (imp->aligner, posteriors, n_frames, words, &skip);
  }
  if (alignment && imp->options->compare)
    compare_with_reference (imp, item, &audio, alignment);
  if (alignment == NULL) {
    imp->counts.failed++;
    report_skip (imp, item->audio_path, skip->message);
  } else if (alignment->mean_confidence < imp->options->min_confidence) {
    g_autofree char *why = g_strdup_printf ("mean confidence %.3f is below %.3f",
                                            alignment->mean_confidence,
                                            imp->options->min_confidence);
    imp->counts.low_confidence++;
    report_skip (imp, item->audio_path, why);
  } else {
    test = is_held_out (text, imp->options->held_out);
    ok = write_item (imp, item, &audio, alignment, words, text, test, error);
    if (ok)
      test ? imp->counts.test++ : imp->counts.train++;
  }
  ph_alignment_free (alignment);
  ph_audio_clear (&audio);
  return ok;
}

static gboolean
import_item (Import *imp, const ImportItem *item, GError **error)
{
  g_autofree char *raw = transcript_for (imp, item);
  g_autofree char *text = raw ? clean_transcript (raw) : NULL;

  if (raw == NULL) {
    imp->counts.no_transcript++;
    return TRUE;
  }
  if (text == NULL) {
    imp->counts.non_speech++;
    return TRUE;
  }
  return import_aligned (imp, item, text, error);
}

/* The mean posterior over every recording that has speech to align. */
static void
compute_prior (Import *imp, GPtrArray *items)
{
  double sum[PH_NUM_PHONES] = { 0 };
  guint64 frames = 0;
  ToolProgress progress;

  tool_progress_start (&progress, "prior", items->len);
  for (guint i = 0; i < items->len; i++) {
    const ImportItem *item = g_ptr_array_index (items, i);
    g_autofree float *posteriors = NULL;
    PhAudio audio = { 0 };
    guint n_frames;
    if (!ph_audio_read (item->audio_path, &audio, NULL))
      continue;
    posteriors = aligner_posteriors (imp->aligner, &audio, &n_frames);
    aligner_accumulate (posteriors, n_frames, sum);
    frames += n_frames;
    ph_audio_clear (&audio);
    tool_progress_update (&progress, i + 1);
  }
  tool_progress_finish (&progress);
  for (guint p = 0; p < PH_NUM_PHONES; p++)
    imp->prior[p] = frames ? (float) (sum[p] / frames) : 0;
}

/* ---- the run ---- */

/* --list-split: "train|test<TAB>audio path<TAB>text" for every recording with speech,
 * the split the import would make, without aligning (benchmarks read the test side). */
static int
list_split (Import *imp, GPtrArray *items)
{
  for (guint i = 0; i < items->len; i++) {
    const ImportItem *item = g_ptr_array_index (items, i);
    g_autofree char *raw = transcript_for (imp, item);
    g_autofree char *text = raw ? clean_transcript (raw) : NULL;
    if (text)
      printf ("%s\t%s\t%s\n", is_held_out (text, imp->options->held_out) ? "test" : "train",
              item->audio_path, text);
  }
  return 0;
}

static void
count_missing_audio (Import *imp)
{
  GHashTableIter iter;
  gpointer key, value;

  if (imp->transcripts == NULL)
    return;
  g_hash_table_iter_init (&iter, imp->transcripts);
  while (g_hash_table_iter_next (&iter, &key, &value)) {
    g_autofree char *text = clean_transcript (value);
    if (text && !g_hash_table_contains (imp->used, key))
      imp->counts.missing_audio++;
  }
}

static char *
comparison_summary (const Import *imp)
{
  if (!imp->options->compare)
    return g_strdup ("");
  if (imp->boundaries == 0)
    return g_strdup ("compared: no recording had a .PHN beside it to compare with\n");
  return g_strdup_printf (
    "compared with %u reference .PHN files: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT
    " phones matched; boundaries within %.0f ms: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT
    " (%.1f%%); mean |error| %.1f ms, mean error %+.1f ms\n", imp->compared, imp->matched,
    imp->reference_phones, imp->options->tolerance_ms, imp->within, imp->boundaries,
    100.0 * imp->within / imp->boundaries, 1000 * imp->abs_error_s / imp->boundaries,
    1000 * imp->error_s / imp->boundaries);
}

static char *
summary (const Import *imp)
{
  const ImportCounts *c = &imp->counts;
  const ImportOptions *o = imp->options;
  g_autofree char *comparison = comparison_summary (imp);

  return g_strdup_printf (
    "imported %u of %u recordings to %s (train %u, test %u)\n"
    "skipped: %u without transcript, %u non-speech transcripts ([tones], (descriptions)), "
    "%u unreadable, %u failed to align, %u below --min-confidence %.2f\n"
    "%u transcript entries had no recording\n%s",
    c->train + c->test, c->found, o->out_dir, c->train, c->test, c->no_transcript,
    c->non_speech, c->unreadable, c->failed, c->low_confidence, o->min_confidence,
    c->missing_audio, comparison);
}

/* DIR/import.txt: how the corpus was made. */
static void
write_readme (const Import *imp, const char *command, const char *report)
{
  g_autofree char *path = g_build_filename (imp->options->out_dir, "import.txt", NULL);
  g_autoptr (GString) text = g_string_new (NULL);

  g_string_append_printf (text, "Made by: phonemes corpus %s\n\n%s", command, report);
  g_mkdir_with_parents (imp->options->out_dir, 0755);
  ph_file_write_atomic (path, text->str, text->len, "corpus description", NULL);
}

static gboolean
options_valid (const ImportOptions *o, int argc)
{
  const char *problem = NULL;

  if (o->out_dir == NULL && !o->list_split)
    problem = "--out DIR is required";
  else if (argc < 2)
    problem = "expected at least one SRC directory or audio file";
  else if (o->rate != 0 && (o->rate < 4000 || o->rate > 192000))
    problem = "--rate must be 4000..192000 Hz";
  else if (!(o->held_out >= 0 && o->held_out < 1))
    problem = "--held-out-fraction must be in [0, 1)";
  else if (!(o->min_confidence >= 0 && o->min_confidence <= 1))
    problem = "--min-confidence must be in [0, 1]";
  else if (o->min_frames < 1 || o->min_frames > 100)
    problem = "--min-frames must be 1..100";
  else if (!(o->prior_scale >= 0 && o->prior_scale <= 10))
    problem = "--prior-scale must be 0..10";
  else if (!(o->tolerance_ms > 0))
    problem = "--tolerance-ms must be positive";
  else if (o->phones && o->lexicon_path)
    problem = "--lexicon has no use with --phones (the transcripts are already phones)";
  if (problem)
    fprintf (stderr, "phonemes corpus import: %s (see --help)\n", problem);
  return problem == NULL;
}

static int
run_import (Import *imp, GPtrArray *items, const char *command)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *report = NULL;
  PhAlignConfig *config = aligner_config (imp->aligner);
  ToolProgress progress;

  config->min_frames = (guint) imp->options->min_frames;
  config->prior_scale = (float) imp->options->prior_scale;
  if (imp->options->prior_scale > 0) {
    compute_prior (imp, items);
    config->prior = imp->prior;
  }
  imp->counts.found = items->len;
  tool_progress_start (&progress, "import", items->len);
  for (guint i = 0; i < items->len; i++) {
    if (!import_item (imp, g_ptr_array_index (items, i), &error)) {
      tool_progress_finish (&progress);
      return tool_fail ("corpus import", error);
    }
    tool_progress_update (&progress, i + 1);
  }
  tool_progress_finish (&progress);
  count_missing_audio (imp);
  report = summary (imp);
  printf ("%s", report);
  write_readme (imp, command, report);
  return imp->counts.train + imp->counts.test > 0 ? 0 : 1;
}

int
ph_corpus_import_main (int argc, char **argv)
{
  ImportOptions o = { .min_frames = PH_ALIGN_DEFAULT_MIN_FRAMES, .tolerance_ms = 20 };
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &o.out_dir,
      "Write the corpus to DIR[/train|/test]/<speaker>/<id>.{wav,PHN,WRD,TXT}", "DIR" },
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &o.model_path,
      "Model that aligns (default: the built-in model)", "FILE" },
    { "transcripts", 't', 0, G_OPTION_ARG_FILENAME, &o.transcripts,
      "Lines 'id: text' (plain or gzip), id = path below SRC without extension; "
      "else a .txt/.TXT beside each recording", "FILE" },
    { "lexicon", 0, 0, G_OPTION_ARG_FILENAME, &o.lexicon_path,
      "Extra pronunciations, lines 'word phone phone ...' (CMUdict style)", "FILE" },
    { "phones", 0, 0, G_OPTION_ARG_NONE, &o.phones,
      "The transcripts are phone transcriptions, not words: TIMIT/ARPAbet symbols, words "
      "separated by '/'; a symbol ending in '*' is aligned but left unlabelled (no "
      "training target), e.g. 'p eh r* ow / m ey'", NULL },
    { "speaker", 0, 0, G_OPTION_ARG_STRING, &o.speaker,
      "Speaker directory name (default: the SRC directory's name)", "NAME" },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &o.rate,
      "Resample the written audio to HZ (default: keep the recording's rate)", "HZ" },
    { "held-out-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &o.held_out,
      "Put this fraction of the prompts (by a hash of the text, so a prompt is never on "
      "both sides) in DIR/test, the rest in DIR/train (default 0: no split)", "F" },
    { "min-confidence", 0, 0, G_OPTION_ARG_DOUBLE, &o.min_confidence,
      "Drop utterances whose mean phone confidence is below C (default 0)", "C" },
    { "min-frames", 0, 0, G_OPTION_ARG_INT, &o.min_frames,
      "Frames each phone lasts at least (default 2)", "N" },
    { "prior-scale", 0, 0, G_OPTION_ARG_DOUBLE, &o.prior_scale,
      "Divide posteriors by their mean over all recordings to this power (default 0)", "A" },
    { "compare", 0, 0, G_OPTION_ARG_NONE, &o.compare,
      "Measure the aligner: compare each alignment with the .PHN beside the recording "
      "(e.g. a synthetic corpus) and report boundary agreement", NULL },
    { "tolerance-ms", 0, 0, G_OPTION_ARG_DOUBLE, &o.tolerance_ms,
      "Boundary tolerance for --compare (default 20)", "MS" },
    { "list-split", 0, 0, G_OPTION_ARG_NONE, &o.list_split,
      "Only list the recordings with speech, one line each: 'train|test<TAB>path<TAB>text' "
      "(the split --held-out-fraction makes; no alignment, no --out)", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) items = g_ptr_array_new_with_free_func ((GDestroyNotify) import_item_free);
  g_autofree char *content = NULL;
  g_autoptr (GString) command = g_string_new (NULL);
  Import imp = { .options = &o };
  PhModel *model = NULL;
  int status = 1;

  for (int i = 0; i < argc; i++)
    g_string_append_printf (command, "%s%s", i ? " " : "", argv[i]);
  tool_parse_options ("corpus import", "SRC...",
                      "align recordings with their transcripts into a labelled corpus",
                      entries, &argc, &argv);
  if (!options_valid (&o, argc)) {
    status = 2;
    goto out;
  }
  imp.used = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  if (o.transcripts) {
    imp.transcripts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
    if (!(content = read_text_file (o.transcripts, &error)) ||
        !parse_transcripts (content, o.transcripts, imp.transcripts, &error)) {
      status = tool_fail ("corpus import", error);
      goto out;
    }
  }
  for (int i = 1; i < argc; i++)
    if (!list_source (argv[i], o.speaker, items, &error)) {
      status = tool_fail ("corpus import", error);
      goto out;
    }
  if (o.list_split) {
    status = list_split (&imp, items);
    goto out;
  }
  if (!(model = tool_load_model (o.model_path)))
    goto out;
  if (!(imp.aligner = aligner_new (model, o.lexicon_path, &error))) {
    status = tool_fail ("corpus import", error);
    goto out;
  }
  status = run_import (&imp, items, command->str);
out:
  aligner_free (imp.aligner);
  if (model)
    ph_model_unref (model);
  g_clear_pointer (&imp.transcripts, g_hash_table_unref);
  g_clear_pointer (&imp.used, g_hash_table_unref);
  g_free (o.out_dir);
  g_free (o.model_path);
  g_free (o.transcripts);
  g_free (o.lexicon_path);
  g_free (o.speaker);
  return status;
}
