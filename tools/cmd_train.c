/* cmd_train.c: `phonemes train`: offline truncated-BPTT training with the core trainer. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "tool_options.h"
#include "train_data.h"
#include "ph_random.h"

typedef struct {
  char **corpora;
  char *valid_dir;
  char *out;
  char *init;
  gboolean resume;
  char *schedule;
  gint k1, k2;
  char *optimizer;
  double lr, momentum, clip, weight_decay, dropout;
  gint batch, hidden, layers, delay, epochs, max_updates, threads, patience;
  gint64 seed;
  char *augment;
  char *speed_range;
  gint rate, cmn_window;
  double high_freq, valid_fraction;
  gboolean timit_core_test, timit_keep_sa;
} TrainOptions;

static gboolean
parse_schedule (const TrainOptions *o, PhTrainConfig *config, GError **error)
{
  if (!strcmp (o->schedule, "truncated"))
    config->schedule = PH_SCHEDULE_TRUNCATED;
  else if (!strcmp (o->schedule, "framewise"))
    config->schedule = PH_SCHEDULE_FRAMEWISE;
  else if (!strcmp (o->schedule, "sentence"))
    config->schedule = PH_SCHEDULE_SENTENCE;
  else {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "--schedule must be framewise, sentence or truncated, not '%s'", o->schedule);
    return FALSE;
  }
  if (!strcmp (o->optimizer, "sgd"))
    config->optimizer = PH_OPTIMIZER_SGD;
  else if (!strcmp (o->optimizer, "momentum"))
    config->optimizer = PH_OPTIMIZER_MOMENTUM;
  else if (!strcmp (o->optimizer, "adam"))
    config->optimizer = PH_OPTIMIZER_ADAM;
  else {
    g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                 "--optimizer must be sgd, momentum or adam, not '%s'", o->optimizer);
    return FALSE;
  }
  return TRUE;
}

static gboolean
make_train_config (const TrainOptions *o, PhTrainConfig *config, GError **error)
{
  ph_train_config_init (config);
  if (!parse_schedule (o, config, error))
    return FALSE;
  config->k1 = MAX (o->k1, 0);
  config->k2 = MAX (o->k2, 0);
  config->learning_rate = o->lr;
  config->momentum = o->momentum;
  config->clip_norm = o->clip;
  config->weight_decay = o->weight_decay;
  config->dropout = o->dropout;
  config->seed = (guint32) o->seed;
  config->batch_size = MAX (o->batch, 0);
  config->threads = MAX (o->threads, 0);
  config->max_updates = (guint64) MAX (o->max_updates, 0);
  return ph_train_config_validate (config, error);
}

/* A new model, or the one to fine-tune / resume. */
static PhModel *
make_model (const TrainOptions *o, GError **error)
{
  PhFeatureConfig features;
  PhLstmShape shape = { 0 };
  PhModel *model;

  if (o->resume) {
    g_autofree char *checkpoint = g_strconcat (o->out, ".ckpt", NULL);
    return ph_model_load_file (checkpoint, error);
  }
  if (o->init)
    return ph_model_load_file (o->init, error);
  ph_feature_config_init (&features, o->rate);
  features.cmn_window = o->cmn_window;
  features.high_freq = o->high_freq;
  shape.input_dim = ph_feature_config_dim (&features);
  shape.hidden_size = o->hidden;
  shape.num_layers = o->layers;
  shape.output_dim = PH_NUM_PHONES;
  shape.delay = o->delay;
  model = ph_model_new (&features, &shape, error);
  if (model)
    ph_model_init_random (model, o->seed);
  return model;
}

/* Deterministic split: an utterance is held out when a hash of its path falls under
 * the fraction. */
static gboolean
is_held_out (const TrainUtt *utt, double fraction)
{
  return (g_str_hash (utt->path) % 10000) < fraction * 10000;
}

static void
split_validation (GPtrArray *all, double fraction, GPtrArray *train, GPtrArray *valid)
{
  for (guint i = 0; i < all->len; i++) {
    TrainUtt *utt = g_ptr_array_index (all, i);
    g_ptr_array_add (is_held_out (utt, fraction) ? valid : train, utt);
  }
}

static void
compute_normalisation (PhModel *model, GPtrArray *train)
{
  GArray *rows = g_array_new (FALSE, FALSE, sizeof (float));
  guint dim = model->shape.input_dim;

  for (guint i = 0; i < train->len; i++) {
    TrainUtt *utt = g_ptr_array_index (train, i);
    train_utt_compute (utt, &model->features, NULL, 0);
    g_array_append_vals (rows, utt->features, utt->n_frames * dim);
  }
  ph_model_set_normalisation (model, (const float *) rows->data, rows->len / dim);
  g_array_unref (rows);
}

