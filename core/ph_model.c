/* ph_model.c: model objects and model files
 * (format: docs/model-format.md). */
#include "ph_model.h"

#include "ph_error.h"
#include "ph_file.h"
#include "ph_lstm.h"
#include "ph_random.h"

#include <gio/gio.h>
#include <math.h>
#include <string.h>

#define PH_MODEL_MAGIC "PHLSTM\0\n"
#define PH_MODEL_MAGIC_LEN 8
#define PH_MODEL_VERSION_NO_LM 1
#define PH_MODEL_VERSION_LM 2
#define PH_LM_MAGIC "PHONELM\n"
/* A model's LSTM work per second of audio (parameters x frames per second) is bounded
 * (docs/model-format.md): 4e9 multiply-adds lets the largest shape (ph_lstm.c: 4 layers
 * of 1024, 30.5 M parameters) run at the usual 10 ms hop and keeps a file from asking
 * for unbounded work through a tiny hop. */
#define PH_MAX_MULTIPLY_ADDS_PER_SECOND 4e9
#define PH_NORM_STD_FLOOR 1e-5
#define PH_DEFAULT_MODEL_PATH "/org/phonemes/models/default.phm"

/* FALSE + GError when running `shape` at the frame rate of `features` (both valid) would
 * take more than PH_MAX_MULTIPLY_ADDS_PER_SECOND per second of audio. */
static gboolean
check_work_per_second (const PhFeatureConfig *features, const PhLstmShape *shape,
                       GError **error)
{
  double frames_per_second = (double) features->sample_rate / features->hop_length;
  double work = (double) ph_lstm_param_count (shape) * frames_per_second;
  if (work > PH_MAX_MULTIPLY_ADDS_PER_SECOND)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "hidden_size %u x num_layers %u at %.0f frames per second (hop_length "
                   "%u at %u Hz) needs %.3g multiply-adds per second of audio; expected at "
                   "most %.3g (use a smaller network or a longer hop)", shape->hidden_size,
                   shape->num_layers, frames_per_second, features->hop_length,
                   features->sample_rate, work, PH_MAX_MULTIPLY_ADDS_PER_SECOND);
      return FALSE;
    }
  return TRUE;
}

/* ---- model objects ---- */

/* Checks the features config, the shape, and that they agree on input_dim. */
static gboolean
check_config_and_shape (const PhFeatureConfig *features, const PhLstmShape *shape,
                        GError **error)
{
  if (!ph_feature_config_validate (features, error))
    return FALSE;
  if (!ph_lstm_shape_validate (shape, error)
      || !check_work_per_second (features, shape, error))
    return FALSE;
  guint dim = ph_feature_config_dim (features);
  if (shape->input_dim != dim)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "input_dim is %u but the features config gives %u values per frame",
                   shape->input_dim, dim);
      return FALSE;
    }
  return TRUE;
}

/* A zero-weight model with identity normalisation; NULL + GError on a bad config. */
PhModel *
ph_model_new (const PhFeatureConfig *features, const PhLstmShape *shape, GError **error)
{
  if (!check_config_and_shape (features, shape, error))
    return NULL;

  gsize n_params = ph_lstm_param_count (shape);
  float *flat = g_try_new0 (float, n_params);
  if (flat == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_INVALID,
                   "cannot allocate %" G_GSIZE_FORMAT " parameters", n_params);
      return NULL;
    }

  PhModel *model = g_new0 (PhModel, 1);
  model->features = *features;
  model->shape = *shape;
  model->norm_mean = g_new0 (float, shape->input_dim);
  model->norm_scale = g_new (float, shape->input_dim);
  for (guint i = 0; i < shape->input_dim; i++)
    model->norm_scale[i] = 1.0f;
  model->flat = flat;
  model->n_params = n_params;
  ph_lstm_params_bind (&model->params, shape, flat);
  model->ref_count = 1;
  return model;
}

/* Uniform in [-bound, bound). */
static float
uniform_symmetric (guint64 *state, float bound)
{
  double u = ph_random_double (state);
  return (float) ((2.0 * u - 1.0) * bound);
}

