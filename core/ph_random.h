/* ph_random.h: the project's one random generator, splitmix64 (Steele, Lea & Flood
 * 2014): tiny, seedable with any 64-bit value, and ours, so that random weights, dropout
 * masks and shuffles stay the same when GLib changes GRand. Header only. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The next 64 random bits of the generator whose state is *state. */
static inline guint64
ph_random_next (guint64 *state)
{
  guint64 z = (*state += G_GUINT64_CONSTANT (0x9E3779B97F4A7C15));

  z = (z ^ (z >> 30)) * G_GUINT64_CONSTANT (0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * G_GUINT64_CONSTANT (0x94D049BB133111EB);
  return z ^ (z >> 31);
}

/* Uniform in [0, 1), 53 random bits. */
static inline double
ph_random_double (guint64 *state)
{
  return (double) (ph_random_next (state) >> 11) * (1.0 / 9007199254740992.0);
}

/* Uniform in [0, 1), 24 random bits. */
static inline float
ph_random_float (guint64 *state)
{
  return (float) (ph_random_next (state) >> 40) * (1.0f / 16777216.0f);
}

G_END_DECLS
