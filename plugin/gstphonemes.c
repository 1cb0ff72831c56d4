/* gstphonemes.c: the `phonemes` GStreamer plugin: the lstmphonemes and lstmadapt
 * elements and the GstPhonemeMeta buffer meta. */
#include "gstlstmadapt.h"
#include "gstlstmphonemes.h"
#include "gstphonememeta.h"

/* Registers the meta (so readers find it by name) and the elements. */
static gboolean
plugin_init (GstPlugin *plugin)
{
  gst_phoneme_meta_get_info ();
  return gst_element_register (plugin, "lstmphonemes", GST_RANK_NONE,
                               GST_TYPE_LSTM_PHONEMES) &&
      gst_element_register (plugin, "lstmadapt", GST_RANK_NONE, GST_TYPE_LSTM_ADAPT);
}

GST_PLUGIN_DEFINE (GST_VERSION_MAJOR, GST_VERSION_MINOR, phonemes,
                   "Real-time phoneme labelling of speech with an LSTM (61 TIMIT phones, "
                   "10 ms frames)",
                   plugin_init, VERSION, "LGPL", "phonemes", "Unknown package origin")
