/* test_lstm.c: streaming LSTM inference against a naive double-precision reference
 * written here gate by gate from the equations in ph_model.h; stepping equals the
 * sequence and runs of frames bit for bit; in-place weight changes; reset; posteriors;
 * delay; the CPU's product kernel against the portable one, with float and bfloat16
 * recurrent weights. */
#include "phonemes.h"
#include "test_common.h"

#include <math.h>
#include <string.h>

#define MAX_IN 40
#define MAX_H 128
#define MAX_L 2

/* ---- helpers ---- */

/* A random model whose every parameter takes part (tests/test_common.h). */
static PhModel *
make_model (guint in, guint hidden, guint layers, guint delay, guint32 seed)
{
  return test_random_model (in, hidden, layers, delay, seed, 0.5, 1);
}

static float *
random_frames (guint in, guint n, guint32 seed, double amplitude)
{
  GRand *rand = g_rand_new_with_seed (seed);
  float *x = g_new (float, (gsize) in * n);

  for (gsize k = 0; k < (gsize) in * n; k++)
    x[k] = (float) g_rand_double_range (rand, -amplitude, amplitude);
  g_rand_free (rand);
  return x;
}

/* ---- the reference: plain doubles, one gate at a time ---- */

typedef struct {
  double h[MAX_L][MAX_H];
  double c[MAX_L][MAX_H];
} RefState;

static double
sigmoid (double x)
{
  return 1.0 / (1.0 + exp (-x));
}

/* Pre-activation of gate `gate` (0 i, 1 f, 2 g, 3 o), unit j, of one layer. */
static double
gate_input (const PhLstmLayerParams *p, guint gate, guint j, guint hidden, const double *x,
            guint in_dim, const double *h_prev)
{
  guint row = gate * hidden + j;
  double a = p->bias[row];

  for (guint k = 0; k < in_dim; k++)
    a += (double) p->w_x[row * in_dim + k] * x[k];
  for (guint k = 0; k < hidden; k++)
    a += (double) p->w_h[row * hidden + k] * h_prev[k];
  return a;
}

static void
ref_step (const PhModel *m, RefState *st, const float *raw, double *post)
{
  guint H = m->shape.hidden_size, in_dim = m->shape.input_dim;
  double x[MAX_IN > MAX_H ? MAX_IN : MAX_H], h_new[MAX_H], logits[PH_NUM_PHONES];

  for (guint k = 0; k < in_dim; k++)
    x[k] = ((double) raw[k] - m->norm_mean[k]) * m->norm_scale[k];
  for (guint l = 0; l < m->shape.num_layers; l++)
    {
      const PhLstmLayerParams *p = &m->params.layer[l];
      for (guint j = 0; j < H; j++)
        {
          double c_prev = st->c[l][j];
          double i = sigmoid (gate_input (p, 0, j, H, x, in_dim, st->h[l]) + p->peep[j] * c_prev);
          double f = sigmoid (gate_input (p, 1, j, H, x, in_dim, st->h[l])
                              + p->peep[H + j] * c_prev);
          double g = tanh (gate_input (p, 2, j, H, x, in_dim, st->h[l]));
          double c = f * c_prev + i * g;
          double o = sigmoid (gate_input (p, 3, j, H, x, in_dim, st->h[l])
                              + p->peep[2 * H + j] * c);
          st->c[l][j] = c; /* c_prev of unit j is not read again this step */
          h_new[j] = o * tanh (c);
        }
      memcpy (st->h[l], h_new, sizeof (double) * H);
      memcpy (x, h_new, sizeof (double) * H);
      in_dim = H;
    }
  double max = -INFINITY, sum = 0.0;
  for (guint k = 0; k < PH_NUM_PHONES; k++)
    {
      logits[k] = m->params.b_out[k];
      for (guint j = 0; j < H; j++)
        logits[k] += (double) m->params.w_out[k * H + j] * st->h[m->shape.num_layers - 1][j];
      max = MAX (max, logits[k]);
    }
  for (guint k = 0; k < PH_NUM_PHONES; k++)
    sum += exp (logits[k] - max);
  for (guint k = 0; k < PH_NUM_PHONES; k++)
    post[k] = exp (logits[k] - max) / sum;
}