static void
fill_uniform (float *dst, gsize n, float bound, guint64 *state)
{
  for (gsize i = 0; i < n; i++)
    dst[i] = uniform_symmetric (state, bound);
}

/* Weights uniform in +-1/sqrt(H), biases 0 except the forget gate's 1 (remember by
 * default), peepholes uniform in +-0.1/sqrt(H) (small: they see unbounded c). */
void
ph_model_init_random (PhModel *model, guint64 seed)
{
  const PhLstmShape *s = &model->shape;
  gsize h = s->hidden_size;
  float bound = (float) (1.0 / sqrt ((double) h));
  guint64 state = seed;

  for (guint l = 0; l < s->num_layers; l++)
    {
      PhLstmLayerParams *lp = &model->params.layer[l];
      gsize in_dim = l == 0 ? s->input_dim : h;
      fill_uniform (lp->w_x, 4 * h * in_dim, bound, &state);
      fill_uniform (lp->w_h, 4 * h * h, bound, &state);
      memset (lp->bias, 0, 4 * h * sizeof (float));
      for (gsize i = h; i < 2 * h; i++)
        lp->bias[i] = 1.0f;
      fill_uniform (lp->peep, 3 * h, 0.1f * bound, &state);
    }
  fill_uniform (model->params.w_out, (gsize) s->output_dim * h, bound, &state);
  memset (model->params.b_out, 0, s->output_dim * sizeof (float));
  ph_model_weights_changed (model);
}

/* A deep copy with ref count 1. */
gboolean
ph_model_same_layout (const PhModel *a, const PhModel *b)
{
  return memcmp (&a->features, &b->features, sizeof a->features) == 0 &&
      memcmp (&a->shape, &b->shape, sizeof a->shape) == 0;
}

PhModel *
ph_model_copy (const PhModel *model)
{
  PhModel *copy = g_new0 (PhModel, 1);
  copy->features = model->features;
  copy->shape = model->shape;
  copy->norm_mean = g_memdup2 (model->norm_mean, model->shape.input_dim * sizeof (float));
  copy->norm_scale = g_memdup2 (model->norm_scale, model->shape.input_dim * sizeof (float));
  copy->flat = g_memdup2 (model->flat, model->n_params * sizeof (float));
  copy->n_params = model->n_params;
  ph_lstm_params_bind (&copy->params, &copy->shape, copy->flat);
  copy->lm = model->lm ? ph_phone_lm_copy (model->lm) : NULL;
  copy->ref_count = 1;
  return copy;
}

/* Replaces the phone LM by a copy of `lm` (NULL: none). */
void
ph_model_set_lm (PhModel *model, const PhPhoneLm *lm)
{
  g_return_if_fail (model != NULL);
  ph_phone_lm_free (model->lm);
  model->lm = lm ? ph_phone_lm_copy (lm) : NULL;
}

/* Takes a reference (atomic). */
PhModel *
ph_model_ref (PhModel *model)
{
  g_return_val_if_fail (model != NULL, NULL);
  g_atomic_int_inc (&model->ref_count);
  return model;
}

/* Drops a reference (atomic); frees the model at zero. NULL is ignored. */
void
ph_model_unref (PhModel *model)
{
  if (model == NULL || !g_atomic_int_dec_and_test (&model->ref_count))
    return;
  ph_lstm_step_weights_free (model->step_weights);
  ph_phone_lm_free (model->lm);
  g_free (model->norm_mean);
  g_free (model->norm_scale);
  g_free (model->flat);
  g_free (model);
}

/* Drops the step's repacked weights after an in-place change. */
void
ph_model_weights_changed (PhModel *model)
{
  g_return_if_fail (model != NULL);
  ph_lstm_step_weights_free (model->step_weights);
  model->step_weights = NULL;
}

/* x rounded to the nearest bfloat16 value (ties to even); finite x stays finite, as
 * bfloat16 has float's exponent range (values within half a step of FLT_MAX would
 * round to infinity: they are clamped to the largest finite bfloat16). */
