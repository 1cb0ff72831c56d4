/* bench_common.h: clocks, medians and random models shared by the benchmark programs.
 *
 * The machine is shared and noisy, so every figure is a median of repeated runs that
 * are interleaved with the runs it is compared against, and times are the calling
 * thread's CPU time unless a benchmark measures threads (then wall time). */
#pragma once

#include <stdlib.h>
#include <time.h>

#include "phonemes.h"

/* Nanoseconds of CPU time used by the calling thread. */
static inline double
bench_thread_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* Nanoseconds of wall time (monotonic). */
static inline double
bench_wall_ns (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int
bench_compare_double (const void *a, const void *b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

/* Median of n values (sorts them in place). */
static inline double
bench_median (double *values, guint n)
{
  qsort (values, n, sizeof (double), bench_compare_double);
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

/* A model with the default features (16 kHz), `hidden` cells, `layers` layers and
 * deterministic random weights; aborts with the error on a bad shape. */
static inline PhModel *
bench_random_model (guint hidden, guint layers, guint delay, guint64 seed)
{
  PhFeatureConfig features;
  PhLstmShape shape = { 0, hidden, layers, PH_NUM_PHONES, delay };
  GError *error = NULL;

  ph_feature_config_init (&features, 16000);
  shape.input_dim = ph_feature_config_dim (&features);
  PhModel *model = ph_model_new (&features, &shape, &error);
  if (model == NULL)
    g_error ("bench: %s", error->message);
  ph_model_init_random (model, seed);
  return model;
}

/* n random values in [-amplitude, amplitude], deterministic for `seed`. */
static inline float *
bench_random_floats (gsize n, guint32 seed, double amplitude)
{
  GRand *rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, n);

  for (gsize k = 0; k < n; k++)
    x[k] = (float) g_rand_double_range (rand, -amplitude, amplitude);
  g_rand_free (rand);
  return x;
}
