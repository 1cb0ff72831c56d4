/* ph_vec_math.h: the vector math and the LSTM cell, written once for any vector width.
 * Not installed; no include guard: a file includes it once per width (an instance),
 * after defining
 *   PH_VEC, PH_VECI    the float and gint32 vector types,
 *   PH_VEC_LANES       their number of lanes,
 *   PH_VEC_FN(name)    the name of the instance's function `name`,
 * and the instance's PH_VEC_FN (set1) (x in every lane); it may
 * define PH_VEC_CLAMP(x, lo, hi), x clamped to [lo, hi] with a NaN staying x, when it
 * has a faster way than two selects. The 8-lane instance (ph_vec_*) is
 * ph_lstm_private.h's, the 16-lane one (ph_vec16_*) is ph_lstm_avx512.c's. Every
 * function works lane by lane with IEEE operations only, so every width gives every
 * lane the same bits. */

/* The PH_VEC_LANES floats at p (any alignment). */
PH_INLINE PH_VEC
PH_VEC_FN (load) (const float *p)
{
  PH_VEC v;
  memcpy (&v, p, sizeof v);
  return v;
}

PH_INLINE void
PH_VEC_FN (store) (float *p, PH_VEC v)
{
  memcpy (p, &v, sizeof v);
}

/* The first n (< PH_VEC_LANES) floats of p, zeros after. */
PH_INLINE PH_VEC
PH_VEC_FN (load_partial) (const float *p, guint n)
{
  float t[PH_VEC_LANES] = { 0 };
  memcpy (t, p, sizeof (float) * n);
  return PH_VEC_FN (load) (t);
}

/* The first n (<= PH_VEC_LANES) floats of p, zeros after: a whole vector when n is. */
PH_INLINE PH_VEC
PH_VEC_FN (load_some) (const float *p, guint n)
{
  return n == PH_VEC_LANES ? PH_VEC_FN (load) (p) : PH_VEC_FN (load_partial) (p, n);
}

/* Stores the first n (<= PH_VEC_LANES) lanes of v at p. */
PH_INLINE void
PH_VEC_FN (store_some) (float *p, PH_VEC v, guint n)
{
  if (n == PH_VEC_LANES)
    PH_VEC_FN (store) (p, v);
  else
    memcpy (p, &v, sizeof (float) * n);
}

/* mask ? a : b for masks from a vector comparison (all bits set or clear). */
PH_INLINE PH_VEC
PH_VEC_FN (select) (PH_VECI mask, PH_VEC a, PH_VEC b)
{
  return (PH_VEC) ((mask & (PH_VECI) a) | (~mask & (PH_VECI) b));
}

/* exp(x) for every lane (Cephes' expf: x = n ln 2 + r with ln 2 in two parts, a
 * degree-6 polynomial for exp(r), 2^n put into the exponent bits; a couple of ulp). n is
 * rounded with the 1.5 * 2^23 trick. x is clamped to [-87.3, 88]: the result is finite
 * and normal. */
PH_INLINE PH_VEC
PH_VEC_FN (exp) (PH_VEC x)
{
  const PH_VEC hi = PH_VEC_FN (set1) (88.0f), lo = PH_VEC_FN (set1) (-87.3365447504019f);
  const PH_VEC round = PH_VEC_FN (set1) (12582912.0f);

#ifdef PH_VEC_CLAMP
  x = PH_VEC_CLAMP (x, lo, hi);
#else
  x = PH_VEC_FN (select) (x > hi, hi, x);
  x = PH_VEC_FN (select) (x < lo, lo, x);
#endif
  PH_VEC t = x * PH_VEC_FN (set1) (1.44269504088896341f) + round;
  PH_VEC fn = t - round;
  PH_VECI n = (PH_VECI) t - (PH_VECI) round;
  PH_VEC r = x - fn * PH_VEC_FN (set1) (0.693359375f);
  r = r - fn * PH_VEC_FN (set1) (-2.12194440e-4f);
  PH_VEC p = PH_VEC_FN (set1) (1.9875691500e-4f);
  p = p * r + PH_VEC_FN (set1) (1.3981999507e-3f);
  p = p * r + PH_VEC_FN (set1) (8.3334519073e-3f);
  p = p * r + PH_VEC_FN (set1) (4.1665795894e-2f);
  p = p * r + PH_VEC_FN (set1) (1.6666665459e-1f);
  p = p * r + PH_VEC_FN (set1) (5.0000001201e-1f);
  p = p * (r * r) + r + PH_VEC_FN (set1) (1.0f);
  return p * (PH_VEC) ((n + 127) << 23);
}

/* 1 / (1 + exp(-x)) for every lane. */
PH_INLINE PH_VEC
PH_VEC_FN (sigmoid) (PH_VEC x)
{
  PH_VEC one = PH_VEC_FN (set1) (1.0f);
  return one / (one + PH_VEC_FN (exp) (-x));
}