static float
round_to_bf16 (float x)
{
  guint32 bits, rounded;

  memcpy (&bits, &x, sizeof bits);
  rounded = (bits + 0x7fff + ((bits >> 16) & 1)) & 0xffff0000u;
  if ((rounded & 0x7f800000u) == 0x7f800000u) /* overflowed into infinity */
    rounded = (bits & 0x80000000u) | 0x7f7f0000u;
  memcpy (&x, &rounded, sizeof x);
  return x;
}

void
ph_model_round_recurrent_to_bf16 (PhModel *model)
{
  g_return_if_fail (model != NULL);

  gsize n = (gsize) 4 * model->shape.hidden_size * model->shape.hidden_size;

  for (guint l = 0; l < model->shape.num_layers; l++)
    for (gsize i = 0; i < n; i++)
      model->params.layer[l].w_h[i] = round_to_bf16 (model->params.layer[l].w_h[i]);
  ph_model_weights_changed (model);
}

gboolean
ph_model_recurrent_is_bf16 (const PhModel *model)
{
  g_return_val_if_fail (model != NULL, FALSE);

  gsize n = (gsize) 4 * model->shape.hidden_size * model->shape.hidden_size;

  for (guint l = 0; l < model->shape.num_layers; l++)
    for (gsize i = 0; i < n; i++)
      if (!ph_float_is_bf16 (model->params.layer[l].w_h[i]))
        return FALSE;
  return TRUE;
}

/* Per-dimension mean and 1/std (population, std floored) over the finite values of
 * `n_frames` rows; a dimension with no finite value keeps mean 0, scale 1. */
void
ph_model_set_normalisation (PhModel *model, const float *features, gsize n_frames)
{
  guint dim = model->shape.input_dim;

  for (guint d = 0; d < dim; d++)
    {
      double sum = 0.0, sum_sq = 0.0;
      gsize count = 0;
      for (gsize t = 0; t < n_frames; t++)
        {
          double v = features[t * dim + d];
          if (!isfinite (v))
            continue;
          sum += v;
          count++;
        }
      double mean = count ? sum / count : 0.0;
      for (gsize t = 0; t < n_frames; t++)
        {
          double v = features[t * dim + d];
          if (isfinite (v))
            sum_sq += (v - mean) * (v - mean);
        }
      double std = count ? sqrt (sum_sq / count) : 1.0;
      model->norm_mean[d] = (float) mean;
      model->norm_scale[d] = (float) (1.0 / MAX (std, PH_NORM_STD_FLOOR));
    }
}

/* ---- CRC-32 (IEEE 802.3, zlib's reflected polynomial 0xEDB88320) ---- */

/* Slicing by 8 (Intel's): crc_table[k][b] is the CRC of byte b followed by k zero
 * bytes, so that eight bytes take eight independent lookups instead of a chain of
 * eight. A model file is about a megabyte, read at every start. */
static guint32 crc_table[8][256];

static gpointer
crc_table_init (G_GNUC_UNUSED gpointer unused)
{
  for (guint b = 0; b < 256; b++)
    {
      guint32 crc = b;
      for (guint bit = 0; bit < 8; bit++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
      crc_table[0][b] = crc;
    }
  for (guint k = 1; k < 8; k++)
    for (guint b = 0; b < 256; b++)
      crc_table[k][b] = (crc_table[k - 1][b] >> 8) ^ crc_table[0][crc_table[k - 1][b] & 0xFF];
  return NULL;
}

/* CRC-32 of `n` bytes, as zlib's crc32 (0, data, n). */
static guint32
crc32_ieee (const guint8 *data, gsize n)
{
  static GOnce once = G_ONCE_INIT;
  guint32 crc = 0xFFFFFFFFu;
  gsize i = 0;

  g_once (&once, crc_table_init, NULL);
  for (; i + 8 <= n; i += 8)
    {
      guint32 low, high;

      memcpy (&low, data + i, sizeof low);
      memcpy (&high, data + i + 4, sizeof high);
      low = crc ^ GUINT32_FROM_LE (low);
      high = GUINT32_FROM_LE (high);
      crc = crc_table[7][low & 0xFF] ^ crc_table[6][(low >> 8) & 0xFF]
            ^ crc_table[5][(low >> 16) & 0xFF] ^ crc_table[4][low >> 24]
            ^ crc_table[3][high & 0xFF] ^ crc_table[2][(high >> 8) & 0xFF]
            ^ crc_table[1][(high >> 16) & 0xFF] ^ crc_table[0][high >> 24];
    }
  for (; i < n; i++)
    crc = (crc >> 8) ^ crc_table[0][(crc ^ data[i]) & 0xFF];
  return crc ^ 0xFFFFFFFFu;
}

/* ---- writing ---- */

static void
put_u32 (GByteArray *out, guint32 v)
{
  guint32 le = GUINT32_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &le, 4);
}

