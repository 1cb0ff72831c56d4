/* cmd_features.c: `phonemes features`: the feature frames a model sees. */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "tool_audio.h"
#include "tool_common.h"
#include "tool_options.h"

/* The feature configuration: the --config model's, the defaults at --rate, the built-in
 * model's, or (no model at all) the defaults at the file's rate, 0 here: decided once
 * the file is read. FALSE when the --config model does not load. */
static gboolean
choose_config (const char *config_path, gint rate, PhFeatureConfig *config)
{
  PhModel *model = NULL;

  memset (config, 0, sizeof *config);
  if (rate) {
    ph_feature_config_init (config, (guint) rate);
    return TRUE;
  }
  model = config_path ? tool_load_model (config_path) : ph_model_load_default (NULL);
  if (config_path && !model)
    return FALSE;
  if (model) {
    *config = model->features;
    ph_model_unref (model);
  }
  return TRUE;
}

int
ph_cmd_features (int argc, char **argv)
{
  g_autofree char *config_path = NULL;
  gint rate = 0;
  GOptionEntry entries[] = {
    { "config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
      "Take the feature configuration from this model file (default: the built-in model's, "
      "or the defaults when there is none)", "MODEL" },
    { "rate", 'r', 0, G_OPTION_ARG_INT, &rate,
      "Without a model: use the default features at this sample rate (default: the file's)",
      "HZ" },
    { NULL },
  };
  g_autoptr (GError) error = NULL;
  PhFeatureConfig config;
  PhAudio audio = { 0 };
  g_autofree float *features = NULL;
  guint n_frames, dim;

  tool_parse_options ("features", "AUDIO",
                      "print one feature frame per line (raw, before the model's normalisation); "
                      "AUDIO is any file GStreamer's decodebin reads, or - for standard input",
                      entries, &argc, &argv);
  if (argc != 2) {
    fprintf (stderr, "phonemes features: expected one AUDIO file (see --help)\n");
    return 2;
  }
  if (!tool_options_exclusive ("features", (ToolOptionUse[]) {
        { "--config", config_path != NULL }, { "--rate", rate != 0 } }, 2))
    return 2;
  if (rate < 0) {
    fprintf (stderr, "phonemes features: --rate must be positive\n");
    return 2;
  }
  if (!choose_config (config_path, rate, &config))
    return 1;
  /* Decoded and resampled by GStreamer, as in front of the element. */
  if (!tool_audio_read (argv[1], config.sample_rate, &audio, NULL, &error))
    return tool_fail ("features", error);
  if (config.sample_rate == 0)
    ph_feature_config_init (&config, audio.sample_rate);
  features = ph_features_compute_f32 (&config, audio.samples, audio.n_samples, &n_frames, &error);
  ph_audio_clear (&audio);
  if (!features)
    return tool_fail ("features", error);
  dim = ph_feature_config_dim (&config);
  for (guint t = 0; t < n_frames; t++) {
    for (guint d = 0; d < dim; d++)
      printf (d ? " %.6g" : "%.6g", features[(gsize) t * dim + d]);
    printf ("\n");
  }
  return 0;
}