static double
validate (PhModel *model, GPtrArray *valid)
{
  PhLabeller *labeller = ph_labeller_new (model, PH_DEFAULT_MIN_SEGMENT_FRAMES, NULL);
  PhScore *score = g_new (PhScore, 1);
  double accuracy;

  ph_score_init (score);
  for (guint i = 0; i < valid->len; i++)
    train_utt_score (g_ptr_array_index (valid, i), labeller, score);
  accuracy = ph_score_frame_accuracy39 (score);
  printf ("  validation: frame accuracy %.2f%% (39 classes), %.2f%% (61), phone error rate %.2f%%\n",
          100 * accuracy, 100 * ph_score_frame_accuracy61 (score),
          100 * ph_score_phone_error_rate (score));
  g_free (score);
  ph_labeller_free (labeller);
  return accuracy;
}

/* Fisher-Yates driven by splitmix64: the order depends only on seed and epoch. */
static void
shuffle (guint *order, guint n, guint64 seed)
{
  guint64 state = seed;

  for (guint i = 0; i < n; i++)
    order[i] = i;
  for (guint i = n; i > 1; i--) {
    guint j = (guint) (ph_random_next (&state) % i);
    guint t = order[i - 1];
    order[i - 1] = order[j];
    order[j] = t;
  }
}

typedef struct {
  guint64 updates;
  guint64 frames;
  double seconds;
} EpochResult;

static EpochResult
run_epoch (PhTrainer *trainer, GPtrArray *train, const TrainOptions *o, const Augment *augment,
           guint epoch, guint64 updates_before)
{
  PhModel *model = ph_trainer_model (trainer);
  guint batch = MAX (o->batch, 1);
  g_autofree guint *order = g_new (guint, train->len);
  g_autofree PhSequence *sequences = g_new0 (PhSequence, batch);
  gint64 start = g_get_monotonic_time ();
  EpochResult result = { 0 };
  ToolProgress progress;
  g_autofree char *label = g_strdup_printf ("epoch %u", epoch);

  shuffle (order, train->len, (guint64) o->seed * 1000003 + epoch);
  tool_progress_start (&progress, label, train->len);
  for (guint i = 0; i < train->len; i += batch) {
    guint n = MIN (batch, train->len - i);
    for (guint b = 0; b < n; b++) {
      TrainUtt *utt = g_ptr_array_index (train, order[i + b]);
      if (augment->flags || !utt->features)
        train_utt_compute (utt, &model->features, augment->flags ? augment : NULL,
                           ((guint64) o->seed << 32) ^ ((guint64) epoch << 24) ^ order[i + b]);
      sequences[b] = (PhSequence) { utt->features, utt->targets, utt->n_frames };
      result.frames += utt->n_frames;
    }
    result.updates += ph_trainer_train_sequences (trainer, sequences, n);
    tool_progress_update (&progress, i + n);
    if (o->max_updates > 0 && updates_before + result.updates >= (guint64) o->max_updates)
      break;
  }
  tool_progress_finish (&progress);
  result.seconds = (g_get_monotonic_time () - start) / 1e6;
  return result;
}

/* Saves the checkpoint and its epoch counter next to the output. */
static gboolean
save_checkpoint (const TrainOptions *o, PhModel *model, guint epoch, double best,
                 GError **error)
{
  g_autofree char *checkpoint = g_strconcat (o->out, ".ckpt", NULL);
  g_autofree char *state_path = g_strconcat (o->out, ".ckpt.state", NULL);
  g_autofree char *state = g_strdup_printf ("epoch %u\nbest %.17g\n", epoch, best);

  return ph_model_save_file (model, checkpoint, error) &&
      ph_file_write_atomic (state_path, state, strlen (state), "training state file", error);
}

/* Parses save_checkpoint's "epoch N\nbest X\n"; FALSE when `text` is anything else. */
static gboolean
parse_checkpoint_state (const char *text, guint *epoch, double *best)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  guint64 n;
  char *end = NULL;

  if (g_strv_length (lines) != 3 || lines[2][0] != '\0'
      || !g_str_has_prefix (lines[0], "epoch ") || !g_str_has_prefix (lines[1], "best ")
      || !g_ascii_string_to_unsigned (lines[0] + 6, 10, 0, G_MAXINT, &n, NULL))
    return FALSE;
  *best = g_ascii_strtod (lines[1] + 5, &end);
  *epoch = (guint) n;
  return end != lines[1] + 5 && *end == '\0' && isfinite (*best) && *best >= -1;
}