/* Max |engine - reference| over a sequence, and over h and c at its end. */
static double
max_error_vs_reference (const PhModel *m, const float *x, guint n)
{
  PhLstmState *state = ph_lstm_state_new (&m->shape);
  RefState ref = { 0 };
  float post[PH_NUM_PHONES];
  double ref_post[PH_NUM_PHONES], err = 0.0;
  guint in = m->shape.input_dim;

  for (guint t = 0; t < n; t++)
    {
      ph_lstm_step (m, state, x + t * in, post);
      ref_step (m, &ref, x + t * in, ref_post);
      for (guint k = 0; k < PH_NUM_PHONES; k++)
        err = MAX (err, fabs (post[k] - ref_post[k]));
    }
  for (guint l = 0; l < m->shape.num_layers; l++)
    for (guint j = 0; j < m->shape.hidden_size; j++)
      {
        err = MAX (err, fabs (ph_lstm_state_h (state, l)[j] - ref.h[l][j]));
        err = MAX (err, fabs (ph_lstm_state_c (state, l)[j] - ref.c[l][j]));
      }
  ph_lstm_state_free (state);
  return err;
}

/* ---- tests ---- */

static void
test_matches_reference (void)
{
  /* Small sizes are all zero-padded tail, 13 and 12 use the 8-wide body; 26 x 37 pads
   * the gate rows (148) and the output rows (61) to whole groups of 16 rows. */
  const guint sizes[][3] = { { 3, 4, 2 }, { 13, 12, 2 }, { 5, 9, 1 }, { 26, 37, 2 } };

  for (guint c = 0; c < G_N_ELEMENTS (sizes); c++)
    {
      PhModel *m = make_model (sizes[c][0], sizes[c][1], sizes[c][2], 0, 10 + c);
      float *x = random_frames (sizes[c][0], 60, 20 + c, 2.0);
      double err = max_error_vs_reference (m, x, 60);

      g_test_message ("in %u H %u L %u: max error %.3g", sizes[c][0], sizes[c][1],
                      sizes[c][2], err);
      g_assert_cmpfloat (err, <, 1e-5);
      g_free (x);
      ph_model_unref (m);
    }
}

static void
test_reference_saturated (void)
{
  /* Large inputs drive gates into saturation and c beyond 1. */
  PhModel *m = make_model (3, 4, 2, 0, 3);
  float *x = random_frames (3, 80, 4, 30.0);

  g_assert_cmpfloat (max_error_vs_reference (m, x, 80), <, 1e-5);
  g_free (x);
  ph_model_unref (m);
}

/* ph_lstm_step_frames over runs of any length (1, 5, 32 = one full run of the kernels,
 * 33, 70) carries the state across calls and gives ph_lstm_step's bits; so does
 * ph_lstm_forward_sequence over the whole sequence. */
static void
test_stepping_ways_agree (void)
{
  PhModel *m = make_model (26, 37, 2, 2, 51);
  const guint runs[] = { 1, 5, 32, 33, 70, 3 };
  guint n = 0, out = PH_NUM_PHONES;

  for (guint i = 0; i < G_N_ELEMENTS (runs); i++)
    n += runs[i];
  float *x = random_frames (26, n, 52, 2.0);
  float *one = g_new (float, (gsize) n * out), *many = g_new (float, (gsize) n * out);
  float *seq = g_new (float, (gsize) n * out);
  PhLstmState *a = ph_lstm_state_new (&m->shape), *b = ph_lstm_state_new (&m->shape);

  for (guint t = 0; t < n; t++)
    ph_lstm_step (m, a, x + t * 26, one + t * out);
  for (guint i = 0, t = 0; i < G_N_ELEMENTS (runs); t += runs[i], i++)
    ph_lstm_step_frames (m, b, x + t * 26, runs[i], many + t * out);
  g_assert_cmpmem (one, sizeof (float) * n * out, many, sizeof (float) * n * out);
  ph_lstm_forward_sequence (m, x, n, seq);
  g_assert_cmpmem (one, sizeof (float) * n * out, seq, sizeof (float) * n * out);
  g_assert_cmpmem (ph_lstm_state_c (a, 1), 37 * sizeof (float), ph_lstm_state_c (b, 1),
                   37 * sizeof (float));
  ph_lstm_step_frames (m, b, NULL, 0, NULL);

  ph_lstm_state_free (a);
  ph_lstm_state_free (b);
  g_free (one);
  g_free (many);
  g_free (seq);
  g_free (x);
  ph_model_unref (m);
}

