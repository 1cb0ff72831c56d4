/* synth_espeak.c: espeak-ng English voices, labelled from its phoneme events. */
#include "synth.h"

#include <math.h>
#include <string.h>
#include <espeak-ng/speak_lib.h>

#define ESPEAK_DEFAULT_WPM 175.0
#define ESPEAK_MIN_WPM 80
#define ESPEAK_MAX_WPM 450
/* Share of an r-coloured vowel ("A@", ɑːɹ) or centring diphthong ("i@", ɪə) given to
 * its first phone when it is split in two, a typical vowel:glide ratio. */
#define SPLIT_FIRST_FRACTION 0.6

/* espeak languages: en-us is rhotic American, en is British (non-rhotic). */
static const struct {
  const char *lang;
  const char *id;
  const char *description;
} espeak_langs[] = {
  { "en-us", "espeak-en-us", "espeak-ng American English" },
  { "en", "espeak-en-gb", "espeak-ng British English" },
};

/* Variants of `espeak-ng --voices=variant` that sound like plain speech. */
static const char *const espeak_variants[] = {
  "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
  "klatt", "klatt2", "klatt3",
};

/* An espeak mnemonic and its TIMIT phones, rhotic (US) and non-rhotic (GB). "+" as the
 * US phone merges the segment into the previous phone. */
typedef struct {
  const char *mnemonic;
  const char *us[2];
  const char *gb[2];
} EspeakPhoneme;

static const EspeakPhoneme espeak_phonemes[] = {
  /* reduced vowels */
  { "@", { "ax" }, { "ax" } },
  { "@-", { "ax" }, { "ax" } },
  { "@2", { "ax" }, { "ax" } },
  { "@5", { "ax" }, { "ax" } },
  { "a#", { "ax" }, { "ax" } },
  { "3", { "axr" }, { "ax" } },    /* ɚ in en-us, ə in en */
  { "@L", { "el" }, { "el" } },
  { "I2", { "ix" }, { "ix" } },
  { "I#", { "ix" }, { "ix" } },
  { "I2#", { "ix" }, { "ix" } },
  /* vowels */
  { "a", { "ae" }, { "ae" } },
  { "aa", { "ae" }, { "ae" } },    /* "bath": æ in en-us, front [a] in en */
  { "a2", { "ae" }, { "ae" } },
  { "A:", { "aa" }, { "aa" } },
  { "0", { "aa" }, { "aa" } },     /* ɑː in en-us, ɒ in en */
  { "O", { "ao" }, { "ao" } },
  { "O2", { "ao" }, { "ao" } },
  { "O:", { "ao" }, { "ao" } },
  { "E", { "eh" }, { "eh" } },
  { "E2", { "eh" }, { "eh" } },
  { "E#", { "eh" }, { "eh" } },
  { "e#", { "eh" }, { "eh" } },
  { "I", { "ih" }, { "ih" } },
  { "i", { "iy" }, { "iy" } },     /* happY */
  { "i:", { "iy" }, { "iy" } },
  { "V", { "ah" }, { "ah" } },
  { "U", { "uh" }, { "uh" } },
  { "u:", { "uw" }, { "uw" } },
  { "3:", { "er" }, { "er" } },
  { "aI", { "ay" }, { "ay" } },
  { "aU", { "aw" }, { "aw" } },
  { "eI", { "ey" }, { "ey" } },
  { "oU", { "ow" }, { "ow" } },
  { "OI", { "oy" }, { "oy" } },
  { "o:", { "ow" }, { "ow" } },
  { "e:", { "ey" }, { "ey" } },
  /* r-coloured vowels (en-us) and centring diphthongs (en): split in two */
  { "A@", { "aa", "r" }, { "aa" } },
  { "O@", { "ao", "r" }, { "ao" } },
  { "o@", { "ao", "r" }, { "ao" } },
  { "e@", { "eh", "r" }, { "eh" } },
  { "i@3", { "ih", "r" }, { "ih", "ax" } },
  { "U@", { "uh", "r" }, { "uh", "ax" } },
  { "i@", { "iy", "ax" }, { "ih", "ax" } },
  { "aI@", { "ay", "ax" }, { "ay", "ax" } },
  { "aI3", { "ay", "axr" }, { "ay", "ax" } },
  { "aU@", { "aw", "axr" }, { "aw", "ax" } },
  /* consonants */
  { "p", { "p" }, { "p" } },
  { "b", { "b" }, { "b" } },
  { "t", { "t" }, { "t" } },
  { "t2", { "t" }, { "t" } },
  { "t#", { "dx" }, { "dx" } },    /* the en-us tap in "city" */
  { "d", { "d" }, { "d" } },
  { "d2", { "d" }, { "d" } },
  { "d#", { "d" }, { "d" } },
  { "k", { "k" }, { "k" } },
  { "g", { "g" }, { "g" } },
  { "?", { "q" }, { "q" } },
  { "tS", { "ch" }, { "ch" } },
  { "dZ", { "jh" }, { "jh" } },
  { "f", { "f" }, { "f" } },
  { "v", { "v" }, { "v" } },
  { "T", { "th" }, { "th" } },
  { "D", { "dh" }, { "dh" } },
  { "s", { "s" }, { "s" } },
  { "z", { "z" }, { "z" } },
  { "z#", { "z" }, { "z" } },
  { "z/2", { "z" }, { "z" } },
  { "S", { "sh" }, { "sh" } },
  { "Z", { "zh" }, { "zh" } },
  { "h", { "hh" }, { "hh" } },
  { "m", { "m" }, { "m" } },
  { "n", { "n" }, { "n" } },
  { "N", { "ng" }, { "ng" } },
  { "m-", { "em" }, { "em" } },    /* syllabic nasals */
  { "n-", { "en" }, { "en" } },
  { "l", { "l" }, { "l" } },
  { "l/", { "l" }, { "l" } },
  { "l/2", { "l" }, { "l" } },
  { "r", { "r" }, { "r" } },
  { "r-", { "r" }, { "r" } },      /* linking r */
  { "r/", { "r" }, { "r" } },
  { "w", { "w" }, { "w" } },
  { "w#", { "w" }, { "w" } },      /* ʍ in "which" */
  { "j", { "y" }, { "y" } },
  /* the short palatal glide espeak inserts after [i] before a vowel ("the attempt",
   * "being"): TIMIT transcribers rarely mark it, so it joins the vowel before it */
  { ";", { "+" }, { "+" } },
  /* pauses */
  { "_", { "pau" }, { "pau" } },
  { "_:", { "pau" }, { "pau" } },
  { "_!", { "pau" }, { "pau" } },
  { "_|", { "pau" }, { "pau" } },
};

