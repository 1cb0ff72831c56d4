/* cmd_corpus.c: `phonemes corpus`: make labelled corpora. `synth` speaks sentences with
 * flite, espeak-ng and Festival voices and writes TIMIT-style WAV + .PHN + .TXT with the exact
 * phone timings the synthesizers report. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "corpus_import.h"
#include "corpus_text.h"
#include "synth.h"
#include "tool_common.h"

#define DEFAULT_RATE 16000
#define DEFAULT_MINUTES 1.0
#define DEFAULT_SEED 1
/* Utterance length limits, seconds, silences included. */
#define MIN_UTTERANCE_S 1.0
#define MAX_UTTERANCE_S 6.0
/* Rough speaking time per character of text at tempo 1, to skip sentences that are
 * sure to be too long without synthesizing them. */
#define SECONDS_PER_CHAR 0.065
/* Per-utterance variation ranges. */
#define TEMPO_MIN 0.8
#define TEMPO_MAX 1.3
#define PITCH_MIN 0.8
#define PITCH_MAX 1.2
/* Speed perturbation (as in Kaldi's 0.9/1.0/1.1): the audio is resampled as if recorded
 * at rate*warp, scaling pitch and formants by warp and durations by 1/warp. It is the
 * only pitch variation the unit-selection flite voices allow. */
#define WARP_MIN 0.92
#define WARP_MAX 1.08
/* Leading and trailing silence, seconds: an utterance whose edge silence is shorter than
 * the length drawn from this range is padded, so every file starts and ends with h# as
 * TIMIT's do (espeak-ng starts voicing at its first sample). */
#define EDGE_SILENCE_MIN_S 0.08
#define EDGE_SILENCE_MAX_S 0.25
/* Default white noise floor, dBFS RMS: synthetic silence is digital zero, which real
 * recordings never have; below NOISE_OFF_DB no noise is added. */
#define DEFAULT_NOISE_DB -70.0
#define NOISE_OFF_DB -120.0
/* A pause or leading/trailing silence longer than this (seconds) must be quieter than
 * SILENCE_MAX_RATIO times the speech RMS, or the labels are taken to be misplaced. */
#define SILENCE_CHECK_MIN_S 0.04
#define SILENCE_EDGE_S 0.01
#define SILENCE_MAX_RATIO 0.1
#define MAX_FAILURES_IN_A_ROW 200
#define MAX_REPORTED_SKIPS 10

typedef struct {
  char *out_dir;
  double minutes;
  gint64 seed;
  char *voices;
  char **exclude;
  char *voice_weights;
  gint rate;
  double noise_db;
  char *text_split;
  char **text_files;
  gboolean list_voices;
} SynthOptions;

/* Why utterances were not kept. */
typedef struct {
  guint unmapped;   /* a phone without a TIMIT equivalent */
  guint duration;   /* outside MIN_UTTERANCE_S..MAX_UTTERANCE_S */
  guint misaligned; /* a labelled silence that is not silent */
  guint long_text;  /* sentences sure to be too long, not synthesized */
  guint reported;
} SkipCounts;

typedef struct {
  const SynthOptions *options;
  const CorpusText *text;
  double *weights;      /* per chosen voice, from --voice-weights */
  double *target_ends;  /* seconds the corpus holds once voice v is done */
  SkipCounts skips;
  guint utterances;
  guint voices_used;
  double seconds_done;
  ToolProgress progress;
} SynthRun;

/* How one utterance is made, all drawn from the voice's PRNG before synthesis. */
typedef struct {
  SynthProsody prosody;
  double warp;    /* speed perturbation factor */
  double lead_s;  /* minimum leading silence */
  double trail_s; /* minimum trailing silence */
  guint32 noise_seed;
} UtterancePlan;

/* One synthesized utterance at the output rate. */
typedef struct {
  PhAudio audio;
  GArray *labels; /* PhLabel */
} Utterance;

static int corpus_synth (int argc, char **argv);

