/* make_test_model.c: writes a small random model for the plugin tests.
 * Usage: make-test-model OUT.phm [SAMPLE_RATE [SEED]] */
#include <stdlib.h>

#include "phonemes.h"

int
main (int argc, char **argv)
{
  PhFeatureConfig features;
  PhLstmShape shape = { 0, 16, 1, PH_NUM_PHONES, 1 };
  GError *error = NULL;
  PhModel *model;
  guint rate = argc > 2 ? (guint) atoi (argv[2]) : 16000;
  guint64 seed = argc > 3 ? g_ascii_strtoull (argv[3], NULL, 10) : 1;

  if (argc < 2) {
    g_printerr ("usage: %s OUT.phm [SAMPLE_RATE [SEED]]\n", argv[0]);
    return 2;
  }
  ph_feature_config_init (&features, rate);
  shape.input_dim = ph_feature_config_dim (&features);
  model = ph_model_new (&features, &shape, &error);
  if (model) {
    ph_model_init_random (model, seed);
    if (ph_model_save_file (model, argv[1], &error)) {
      ph_model_unref (model);
      return 0;
    }
    ph_model_unref (model);
  }
  g_printerr ("%s\n", error->message);
  g_error_free (error);
  return 1;
}