/* tanh(x) = 1 - 2 / (exp(2x) + 1) for every lane: within about 1e-7 of tanh (absolute),
 * exactly +-1 in saturation. */
PH_INLINE PH_VEC
PH_VEC_FN (tanh) (PH_VEC x)
{
  PH_VEC one = PH_VEC_FN (set1) (1.0f);
  return one - PH_VEC_FN (set1) (2.0f) / (PH_VEC_FN (exp) (x + x) + one);
}

/* v with every value smaller in magnitude than 2^-100 (about 8e-31) replaced by 0.
 * Saturated gates are everywhere in a trained network, and products of their tiny
 * outputs are subnormal numbers, which cost x86 cores tens of cycles per operation (the
 * default model's step ran 60% slower on them). Nothing that small moves a posterior. */
PH_INLINE PH_VEC
PH_VEC_FN (flush_tiny) (PH_VEC v)
{
  PH_VECI magnitude = (PH_VECI) v & 0x7fffffff;
  return (PH_VEC) ((PH_VECI) v & (magnitude >= (127 - 100) << 23));
}

/* ---- the cell ---------------------------------------------------------------------- */

/* The cell runs in two passes over the units, each a short loop body of independent
 * lanes (the out-of-order core overlaps several of its iterations, where one body
 * holding the whole chain i, f -> c -> o -> h left it waiting on latency):
 *   1. i, f from c_prev (peepholes), g, and c;
 *   2. o from the new c (peephole), tanh c, and h.
 * The gates, c and h are flushed below 2^-100 (PH_VEC_FN (flush_tiny)): with them, no
 * product of the cell or of the next mat-vec is subnormal. Partial blocks go through
 * zero-padded copies, so every unit sees the same arithmetic. */

/* Pass 1 for the PH_VEC_LANES units at j (at most n < PH_VEC_LANES of them if partial). */
PH_INLINE void
PH_VEC_FN (cell_input_block) (float *gates, const float *peep, const float *c_prev, float *c,
                              guint hidden, guint j, guint n)
{
  float *gi = gates + j, *gf = gates + hidden + j, *gg = gates + 2 * hidden + j;
  PH_VEC cp = PH_VEC_FN (load_some) (c_prev + j, n);
  PH_VEC pre_i = PH_VEC_FN (load_some) (gi, n) + PH_VEC_FN (load_some) (peep + j, n) * cp;
  PH_VEC pre_f = PH_VEC_FN (load_some) (gf, n) + PH_VEC_FN (load_some) (peep + hidden + j, n) * cp;
  PH_VEC i = PH_VEC_FN (flush_tiny) (PH_VEC_FN (sigmoid) (pre_i));
  PH_VEC f = PH_VEC_FN (flush_tiny) (PH_VEC_FN (sigmoid) (pre_f));
  PH_VEC g = PH_VEC_FN (tanh) (PH_VEC_FN (load_some) (gg, n));

  PH_VEC_FN (store_some) (gi, i, n);
  PH_VEC_FN (store_some) (gf, f, n);
  PH_VEC_FN (store_some) (gg, g, n);
  PH_VEC_FN (store_some) (c + j, PH_VEC_FN (flush_tiny) (f * cp + i * g), n);
}

/* Pass 2 for the PH_VEC_LANES units at j (at most n). */
PH_INLINE void
PH_VEC_FN (cell_output_block) (float *gates, const float *peep, const float *c,
                               float *tanh_c, float *h, guint hidden, guint j, guint n)
{
  float *go = gates + 3 * hidden + j;
  PH_VEC cj = PH_VEC_FN (load_some) (c + j, n);
  PH_VEC peep_o = PH_VEC_FN (load_some) (peep + 2 * hidden + j, n);
  PH_VEC pre_o = PH_VEC_FN (load_some) (go, n) + peep_o * cj;
  PH_VEC o = PH_VEC_FN (flush_tiny) (PH_VEC_FN (sigmoid) (pre_o));
  PH_VEC t = PH_VEC_FN (tanh) (cj);

  PH_VEC_FN (store_some) (go, o, n);
  PH_VEC_FN (store_some) (tanh_c + j, t, n);
  PH_VEC_FN (store_some) (h + j, PH_VEC_FN (flush_tiny) (o * t), n);
}

/* Applies the cell to pre-activations (ph_lstm_cell_forward). */
PH_INLINE void
PH_VEC_FN (cell_forward) (float *gates, const float *peep, const float *c_prev, float *c,
                          float *tanh_c, float *h, guint hidden)
{
  /* c may alias c_prev: each block reads its c_prev before writing its c. */
  for (guint j = 0; j < hidden; j += PH_VEC_LANES)
    PH_VEC_FN (cell_input_block) (gates, peep, c_prev, c, hidden, j,
                                  MIN (PH_VEC_LANES, hidden - j));
  for (guint j = 0; j < hidden; j += PH_VEC_LANES)
    PH_VEC_FN (cell_output_block) (gates, peep, c, tanh_c, h, hidden, j,
                                   MIN (PH_VEC_LANES, hidden - j));
}