/* `phonemes corpus` subcommands; each gets the arguments from its own name on. */
static const struct {
  const char *name;
  int (*run) (int argc, char **argv);
  const char *summary;
} corpus_commands[] = {
  { "synth", corpus_synth, "synthesize a labelled corpus with flite, espeak-ng and Festival voices" },
  { "import", ph_corpus_import_main,
    "align real recordings with their transcripts into a labelled corpus" },
};

static void
print_corpus_usage (FILE *out)
{
  fprintf (out, "Usage: phonemes corpus SUBCOMMAND [OPTIONS]\n\nSubcommands:\n");
  for (guint i = 0; i < G_N_ELEMENTS (corpus_commands); i++)
    fprintf (out, "  %-10s %s\n", corpus_commands[i].name, corpus_commands[i].summary);
  fprintf (out, "\nRun 'phonemes corpus SUBCOMMAND --help' for its options.\n");
}

/* ---- voices ---- */

static GArray *
all_voices (void)
{
  GArray *voices = g_array_new (FALSE, TRUE, sizeof (SynthVoice));

  synth_flite_list_voices (voices);
  synth_espeak_list_voices (voices);
  synth_festival_list_voices (voices);
  return voices;
}

static gboolean
matches_any (const char *id, char **patterns)
{
  for (guint i = 0; patterns && patterns[i]; i++)
    if (g_pattern_match_simple (g_strstrip (patterns[i]), id))
      return TRUE;
  return FALSE;
}

static gboolean
check_patterns_match (const GArray *voices, char **patterns, const char *option,
                      GError **error)
{
  for (guint p = 0; patterns && patterns[p]; p++) {
    gboolean hit = FALSE;
    for (guint v = 0; v < voices->len && !hit; v++)
      hit = g_pattern_match_simple (g_strstrip (patterns[p]),
                                    g_array_index (voices, SynthVoice, v).id);
    if (!hit) {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "%s '%s' matches no voice (see 'phonemes corpus synth --list-voices')",
                   option, patterns[p]);
      return FALSE;
    }
  }
  return TRUE;
}

/* The voices --voices keeps and --exclude-voice does not remove. */
static GArray *
select_voices (const SynthOptions *options, GError **error)
{
  g_autoptr (GArray) voices = all_voices ();
  g_auto (GStrv) patterns = options->voices ? g_strsplit (options->voices, ",", -1) : NULL;
  GArray *chosen = g_array_new (FALSE, TRUE, sizeof (SynthVoice));

  if (!check_patterns_match (voices, patterns, "--voices", error)
      || !check_patterns_match (voices, options->exclude, "--exclude-voice", error)) {
    g_array_unref (chosen);
    return NULL;
  }
  for (guint i = 0; i < voices->len; i++) {
    const SynthVoice *v = &g_array_index (voices, SynthVoice, i);
    if ((!patterns || matches_any (v->id, patterns)) && !matches_any (v->id, options->exclude))
      g_array_append_val (chosen, *v);
  }
  if (chosen->len == 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "no voice left after --voices and "
                 "--exclude-voice (see 'phonemes corpus synth --list-voices')");
    g_array_unref (chosen);
    return NULL;
  }
  return chosen;
}

static int
list_voices (void)
{
  g_autoptr (GArray) voices = all_voices ();

  for (guint i = 0; i < voices->len; i++) {
    const SynthVoice *v = &g_array_index (voices, SynthVoice, i);
    printf ("%-22s %s\n", v->id, v->description);
  }
  return 0;
}

static Synth *
open_voice (const SynthVoice *voice, GError **error)
{
  switch (voice->engine) {
  case SYNTH_ENGINE_FLITE:
    return synth_flite_open (voice, error);
  case SYNTH_ENGINE_ESPEAK:
    return synth_espeak_open (voice, error);
  case SYNTH_ENGINE_FESTIVAL:
    return synth_festival_open (voice, error);
  }
  g_assert_not_reached ();
}

/* ---- how the minutes are shared ---- */

