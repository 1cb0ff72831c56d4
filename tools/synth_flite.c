/* synth_flite.c: flite voices with the phone timings of its Segment relation. */
#include "synth.h"

#include <math.h>
#include <string.h>
#include <flite/flite.h>

cst_voice *register_cmu_us_kal16 (const char *voxdir);
cst_voice *register_cmu_us_kal (const char *voxdir);
cst_voice *register_cmu_us_awb (const char *voxdir);
cst_voice *register_cmu_us_rms (const char *voxdir);
cst_voice *register_cmu_us_slt (const char *voxdir);
void unregister_cmu_us_kal16 (cst_voice *voice);
void unregister_cmu_us_kal (cst_voice *voice);
void unregister_cmu_us_awb (cst_voice *voice);
void unregister_cmu_us_rms (cst_voice *voice);
void unregister_cmu_us_slt (cst_voice *voice);

/* A label may end past the wave by this much (seconds) before the utterance is refused:
 * the diphone voices render their final pause shorter than its segment says. */

typedef struct {
  const char *name;
  const char *id;
  const char *description;
  cst_voice *(*register_voice) (const char *voxdir);
  void (*unregister_voice) (cst_voice *voice);
} FliteVoiceEntry;

/* cmu_time_awb is left out: it is a limited-domain voice that only speaks times. */
static const FliteVoiceEntry flite_voices[] = {
  { "cmu_us_kal16", "flite-kal16", "flite diphone, US male (kal), 16 kHz",
    register_cmu_us_kal16, unregister_cmu_us_kal16 },
  { "cmu_us_kal", "flite-kal", "flite diphone, US male (kal), 8 kHz",
    register_cmu_us_kal, unregister_cmu_us_kal },
  { "cmu_us_awb", "flite-awb", "flite unit selection, Scottish male (awb), 16 kHz",
    register_cmu_us_awb, unregister_cmu_us_awb },
  { "cmu_us_rms", "flite-rms", "flite unit selection, US male (rms), 16 kHz",
    register_cmu_us_rms, unregister_cmu_us_rms },
  { "cmu_us_slt", "flite-slt", "flite unit selection, US female (slt), 16 kHz",
    register_cmu_us_slt, unregister_cmu_us_slt },
};

typedef struct {
  Synth parent;
  const FliteVoiceEntry *entry;
  cst_voice *voice;
  float default_stretch;
  float default_f0_mean; /* < 0 for voices whose F0 cannot be set (unit selection) */
} FliteSynth;

void
synth_flite_list_voices (GArray *voices)
{
  for (guint i = 0; i < G_N_ELEMENTS (flite_voices); i++) {
    SynthVoice v = { .engine = SYNTH_ENGINE_FLITE };
    g_strlcpy (v.id, flite_voices[i].id, sizeof v.id);
    g_strlcpy (v.name, flite_voices[i].name, sizeof v.name);
    g_strlcpy (v.description, flite_voices[i].description, sizeof v.description);
    g_array_append_val (voices, v);
  }
}

static void
set_prosody (FliteSynth *self, const SynthProsody *prosody)
{
  cst_features *features = self->voice->features;

  flite_feat_set_float (features, "duration_stretch",
                        (float) (self->default_stretch * prosody->tempo));
  if (self->default_f0_mean > 0)
    flite_feat_set_float (features, "int_f0_target_mean",
                          (float) (self->default_f0_mean * prosody->pitch));
}

static gboolean
copy_flite_wave (const cst_wave *wave, const char *text, PhAudio *audio, GError **error)
{
  if (!wave || wave->num_samples <= 0 || wave->num_channels != 1) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED, "flite made no mono audio for \"%s\"",
                 text);
    return FALSE;
  }
  audio->sample_rate = (guint) wave->sample_rate;
  audio->n_samples = (gsize) wave->num_samples;
  audio->samples = g_new (float, audio->n_samples);
  for (gsize i = 0; i < audio->n_samples; i++)
    audio->samples[i] = wave->samples[i] / 32768.0f;
  return TRUE;
}

/* The Segment relation: one item per phone with its end time in seconds. */
static gboolean
segments_to_labels (const cst_utterance *utt, guint rate, gsize n_samples, const char *text,
                    GArray *labels, GError **error)
{
  const gint pau = ph_phone_index ("pau");
  SynthLabels out;

  synth_labels_init (&out, labels, rate, n_samples, "flite", text);
  for (const cst_item *s = relation_head (utt_relation (utt, "Segment")); s; s = item_next (s)) {
    const char *name = item_feat_string (s, "name");
    double end_s = item_feat_float (s, "end");
    gint phone = strcmp (name, "pau") == 0 ? pau : ph_phone_from_arpabet (name);
    if (phone < 0) {
      g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                   "flite phone '%s' in \"%s\" has no TIMIT equivalent", name, text);
      return FALSE;
    }
    if (!synth_labels_add (&out, phone, name, end_s, error))
      return FALSE;
  }
  synth_labels_finish (&out);
  return TRUE;
}

static gboolean
flite_speak (Synth *synth, const char *text, const SynthProsody *prosody, PhAudio *audio,
             GArray *labels, GError **error)
{
  FliteSynth *self = (FliteSynth *) synth;
  cst_utterance *utt;
  gboolean ok;

  set_prosody (self, prosody);
  utt = flite_synth_text (text, self->voice);
  if (!utt) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED, "flite could not synthesize \"%s\"",
                 text);
    return FALSE;
  }
  ok = copy_flite_wave (utt_wave (utt), text, audio, error)
       && segments_to_labels (utt, audio->sample_rate, audio->n_samples, text, labels, error);
  delete_utterance (utt);
  if (!ok)
    ph_audio_clear (audio);
  return ok;
}

static void
flite_free (Synth *synth)
{
  FliteSynth *self = (FliteSynth *) synth;

  self->entry->unregister_voice (self->voice);
  g_free (self);
}

Synth *
synth_flite_open (const SynthVoice *voice, GError **error)
{
  const FliteVoiceEntry *entry = NULL;
  FliteSynth *self;

  for (guint i = 0; i < G_N_ELEMENTS (flite_voices); i++)
    if (strcmp (flite_voices[i].name, voice->name) == 0)
      entry = &flite_voices[i];
  if (!entry) {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID, "no flite voice called '%s'", voice->name);
    return NULL;
  }
  flite_init ();
  self = g_new0 (FliteSynth, 1);
  self->parent.speak = flite_speak;
  self->parent.free = flite_free;
  self->entry = entry;
  self->voice = entry->register_voice (NULL);
  if (!self->voice) {
    g_free (self);
    g_set_error (error, PH_ERROR, PH_ERROR_IO, "flite voice '%s' failed to load", voice->name);
    return NULL;
  }
  self->default_stretch = get_param_float (self->voice->features, "duration_stretch", 1.0f);
  self->default_f0_mean = get_param_float (self->voice->features, "int_f0_target_mean", -1.0f);
  return &self->parent;
}
