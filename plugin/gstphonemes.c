/* gstphonemes.c: the `phonemes` GStreamer plugin: the lstmphonemes element and the
 * GstPhonemeMeta buffer meta. */
#include "gstlstmphonemes.h"
#include "gstphonememeta.h"

/* Registers the meta (so readers find it by name) and the element. */
static gboolean
plugin_init (GstPlugin *plugin)
{
  gst_phoneme_meta_get_info ();
  return gst_element_register (plugin, "lstmphonemes", GST_RANK_NONE,
                               GST_TYPE_LSTM_PHONEMES);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, phonemes,
                   "Real-time phoneme labelling of speech with an LSTM (61 TIMIT phones, "
                   "10 ms frames)",
                   plugin_init, VERSION, "LGPL", "phonemes", "Unknown package origin")
