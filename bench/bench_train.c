/* bench_train.c: throughput of the truncated-BPTT trainer (forward + backward + update).
 *
 * Streaming mode (default) feeds B endless streams of random frames and phone targets
 * through ph_trainer_feed, as the adapter does, and reports frames per second over all
 * streams. Framewise mode trains B sequences of --seq-len frames with the FRAMEWISE
 * preset (k1 = 1, k2 = the whole history: quadratic in the length).
 *
 * Usage: bench-train [--hidden 128] [--layers 1] [--batch 8] [--k1 20] [--k2 20]
 *                    [--threads 1] [--frames 400] [--reps 5] [--framewise --seq-len T]
 * Output: one key=value line; frames_per_s from process CPU time (threads = 1) or wall
 * time (threads > 1), both reported. */
#include <stdio.h>
#include <string.h>

#include "bench_common.h"

typedef struct {
  gint hidden, layers, batch, k1, k2, threads, frames, reps, seq_len;
  gboolean framewise;
} Options;

static double
process_cpu_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static PhTrainer *
make_trainer (PhModel *model, const Options *o)
{
  PhTrainConfig config;
  GError *error = NULL;

  ph_train_config_init (&config);
  config.schedule = o->framewise ? PH_SCHEDULE_FRAMEWISE : PH_SCHEDULE_TRUNCATED;
  config.k1 = (guint) o->k1;
  config.k2 = (guint) o->k2;
  config.batch_size = (guint) o->batch;
  config.threads = (guint) o->threads;
  PhTrainer *trainer = ph_trainer_new (model, &config, &error);
  if (trainer == NULL)
    g_error ("bench-train: %s", error->message);
  return trainer;
}

/* Feeds `frames` steps of every stream; returns frames fed (all streams). */
static guint64
run_streaming (PhTrainer *tr, const Options *o, const float *features, const gint *targets,
               guint n_data)
{
  guint in = ph_trainer_model (tr)->shape.input_dim;

  for (gint t = 0; t < o->frames; t++)
    {
      guint at = (guint) t % n_data;
      ph_trainer_feed (tr, features + (gsize) at * o->batch * in, targets + (gsize) at * o->batch,
                       NULL);
    }
  return (guint64) o->frames * o->batch;
}

/* Trains B sequences of seq_len frames with the FRAMEWISE preset; returns frames. */
static guint64
run_framewise (PhTrainer *tr, const Options *o, const float *features, const gint *targets)
{
  guint in = ph_trainer_model (tr)->shape.input_dim;
  PhSequence *seqs = g_new (PhSequence, o->batch);

  for (gint b = 0; b < o->batch; b++)
    {
      seqs[b].features = features + (gsize) b * o->seq_len * in;
      seqs[b].targets = targets + (gsize) b * o->seq_len;
      seqs[b].n_frames = (guint) o->seq_len;
    }
  ph_trainer_train_sequences (tr, seqs, (guint) o->batch);
  g_free (seqs);
  return (guint64) o->seq_len * o->batch;
}

int
main (int argc, char **argv)
{
  Options o = { 128, 1, 8, 20, 20, 1, 400, 5, 100, FALSE };
  GOptionEntry entries[] = {
    { "hidden", 0, 0, G_OPTION_ARG_INT, &o.hidden, "hidden size", "H" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &o.layers, "LSTM layers", "N" },
    { "batch", 0, 0, G_OPTION_ARG_INT, &o.batch, "parallel streams", "B" },
    { "k1", 0, 0, G_OPTION_ARG_INT, &o.k1, "frames between updates", "K1" },
    { "k2", 0, 0, G_OPTION_ARG_INT, &o.k2, "frames backpropagated", "K2" },
    { "threads", 0, 0, G_OPTION_ARG_INT, &o.threads, "trainer threads", "N" },
    { "frames", 0, 0, G_OPTION_ARG_INT, &o.frames, "frames per stream per repetition", "N" },
    { "reps", 0, 0, G_OPTION_ARG_INT, &o.reps, "repetitions (median)", "N" },
    { "framewise", 0, 0, G_OPTION_ARG_NONE, &o.framewise, "FRAMEWISE preset on sequences", NULL },
    { "seq-len", 0, 0, G_OPTION_ARG_INT, &o.seq_len, "sequence length (framewise)", "T" },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("- truncated BPTT trainer throughput");
  GError *error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || o.reps < 1 || o.frames < 1
      || o.batch < 1 || o.seq_len < 1)
    {
      g_printerr ("bench-train: %s\n", error ? error->message : "sizes must be >= 1");
      return 2;
    }

  PhModel *model = bench_random_model ((guint) o.hidden, (guint) o.layers, 0, 5);
  guint in = model->shape.input_dim;
  guint n_data = o.framewise ? (guint) o.seq_len : 200; /* distinct frames per stream */
  float *features = bench_random_floats ((gsize) n_data * o.batch * in, 17, 2.0);
  gint *targets = g_new (gint, (gsize) n_data * o.batch);
  GRand *rand = g_rand_new_with_seed (19);
  for (gsize k = 0; k < (gsize) n_data * o.batch; k++)
    targets[k] = g_rand_int_range (rand, 0, PH_NUM_PHONES);
  g_rand_free (rand);

  PhTrainer *tr = make_trainer (model, &o);
  double *cpu = g_new (double, o.reps), *wall = g_new (double, o.reps);
  guint64 frames = 0;

  for (gint r = -1; r < o.reps; r++) /* r = -1 warms up */
    {
      double c0 = process_cpu_ns (), w0 = bench_wall_ns ();
      frames = o.framewise ? run_framewise (tr, &o, features, targets)
                           : run_streaming (tr, &o, features, targets, n_data);
      if (r >= 0)
        {
          cpu[r] = frames / ((process_cpu_ns () - c0) * 1e-9);
          wall[r] = frames / ((bench_wall_ns () - w0) * 1e-9);
        }
    }
  double cpu_fps = bench_median (cpu, (guint) o.reps), wall_fps = bench_median (wall, (guint) o.reps);
  printf ("trainer=phonemes hidden=%d layers=%d batch=%d k1=%d k2=%d threads=%d framewise=%d "
          "seq_len=%d cpu_frames_per_s=%.0f wall_frames_per_s=%.0f frames_per_s=%.0f updates=%"
          G_GUINT64_FORMAT "\n",
          o.hidden, o.layers, o.batch, o.framewise ? 1 : o.k1, o.framewise ? 0 : o.k2,
          o.threads, o.framewise, o.framewise ? o.seq_len : 0, cpu_fps, wall_fps,
          o.threads > 1 ? wall_fps : cpu_fps, ph_trainer_stats (tr)->updates);

  ph_trainer_free (tr);
  ph_model_unref (model);
  g_free (features);
  g_free (targets);
  g_free (cpu);
  g_free (wall);
  g_option_context_free (ctx);
  return 0;
}