/* One phoneme event: where it starts in the output and its mnemonic. */
typedef struct {
  guint64 sample;
  char mnemonic[sizeof ((espeak_EVENT *) NULL)->id.string + 1];
} EspeakPhoneEvent;

/* What the synthesis callback collects for one utterance. */
typedef struct {
  GArray *samples; /* gint16 */
  GArray *events;  /* EspeakPhoneEvent */
} EspeakCollector;

typedef struct {
  Synth parent;
  char lang[16];
  int sample_rate;
} EspeakSynth;

void
synth_espeak_list_voices (GArray *voices)
{
  for (guint l = 0; l < G_N_ELEMENTS (espeak_langs); l++)
    for (guint v = 0; v < G_N_ELEMENTS (espeak_variants); v++) {
      SynthVoice voice = { .engine = SYNTH_ENGINE_ESPEAK };
      const char *variant = espeak_variants[v];
      g_snprintf (voice.id, sizeof voice.id, "%s%s%s", espeak_langs[l].id,
                  variant[0] ? "-" : "", variant);
      g_strlcpy (voice.name, espeak_langs[l].lang, sizeof voice.name);
      g_strlcpy (voice.variant, variant, sizeof voice.variant);
      g_snprintf (voice.description, sizeof voice.description, "%s%s%s",
                  espeak_langs[l].description, variant[0] ? ", variant " : "", variant);
      g_array_append_val (voices, voice);
    }
}

static gboolean
is_r (const char *mnemonic)
{
  return mnemonic && (strcmp (mnemonic, "r") == 0 || strcmp (mnemonic, "r-") == 0
                      || strcmp (mnemonic, "r/") == 0);
}