static void
test_state_reset (void)
{
  PhModel *m = make_model (3, 4, 2, 0, 7);
  guint n = 20, out = PH_NUM_PHONES;
  float *x = random_frames (3, n, 8, 2.0);
  float *fresh = g_new (float, (gsize) n * out), *again = g_new (float, (gsize) n * out);
  PhLstmState *state = ph_lstm_state_new (&m->shape);

  for (guint t = 0; t < n; t++)
    ph_lstm_step (m, state, x + t * 3, fresh + t * out);
  g_assert_cmpfloat (fabs (ph_lstm_state_c (state, 1)[0]), >, 0.0);
  ph_lstm_state_reset (state);
  for (guint l = 0; l < 2; l++)
    for (guint j = 0; j < 4; j++)
      {
        g_assert_cmpfloat (ph_lstm_state_h (state, l)[j], ==, 0.0f);
        g_assert_cmpfloat (ph_lstm_state_c (state, l)[j], ==, 0.0f);
      }
  for (guint t = 0; t < n; t++)
    ph_lstm_step (m, state, x + t * 3, again + t * out);
  g_assert_cmpint (memcmp (fresh, again, sizeof (float) * n * out), ==, 0);

  ph_lstm_state_free (state);
  g_free (fresh);
  g_free (again);
  g_free (x);
  ph_model_unref (m);
}

static void
test_posteriors_sum_to_one (void)
{
  PhModel *m = make_model (13, 12, 2, 0, 9);
  guint n = 40, out = PH_NUM_PHONES;
  float *x = random_frames (13, n, 10, 50.0);
  float *post = g_new (float, (gsize) n * out);

  /* Large output weights make peaked (but still valid) distributions. */
  for (guint k = 0; k < out * 12; k++)
    m->params.w_out[k] *= 20.0f;
  ph_lstm_forward_sequence (m, x, n, post);
  for (guint t = 0; t < n; t++)
    {
      double sum = 0.0;
      for (guint k = 0; k < out; k++)
        {
          g_assert_true (post[t * out + k] >= 0.0f && post[t * out + k] <= 1.0f);
          sum += post[t * out + k];
        }
      g_assert_cmpfloat (fabs (sum - 1.0), <, 1e-5);
    }
  g_free (post);
  g_free (x);
  ph_model_unref (m);
}

static void
test_delay_keeps_math (void)
{
  /* The delay only changes what an output means (frame t - d), not how it is computed. */
  PhModel *plain = make_model (3, 4, 2, 0, 11);
  PhModel *delayed = make_model (3, 4, 2, 3, 11);
  guint n = 25, out = PH_NUM_PHONES;
  float *x = random_frames (3, n, 12, 2.0);
  float *a = g_new (float, (gsize) n * out), *b = g_new (float, (gsize) n * out);

  g_assert_cmpint (memcmp (plain->flat, delayed->flat, sizeof (float) * plain->n_params), ==, 0);
  ph_lstm_forward_sequence (plain, x, n, a);
  ph_lstm_forward_sequence (delayed, x, n, b);
  g_assert_cmpint (memcmp (a, b, sizeof (float) * n * out), ==, 0);

  g_free (a);
  g_free (b);
  g_free (x);
  ph_model_unref (plain);
  ph_model_unref (delayed);
}

