/* synth_festival.c: Festival's diphone voices (Debian festvox-kallpc16k, festvox-kdlpc16k),
 * labelled from the utterance's Segment relation. One `festival --pipe` process per open
 * voice reads a Scheme call per utterance, writes the wave to a temporary file and prints
 * each segment's name and end time (seconds) on its standard output. */
#include "synth.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <glib/gstdio.h>

/* Where Debian's festvox packages install the English voices. */
#define FESTIVAL_VOICE_DIR "/usr/share/festival/voices/english"
/* A label may end past the wave by this much (seconds) before the utterance is refused. */
#define MAX_LINE 256

typedef struct {
  const char *name; /* Festival voice, selected by (voice_NAME) */
  const char *id;
  const char *description;
} FestivalVoiceEntry;

static const FestivalVoiceEntry festival_voices[] = {
  { "kal_diphone", "festival-kal", "Festival diphone (LPC), US male (kal), 16 kHz" },
  { "ked_diphone", "festival-ked", "Festival diphone (LPC), US male (ked), 16 kHz" },
};

/* Festival's "radio" phone set (both voices use it) and the TIMIT phone of each. Its
 * symbols are TIMIT's own, except for breath, which TIMIT lacks. ked_diphone's lexicon
 * writes an r after er ("world": w er r l d); that r is merged into the er, TIMIT's er
 * being r-coloured already (see festival_phone_to_timit()). */
static const struct {
  const char *festival;
  const char *timit; /* NULL: no TIMIT equivalent, the utterance is skipped */
} festival_phones[] = {
  { "aa", "aa" }, { "ae", "ae" }, { "ah", "ah" }, { "ao", "ao" }, { "aw", "aw" },
  { "ax", "ax" }, { "axr", "axr" }, { "ay", "ay" }, { "eh", "eh" }, { "er", "er" },
  { "ey", "ey" }, { "ih", "ih" }, { "iy", "iy" }, { "ow", "ow" }, { "oy", "oy" },
  { "uh", "uh" }, { "uw", "uw" },
  { "b", "b" }, { "ch", "ch" }, { "d", "d" }, { "dh", "dh" }, { "dx", "dx" },
  { "el", "el" }, { "em", "em" }, { "en", "en" }, { "f", "f" }, { "g", "g" },
  { "hh", "hh" }, { "hv", "hv" }, { "jh", "jh" }, { "k", "k" }, { "l", "l" },
  { "m", "m" }, { "n", "n" }, { "nx", "nx" }, { "ng", "ng" }, { "p", "p" },
  { "r", "r" }, { "s", "s" }, { "sh", "sh" }, { "t", "t" }, { "th", "th" },
  { "v", "v" }, { "w", "w" }, { "y", "y" }, { "z", "z" }, { "zh", "zh" },
  { "pau", "pau" }, { "h#", "h#" },
  { "brth", NULL },
};

/* Defines (ph-speak TEXT STRETCH PITCH): Duration_Stretch and the F0 target mean and
 * spread scaled from the voice's defaults, then PH_SEG lines and PH_END, or PH_ERROR. */
static const char festival_setup[] =
  "(define (ph-scale-f0 params pitch)\n"
  "  (mapcar (lambda (p) (if (or (eq? (car p) 'target_f0_mean) (eq? (car p) 'target_f0_std))\n"
  "                          (list (car p) (* pitch (car (cdr p)))) p)) params))\n"
  "(set! ph-default-f0 int_lr_params)\n"
  "(set! ph-default-stretch (Parameter.get 'Duration_Stretch))\n"
  "(if (not ph-default-stretch) (set! ph-default-stretch 1.0))\n"
  "(define (ph-speak text stretch pitch wavfile)\n"
  "  (Parameter.set 'Duration_Stretch (* ph-default-stretch stretch))\n"
  "  (set! int_lr_params (ph-scale-f0 ph-default-f0 pitch))\n"
  "  (unwind-protect\n"
  "    (let ((utt (SynthText text)))\n"
  "      (utt.save.wave utt wavfile 'riff)\n"
  "      (mapcar (lambda (s) (format t \"PH_SEG %s %f\\n\" (item.name s) (item.feat s \"end\")))\n"
  "              (utt.relation.items utt 'Segment))\n"
  "      (format t \"PH_END\\n\"))\n"
  "    (format t \"PH_ERROR\\n\"))\n"
  "  (fflush nil))\n";