static void
put_u64 (GByteArray *out, guint64 v)
{
  guint64 le = GUINT64_TO_LE (v);
  g_byte_array_append (out, (const guint8 *) &le, 8);
}

static void
put_f32 (GByteArray *out, float v)
{
  guint32 bits;
  memcpy (&bits, &v, 4);
  put_u32 (out, bits);
}

static void
put_f32_array (GByteArray *out, const float *v, gsize n)
{
  for (gsize i = 0; i < n; i++)
    put_f32 (out, v[i]);
}

/* Every PhFeatureConfig field, in struct order. */
static void
put_feature_config (GByteArray *out, const PhFeatureConfig *c)
{
  put_u32 (out, c->sample_rate);
  put_u32 (out, c->window_length);
  put_u32 (out, c->hop_length);
  put_u32 (out, c->window_type);
  put_f32 (out, c->preemphasis);
  put_u32 (out, c->num_mel_bins);
  put_f32 (out, c->low_freq);
  put_f32 (out, c->high_freq);
  put_u32 (out, c->num_ceps);
  put_f32 (out, c->cep_lifter);
  put_u32 (out, c->use_energy);
  put_u32 (out, c->delta_window);
  put_u32 (out, c->cmn_window);
}

static void
put_shape (GByteArray *out, const PhLstmShape *s)
{
  put_u32 (out, s->input_dim);
  put_u32 (out, s->hidden_size);
  put_u32 (out, s->num_layers);
  put_u32 (out, s->output_dim);
  put_u32 (out, s->delay);
}

static void
put_phone_table (GByteArray *out)
{
  put_u32 (out, PH_NUM_PHONES);
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    {
      const char *name = ph_phone_name (i);
      guint8 len = (guint8) strlen (name);
      g_byte_array_append (out, &len, 1);
      g_byte_array_append (out, (const guint8 *) name, len);
    }
}

/* Version 2's phone LM section (docs/model-format.md). */
static void
put_phone_lm (GByteArray *out, const PhPhoneLm *lm)
{
  guint K = lm->n_classes;

  g_byte_array_append (out, (const guint8 *) PH_LM_MAGIC, 8);
  put_u32 (out, K);
  g_byte_array_append (out, lm->class_of_phone, PH_NUM_PHONES);
  put_f32_array (out, lm->log_start, K);
  put_f32_array (out, lm->log_bigram, (gsize) K * K);
}

/* Bytes from the start of the file to the end of the phone table. */
static gsize
header_size (void)
{
  gsize size = PH_MODEL_MAGIC_LEN + 4 + 4 + 13 * 4 + 5 * 4 + 4;
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    size += 1 + strlen (ph_phone_name (i));
  return size;
}