/* Posteriors of `n` frames from a fresh state, as one string of hex floats. */
static char *
posteriors_hex (const PhModel *m, const float *x, guint n)
{
  float *post = g_new (float, (gsize) n * PH_NUM_PHONES);
  GString *text = g_string_new (NULL);

  ph_lstm_forward_sequence (m, x, n, post);
  for (gsize k = 0; k < (gsize) n * PH_NUM_PHONES; k++)
    g_string_append_printf (text, "%a\n", post[k]);
  g_free (post);
  return g_string_free (text, FALSE);
}

/* After an in-place change and ph_model_weights_changed, a step uses the new weights:
 * it gives what a fresh copy of the changed model gives. Preparing a model ahead
 * (ph_lstm_prepare) changes nothing but when the packing happens. */
static void
test_weights_changed (void)
{
  PhModel *m = make_model (13, 12, 2, 0, 41);
  float *x = random_frames (13, 20, 42, 2.0);
  char *before = posteriors_hex (m, x, 20);
  PhModel *prepared = ph_model_copy (m);

  ph_lstm_prepare (prepared);
  char *prepared_text = posteriors_hex (prepared, x, 20);
  g_assert_cmpstr (prepared_text, ==, before);
  g_free (prepared_text);
  ph_model_unref (prepared);

  for (guint k = 0; k < m->n_params; k++)
    m->flat[k] *= -0.5f;
  ph_model_weights_changed (m);
  PhModel *copy = ph_model_copy (m);
  char *after = posteriors_hex (m, x, 20), *fresh = posteriors_hex (copy, x, 20);

  g_assert_cmpstr (after, ==, fresh);
  g_assert_cmpstr (after, !=, before);
  g_free (before);
  g_free (after);
  g_free (fresh);
  g_free (x);
  ph_model_unref (copy);
  ph_model_unref (m);
}

/* Sets PH_STEP_KERNEL to `kernel` (NULL: unset, the CPU's best kernels) and returns
 * its previous value for restore_kernel_env (the lstm-portable suite runs with it set). */
static char *
set_kernel_env (const char *kernel)
{
  char *previous = g_strdup (g_getenv ("PH_STEP_KERNEL"));

  if (kernel != NULL)
    g_setenv ("PH_STEP_KERNEL", kernel, TRUE);
  else
    g_unsetenv ("PH_STEP_KERNEL");
  return previous;
}

static void
restore_kernel_env (char *previous)
{
  g_free (set_kernel_env (previous));
  g_free (previous);
}

/* Posteriors of `n` frames from a fresh copy of m (so that its step weights are packed
 * anew) with the kernels PH_STEP_KERNEL names (NULL: the CPU's best). */
static char *
posteriors_hex_with_kernel (const PhModel *m, const float *x, guint n, const char *kernel)
{
  PhModel *copy = ph_model_copy (m);
  char *previous = set_kernel_env (kernel), *text = posteriors_hex (copy, x, n);

  restore_kernel_env (previous);
  ph_model_unref (copy);
  return text;
}

/* The CPU's kernel (AVX-512 where there is one) gives the portable kernel's bits, on
 * sizes with partial blocks and odd numbers of row groups. */