gint
synth_espeak_map_phoneme (const char *lang, const char *mnemonic, const char *next,
                          gint phones[2], double *first_fraction)
{
  gboolean rhotic = strcmp (lang, "en-us") == 0;
  const char *const *timit = NULL;
  gint n = 0;

  for (guint i = 0; i < G_N_ELEMENTS (espeak_phonemes) && !timit; i++)
    if (strcmp (espeak_phonemes[i].mnemonic, mnemonic) == 0)
      timit = rhotic ? espeak_phonemes[i].us : espeak_phonemes[i].gb;
  if (!timit)
    return -1;
  if (strcmp (timit[0], "+") == 0)
    return 0;
  *first_fraction = SPLIT_FIRST_FRACTION;
  phones[n++] = ph_phone_index (timit[0]);
  /* en-us writes the r itself when a vowel follows ("where is" = w e@ r I z) */
  if (timit[1] && !(strcmp (timit[1], "r") == 0 && is_r (next)))
    phones[n++] = ph_phone_index (timit[1]);
  return phones[0] >= 0 && phones[n - 1] >= 0 ? n : -1;
}

/* espeak-ng calls this with each block of audio and the events inside it. */
static int
collect_audio (short *wav, int n_samples, espeak_EVENT *events)
{
  EspeakCollector *collector = NULL;

  for (espeak_EVENT *e = events;; e++) {
    collector = e->user_data;
    if (e->type == espeakEVENT_LIST_TERMINATED)
      break;
    if (e->type == espeakEVENT_PHONEME && collector) {
      EspeakPhoneEvent event = { .sample = (guint64) MAX (e->sample, 0) };
      /* id.string is a fixed array, not NUL-terminated when full */
      memcpy (event.mnemonic, e->id.string, sizeof event.mnemonic - 1);
      g_array_append_val (collector->events, event);
    }
  }
  if (collector && wav && n_samples > 0)
    g_array_append_vals (collector->samples, wav, (guint) n_samples);
  return 0;
}

/* Labels [start, end) with the phones of event `i`. */
static gboolean
label_event (const EspeakSynth *self, const GArray *events, guint i, guint64 start,
             guint64 end, const char *text, GArray *labels, GError **error)
{
  const EspeakPhoneEvent *event = &g_array_index (events, EspeakPhoneEvent, i);
  const char *next = i + 1 < events->len
                     ? g_array_index (events, EspeakPhoneEvent, i + 1).mnemonic : NULL;
  gint phones[2];
  double fraction = 1.0;
  gint n = synth_espeak_map_phoneme (self->lang, event->mnemonic, next, phones, &fraction);

  if (n < 0 || (n == 0 && labels->len == 0)) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                 "espeak-ng phoneme '%s' (%s) in \"%s\" has no TIMIT mapping", event->mnemonic,
                 self->lang, text);
    return FALSE;
  }
  if (n == 0) {
    g_array_index (labels, PhLabel, labels->len - 1).end = MAX (end, start);
  } else if (n == 1) {
    ph_labels_append (labels, start, end, phones[0]);
  } else {
    guint64 split = start + (guint64) llround ((end - start) * fraction);
    ph_labels_append (labels, start, split, phones[0]);
    ph_labels_append (labels, split, end, phones[1]);
  }
  return TRUE;
}

/* Turns the phoneme events into labels tiling [0, n_samples): audio before the first
 * event is silence, each phone lasts until the next event starts. */
static gboolean
events_to_labels (const EspeakSynth *self, const GArray *events, guint64 n_samples,
                  const char *text, GArray *labels, GError **error)
{
  guint64 previous = 0;

  if (events->len == 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED, "espeak-ng gave no phonemes for \"%s\"",
                 text);
    return FALSE;
  }
  for (guint i = 0; i < events->len; i++) {
    guint64 start = g_array_index (events, EspeakPhoneEvent, i).sample;
    if (start < previous || start > n_samples) {
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "espeak-ng phoneme event %u of \"%s\" at sample %" G_GUINT64_FORMAT
                   " is out of order or past the audio (%" G_GUINT64_FORMAT " samples)",
                   i, text, start, n_samples);
      return FALSE;
    }
    previous = start;
  }
  ph_labels_append (labels, 0, g_array_index (events, EspeakPhoneEvent, 0).sample,
                ph_phone_index ("pau"));
  for (guint i = 0; i < events->len; i++) {
    guint64 start = g_array_index (events, EspeakPhoneEvent, i).sample;
    guint64 end = i + 1 < events->len
                  ? g_array_index (events, EspeakPhoneEvent, i + 1).sample : n_samples;
    if (!label_event (self, events, i, start, end, text, labels, error))
      return FALSE;
  }
  return TRUE;
}