/* The model file image (docs/model-format.md). */
GBytes *
ph_model_to_bytes (const PhModel *model)
{
  guint dim = model->shape.input_dim;
  GByteArray *out = g_byte_array_sized_new (header_size () + 8 * dim + 12
                                            + 4 * model->n_params);

  g_byte_array_append (out, (const guint8 *) PH_MODEL_MAGIC, PH_MODEL_MAGIC_LEN);
  put_u32 (out, model->lm ? PH_MODEL_VERSION_LM : PH_MODEL_VERSION_NO_LM);
  put_u32 (out, (guint32) header_size ());
  put_feature_config (out, &model->features);
  put_shape (out, &model->shape);
  put_phone_table (out);
  put_f32_array (out, model->norm_mean, dim);
  put_f32_array (out, model->norm_scale, dim);
  put_u64 (out, model->n_params);
  put_f32_array (out, model->flat, model->n_params);
  if (model->lm)
    put_phone_lm (out, model->lm);
  put_u32 (out, crc32_ieee (out->data, out->len));
  return g_byte_array_free_to_bytes (out);
}

/* Writes the model file all or nothing (ph_file_write_atomic: through symlinks, never
 * over a device or FIFO). */
gboolean
ph_model_save_file (const PhModel *model, const char *path, GError **error)
{
  GBytes *bytes = ph_model_to_bytes (model);
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  gboolean ok = ph_file_write_atomic (path, data, size, "model file", error);
  g_bytes_unref (bytes);
  return ok;
}

/* ---- reading ---- */

/* A bounds-checked cursor over the file image; every read names its field so a
 * truncated file says where it ends. */
typedef struct {
  const guint8 *data;
  gsize size;
  gsize pos;
  const char *name; /* the file, for messages */
} Reader;

/* Claims `n` bytes at the cursor for `field`; NULL + GError when fewer are left. */
static const guint8 *
reader_take (Reader *r, gsize n, const char *field, GError **error)
{
  gsize left = r->size - r->pos;
  if (n > left)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: truncated at %s (offset %" G_GSIZE_FORMAT ": needs %" G_GSIZE_FORMAT
                   " bytes, %" G_GSIZE_FORMAT " left)", r->name, field, r->pos, n, left);
      return NULL;
    }
  const guint8 *p = r->data + r->pos;
  r->pos += n;
  return p;
}

static gboolean
read_u32 (Reader *r, const char *field, guint32 *out, GError **error)
{
  const guint8 *p = reader_take (r, 4, field, error);
  if (p == NULL)
    return FALSE;
  guint32 le;
  memcpy (&le, p, 4);
  *out = GUINT32_FROM_LE (le);
  return TRUE;
}

static gboolean
read_u64 (Reader *r, const char *field, guint64 *out, GError **error)
{
  const guint8 *p = reader_take (r, 8, field, error);
  if (p == NULL)
    return FALSE;
  guint64 le;
  memcpy (&le, p, 8);
  *out = GUINT64_FROM_LE (le);
  return TRUE;
}

static gboolean
read_f32 (Reader *r, const char *field, float *out, GError **error)
{
  guint32 bits;
  if (!read_u32 (r, field, &bits, error))
    return FALSE;
  memcpy (out, &bits, 4);
  return TRUE;
}

/* Reads `n` floats; callers bound n by the validated shape, so n * 4 cannot overflow. */
static gboolean
read_f32_array (Reader *r, const char *field, float *out, gsize n, GError **error)
{
  const guint8 *p = reader_take (r, n * 4, field, error);
  if (p == NULL)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    {
      guint32 le;
      memcpy (&le, p + 4 * i, 4);
      guint32 bits = GUINT32_FROM_LE (le);
      memcpy (&out[i], &bits, 4);
    }
  return TRUE;
}