typedef struct {
  Synth parent;
  GPid pid;
  FILE *to;        /* festival's standard input */
  FILE *from;      /* its standard output */
  char *tmp_dir;
  char *wav_path;
} FestivalSynth;

/* One Segment item: Festival's phone name and end time, seconds. */
typedef struct {
  char name[16];
  double end_s;
} FestivalSegment;

static gboolean
festival_available (const FestivalVoiceEntry *entry)
{
  g_autofree char *program = g_find_program_in_path ("festival");
  g_autofree char *dir = g_build_filename (FESTIVAL_VOICE_DIR, entry->name, NULL);

  return program != NULL && g_file_test (dir, G_FILE_TEST_IS_DIR);
}

void
synth_festival_list_voices (GArray *voices)
{
  for (guint i = 0; i < G_N_ELEMENTS (festival_voices); i++) {
    SynthVoice v = { .engine = SYNTH_ENGINE_FESTIVAL };
    if (!festival_available (&festival_voices[i]))
      continue;
    g_strlcpy (v.id, festival_voices[i].id, sizeof v.id);
    g_strlcpy (v.name, festival_voices[i].name, sizeof v.name);
    g_strlcpy (v.description, festival_voices[i].description, sizeof v.description);
    g_array_append_val (voices, v);
  }
}

gint
synth_festival_map_phone (const char *name, const char *previous, gint *phone)
{
  for (guint i = 0; i < G_N_ELEMENTS (festival_phones); i++) {
    if (strcmp (festival_phones[i].festival, name) != 0)
      continue;
    if (!festival_phones[i].timit)
      return -1;
    if (strcmp (name, "r") == 0 && previous
        && (strcmp (previous, "er") == 0 || strcmp (previous, "axr") == 0))
      return 0;
    *phone = ph_phone_index (festival_phones[i].timit);
    return 1;
  }
  return -1;
}

/* Festival reads the text as a Scheme string: quotes and backslashes are dropped. */
static char *
scheme_string (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p; p++)
    if (*p != '"' && *p != '\\' && *p != '\n')
      g_string_append_c (out, *p);
  return g_string_free (out, FALSE);
}

/* Reads PH_SEG lines up to PH_END. FALSE on PH_ERROR (PH_ERROR_UNSUPPORTED) or when the
 * process has gone (PH_ERROR_IO). Other lines (Festival's messages) are ignored. */
static gboolean
read_segments (FestivalSynth *self, const char *text, GArray *segments, GError **error)
{
  char line[MAX_LINE];

  while (fgets (line, sizeof line, self->from)) {
    FestivalSegment seg = { .end_s = 0 };
    if (g_str_has_prefix (line, "PH_END"))
      return TRUE;
    if (g_str_has_prefix (line, "PH_ERROR")) {
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED, "festival could not synthesize \"%s\"",
                   text);
      return FALSE;
    }
    if (sscanf (line, "PH_SEG %15s %lf", seg.name, &seg.end_s) == 2)
      g_array_append_val (segments, seg);
  }
  g_set_error (error, PH_ERROR, PH_ERROR_IO, "festival exited while synthesizing \"%s\"", text);
  return FALSE;
}

static gboolean
segments_to_labels (const GArray *segments, guint rate, gsize n_samples, const char *text,
                    GArray *labels, GError **error)
{
  SynthLabels out;

  synth_labels_init (&out, labels, rate, n_samples, "festival", text);
  for (guint i = 0; i < segments->len; i++) {
    const FestivalSegment *s = &g_array_index (segments, FestivalSegment, i);
    const char *previous = i ? g_array_index (segments, FestivalSegment, i - 1).name : NULL;
    gint phone = -1, n = synth_festival_map_phone (s->name, previous, &phone);
    if (n < 0) {
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "festival phone '%s' in \"%s\" has no TIMIT equivalent", s->name, text);
      return FALSE;
    }
    if (n == 0 && labels->len > 0)
      phone = g_array_index (labels, PhLabel, labels->len - 1).phone;
    if (!synth_labels_add (&out, phone, s->name, s->end_s, error))
      return FALSE;
  }
  synth_labels_finish (&out);
  return TRUE;
}

