/* decoder_options.h: the segmenter options `phonemes label` and `phonemes eval` share,
 * so both decode exactly as the lstmphonemes element does with the same settings. */
#pragma once

#include <glib.h>
#include "phonemes.h"

typedef struct {
  char *decoder;             /* "auto", "greedy" or "lm"; NULL = auto */
  double lm_weight;
  double insertion_penalty;
  gint max_lag;
} ToolDecoderOptions;

/* The element's defaults. */
void tool_decoder_options_init (ToolDecoderOptions *options);
void tool_decoder_options_clear (ToolDecoderOptions *options);

/* The GOptionEntry lines for `options`, to put inside a command's entry table. */
#define TOOL_DECODER_OPTION_ENTRIES(options)                                            \
  { "decoder", 0, 0, G_OPTION_ARG_STRING, &(options)->decoder,                          \
    "Segments from: auto (the phone-LM decoder when the model has an LM, as the "        \
    "element), greedy (argmax smoothing) or lm", "auto|greedy|lm" },                     \
  { "lm-weight", 0, 0, G_OPTION_ARG_DOUBLE, &(options)->lm_weight,                       \
    "Decoder: weight of the phone LM (default 1, as the element)", "W" },                                                                              \
  { "insertion-penalty", 0, 0, G_OPTION_ARG_DOUBLE, &(options)->insertion_penalty,       \
    "Decoder: log-score cost of each new segment (default 2, as the element)", "P" },                        \
  { "max-lag", 0, 0, G_OPTION_ARG_INT, &(options)->max_lag,                              \
    "Decoder: frames a segment may wait to become final (default 20, as the element)", "N" }

/* Sets the labeller's segmenter from `options`; FALSE + GError naming the bad option. */
gboolean tool_decoder_options_apply (const ToolDecoderOptions *options,
                                     PhLabeller *labeller, GError **error);
