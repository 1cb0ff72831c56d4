/* synth_labels.c: segment end times from a synthesizer into labels that tile its audio
 * (synth.h). */
#include "synth.h"

#include <math.h>

/* A segment may end this far past the audio (rounding in the synthesizer's timing). */
#define MAX_OVERRUN_S 0.02

void
synth_labels_init (SynthLabels *l, GArray *labels, guint rate, gsize n_samples,
                   const char *engine, const char *text)
{
  *l = (SynthLabels) { labels, rate, n_samples, 0, engine, text };
}

gboolean
synth_labels_add (SynthLabels *l, gint phone, const char *symbol, double end_s,
                  GError **error)
{
  const gint pau = ph_phone_index ("pau");
  double end = round (end_s * l->rate);
  guint64 clipped;

  if (phone != pau && end > l->n_samples + MAX_OVERRUN_S * l->rate) {
    g_set_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED,
                 "%s phone '%s' in \"%s\" ends at %.3f s, past the audio (%.3f s)", l->engine,
                 symbol, l->text, end_s, (double) l->n_samples / l->rate);
    return FALSE;
  }
  clipped = MIN ((guint64) end, l->n_samples);
  ph_labels_append (l->labels, l->start, clipped, phone);
  l->start = MAX (l->start, clipped);
  return TRUE;
}

void
synth_labels_finish (SynthLabels *l)
{
  ph_labels_append (l->labels, l->start, l->n_samples, ph_phone_index ("pau"));
}