/* Parses one "GLOB=WEIGHT" item of --voice-weights. */
static gboolean
parse_weight_item (const char *item, char **pattern, double *weight, GError **error)
{
  const char *eq = strrchr (item, '=');
  char *end = NULL;

  if (eq)
    *weight = g_ascii_strtod (eq + 1, &end);
  if (!eq || eq == item || end == eq + 1 || *end != '\0' || !isfinite (*weight)
      || *weight < 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "--voice-weights item '%s' is not PATTERN=WEIGHT with a weight >= 0", item);
    return FALSE;
  }
  *pattern = g_strndup (item, (gsize) (eq - item));
  return TRUE;
}

/* Each chosen voice's weight: that of the first --voice-weights pattern matching its id,
 * or 1. Every pattern must match a chosen voice, and some weight must be > 0. */
static double *
voice_weights (const char *spec, const GArray *voices, GError **error)
{
  g_auto (GStrv) items = spec ? g_strsplit (spec, ",", -1) : NULL;
  g_autofree double *weights = g_new (double, voices->len);
  g_autofree gboolean *set = g_new0 (gboolean, voices->len);
  double total = 0;

  for (guint v = 0; v < voices->len; v++)
    weights[v] = 1.0;
  for (guint i = 0; items && items[i]; i++) {
    g_autofree char *pattern = NULL;
    double weight;
    gboolean hit = FALSE;
    if (!parse_weight_item (g_strstrip (items[i]), &pattern, &weight, error))
      return NULL;
    for (guint v = 0; v < voices->len; v++)
      if (g_pattern_match_simple (pattern, g_array_index (voices, SynthVoice, v).id)) {
        hit = TRUE;
        if (!set[v])
          weights[v] = weight;
        set[v] = TRUE;
      }
    if (!hit) {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "--voice-weights pattern '%s' matches no chosen voice", pattern);
      return NULL;
    }
  }
  for (guint v = 0; v < voices->len; v++)
    total += weights[v];
  if (!(total > 0)) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "--voice-weights leaves every voice at 0");
    return NULL;
  }
  return g_steal_pointer (&weights);
}

/* Cumulative seconds after each voice, the minutes shared in proportion to the weights. */
static double *
target_ends (double minutes, const double *weights, guint n)
{
  double *ends = g_new (double, n), total = 0, sum = 0;

  for (guint v = 0; v < n; v++)
    total += weights[v];
  for (guint v = 0; v < n; v++) {
    sum += weights[v];
    ends[v] = minutes * 60.0 * sum / total;
  }
  return ends;
}

/* ---- one utterance ---- */

/* Each voice has its own stream, so adding or removing a voice leaves the texts and
 * prosody of the others' utterances unchanged. */
static GRand *
voice_rand (gint64 seed, const char *voice_id)
{
  guint32 key[3] = { (guint32) seed, (guint32) ((guint64) seed >> 32), 2166136261u };

  for (const char *p = voice_id; *p; p++)
    key[2] = (key[2] ^ (guchar) *p) * 16777619u;
  return g_rand_new_with_seed_array (key, G_N_ELEMENTS (key));
}

static void
utterance_clear (Utterance *utt)
{
  ph_audio_clear (&utt->audio);
  g_clear_pointer (&utt->labels, g_array_unref);
}

/* Resamples from the synthesizer's rate, stretched by `warp`, to `rate`, and moves the
 * label boundaries with it so they still tile the audio. */
static void
resample_utterance (Utterance *utt, double warp, guint rate)
{
  guint source_rate = (guint) lround (utt->audio.sample_rate * warp);
  gsize n;

  utt->audio.sample_rate = source_rate;
  ph_audio_resample (&utt->audio, rate);
  n = utt->audio.n_samples;
  for (guint i = 0; i < utt->labels->len; i++) {
    PhLabel *label = &g_array_index (utt->labels, PhLabel, i);
    label->start = MIN ((guint64) llround ((double) label->start * rate / source_rate), n);
    label->end = MIN ((guint64) llround ((double) label->end * rate / source_rate), n);
  }
  if (utt->labels->len > 0)
    g_array_index (utt->labels, PhLabel, utt->labels->len - 1).end = n;
}

/* Makes the edge silence at the start (`at_start`) or end at least `seconds` long by
 * adding zeros, labelled h# (finish_labels() has named the edge silences). */
