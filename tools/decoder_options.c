/* decoder_options.c: see decoder_options.h. */
#include "decoder_options.h"

void
tool_decoder_options_init (ToolDecoderOptions *options)
{
  options->decoder = NULL;
  options->lm_weight = PH_DECODER_DEFAULT_LM_WEIGHT;
  options->insertion_penalty = PH_DECODER_DEFAULT_INSERTION_PENALTY;
  options->max_lag = PH_DECODER_DEFAULT_MAX_LAG;
}

void
tool_decoder_options_clear (ToolDecoderOptions *options)
{
  g_clear_pointer (&options->decoder, g_free);
}

static gboolean
parse_segmenter (const char *name, PhSegmenter *segmenter, GError **error)
{
  if (name == NULL || g_str_equal (name, "auto"))
    *segmenter = PH_SEGMENTER_AUTO;
  else if (g_str_equal (name, "greedy"))
    *segmenter = PH_SEGMENTER_GREEDY;
  else if (g_str_equal (name, "lm"))
    *segmenter = PH_SEGMENTER_DECODER;
  else {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "--decoder must be auto, greedy or lm, not \"%s\"", name);
    return FALSE;
  }
  return TRUE;
}

gboolean
tool_decoder_options_apply (const ToolDecoderOptions *options, PhLabeller *labeller,
                            GError **error)
{
  PhSegmenter segmenter;
  PhDecoderConfig config;

  if (!parse_segmenter (options->decoder, &segmenter, error))
    return FALSE;
  ph_decoder_config_init (&config);
  config.lm_weight = (float) options->lm_weight;
  config.insertion_penalty = (float) options->insertion_penalty;
  config.max_lag = options->max_lag < 0 ? 0 : (guint) options->max_lag;
  return ph_labeller_set_segmenter (labeller, segmenter, &config, error);
}