static gboolean
festival_speak (Synth *synth, const char *text, const SynthProsody *prosody, PhAudio *audio,
                GArray *labels, GError **error)
{
  FestivalSynth *self = (FestivalSynth *) synth;
  g_autofree char *quoted = scheme_string (text);
  g_autoptr (GArray) segments = g_array_new (FALSE, FALSE, sizeof (FestivalSegment));
  char tempo[G_ASCII_DTOSTR_BUF_SIZE], pitch[G_ASCII_DTOSTR_BUF_SIZE];

  g_unlink (self->wav_path);
  fprintf (self->to, "(ph-speak \"%s\" %s %s \"%s\")\n", quoted,
           g_ascii_dtostr (tempo, sizeof tempo, prosody->tempo),
           g_ascii_dtostr (pitch, sizeof pitch, prosody->pitch), self->wav_path);
  if (fflush (self->to) != 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "cannot write to festival: %s",
                 g_strerror (errno));
    return FALSE;
  }
  if (!read_segments (self, text, segments, error) || !ph_audio_read (self->wav_path, audio, error))
    return FALSE;
  if (!segments_to_labels (segments, audio->sample_rate, audio->n_samples, text, labels, error)) {
    ph_audio_clear (audio);
    return FALSE;
  }
  return TRUE;
}

static void
festival_free (Synth *synth)
{
  FestivalSynth *self = (FestivalSynth *) synth;
  int status;

  if (self->to) {
    fputs ("(quit)\n", self->to);
    fclose (self->to);
  }
  if (self->from)
    fclose (self->from);
  if (self->pid > 0) {
    waitpid (self->pid, &status, 0);
    g_spawn_close_pid (self->pid);
  }
  if (self->wav_path)
    g_unlink (self->wav_path);
  if (self->tmp_dir)
    g_rmdir (self->tmp_dir);
  g_free (self->wav_path);
  g_free (self->tmp_dir);
  g_free (self);
}

static gboolean
start_festival (FestivalSynth *self, const char *voice_name, GError **error)
{
  char *argv[] = { "festival", "--pipe", NULL };
  gint in_fd, out_fd;

  if (!g_spawn_async_with_pipes (NULL, argv, NULL,
                                 G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD
                                   | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, &self->pid, &in_fd, &out_fd, NULL, error))
    return FALSE;
  self->to = fdopen (in_fd, "w");
  self->from = fdopen (out_fd, "r");
  fprintf (self->to, "(unwind-protect (voice_%s) (format t \"PH_ERROR\\n\"))\n"
           "%s(format t \"PH_END\\n\")\n(fflush nil)\n", voice_name, festival_setup);
  fflush (self->to);
  return TRUE;
}

/* The setup prints PH_ERROR when the voice does not load, and ends with PH_END. */
static gboolean
check_festival_ready (FestivalSynth *self, const char *voice_name, GError **error)
{
  g_autoptr (GArray) segments = g_array_new (FALSE, FALSE, sizeof (FestivalSegment));
  g_autoptr (GError) local = NULL;

  if (!read_segments (self, "(setup)", segments, &local)) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "festival did not start voice %s: %s",
                 voice_name, local->message);
    return FALSE;
  }
  return TRUE;
}

Synth *
synth_festival_open (const SynthVoice *voice, GError **error)
{
  FestivalSynth *self;
  gboolean known = FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (festival_voices); i++)
    known |= strcmp (festival_voices[i].name, voice->name) == 0;
  if (!known) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "no festival voice called '%s'",
                 voice->name);
    return NULL;
  }
  self = g_new0 (FestivalSynth, 1);
  self->parent.speak = festival_speak;
  self->parent.free = festival_free;
  self->tmp_dir = g_dir_make_tmp ("phonemes-festival-XXXXXX", error);
  if (self->tmp_dir)
    self->wav_path = g_build_filename (self->tmp_dir, "utterance.wav", NULL);
  if (!self->tmp_dir || !start_festival (self, voice->name, error)
      || !check_festival_ready (self, voice->name, error)) {
    festival_free (&self->parent);
    return NULL;
  }
  return &self->parent;
}