static void
test_kernels_agree (void)
{
  const guint sizes[][3] = { { 3, 4, 2 }, { 26, 37, 2 }, { 20, 128, 2 } };
  const char *here = ph_lstm_kernel_name ();
  char *previous;

  g_test_message ("kernels here: %s", here);
  g_assert_true (g_str_equal (here, "avx512") || g_str_equal (here, "portable"));
  previous = set_kernel_env ("portable");
  g_assert_cmpstr (ph_lstm_kernel_name (), ==, "portable");
  restore_kernel_env (previous);
  g_assert_cmpstr (ph_lstm_kernel_name (), ==, here);

  for (guint c = 0; c < G_N_ELEMENTS (sizes); c++)
    {
      PhModel *m = make_model (sizes[c][0], sizes[c][1], sizes[c][2], 0, 60 + c);
      float *x = random_frames (sizes[c][0], 45, 70 + c, 2.0);
      char *best = posteriors_hex_with_kernel (m, x, 45, NULL);
      char *portable = posteriors_hex_with_kernel (m, x, 45, "portable");

      g_assert_cmpstr (best, ==, portable);
      g_free (best);
      g_free (portable);
      g_free (x);
      ph_model_unref (m);
    }
}

/* A model whose recurrent weights are bfloat16 values is read as 16-bit pairs by the
 * AVX-512 kernel: it still matches the reference, gives the portable kernel's bits,
 * and stepping, runs and sequences still agree. */
static void
test_bf16_recurrent (void)
{
  const guint sizes[][3] = { { 13, 12, 2 }, { 26, 37, 2 }, { 20, 128, 1 } };

  for (guint c = 0; c < G_N_ELEMENTS (sizes); c++)
    {
      guint in = sizes[c][0], n = 40;
      PhModel *m = make_model (in, sizes[c][1], sizes[c][2], 0, 80 + c);
      float *x = random_frames (in, n, 90 + c, 2.0);

      ph_model_round_recurrent_to_bf16 (m);
      g_assert_cmpfloat (max_error_vs_reference (m, x, n), <, 1e-5);

      char *best = posteriors_hex_with_kernel (m, x, n, NULL);
      char *portable = posteriors_hex_with_kernel (m, x, n, "portable");
      g_assert_cmpstr (best, ==, portable);

      /* Frame by frame and in runs of 7 give the sequence's bits. */
      PhLstmState *a = ph_lstm_state_new (&m->shape), *b = ph_lstm_state_new (&m->shape);
      float *one = g_new (float, (gsize) n * PH_NUM_PHONES);
      float *runs = g_new (float, (gsize) n * PH_NUM_PHONES);
      for (guint t = 0; t < n; t++)
        ph_lstm_step (m, a, x + t * in, one + t * PH_NUM_PHONES);
      for (guint t = 0; t < n; t += 7)
        ph_lstm_step_frames (m, b, x + t * in, MIN (7, n - t), runs + t * PH_NUM_PHONES);
      g_assert_cmpmem (one, sizeof (float) * n * PH_NUM_PHONES, runs,
                       sizeof (float) * n * PH_NUM_PHONES);
      char *sequence = posteriors_hex (m, x, n);
      g_assert_cmpstr (sequence, ==, best);

      g_free (sequence);
      g_free (one);
      g_free (runs);
      ph_lstm_state_free (a);
      ph_lstm_state_free (b);
      g_free (best);
      g_free (portable);
      g_free (x);
      ph_model_unref (m);
    }
}

static void
test_zero_frames (void)
{
  PhModel *m = make_model (3, 4, 1, 0, 13);

  ph_lstm_forward_sequence (m, NULL, 0, NULL);
  ph_model_unref (m);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/lstm/matches-reference", test_matches_reference);
  g_test_add_func ("/lstm/reference-saturated", test_reference_saturated);
  g_test_add_func ("/lstm/weights-changed", test_weights_changed);
  g_test_add_func ("/lstm/stepping-ways-agree", test_stepping_ways_agree);
  g_test_add_func ("/lstm/state-reset", test_state_reset);
  g_test_add_func ("/lstm/posteriors-sum-to-one", test_posteriors_sum_to_one);
  g_test_add_func ("/lstm/delay-keeps-math", test_delay_keeps_math);
  g_test_add_func ("/lstm/zero-frames", test_zero_frames);
  g_test_add_func ("/lstm/kernels-agree", test_kernels_agree);
  g_test_add_func ("/lstm/bf16-recurrent", test_bf16_recurrent);
  return g_test_run ();
}
