/* make_model.c: writes a model of the planned default size with random weights, for the
 * benchmarks (the speed of a model does not depend on what its weights learnt).
 * Usage: bench-make-model OUT.phm [--hidden 128] [--layers 1] [--seed 1] */
#include <stdio.h>

#include "bench_common.h"

int
main (int argc, char **argv)
{
  gint hidden = 128, layers = 1, seed = 1;
  GOptionEntry entries[] = {
    { "hidden", 0, 0, G_OPTION_ARG_INT, &hidden, "cells per layer", "H" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &layers, "LSTM layers", "N" },
    { "seed", 0, 0, G_OPTION_ARG_INT, &seed, "random seed", "N" },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("OUT.phm - write a random model");
  GError *error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || argc != 2 || hidden < 1
      || layers < 1 || layers > PH_MAX_LAYERS)
    {
      g_printerr ("bench-make-model: %s\n",
                  error ? error->message : "usage: bench-make-model OUT.phm [--hidden H] [--layers N]");
      return 2;
    }
  PhModel *model = bench_random_model ((guint) hidden, (guint) layers, 1, (guint64) seed);
  if (!ph_model_save_file (model, argv[1], &error))
    {
      g_printerr ("bench-make-model: %s\n", error->message);
      return 1;
    }
  printf ("%s: input %u, hidden %u, layers %u, %zu parameters\n", argv[1],
          model->shape.input_dim, model->shape.hidden_size, model->shape.num_layers,
          model->n_params);
  ph_model_unref (model);
  g_option_context_free (ctx);
  return 0;
}