static gboolean
read_magic_and_version (Reader *r, guint32 *version, GError **error)
{
  const guint8 *magic = reader_take (r, PH_MODEL_MAGIC_LEN, "magic", error);
  if (magic == NULL)
    return FALSE;
  if (memcmp (magic, PH_MODEL_MAGIC, PH_MODEL_MAGIC_LEN) != 0)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: not a phonemes model file (bad magic, expected \"PHLSTM\\0\\n\")",
                   r->name);
      return FALSE;
    }
  if (!read_u32 (r, "version", version, error))
    return FALSE;
  if (*version != PH_MODEL_VERSION_NO_LM && *version != PH_MODEL_VERSION_LM)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_VERSION,
                   "%s: unsupported model file version %u (this build reads versions "
                   "%u and %u)", r->name, *version, PH_MODEL_VERSION_NO_LM,
                   PH_MODEL_VERSION_LM);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_feature_config (Reader *r, PhFeatureConfig *c, GError **error)
{
  return read_u32 (r, "features.sample_rate", &c->sample_rate, error)
    && read_u32 (r, "features.window_length", &c->window_length, error)
    && read_u32 (r, "features.hop_length", &c->hop_length, error)
    && read_u32 (r, "features.window_type", &c->window_type, error)
    && read_f32 (r, "features.preemphasis", &c->preemphasis, error)
    && read_u32 (r, "features.num_mel_bins", &c->num_mel_bins, error)
    && read_f32 (r, "features.low_freq", &c->low_freq, error)
    && read_f32 (r, "features.high_freq", &c->high_freq, error)
    && read_u32 (r, "features.num_ceps", &c->num_ceps, error)
    && read_f32 (r, "features.cep_lifter", &c->cep_lifter, error)
    && read_u32 (r, "features.use_energy", &c->use_energy, error)
    && read_u32 (r, "features.delta_window", &c->delta_window, error)
    && read_u32 (r, "features.cmn_window", &c->cmn_window, error);
}

static gboolean
read_shape (Reader *r, PhLstmShape *s, GError **error)
{
  return read_u32 (r, "shape.input_dim", &s->input_dim, error)
    && read_u32 (r, "shape.hidden_size", &s->hidden_size, error)
    && read_u32 (r, "shape.num_layers", &s->num_layers, error)
    && read_u32 (r, "shape.output_dim", &s->output_dim, error)
    && read_u32 (r, "shape.delay", &s->delay, error);
}

/* Checks the stored phone names against this build's phone set, in order. */
static gboolean
read_phone_table (Reader *r, GError **error)
{
  guint32 count;
  if (!read_u32 (r, "phone count", &count, error))
    return FALSE;
  if (count != PH_NUM_PHONES)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: phone set mismatch: the file has %u phones, this build has %u",
                   r->name, count, PH_NUM_PHONES);
      return FALSE;
    }
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    {
      const guint8 *len = reader_take (r, 1, "phone name length", error);
      const guint8 *bytes = len ? reader_take (r, *len, "phone name", error) : NULL;
      if (bytes == NULL)
        return FALSE;
      const char *expected = ph_phone_name (i);
      if (*len != strlen (expected) || memcmp (bytes, expected, *len) != 0)
        {
          char *raw = g_strndup ((const char *) bytes, *len);
          char *shown = g_strescape (raw, NULL);
          g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                       "%s: phone set mismatch: phone %d is \"%s\", expected \"%s\"",
                       r->name, i, shown, expected);
          g_free (shown);
          g_free (raw);
          return FALSE;
        }
    }
  return TRUE;
}

/* Validates the config and shape read from the file, prefixing the file name. */
static gboolean
check_file_config (Reader *r, const PhFeatureConfig *features, const PhLstmShape *shape,
                   GError **error)
{
  GError *local = NULL;
  if (!ph_feature_config_validate (features, &local))
    {
      /* The validator's messages may already start with "feature config". */
      gboolean named = g_str_has_prefix (local->message, "feature config");
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: %s%s", r->name,
                   named ? "invalid " : "invalid feature config: ", local->message);
      g_error_free (local);
      return FALSE;
    }
  if (!ph_lstm_shape_validate (shape, &local)
      || !check_work_per_second (features, shape, &local))
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT, "%s: invalid shape: %s", r->name,
                   local->message);
      g_error_free (local);
      return FALSE;
    }
  guint dim = ph_feature_config_dim (features);
  if (shape->input_dim != dim)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: input_dim mismatch: shape.input_dim is %u but the feature config "
                   "gives %u values per frame", r->name, shape->input_dim, dim);
      return FALSE;
    }
  return TRUE;
}