static void
pad_edge (Utterance *utt, gboolean at_start, double seconds)
{
  GArray *labels = utt->labels;
  const gint h_sharp = ph_phone_index ("h#");
  PhLabel *edge = &g_array_index (labels, PhLabel, at_start ? 0 : labels->len - 1);
  guint64 have = edge->phone == h_sharp ? edge->end - edge->start : 0;
  guint64 want = (guint64) llround (seconds * utt->audio.sample_rate);
  guint64 pad = want > have ? want - have : 0;
  gsize n = utt->audio.n_samples;
  PhLabel silence = { 0, pad, h_sharp };

  if (pad == 0)
    return;
  utt->audio.samples = g_renew (float, utt->audio.samples, n + pad);
  if (at_start)
    memmove (utt->audio.samples + pad, utt->audio.samples, n * sizeof (float));
  memset (utt->audio.samples + (at_start ? 0 : n), 0, pad * sizeof (float));
  utt->audio.n_samples = n + pad;
  if (at_start) {
    for (guint i = 0; i < labels->len; i++) {
      g_array_index (labels, PhLabel, i).start += i == 0 && have ? 0 : pad;
      g_array_index (labels, PhLabel, i).end += pad;
    }
    if (!have)
      g_array_prepend_val (labels, silence);
  } else if (have) {
    edge->end += pad;
  } else {
    silence.start = n;
    silence.end = n + pad;
    g_array_append_val (labels, silence);
  }
}

/* Adds white Gaussian noise of RMS `db` dBFS, from its own seeded stream. */
static void
add_noise_floor (PhAudio *audio, double db, guint32 seed)
{
  g_autoptr (GRand) rand = g_rand_new_with_seed (seed);
  double sigma = pow (10.0, db / 20.0);

  if (db < NOISE_OFF_DB)
    return;
  for (gsize i = 0; i < audio->n_samples; i += 2) {
    /* Box-Muller: two normal deviates per pair of uniforms */
    double u1 = 1.0 - g_rand_double (rand), u2 = g_rand_double (rand);
    double r = sigma * sqrt (-2.0 * log (u1));
    audio->samples[i] = CLAMP (audio->samples[i] + (float) (r * cos (2 * G_PI * u2)), -1.f, 1.f);
    if (i + 1 < audio->n_samples)
      audio->samples[i + 1] = CLAMP (audio->samples[i + 1] + (float) (r * sin (2 * G_PI * u2)),
                                     -1.f, 1.f);
  }
}

/* Drops empty labels, merges repeats, and names the edge silences h#. */
static gboolean
finish_labels (GArray *labels, gsize n_samples, const char *text, GError **error)
{
  const gint pau = ph_phone_index ("pau"), h_sharp = ph_phone_index ("h#");
  guint kept = 0;

  for (guint i = 0; i < labels->len; i++) {
    PhLabel label = g_array_index (labels, PhLabel, i);
    if (label.end <= label.start)
      continue;
    if (kept > 0 && g_array_index (labels, PhLabel, kept - 1).phone == label.phone)
      g_array_index (labels, PhLabel, kept - 1).end = label.end;
    else
      g_array_index (labels, PhLabel, kept++) = label;
  }
  g_array_set_size (labels, kept);
  for (guint i = 0; i < kept; i++) {
    PhLabel *label = &g_array_index (labels, PhLabel, i);
    guint64 expected = i == 0 ? 0 : g_array_index (labels, PhLabel, i - 1).end;
    if (label->start != expected || (i + 1 == kept && label->end != n_samples)) {
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "labels of \"%s\" do not tile the audio at sample %" G_GUINT64_FORMAT,
                   text, label->start);
      return FALSE;
    }
  }
  if (kept == 0)
    return FALSE;
  if (g_array_index (labels, PhLabel, 0).phone == pau)
    g_array_index (labels, PhLabel, 0).phone = h_sharp;
  if (g_array_index (labels, PhLabel, kept - 1).phone == pau)
    g_array_index (labels, PhLabel, kept - 1).phone = h_sharp;
  return TRUE;
}