static void
set_prosody (const SynthProsody *prosody)
{
  int wpm = (int) lround (ESPEAK_DEFAULT_WPM / prosody->tempo);
  int pitch = (int) lround (50.0 + (prosody->pitch - 1.0) * 150.0);

  espeak_SetParameter (espeakRATE, CLAMP (wpm, ESPEAK_MIN_WPM, ESPEAK_MAX_WPM), 0);
  espeak_SetParameter (espeakPITCH, CLAMP (pitch, 0, 100), 0);
}

static gboolean
espeak_speak (Synth *synth, const char *text, const SynthProsody *prosody, PhAudio *audio,
              GArray *labels, GError **error)
{
  EspeakSynth *self = (EspeakSynth *) synth;
  EspeakCollector collector = {
    g_array_new (FALSE, FALSE, sizeof (gint16)),
    g_array_new (FALSE, FALSE, sizeof (EspeakPhoneEvent)),
  };
  espeak_ERROR status;
  gboolean ok = FALSE;

  set_prosody (prosody);
  /* synchronous output: all audio has been delivered when this returns */
  status = espeak_Synth (text, strlen (text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL,
                         &collector);
  if (status != EE_OK) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "espeak-ng failed (error %d) on \"%s\"",
                 (int) status, text);
  } else if (events_to_labels (self, collector.events, collector.samples->len, text, labels,
                               error)) {
    audio->sample_rate = (guint) self->sample_rate;
    audio->n_samples = collector.samples->len;
    audio->samples = g_new (float, MAX (audio->n_samples, 1));
    for (gsize i = 0; i < audio->n_samples; i++)
      audio->samples[i] = g_array_index (collector.samples, gint16, i) / 32768.0f;
    ok = TRUE;
  }
  g_array_unref (collector.samples);
  g_array_unref (collector.events);
  return ok;
}

static void
espeak_free (Synth *synth)
{
  g_free (synth);
}

/* espeak-ng is process-wide state, and espeak_Terminate() hangs on its worker thread, so
 * it is initialized once and left running. Returns its sample rate, or <= 0. */
static int
initialize_espeak_once (void)
{
  static gsize rate = 0;

  if (g_once_init_enter (&rate)) {
    int r = espeak_Initialize (AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL,
                               espeakINITIALIZE_PHONEME_EVENTS | espeakINITIALIZE_DONT_EXIT);
    g_once_init_leave (&rate, r > 0 ? (gsize) r : G_MAXSIZE);
  }
  return rate == G_MAXSIZE ? -1 : (int) rate;
}

Synth *
synth_espeak_open (const SynthVoice *voice, GError **error)
{
  g_autofree char *name = voice->variant[0]
                          ? g_strdup_printf ("%s+%s", voice->name, voice->variant)
                          : g_strdup (voice->name);
  int rate = initialize_espeak_once ();
  EspeakSynth *self;

  if (rate <= 0) {
    g_set_error (error, PH_ERROR, PH_ERROR_IO,
                 "espeak-ng failed to initialize (is espeak-ng-data installed?)");
    return NULL;
  }
  if (espeak_SetVoiceByName (name) != EE_OK) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "espeak-ng has no voice '%s'", name);
    return NULL;
  }
  espeak_SetSynthCallback (collect_audio);
  self = g_new0 (EspeakSynth, 1);
  self->parent.speak = espeak_speak;
  self->parent.free = espeak_free;
  g_strlcpy (self->lang, voice->name, sizeof self->lang);
  self->sample_rate = rate;
  return &self->parent;
}