static gboolean
check_header_size (Reader *r, guint32 declared, GError **error)
{
  if (declared != r->pos)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: header size field says %u bytes, but the header is %" G_GSIZE_FORMAT
                   " bytes", r->name, declared, r->pos);
      return FALSE;
    }
  return TRUE;
}

/* FALSE + GError naming `what` when any of `v` is NaN or infinite. */
static gboolean
check_finite (const char *name, const char *what, const float *v, gsize n, GError **error)
{
  for (gsize i = 0; i < n; i++)
    if (!isfinite (v[i]))
      {
        g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                     "%s: non-finite value in %s (index %" G_GSIZE_FORMAT ")", name, what, i);
        return FALSE;
      }
  return TRUE;
}

static gboolean
check_values (const char *name, const PhModel *m, GError **error)
{
  guint dim = m->shape.input_dim;
  if (!check_finite (name, "mean", m->norm_mean, dim, error)
      || !check_finite (name, "scale", m->norm_scale, dim, error)
      || !check_finite (name, "weights", m->flat, m->n_params, error))
    return FALSE;
  for (guint i = 0; i < dim; i++)
    if (m->norm_scale[i] <= 0.0f)
      {
        g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                     "%s: scale[%u] is %g, expected > 0", name, i, m->norm_scale[i]);
        return FALSE;
      }
  return TRUE;
}

/* Reads the checksum and checks it against the bytes before it, then that nothing
 * follows it. */
static gboolean
read_checksum_and_end (Reader *r, GError **error)
{
  gsize covered = r->pos;
  guint32 stored;
  if (!read_u32 (r, "checksum", &stored, error))
    return FALSE;
  guint32 actual = crc32_ieee (r->data, covered);
  if (stored != actual)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_CHECKSUM,
                   "%s: checksum mismatch (stored 0x%08x, computed 0x%08x): the file is "
                   "corrupt", r->name, stored, actual);
      return FALSE;
    }
  if (r->pos != r->size)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: %" G_GSIZE_FORMAT " trailing bytes after the checksum", r->name,
                   r->size - r->pos);
      return FALSE;
    }
  return TRUE;
}

/* Reads n_params, checks it against the shape and that the parameters and checksum
 * fit in the file, so nothing is allocated for a lying header. */
static gboolean
read_param_count (Reader *r, const PhLstmShape *shape, GError **error)
{
  guint64 n_params;
  if (!read_u64 (r, "n_params", &n_params, error))
    return FALSE;
  gsize expected = ph_lstm_param_count (shape);
  if (n_params != expected)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: n_params is %" G_GUINT64_FORMAT " but the shape needs %"
                   G_GSIZE_FORMAT, r->name, n_params, expected);
      return FALSE;
    }
  if (expected > (r->size - r->pos) / 4)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: truncated at params (offset %" G_GSIZE_FORMAT ": needs %"
                   G_GSIZE_FORMAT " bytes, %" G_GSIZE_FORMAT " left)", r->name, r->pos,
                   expected * 4, r->size - r->pos);
      return FALSE;
    }
  return TRUE;
}

/* Reads version 2's phone LM section into a new LM; its values are checked later,
 * after the checksum. */
static PhPhoneLm *
read_phone_lm (Reader *r, GError **error)
{
  const guint8 *magic = reader_take (r, 8, "phone LM magic", error);
  if (magic == NULL)
    return NULL;
  if (memcmp (magic, PH_LM_MAGIC, 8) != 0)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: bad phone LM magic, expected \"PHONELM\\n\"", r->name);
      return NULL;
    }
  guint32 n_classes;
  if (!read_u32 (r, "phone LM class count", &n_classes, error))
    return NULL;
  if (n_classes < 1 || n_classes > PH_PHONE_LM_MAX_CLASSES)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_FORMAT,
                   "%s: phone LM has %u classes, expected 1..%d", r->name, n_classes,
                   PH_PHONE_LM_MAX_CLASSES);
      return NULL;
    }
  const guint8 *map = reader_take (r, PH_NUM_PHONES, "phone LM class map", error);
  if (map == NULL)
    return NULL;
  PhPhoneLm *lm = ph_phone_lm_new (n_classes, map);
  if (!read_f32_array (r, "phone LM start", lm->log_start, n_classes, error)
      || !read_f32_array (r, "phone LM bigram", lm->log_bigram,
                          (gsize) n_classes * n_classes, error))
    g_clear_pointer (&lm, ph_phone_lm_free);
  return lm;
}

