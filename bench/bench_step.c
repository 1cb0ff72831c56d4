/* bench_step.c: the LSTM step against the physical limit.
 *
 * Batch-1 inference reads every weight once per frame, so the fastest a step can be is
 * the time to stream the weights through the core. For each hidden size this measures,
 * interleaved and repeated, ph_lstm_step per frame and a bandwidth probe that reads a
 * buffer of the weights' size the fastest way the compiler knows (wide vectors, several
 * independent sums), and prints both and their ratio. Both read from the same level of
 * the cache hierarchy because they read the same number of bytes over and over. It also
 * times ph_lstm_step_frames in runs of 13 frames (a 128 ms buffer), which reads the
 * recurrent weights once per frame and the others once per run.
 *
 * With --bf16 the recurrent weights are rounded to bfloat16 values first (as `phonemes
 * round-weights` does), which the AVX-512 kernel reads as 16-bit values: the probe then
 * reads the bytes that step reads.
 *
 * Usage: bench-step [--hidden 128,256,512] [--layers 1] [--bf16] [--reps 15] [--ms 20]
 * Output: one line per hidden size, key=value. */
#include <stdio.h>
#include <string.h>

#include "bench_common.h"

typedef float Vec8 __attribute__ ((vector_size (32)));

/* a += the 8 floats at p (a macro: a function returning a vector draws gcc's ABI note). */
#define ADD8(a, p)                  \
  do                                \
    {                               \
      Vec8 v_;                      \
      memcpy (&v_, (p), sizeof v_); \
      (a) += v_;                    \
    }                               \
  while (0)

/* The probe uses the widest loads the CPU has, whatever the step uses: 8 independent
 * 8-wide sums (AVX2 or baseline), or 4 16-wide ones with AVX-512. */
#if defined(__x86_64__) && defined(__GLIBC__)
#define HAVE_PROBE_512 1
#ifndef PROBE_CLONES /* -DPROBE_CLONES= (meson -Dsimd_clones=false): no ifunc */
#define PROBE_CLONES __attribute__ ((target_clones ("avx2", "default")))
#endif
#else
#define PROBE_CLONES
#endif

/* Sum of n floats (n a multiple of 64). */
PROBE_CLONES __attribute__ ((noinline)) static float
probe_read_256 (const float *buf, gsize n)
{
  Vec8 a0 = { 0 }, a1 = { 0 }, a2 = { 0 }, a3 = { 0 }, a4 = { 0 }, a5 = { 0 }, a6 = { 0 };
  Vec8 a7 = { 0 };

  for (gsize k = 0; k < n; k += 64)
    {
      ADD8 (a0, buf + k);
      ADD8 (a1, buf + k + 8);
      ADD8 (a2, buf + k + 16);
      ADD8 (a3, buf + k + 24);
      ADD8 (a4, buf + k + 32);
      ADD8 (a5, buf + k + 40);
      ADD8 (a6, buf + k + 48);
      ADD8 (a7, buf + k + 56);
    }
  a0 = ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
  return ((a0[0] + a0[1]) + (a0[2] + a0[3])) + ((a0[4] + a0[5]) + (a0[6] + a0[7]));
}

#ifdef HAVE_PROBE_512
typedef float Vec16 __attribute__ ((vector_size (64)));

/* As probe_read_256 with 64-byte loads. */
__attribute__ ((target ("avx512f"), noinline)) static float
probe_read_512 (const float *buf, gsize n)
{
  Vec16 a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

  for (gsize k = 0; k < n; k += 64)
    {
      Vec16 x, y, z, w;
      memcpy (&x, buf + k, sizeof x);
      memcpy (&y, buf + k + 16, sizeof y);
      memcpy (&z, buf + k + 32, sizeof z);
      memcpy (&w, buf + k + 48, sizeof w);
      a += x, b += y, c += z, d += w;
    }
  a += b + c + d;
  float s = 0.0f;
  for (guint j = 0; j < 16; j++)
    s += a[j];
  return s;
}
#endif

static float
probe_read (const float *buf, gsize n)
{
#ifdef HAVE_PROBE_512
  if (__builtin_cpu_supports ("avx512f"))
    return probe_read_512 (buf, n);
#endif
  return probe_read_256 (buf, n);
}

typedef struct {
  PhModel *model;
  PhLstmState *state;
  float *frames;      /* [n_frames][input_dim] */
  guint n_frames;
  float posteriors[PH_NUM_PHONES];
  float *run_posteriors; /* [RUN][PH_NUM_PHONES] */
  float *probe;       /* a buffer of the weights' size */
  gsize probe_floats;
  volatile float sink;
} StepBench;

/* CPU ns for `n` steps. */
static double
time_steps (StepBench *b, guint n)
{
  guint in = b->model->shape.input_dim;
  double t0 = bench_thread_ns ();

  for (guint i = 0; i < n; i++)
    ph_lstm_step (b->model, b->state, b->frames + (gsize) (i % b->n_frames) * in,
                  b->posteriors);
  return bench_thread_ns () - t0;
}

/* Frames per ph_lstm_step_frames call in the run figure: a 128 ms buffer, what wavparse
 * hands the element. */
#define RUN 13

/* CPU ns for `n` frames stepped in runs of RUN, as the labeller does per buffer. */
static double
time_runs (StepBench *b, guint n)
{
  guint in = b->model->shape.input_dim;
  double t0 = bench_thread_ns ();

  for (guint i = 0; i < n; i += RUN)
    ph_lstm_step_frames (b->model, b->state, b->frames + (gsize) (i % (b->n_frames - RUN)) * in,
                         MIN (RUN, n - i), b->run_posteriors);
  return bench_thread_ns () - t0;
}