/* Reads OUT.ckpt.state (the epoch reached and the best validation score); FALSE +
 * GError naming the file when it is missing or not what save_checkpoint writes. */
static gboolean
load_checkpoint_state (const TrainOptions *o, guint *epoch, double *best, GError **error)
{
  g_autofree char *state_path = g_strconcat (o->out, ".ckpt.state", NULL);
  g_autofree char *text = ph_file_read_bounded (state_path, 4096, "training state file", NULL,
                                                error);

  if (text == NULL)
    return FALSE;
  if (!parse_checkpoint_state (text, epoch, best)) {
    g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "cannot resume: %s is not a training "
                 "state file (expected the lines \"epoch N\" and \"best X\" that train "
                 "writes)", state_path);
    return FALSE;
  }
  return TRUE;
}

/* --resume when the checkpoint already reached --epochs: nothing to train. 0 when the
 * best model OUT is there, 1 (with a message) when it is not. */
static int
report_nothing_to_resume (const TrainOptions *o, guint epoch)
{
  if (g_file_test (o->out, G_FILE_TEST_IS_REGULAR)) {
    printf ("nothing to train: the checkpoint %s.ckpt already reached epoch %u of --epochs "
            "%d; the best model is %s\n", o->out, epoch, o->epochs, o->out);
    return 0;
  }
  fprintf (stderr, "phonemes train: nothing to train: the checkpoint %s.ckpt already reached "
           "epoch %u of --epochs %d, and the best model %s does not exist (raise --epochs "
           "to train on)\n", o->out, epoch, o->epochs, o->out);
  return 1;
}

static int
train (const TrainOptions *o)
{
  g_autoptr (GError) error = NULL;
  PhTrainConfig config;
  Augment augment;
  guint first_epoch = 0, stale = 0, written_epoch = 0;
  double best = -1;
  guint64 updates = 0;
  g_autoptr (GPtrArray) all = NULL, train_set = NULL, valid_set = NULL, valid_loaded = NULL;
  PhModel *model;
  PhTrainer *trainer;
  guint flags = (o->timit_keep_sa ? 0 : PH_CORPUS_TIMIT_SKIP_SA);

  if (!make_train_config (o, &config, &error)
      || !augment_parse (o->augment, o->speed_range, &augment, &error))
    return tool_fail ("train", error);
  model = make_model (o, &error);
  if (!model)
    return tool_fail ("train", error);
  all = train_corpus_load (o->corpora, flags, model->features.sample_rate, &error);
  if (!all) {
    ph_model_unref (model);
    return tool_fail ("train", error);
  }
  train_set = g_ptr_array_new ();
  valid_set = g_ptr_array_new ();
  if (o->valid_dir) {
    char *dirs[] = { o->valid_dir, NULL };
    valid_loaded = train_corpus_load (dirs, flags, model->features.sample_rate, &error);
    if (!valid_loaded) {
      ph_model_unref (model);
      return tool_fail ("train", error);
    }
    g_ptr_array_extend (train_set, all, NULL, NULL);
    g_ptr_array_extend (valid_set, valid_loaded, NULL, NULL);
  } else {
    split_validation (all, o->valid_fraction, train_set, valid_set);
  }
  if (train_set->len == 0) {
    ph_model_unref (model);
    fprintf (stderr, "phonemes train: no training utterances left after the validation split\n");
    return 1;
  }
  if (!o->init && !o->resume)
    compute_normalisation (model, train_set);
  if (o->resume && !load_checkpoint_state (o, &first_epoch, &best, &error)) {
    ph_model_unref (model);
    return tool_fail ("train", error);
  }
  if (first_epoch >= (guint) o->epochs) {
    ph_model_unref (model);
    return report_nothing_to_resume (o, first_epoch);
  }
  printf ("training on %u utterances, validating on %u; %u layer(s) of %u cells, delay %u, "
          "%" G_GSIZE_FORMAT " parameters\n", train_set->len, valid_set->len,
          model->shape.num_layers, model->shape.hidden_size, model->shape.delay, model->n_params);
  trainer = ph_trainer_new (model, &config, &error);
  ph_model_unref (model);
  if (!trainer)
    return tool_fail ("train", error);
  for (guint epoch = first_epoch; epoch < (guint) o->epochs; epoch++) {
    EpochResult r = run_epoch (trainer, train_set, o, &augment, epoch + 1, updates);
    const PhTrainStats *stats = ph_trainer_stats (trainer);
    double accuracy;

    updates += r.updates;
    printf ("epoch %u: %" G_GUINT64_FORMAT " updates, train loss %.4f, train accuracy %.2f%%, "
            "%.0f frames/s\n", epoch + 1, r.updates,
            stats->targeted_frames ? stats->loss_sum / stats->targeted_frames : 0,
            stats->targeted_frames ? 100.0 * stats->correct / stats->targeted_frames : 0,
            r.frames / MAX (r.seconds, 1e-6));
    ph_trainer_reset_stats (trainer);
    accuracy = valid_set->len ? validate (ph_trainer_model (trainer), valid_set) : epoch;
    if (accuracy > best) {
      best = accuracy;
      stale = 0;
      if (!ph_model_save_file (ph_trainer_model (trainer), o->out, &error))
        break;
      written_epoch = epoch + 1;
    } else if (++stale >= (guint) o->patience) {
      printf ("no improvement for %u epochs: stopping early\n", stale);
      break;
    }
    if (!save_checkpoint (o, ph_trainer_model (trainer), epoch + 1, best, &error))
      break;
    fflush (stdout);
    if (o->max_updates > 0 && updates >= (guint64) o->max_updates)
      break;
  }
  ph_trainer_free (trainer);
  if (error)
    return tool_fail ("train", error);
  if (written_epoch == 0)
    printf ("no epoch improved on the best validation accuracy %.2f%%: %s is unchanged\n",
            100 * MAX (best, 0), o->out);
  else if (valid_set->len == 0)
    printf ("model of epoch %u (no validation set) written to %s\n", written_epoch, o->out);
  else
    printf ("best model (validation accuracy %.2f%%, epoch %u) written to %s\n", 100 * best,
            written_epoch, o->out);
  return 0;
}