/* Parses a whole file image into a new model; see docs/model-format.md. */
static PhModel *
parse_model (Reader *r, GError **error)
{
  PhFeatureConfig features;
  PhLstmShape shape;
  guint32 declared_header, version;

  if (!read_magic_and_version (r, &version, error)
      || !read_u32 (r, "header size", &declared_header, error)
      || !read_feature_config (r, &features, error)
      || !read_shape (r, &shape, error)
      || !check_file_config (r, &features, &shape, error)
      || !read_phone_table (r, error)
      || !check_header_size (r, declared_header, error))
    return NULL;

  guint dim = shape.input_dim;
  float *mean = g_new (float, dim), *scale = g_new (float, dim);
  PhModel *model = NULL;
  if (read_f32_array (r, "mean", mean, dim, error)
      && read_f32_array (r, "scale", scale, dim, error)
      && read_param_count (r, &shape, error))
    model = ph_model_new (&features, &shape, error);
  if (model != NULL)
    {
      memcpy (model->norm_mean, mean, dim * sizeof (float));
      memcpy (model->norm_scale, scale, dim * sizeof (float));
      read_f32_array (r, "params", model->flat, model->n_params, NULL);
      if (version == PH_MODEL_VERSION_LM
          && (model->lm = read_phone_lm (r, error)) == NULL)
        g_clear_pointer (&model, ph_model_unref);
    }
  g_free (mean);
  g_free (scale);
  if (model != NULL && (!read_checksum_and_end (r, error)
                        || !check_values (r->name, model, error)
                        || (model->lm && !ph_phone_lm_validate (model->lm, r->name, error))))
    g_clear_pointer (&model, ph_model_unref);
  return model;
}

/* Loads a model from a file image; errors name `name`. */
PhModel *
ph_model_load_bytes (GBytes *bytes, const char *name, GError **error)
{
  g_return_val_if_fail (bytes != NULL, NULL);
  Reader r = { 0 };
  r.data = g_bytes_get_data (bytes, &r.size);
  r.name = name != NULL ? name : "(model)";
  if (r.data == NULL)
    r.size = 0;
  return parse_model (&r, error);
}

/* Loads the model file at `path`. */
PhModel *
ph_model_load_file (const char *path, GError **error)
{
  gsize size;
  char *data = ph_file_read_bounded (path, PH_FILE_MAX_MODEL_BYTES, "model file", &size,
                                     error);
  if (data == NULL)
    return NULL;
  GBytes *bytes = g_bytes_new_take (data, size);
  PhModel *model = ph_model_load_bytes (bytes, path, error);
  g_bytes_unref (bytes);
  return model;
}

/* The model compiled into the library as a GResource, through the same loader. */
PhModel *
ph_model_load_default (GError **error)
{
  GError *local = NULL;
  GBytes *bytes = g_resources_lookup_data (PH_DEFAULT_MODEL_PATH,
                                           G_RESOURCE_LOOKUP_FLAGS_NONE, &local);
  if (bytes == NULL)
    {
      g_set_error (error, PH_ERROR, PH_ERROR_IO, "cannot find the default model %s: %s",
                   PH_DEFAULT_MODEL_PATH, local->message);
      g_error_free (local);
      return NULL;
    }
  PhModel *model = ph_model_load_bytes (bytes, "default model (resource "
                                        PH_DEFAULT_MODEL_PATH ")", error);
  g_bytes_unref (bytes);
  return model;
}