static double
rms (const float *samples, gsize n)
{
  double sum = 0;

  for (gsize i = 0; i < n; i++)
    sum += (double) samples[i] * samples[i];
  return n ? sqrt (sum / n) : 0;
}

/* Checks that the labels sit on the audio: every long enough silence label is quiet
 * compared with the speech. Returns the loudest silence:speech RMS ratio. */
static double
loudest_silence_ratio (const Utterance *utt)
{
  const PhAudio *a = &utt->audio;
  guint64 edge = (guint64) (SILENCE_EDGE_S * a->sample_rate);
  guint64 min_len = (guint64) (SILENCE_CHECK_MIN_S * a->sample_rate);
  double speech_sum = 0, loudest = 0, speech_rms;
  guint64 speech_n = 0;

  for (guint i = 0; i < utt->labels->len; i++) {
    const PhLabel *l = &g_array_index (utt->labels, PhLabel, i);
    if (ph_phone_is_silence (l->phone))
      continue;
    for (guint64 s = l->start; s < l->end; s++)
      speech_sum += (double) a->samples[s] * a->samples[s];
    speech_n += l->end - l->start;
  }
  speech_rms = speech_n ? sqrt (speech_sum / speech_n) : 0;
  for (guint i = 0; i < utt->labels->len; i++) {
    const PhLabel *l = &g_array_index (utt->labels, PhLabel, i);
    gint p = l->phone;
    if ((p != ph_phone_index ("pau") && p != ph_phone_index ("h#")) || l->end - l->start < min_len)
      continue;
    loudest = MAX (loudest, rms (a->samples + l->start + edge, l->end - l->start - 2 * edge));
  }
  return speech_rms > 0 ? loudest / speech_rms : G_MAXDOUBLE;
}

static void
report_skip (SynthRun *run, const char *voice_id, const char *message)
{
  if (run->skips.reported++ < MAX_REPORTED_SKIPS)
    g_printerr ("phonemes corpus synth: %s: skipped: %s\n", voice_id, message);
}

/* Speaks `text` into `utt` at the output rate. FALSE with `error` unset when the
 * utterance was skipped (counted in run->skips); FALSE with `error` set when fatal. */
static gboolean
make_utterance (SynthRun *run, Synth *synth, const SynthVoice *voice, const char *text,
                const UtterancePlan *plan, Utterance *utt, GError **error)
{
  g_autoptr (GError) local = NULL;
  g_autofree char *message = NULL;
  double seconds;

  utt->labels = g_array_new (FALSE, FALSE, sizeof (PhLabel));
  if (!synth->speak (synth, text, &plan->prosody, &utt->audio, utt->labels, &local)) {
    if (!g_error_matches (local, PH_ERROR, PH_ERROR_UNSUPPORTED)) {
      g_propagate_error (error, g_steal_pointer (&local));
      return FALSE;
    }
    run->skips.unmapped++;
    report_skip (run, voice->id, local->message);
    return FALSE;
  }
  resample_utterance (utt, plan->warp, (guint) run->options->rate);
  if (!finish_labels (utt->labels, utt->audio.n_samples, text, &local)) {
    run->skips.misaligned++;
    report_skip (run, voice->id, local ? local->message : "no labels");
    return FALSE;
  }
  pad_edge (utt, TRUE, plan->lead_s);
  pad_edge (utt, FALSE, plan->trail_s);
  seconds = (double) utt->audio.n_samples / utt->audio.sample_rate;
  if (seconds < MIN_UTTERANCE_S || seconds > MAX_UTTERANCE_S) {
    run->skips.duration++;
    return FALSE;
  }
  if (loudest_silence_ratio (utt) > SILENCE_MAX_RATIO) {
    run->skips.misaligned++;
    message = g_strdup_printf ("a silence label of \"%s\" is not silent (labels misplaced?)",
                               text);
    report_skip (run, voice->id, message);
    return FALSE;
  }
  add_noise_floor (&utt->audio, run->options->noise_db, plan->noise_seed);
  return TRUE;
}

