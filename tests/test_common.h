/* test_common.h: helpers shared by the core test suites (header only). */
#pragma once

#include "phonemes.h"

/* A model with `in` inputs (in - 1 cepstra + energy, no deltas) and random weights,
 * biases, peepholes (uniform in +-peep_range) and normalisation (means in
 * +-mean_range), so every parameter takes part and has a gradient. */
static inline PhModel *
test_random_model (guint in, guint hidden, guint layers, guint delay, guint32 seed,
                   double peep_range, double mean_range)
{
  PhFeatureConfig fc;
  PhLstmShape shape = { in, hidden, layers, PH_NUM_PHONES, delay };
  GError *error = NULL;
  PhModel *model;
  GRand *rand;

  ph_feature_config_init (&fc, 16000);
  fc.num_ceps = in - 1;
  fc.use_energy = 1;
  fc.delta_window = 0;
  model = ph_model_new (&fc, &shape, &error);
  g_assert_no_error (error);
  ph_model_init_random (model, seed);

  rand = g_rand_new_with_seed (seed);
  for (guint l = 0; l < layers; l++) {
    for (guint r = 0; r < 4 * hidden; r++)
      model->params.layer[l].bias[r] += (float) g_rand_double_range (rand, -0.5, 0.5);
    for (guint r = 0; r < 3 * hidden; r++)
      model->params.layer[l].peep[r] = (float) g_rand_double_range (rand, -peep_range, peep_range);
  }
  for (guint k = 0; k < PH_NUM_PHONES; k++)
    model->params.b_out[k] = (float) g_rand_double_range (rand, -1, 1);
  for (guint k = 0; k < in; k++) {
    model->norm_mean[k] = (float) g_rand_double_range (rand, -mean_range, mean_range);
    model->norm_scale[k] = (float) g_rand_double_range (rand, 0.5, 2);
  }
  g_rand_free (rand);
  return model;
}