/* CPU ns for `n` reads of the probe buffer. */
static double
time_probe (StepBench *b, guint n)
{
  double t0 = bench_thread_ns ();
  float s = 0.0f;

  for (guint i = 0; i < n; i++)
    s += probe_read (b->probe, b->probe_floats);
  b->sink = s;
  return bench_thread_ns () - t0;
}

/* Whether the step reads bfloat16 recurrent weights as 16-bit values: with --bf16,
 * where the AVX-512 kernel runs (ph_lstm.c). */
static gboolean
reads_bf16 (gboolean bf16)
{
  return bf16 && strcmp (ph_lstm_kernel_name (), "avx512") == 0;
}

/* Bytes a step must read: every parameter plus the input normalisation, the recurrent
 * matrices at 2 bytes a weight when the step reads them as bfloat16. */
static gsize
weight_bytes (const PhModel *m, gboolean bf16)
{
  gsize H = m->shape.hidden_size, recurrent = 4 * H * H * m->shape.num_layers;

  return sizeof (float) * (m->n_params + 2 * m->shape.input_dim)
         - (reads_bf16 (bf16) ? 2 * recurrent : 0);
}

static void
bench_hidden (guint hidden, guint layers, gboolean bf16, guint reps, double target_ms)
{
  StepBench b = { 0 };

  b.model = bench_random_model (hidden, layers, 0, 7);
  if (bf16)
    ph_model_round_recurrent_to_bf16 (b.model);
  b.state = ph_lstm_state_new (&b.model->shape);
  b.n_frames = 1000;
  b.frames = bench_random_floats ((gsize) b.n_frames * b.model->shape.input_dim, 11, 3.0);
  b.probe_floats = (weight_bytes (b.model, bf16) / sizeof (float) + 63) / 64 * 64;
  b.probe = bench_random_floats (b.probe_floats, 13, 1.0);
  b.run_posteriors = g_new (float, RUN * PH_NUM_PHONES);

  /* Warm up and size the inner loop to about target_ms. */
  time_steps (&b, 50);
  time_probe (&b, 50);
  double one = time_steps (&b, 200) / 200;
  guint n = (guint) CLAMP (target_ms * 1e6 / MAX (one, 1.0), 20, 1000000);

  double *step = g_new (double, reps), *probe = g_new (double, reps), *ratio = g_new (double, reps);
  double *run = g_new (double, reps), *run_ratio = g_new (double, reps);
  for (guint r = 0; r < reps; r++)
    {
      step[r] = time_steps (&b, n) / n;
      probe[r] = time_probe (&b, n) / n;
      run[r] = time_runs (&b, n) / n;
      ratio[r] = step[r] / probe[r];
      run_ratio[r] = run[r] / probe[r];
    }
  double bytes = (double) weight_bytes (b.model, bf16);
  double step_ns = bench_median (step, reps), probe_ns = bench_median (probe, reps);
  printf ("hidden=%u layers=%u bf16=%d reads_bf16=%d params=%zu weight_bytes=%.0f "
          "step_ns=%.1f probe_ns=%.1f ratio=%.3f probe_GBps=%.2f step_GBps=%.2f "
          "frames_per_s=%.0f run_ns=%.1f run_ratio=%.3f\n",
          hidden, layers, bf16, reads_bf16 (bf16), b.model->n_params, bytes, step_ns, probe_ns,
          bench_median (ratio, reps), bytes / probe_ns, bytes / step_ns, 1e9 / step_ns,
          bench_median (run, reps), bench_median (run_ratio, reps));
  fflush (stdout);

  g_free (step);
  g_free (probe);
  g_free (ratio);
  g_free (run);
  g_free (run_ratio);
  g_free (b.run_posteriors);
  g_free (b.frames);
  g_free (b.probe);
  ph_lstm_state_free (b.state);
  ph_model_unref (b.model);
}

int
main (int argc, char **argv)
{
  gchar *hidden_list = NULL;
  gint layers = 1, reps = 15;
  gboolean bf16 = FALSE;
  gdouble ms = 20.0;
  GOptionEntry entries[] = {
    { "hidden", 0, 0, G_OPTION_ARG_STRING, &hidden_list, "hidden sizes, comma separated", "LIST" },
    { "layers", 0, 0, G_OPTION_ARG_INT, &layers, "LSTM layers", "N" },
    { "bf16", 0, 0, G_OPTION_ARG_NONE, &bf16,
      "round the recurrent weights to bfloat16 (phonemes round-weights)", NULL },
    { "reps", 0, 0, G_OPTION_ARG_INT, &reps, "interleaved repetitions (median)", "N" },
    { "ms", 0, 0, G_OPTION_ARG_DOUBLE, &ms, "target duration of one repetition", "MS" },
    { NULL },
  };
  GOptionContext *ctx = g_option_context_new ("- LSTM step time vs a bandwidth probe");
  GError *error = NULL;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &error) || reps < 1 || layers < 1)
    {
      g_printerr ("bench-step: %s\n", error ? error->message : "--reps and --layers must be >= 1");
      return 2;
    }
  gchar **sizes = g_strsplit (hidden_list ? hidden_list : "128,256,512", ",", -1);
  for (gchar **s = sizes; *s != NULL; s++)
    bench_hidden ((guint) g_ascii_strtoull (*s, NULL, 10), (guint) layers, bf16, (guint) reps,
                  ms);
  g_strfreev (sizes);
  g_free (hidden_list);
  g_option_context_free (ctx);
  return 0;
}