/* ---- output ---- */

static gboolean
write_utterance (const char *dir, const char *name, const Utterance *utt, const char *text,
                 GError **error)
{
  g_autofree char *base = g_build_filename (dir, name, NULL);
  g_autofree char *wav = g_strconcat (base, ".wav", NULL);
  g_autofree char *phn = g_strconcat (base, ".PHN", NULL);
  g_autofree char *txt = g_strconcat (base, ".TXT", NULL);
  g_autofree char *txt_line = g_strdup_printf ("0 %" G_GSIZE_FORMAT " %s\n",
                                               utt->audio.n_samples, text);

  return ph_audio_write_wav (wav, utt->audio.samples, utt->audio.n_samples,
                             utt->audio.sample_rate, error)
         && ph_labels_write_phn (phn, utt->labels, error)
         && ph_file_write_atomic (txt, txt_line, strlen (txt_line), "transcript file", error);
}

static gboolean
make_dir (const char *path, GError **error)
{
  if (g_mkdir_with_parents (path, 0755) != 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "cannot create directory %s: %s", path,
                 g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

/* ---- the corpus ---- */

static UtterancePlan
draw_plan (GRand *rand)
{
  UtterancePlan plan;

  plan.prosody.tempo = g_rand_double_range (rand, TEMPO_MIN, TEMPO_MAX);
  plan.prosody.pitch = g_rand_double_range (rand, PITCH_MIN, PITCH_MAX);
  plan.warp = g_rand_double_range (rand, WARP_MIN, WARP_MAX);
  plan.lead_s = g_rand_double_range (rand, EDGE_SILENCE_MIN_S, EDGE_SILENCE_MAX_S);
  plan.trail_s = g_rand_double_range (rand, EDGE_SILENCE_MIN_S, EDGE_SILENCE_MAX_S);
  plan.noise_seed = g_rand_int (rand);
  return plan;
}

/* Gives up on a voice that keeps failing, e.g. on text it cannot say. */
static gboolean
count_failure (const SynthVoice *voice, guint *failures, GError **error)
{
  if (++*failures < MAX_FAILURES_IN_A_ROW)
    return TRUE;
  g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
               "voice %s: %u utterances in a row could not be used (text too long, "
               "unmapped phones or misaligned labels)", voice->id, *failures);
  return FALSE;
}

static const char *
pick_sentence (const CorpusText *text, GRand *rand)
{
  return text->sentences->pdata[g_rand_int_range (rand, 0, (gint32) text->sentences->len)];
}

/* Synthesizes utterances with voice number `v` until the corpus has the first v + 1
 * shares of the minutes (shares in proportion to the voices' weights), so the total
 * stays within one utterance of the request even when a share is shorter than an
 * utterance. */
static gboolean
synthesize_voice (SynthRun *run, guint v, const SynthVoice *voice, GError **error)
{
  g_autofree char *dir = g_build_filename (run->options->out_dir, voice->id, NULL);
  g_autoptr (GRand) rand = voice_rand (run->options->seed, voice->id);
  double target = run->target_ends[v];
  Synth *synth;
  guint index = 0, failures = 0;
  gboolean ok = TRUE;

  if (run->seconds_done >= target)
    return TRUE;
  if (!make_dir (dir, error) || !(synth = open_voice (voice, error)))
    return FALSE;
  while (ok && run->seconds_done < target) {
    UtterancePlan plan = draw_plan (rand);
    const char *text = pick_sentence (run->text, rand);
    Utterance utt = { .labels = NULL };
    if (strlen (text) * SECONDS_PER_CHAR * plan.prosody.tempo / plan.warp > MAX_UTTERANCE_S) {
      run->skips.long_text++;
      ok = count_failure (voice, &failures, error);
      continue;
    }
    if (make_utterance (run, synth, voice, text, &plan, &utt, error)) {
      g_autofree char *name = g_strdup_printf ("u%04u", ++index);
      ok = write_utterance (dir, name, &utt, text, error);
      run->seconds_done += (double) utt.audio.n_samples / utt.audio.sample_rate;
      run->utterances++;
      failures = 0;
      tool_progress_update (&run->progress, (guint64) (run->seconds_done * 1000));
    } else if (error && *error) {
      ok = FALSE;
    } else {
      ok = count_failure (voice, &failures, error);
    }
    utterance_clear (&utt);
  }
  synth->free (synth);
  run->voices_used += index > 0;
  return ok;
}

static const char *
split_name (CorpusTextSplit split)
{
  return split == CORPUS_TEXT_TRAIN ? "train" : split == CORPUS_TEXT_TEST ? "test" : "all";
}

/* DIR/synth.txt: how the corpus was made, to reproduce or describe it. */
static gboolean
write_info (const SynthRun *run, const GArray *voices, CorpusTextSplit split, GError **error)
{
  g_autoptr (GString) info = g_string_new (NULL);
  g_autofree char *path = g_build_filename (run->options->out_dir, "synth.txt", NULL);

  g_string_append_printf (info, "generator: phonemes corpus synth\nseed: %" G_GINT64_FORMAT
                          "\nminutes: %g\nrate: %d\nnoise-db: %g\ntext-split: %s\n"
                          "text: %s (%u sentences)\n"
                          "utterances: %u\naudio-seconds: %.1f\nskipped-unmapped: %u\n"
                          "skipped-duration: %u\nskipped-misaligned: %u\nskipped-long-text: %u\n"
                          "voices (weight):",
                          run->options->seed, run->options->minutes, run->options->rate,
                          run->options->noise_db,
                          split_name (split), run->text->sources, run->text->sentences->len,
                          run->utterances, run->seconds_done, run->skips.unmapped,
                          run->skips.duration, run->skips.misaligned, run->skips.long_text);
  for (guint i = 0; i < voices->len; i++)
    g_string_append_printf (info, " %s(%g)", g_array_index (voices, SynthVoice, i).id,
                            run->weights[i]);
  g_string_append_c (info, '\n');
  return ph_file_write_atomic (path, info->str, info->len, "corpus description", error);
}

static gboolean
check_options (const SynthOptions *options, CorpusTextSplit *split, GError **error)
{
  if (!options->out_dir) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "--out DIR is required");
    return FALSE;
  }
  if (!(options->minutes > 0) || options->minutes > 100000) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "--minutes must be > 0, not %g",
                 options->minutes);
    return FALSE;
  }
  if (options->rate < 8000 || options->rate > 192000) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "--rate must be 8000..192000 Hz, not %d",
                 options->rate);
    return FALSE;
  }
  if (!corpus_text_parse_split (options->text_split ? options->text_split : "train", split)) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "--text-split must be train, test or all, not '%s'", options->text_split);
    return FALSE;
  }
  return TRUE;
}

