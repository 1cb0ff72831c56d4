/* cmd_round_weights.c: `phonemes round-weights`: a copy of a model with its recurrent
 * weights rounded to bfloat16 values, which the step reads from half the bytes on CPUs
 * with AVX-512 (ph_model_round_recurrent_to_bf16). */
#include <stdio.h>

#include "commands.h"
#include "tool_common.h"

int
ph_cmd_round_weights (int argc, char **argv)
{
  g_autofree char *model_path = NULL, *output = NULL;
  GOptionEntry entries[] = {
    { "model", 'm', 0, G_OPTION_ARG_FILENAME, &model_path,
      "Model file (default: the built-in model)", "FILE" },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Where to write the rounded model",
      "FILE" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  PhModel *model;
  gboolean saved;

  tool_parse_options ("round-weights", "",
                      "round a model's recurrent weights to bfloat16 values: the same model, "
                      "each of those weights moved by at most 2^-8 of itself, that labels "
                      "faster on CPUs with AVX-512", entries, &argc, &argv);
  if (!output || argc != 1) {
    fprintf (stderr, "phonemes round-weights: --output FILE is required (see --help)\n");
    return 2;
  }
  model = tool_load_model (model_path);
  if (!model)
    return 1;
  ph_model_round_recurrent_to_bf16 (model);
  saved = ph_model_save_file (model, output, &error);
  ph_model_unref (model);
  return saved ? 0 : tool_fail ("round-weights", error);
}
