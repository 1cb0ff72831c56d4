/* synth.h: speech synthesizers that report exact phone timings (flite, espeak-ng,
 * Festival), for
 * building synthetic training corpora. */
#pragma once

#include <glib.h>
#include "phonemes.h"

G_BEGIN_DECLS

typedef enum {
  SYNTH_ENGINE_FLITE,
  SYNTH_ENGINE_ESPEAK,
  SYNTH_ENGINE_FESTIVAL,
} SynthEngine;

/* One voice a corpus can be made with. */
typedef struct {
  char id[64];           /* "flite-slt", "espeak-en-us-m3": synthesizer, voice, variant */
  SynthEngine engine;
  char name[32];         /* flite voice ("cmu_us_slt") or espeak language ("en-us") */
  char variant[32];      /* espeak variant ("m3"), "" for none */
  char description[96];
} SynthVoice;

/* How one utterance is spoken, drawn per utterance from the seeded PRNG. */
typedef struct {
  double tempo; /* duration multiplier: 1.2 is 20% slower */
  double pitch; /* F0 multiplier */
} SynthProsody;

typedef struct Synth Synth;

/* An open voice. speak() fills `audio` (at the synthesizer's own rate) and `labels`
 * (PhLabel tiling [0, audio->n_samples), in samples of that rate, "pau" for silence).
 * A text the voice cannot label exactly fails with PH_ERROR_UNSUPPORTED: the caller
 * skips that utterance; other errors are fatal. */
struct Synth {
  gboolean (*speak) (Synth *synth, const char *text, const SynthProsody *prosody,
                     PhAudio *audio, GArray *labels, GError **error);
  void (*free) (Synth *synth);
};

/* Turns a synthesizer's segments, each a phone and its end time, into labels tiling its
 * audio: each label starts where the previous one ended, ends are clipped to the audio,
 * and "pau" covers what is left after the last segment. */
typedef struct {
  GArray *labels;       /* PhLabel, appended to */
  guint rate;
  gsize n_samples;
  guint64 start;        /* where the next label starts */
  const char *engine;   /* "flite", "festival": for messages */
  const char *text;
} SynthLabels;

void synth_labels_init (SynthLabels *l, GArray *labels, guint rate, gsize n_samples,
                        const char *engine, const char *text);

/* Appends the segment of `phone` (written `symbol` by the synthesizer) ending at end_s;
 * FALSE + PH_ERROR_UNSUPPORTED when a phone other than pau ends past the audio. */
gboolean synth_labels_add (SynthLabels *l, gint phone, const char *symbol, double end_s,
                           GError **error);

/* Appends the pau after the last segment. */
void synth_labels_finish (SynthLabels *l);

/* Appends the flite voices of this build to `voices` (SynthVoice). */
void synth_flite_list_voices (GArray *voices);

/* Opens a flite voice from synth_flite_list_voices(). NULL + GError on failure. */
Synth *synth_flite_open (const SynthVoice *voice, GError **error);

/* Appends the espeak-ng English voices and variants to `voices` (SynthVoice). */
void synth_espeak_list_voices (GArray *voices);

/* Opens an espeak-ng voice. espeak-ng is process-wide (initialized once, never shut
 * down), so only one espeak voice may be open at a time. */
Synth *synth_espeak_open (const SynthVoice *voice, GError **error);

/* Maps espeak-ng English phoneme mnemonic `mnemonic`, followed by `next` (NULL at the
 * end), for language `lang` ("en-us" rhotic, else non-rhotic British) to TIMIT phones:
 * writes up to 2 indices to `phones` and returns how many (0: merge into the previous
 * phone), or -1 when it has no TIMIT equivalent. `first_fraction` receives the share of
 * the segment given to the first of two phones. */
gint synth_espeak_map_phoneme (const char *lang, const char *mnemonic, const char *next,
                               gint phones[2], double *first_fraction);

/* Appends the Festival voices that are installed (the `festival` program and the
 * voice's directory, Debian festvox-kallpc16k / festvox-kdlpc16k) to `voices`. */
void synth_festival_list_voices (GArray *voices);

/* Opens a Festival voice: starts one `festival --pipe` process, ended by free(). */
Synth *synth_festival_open (const SynthVoice *voice, GError **error);

/* Maps Festival "radio" phone `name`, following `previous` (NULL at the start), to a
 * TIMIT phone: writes its index to `phone` and returns 1; returns 0 when the segment is
 * merged into the previous phone (r after er), -1 when it has no TIMIT equivalent. */
gint synth_festival_map_phone (const char *name, const char *previous, gint *phone);

G_END_DECLS