static gboolean
synthesize_corpus (const SynthOptions *options, GError **error)
{
  CorpusTextSplit split;
  g_autoptr (GArray) voices = NULL;
  SynthRun run = { .options = options };
  gint64 start_us = g_get_monotonic_time ();
  gboolean ok = TRUE;

  if (!check_options (options, &split, error) || !(voices = select_voices (options, error))
      || !(run.weights = voice_weights (options->voice_weights, voices, error))
      || !(run.text = corpus_text_load ((const char *const *) options->text_files, split,
                                        error))
      || !make_dir (options->out_dir, error)) {
    corpus_text_free ((CorpusText *) run.text);
    g_free (run.weights);
    return FALSE;
  }
  run.target_ends = target_ends (options->minutes, run.weights, voices->len);
  tool_progress_start (&run.progress, "synth", (guint64) (options->minutes * 60000));
  for (guint i = 0; i < voices->len && ok; i++)
    ok = synthesize_voice (&run, i, &g_array_index (voices, SynthVoice, i), error);
  tool_progress_finish (&run.progress);
  ok = ok && write_info (&run, voices, split, error);
  if (ok)
    g_printerr ("phonemes corpus synth: %u utterances, %.1f min of audio from %u voices in %s "
                "(%.1f s); skipped %u unmapped, %u too short/long, %u misaligned, %u long texts\n",
                run.utterances, run.seconds_done / 60, run.voices_used, options->out_dir,
                (g_get_monotonic_time () - start_us) / 1e6, run.skips.unmapped,
                run.skips.duration, run.skips.misaligned, run.skips.long_text);
  corpus_text_free ((CorpusText *) run.text);
  g_free (run.weights);
  g_free (run.target_ends);
  return ok;
}