int
ph_cmd_train (int argc, char **argv)
{
  /* String options start NULL (GOption does not free a default it replaces) and get
   * their defaults after parsing. */
  TrainOptions o = {
    .k1 = 20, .k2 = 20, .lr = 1e-3, .momentum = 0.9, .clip = 1.0, .batch = 8,
    .hidden = 128, .layers = 1, .delay = 2, .epochs = 10, .threads = 1, .patience = 3,
    .seed = 1, .rate = 16000, .valid_fraction = -1, /* unset: 0.05 without --valid */
  };
  GOptionEntry entries[] = {
    { "corpus", 'c', 0, G_OPTION_ARG_FILENAME_ARRAY, &o.corpora,
      "Training corpus directory (WAV/SPHERE + .PHN or .TextGrid); repeatable", "DIR" },
    { "valid", 0, 0, G_OPTION_ARG_FILENAME, &o.valid_dir,
      "Validation corpus (default: a fixed 5% of the training utterances)", "DIR" },
    { "valid-fraction", 0, 0, G_OPTION_ARG_DOUBLE, &o.valid_fraction,
      "Fraction held out for validation without --valid (default 0.05)", "F" },
    { "out", 'o', 0, G_OPTION_ARG_FILENAME, &o.out,
      "Output model: the best on validation (checkpoints go to OUT.ckpt)", "MODEL" },
    { "init", 0, 0, G_OPTION_ARG_FILENAME, &o.init,
      "Fine-tune this model instead of starting from random weights", "MODEL" },
    { "resume", 0, 0, G_OPTION_ARG_NONE, &o.resume,
      "Continue from OUT.ckpt at the epoch it reached (optimizer moments restart)", NULL },
    { "schedule", 0, 0, G_OPTION_ARG_STRING, &o.schedule,
      "When to update: framewise (k1=1, backprop to sequence start), sentence (once per "
      "utterance) or truncated (default)", "NAME" },
    { "k1", 0, 0, G_OPTION_ARG_INT, &o.k1, "truncated: update every k1 frames (default 20)", "N" },
    { "k2", 0, 0, G_OPTION_ARG_INT, &o.k2, "truncated: backpropagate k2 frames (default 20)", "N" },
    { "optimizer", 0, 0, G_OPTION_ARG_STRING, &o.optimizer, "sgd, momentum or adam (default)",
      "NAME" },
    { "lr", 0, 0, G_OPTION_ARG_DOUBLE, &o.lr, "Learning rate (default 0.001)", "X" },
    { "momentum", 0, 0, G_OPTION_ARG_DOUBLE, &o.momentum, "Momentum / Adam beta1 (default 0.9)",
      "X" },
    { "clip", 0, 0, G_OPTION_ARG_DOUBLE, &o.clip, "Gradient norm clip, 0 = off (default 1)", "X" },
    { "weight-decay", 0, 0, G_OPTION_ARG_DOUBLE, &o.weight_decay, "L2 weight decay (default 0)",
      "X" },
    { "dropout", 0, 0, G_OPTION_ARG_DOUBLE, &o.dropout,
      "Dropout on the outputs each LSTM layer passes up, not the recurrent ones "
      "(default 0 = off)", "P" },
    { "batch", 'b', 0, G_OPTION_ARG_INT, &o.batch, "Utterances stepped in parallel (default 8)",
      "B" },
    { "hidden", 0, 0, G_OPTION_ARG_INT, &o.hidden, "Cells per layer (default 128)", "H" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &o.layers, "LSTM layers (default 1)", "L" },
    { "delay", 0, 0, G_OPTION_ARG_INT, &o.delay, "Output delay in frames (default 2)", "D" },
    { "rate", 0, 0, G_OPTION_ARG_INT, &o.rate, "Model sample rate in Hz (default 16000)", "HZ" },
    { "cmn-window", 0, 0, G_OPTION_ARG_INT, &o.cmn_window,
      "Streaming cepstral mean normalisation over this many past frames (default 0 = off)", "N" },
    { "high-freq", 0, 0, G_OPTION_ARG_DOUBLE, &o.high_freq,
      "Upper edge of the mel filterbank in Hz (default 0 = Nyquist)", "HZ" },
    { "epochs", 'e', 0, G_OPTION_ARG_INT, &o.epochs, "Maximum epochs (default 10)", "E" },
    { "patience", 0, 0, G_OPTION_ARG_INT, &o.patience,
      "Stop after this many epochs without validation gain (default 3)", "N" },
    { "max-updates", 0, 0, G_OPTION_ARG_INT, &o.max_updates, "Stop after N weight updates", "N" },
    { "threads", 't', 0, G_OPTION_ARG_INT, &o.threads, "Worker threads (default 1)", "T" },
    { "seed", 's', 0, G_OPTION_ARG_INT64, &o.seed, "Random seed (default 1)", "S" },
    { "augment", 0, 0, G_OPTION_ARG_STRING, &o.augment,
      "Augmentation: none (default), all (all but vtlp), or a list of gain,noise,telephone,reverb,speed,vtlp", "LIST" },
    { "speed-range", 0, 0, G_OPTION_ARG_STRING, &o.speed_range,
      "Speed factors the speed augmentation draws from (default " AUGMENT_DEFAULT_SPEED_RANGE ")",
      "MIN,MAX" },
    { "timit-keep-sa", 0, 0, G_OPTION_ARG_NONE, &o.timit_keep_sa,
      "Keep TIMIT's SA1/SA2 sentences (skipped by default)", NULL },
    { NULL },
  };
  int status;

  tool_parse_options ("train", "", "train a phone classifier with truncated BPTT(k1, k2)",
                      entries, &argc, &argv);
  o.schedule = o.schedule ? o.schedule : g_strdup ("truncated");
  o.optimizer = o.optimizer ? o.optimizer : g_strdup ("adam");
  o.augment = o.augment ? o.augment : g_strdup ("none");
  o.speed_range = o.speed_range ? o.speed_range : g_strdup (AUGMENT_DEFAULT_SPEED_RANGE);
  if (!o.corpora || !o.out || argc != 1) {
    fprintf (stderr, "phonemes train: --corpus DIR and --out MODEL are required (see --help)\n");
    status = 2;
  } else if (!tool_options_exclusive ("train", (ToolOptionUse[]) {
               { "--init", o.init != NULL }, { "--resume", o.resume } }, 2) ||
             !tool_options_exclusive ("train", (ToolOptionUse[]) {
               { "--valid", o.valid_dir != NULL },
               { "--valid-fraction", o.valid_fraction != -1 } }, 2)) {
    status = 2;
  } else {
    if (o.valid_fraction == -1)
      o.valid_fraction = 0.05;
    if (o.epochs < 1 || o.patience < 1 || !(o.valid_fraction >= 0 && o.valid_fraction < 1)) {
      fprintf (stderr, "phonemes train: --epochs and --patience must be >= 1, "
               "--valid-fraction in [0, 1)\n");
      status = 2;
    } else {
      status = train (&o);
    }
  }
  g_strfreev (o.corpora);
  g_free (o.valid_dir);
  g_free (o.out);
  g_free (o.init);
  g_free (o.schedule);
  g_free (o.optimizer);
  g_free (o.augment);
  g_free (o.speed_range);
  return status;
}
