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

/* A 40-class phone LM estimated from `n_sentences` random sequences of 20 phones: with
 * a random model its classes change often enough to give many segments. */
static inline PhPhoneLm *
test_random_phone_lm (guint32 seed, guint n_sentences)
{
  PhPhoneLmBuilder *builder = ph_phone_lm_builder_new (PH_PHONE_LM_CLASSES_40);
  GRand *rand = g_rand_new_with_seed (seed);
  gint phones[20];
  PhPhoneLm *lm;

  for (guint s = 0; s < n_sentences; s++) {
    for (guint i = 0; i < G_N_ELEMENTS (phones); i++)
      phones[i] = g_rand_int_range (rand, 0, PH_NUM_PHONES);
    ph_phone_lm_builder_add (builder, phones, G_N_ELEMENTS (phones));
  }
  lm = ph_phone_lm_builder_estimate (builder);
  ph_phone_lm_builder_free (builder);
  g_rand_free (rand);
  return lm;
}

/* Writes the model file `from` again at `to` with a test_random_phone_lm (version 2). */
static inline void
test_copy_model_with_lm (const char *from, const char *to)
{
  GError *error = NULL;
  PhModel *model = ph_model_load_file (from, &error);
  PhPhoneLm *lm = test_random_phone_lm (8, 40);

  g_assert_no_error (error);
  ph_model_set_lm (model, lm);
  g_assert_true (ph_model_save_file (model, to, &error));
  g_assert_no_error (error);
  ph_phone_lm_free (lm);
  ph_model_unref (model);
}