static int
corpus_synth (int argc, char **argv)
{
  SynthOptions options = {
    .minutes = DEFAULT_MINUTES, .seed = DEFAULT_SEED, .rate = DEFAULT_RATE,
    .noise_db = DEFAULT_NOISE_DB,
  };
  GOptionEntry entries[] = {
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &options.out_dir,
      "Write the corpus to DIR/<voice>/<utterance>.{wav,PHN,TXT}", "DIR" },
    { "minutes", 'm', 0, G_OPTION_ARG_DOUBLE, &options.minutes,
      "Minutes of audio in all, split across the voices by their weights (default: evenly)",
      "N" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &options.seed,
      "Seed for text, tempo, pitch and speed choices (default 1)", "S" },
    { "voices", 0, 0, G_OPTION_ARG_STRING, &options.voices,
      "Comma-separated glob patterns of voice ids, e.g. 'flite-*,espeak-en-us*' (default all)",
      "LIST" },
    { "exclude-voice", 0, 0, G_OPTION_ARG_STRING_ARRAY, &options.exclude,
      "Leave out voices matching this glob pattern (repeatable)", "NAME" },
    { "voice-weights", 0, 0, G_OPTION_ARG_STRING, &options.voice_weights,
      "Share the minutes in proportion to weights, e.g. 'flite-*=16,festival-*=16' "
      "(a voice takes the first pattern matching its id; unmatched voices weigh 1)",
      "LIST" },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &options.rate, "Output sample rate (default 16000)",
      "HZ" },
    { "noise-db", 0, 0, G_OPTION_ARG_DOUBLE, &options.noise_db,
      "White noise floor added to every file, dBFS RMS (default -70; below -120: none)", "DB" },
    { "text-split", 0, 0, G_OPTION_ARG_STRING, &options.text_split,
      "Sentences to use: train (90%), test (the held-out 10%) or all (default train)",
      "SPLIT" },
    { "text", 't', 0, G_OPTION_ARG_FILENAME_ARRAY, &options.text_files,
      "Read sentences from FILE, one per line, instead of the fortune files and "
      "tools/data/sentences.txt (repeatable)", "FILE" },
    { "list-voices", 0, 0, G_OPTION_ARG_NONE, &options.list_voices,
      "List the voice ids and exit", NULL },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  int status;

  tool_parse_options ("corpus synth", "",
                      "synthesize a corpus with exact phone labels (TIMIT layout)", entries,
                      &argc, &argv);
  if (options.list_voices)
    status = list_voices ();
  else if (argc > 1)
    status = (g_printerr ("phonemes corpus synth: unexpected argument '%s'\n", argv[1]), 2);
  else
    status = synthesize_corpus (&options, &error) ? 0 : tool_fail ("corpus synth", error);
  g_free (options.out_dir);
  g_free (options.voices);
  g_strfreev (options.exclude);
  g_free (options.voice_weights);
  g_free (options.text_split);
  g_strfreev (options.text_files);
  return status;
}

int
ph_cmd_corpus (int argc, char **argv)
{
  if (argc < 2) {
    print_corpus_usage (stderr);
    return 2;
  }
  if (!strcmp (argv[1], "--help") || !strcmp (argv[1], "-h") || !strcmp (argv[1], "help")) {
    print_corpus_usage (stdout);
    return 0;
  }
  for (guint i = 0; i < G_N_ELEMENTS (corpus_commands); i++)
    if (!strcmp (argv[1], corpus_commands[i].name))
      return corpus_commands[i].run (argc - 1, argv + 1);
  fprintf (stderr, "phonemes corpus: unknown subcommand '%s'\n\n", argv[1]);
  print_corpus_usage (stderr);
  return 2;
}
