/* test_model.c: parameter layout, model objects, and model files (docs/model-format.md):
 * round trip, the byte layout at documented offsets, every bad-file error, and fuzzing
 * of the parser with and without a recomputed checksum. */
#include "phonemes.h"

#include <glib/gstdio.h>
#include <float.h>
#include <math.h>
#include <string.h>

/* Offsets from docs/model-format.md. */
#define OFF_VERSION 8
#define OFF_HEADER_SIZE 12
#define OFF_FEATURES 16
#define OFF_SHAPE 68
#define OFF_INPUT_DIM 68
#define OFF_NUM_LAYERS 76
#define OFF_PHONE_COUNT 88
#define OFF_PHONE_NAMES 92
#define HEADER_SIZE 270

/* ---- helpers ---- */

/* Reference CRC-32 (zlib polynomial), bit by bit, independent of the library's. */
static guint32
crc32_bitwise (const guint8 *data, gsize n)
{
  guint32 crc = 0xFFFFFFFFu;
  for (gsize i = 0; i < n; i++)
    {
      crc ^= data[i];
      for (int k = 0; k < 8; k++)
        crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
  return ~crc;
}

static guint32
get_u32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static void
set_u32 (guint8 *p, guint32 v)
{
  p[0] = v & 0xFF;
  p[1] = (v >> 8) & 0xFF;
  p[2] = (v >> 16) & 0xFF;
  p[3] = (v >> 24) & 0xFF;
}

static void
set_f32 (guint8 *p, float v)
{
  guint32 bits;
  memcpy (&bits, &v, 4);
  set_u32 (p, bits);
}

/* Rewrites the trailing CRC so a mutation reaches the parser's later checks. */
static void
fix_crc (guint8 *data, gsize n)
{
  if (n >= 4)
    set_u32 (data + n - 4, crc32_bitwise (data, n - 4));
}

static void
small_shape (PhLstmShape *shape, const PhFeatureConfig *features, guint hidden, guint layers)
{
  shape->input_dim = ph_feature_config_dim (features);
  shape->hidden_size = hidden;
  shape->num_layers = layers;
  shape->output_dim = PH_NUM_PHONES;
  shape->delay = 3;
}

/* A random model with a non-trivial normalisation. */
static PhModel *
make_model (guint hidden, guint layers)
{
  PhFeatureConfig features;
  PhLstmShape shape;
  GError *error = NULL;

  ph_feature_config_init (&features, 16000);
  small_shape (&shape, &features, hidden, layers);
  PhModel *model = ph_model_new (&features, &shape, &error);
  g_assert_no_error (error);
  g_assert_nonnull (model);
  ph_model_init_random (model, 42);
  for (guint i = 0; i < shape.input_dim; i++)
    {
      model->norm_mean[i] = 0.5f * i - 3.0f;
      model->norm_scale[i] = 1.0f / (1.0f + i);
    }
  return model;
}

static GBytes *
model_bytes (guint hidden, guint layers)
{
  PhModel *model = make_model (hidden, layers);
  GBytes *bytes = ph_model_to_bytes (model);
  ph_model_unref (model);
  return bytes;
}

static char *
make_tmp_dir (void)
{
  GError *error = NULL;
  char *dir = g_dir_make_tmp ("ph-test-model-XXXXXX", &error);
  g_assert_no_error (error);
  return dir;
}

static void
remove_tmp_dir (char *dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const char *entry;
  while (d != NULL && (entry = g_dir_read_name (d)) != NULL)
    {
      char *path = g_build_filename (dir, entry, NULL);
      g_remove (path);
      g_free (path);
    }
  if (d != NULL)
    g_dir_close (d);
  g_rmdir (dir);
  g_free (dir);
}

/* ---- layout ---- */

static void
test_param_count (void)
{
  /* in 5, H 3, two layers: layer 0 = 4*3*5 + 4*3*3 + 4*3 + 3*3 = 117,
   * layer 1 = 36 + 36 + 12 + 9 = 93, output = 61*3 + 61 = 244: 454. */
  PhLstmShape shape = { 5, 3, 2, 61, 0 };
  g_assert_cmpuint (ph_lstm_param_count (&shape), ==, 454);
  shape.num_layers = 1;
  g_assert_cmpuint (ph_lstm_param_count (&shape), ==, 361);
}

static void
test_params_bind (void)
{
  PhLstmShape shape = { 5, 3, 2, 61, 0 };
  float flat[454];
  PhLstmParams p;

  ph_lstm_params_bind (&p, &shape, flat);
  g_assert_true (p.layer[0].w_x == flat);
  g_assert_true (p.layer[0].w_h == flat + 60);
  g_assert_true (p.layer[0].bias == flat + 96);
  g_assert_true (p.layer[0].peep == flat + 108);
  g_assert_true (p.layer[1].w_x == flat + 117);
  g_assert_true (p.layer[1].w_h == flat + 153);
  g_assert_true (p.layer[1].bias == flat + 189);
  g_assert_true (p.layer[1].peep == flat + 201);
  g_assert_true (p.w_out == flat + 210);
  g_assert_true (p.b_out == flat + 393);
  g_assert_null (p.layer[2].w_x);
  g_assert_null (p.layer[3].peep);
}

static void
assert_shape_invalid (PhLstmShape shape, const char *field)
{
  GError *error = NULL;
  g_assert_false (ph_lstm_shape_validate (&shape, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, field));
  g_error_free (error);
}

static void
test_shape_validate (void)
{
  const PhLstmShape good = { 26, 1024, 4, 61, 32 };
  GError *error = NULL;
  PhLstmShape s;

  g_assert_true (ph_lstm_shape_validate (&good, &error));
  g_assert_no_error (error);
  s = good, s.num_layers = 0, assert_shape_invalid (s, "num_layers");
  s = good, s.num_layers = 5, assert_shape_invalid (s, "num_layers");
  s = good, s.hidden_size = 0, assert_shape_invalid (s, "hidden_size");
  s = good, s.hidden_size = 1025, assert_shape_invalid (s, "hidden_size");
  s = good, s.input_dim = 0, assert_shape_invalid (s, "input_dim");
  s = good, s.input_dim = 257, assert_shape_invalid (s, "input_dim");
  s = good, s.output_dim = 39, assert_shape_invalid (s, "output_dim");
  s = good, s.delay = 33, assert_shape_invalid (s, "delay");
}

/* ---- model objects ---- */

static void
test_new (void)
{
  PhFeatureConfig features;
  PhLstmShape shape;
  GError *error = NULL;

  ph_feature_config_init (&features, 16000);
  small_shape (&shape, &features, 4, 2);
  PhModel *model = ph_model_new (&features, &shape, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (model->n_params, ==, ph_lstm_param_count (&shape));
  g_assert_cmpint (model->ref_count, ==, 1);
  for (gsize i = 0; i < model->n_params; i++)
    g_assert_cmpfloat (model->flat[i], ==, 0.0f);
  for (guint i = 0; i < shape.input_dim; i++)
    {
      g_assert_cmpfloat (model->norm_mean[i], ==, 0.0f);
      g_assert_cmpfloat (model->norm_scale[i], ==, 1.0f);
    }
  g_assert_true (model->params.layer[1].w_x == model->flat + 4 * 4 * shape.input_dim
                 + 4 * 4 * 4 + 4 * 4 + 3 * 4);
  ph_model_unref (model);

  shape.input_dim += 1;
  g_assert_null (ph_model_new (&features, &shape, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_assert_nonnull (strstr (error->message, "input_dim"));
  g_clear_error (&error);

  shape.input_dim -= 1;
  shape.output_dim = 39;
  g_assert_null (ph_model_new (&features, &shape, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_INVALID);
  g_clear_error (&error);

  shape.output_dim = PH_NUM_PHONES;
  features.sample_rate = 0;
  g_assert_null (ph_model_new (&features, &shape, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
}

/* splitmix64's published first output for seed 0 (Vigna's reference splitmix64.c). */
#define SPLITMIX64_SEED0_FIRST G_GUINT64_CONSTANT (0xE220A8397B1DCDAF)

static void
test_init_random (void)
{
  PhModel *a = make_model (4, 2), *b = make_model (4, 2);
  guint h = a->shape.hidden_size;
  float bound = 1.0f / sqrtf ((float) h);

  ph_model_init_random (a, 7);
  ph_model_init_random (b, 7);
  g_assert_cmpmem (a->flat, a->n_params * 4, b->flat, b->n_params * 4);
  ph_model_init_random (b, 8);
  g_assert_true (memcmp (a->flat, b->flat, a->n_params * 4) != 0);

  for (guint l = 0; l < a->shape.num_layers; l++)
    {
      const PhLstmLayerParams *lp = &a->params.layer[l];
      gsize in_dim = l == 0 ? a->shape.input_dim : h;
      for (gsize i = 0; i < 4 * h * in_dim; i++)
        g_assert_cmpfloat (fabsf (lp->w_x[i]), <=, bound);
      for (gsize i = 0; i < 4 * h * h; i++)
        g_assert_cmpfloat (fabsf (lp->w_h[i]), <=, bound);
      for (gsize i = 0; i < 4 * h; i++)
        g_assert_cmpfloat (lp->bias[i], ==, (i >= h && i < 2 * h) ? 1.0f : 0.0f);
      for (gsize i = 0; i < 3 * h; i++)
        g_assert_cmpfloat (fabsf (lp->peep[i]), <=, 0.1f * bound);
    }
  for (gsize i = 0; i < a->shape.output_dim; i++)
    g_assert_cmpfloat (a->params.b_out[i], ==, 0.0f);

  /* The generator is splitmix64: the first weight for seed 0 comes from its known
   * first output, mapped to [-bound, bound) from the top 53 bits. */
  ph_model_init_random (a, 0);
  double u = (double) (SPLITMIX64_SEED0_FIRST >> 11) / 9007199254740992.0;
  g_assert_cmpfloat_with_epsilon (a->flat[0], (2.0 * u - 1.0) * bound, 1e-6);

  ph_model_unref (a);
  ph_model_unref (b);
}

static void
test_ref_copy (void)
{
  PhModel *model = make_model (3, 2);

  g_assert_true (ph_model_ref (model) == model);
  g_assert_cmpint (model->ref_count, ==, 2);
  ph_model_unref (model);
  g_assert_cmpint (model->ref_count, ==, 1);

  PhModel *copy = ph_model_copy (model);
  g_assert_cmpint (copy->ref_count, ==, 1);
  g_assert_true (copy->flat != model->flat);
  g_assert_cmpmem (copy->flat, copy->n_params * 4, model->flat, model->n_params * 4);
  g_assert_cmpmem (&copy->features, sizeof copy->features, &model->features,
                   sizeof model->features);
  g_assert_true (copy->params.layer[1].w_h - copy->flat
                 == model->params.layer[1].w_h - model->flat);
  g_assert_true (copy->params.b_out - copy->flat == model->params.b_out - model->flat);
  copy->flat[0] += 1.0f;
  copy->norm_mean[0] += 1.0f;
  g_assert_cmpfloat (copy->flat[0], !=, model->flat[0]);
  g_assert_cmpfloat (copy->norm_mean[0], !=, model->norm_mean[0]);
  ph_model_unref (copy);
  ph_model_unref (model);
  ph_model_unref (NULL);
}

static void
test_normalisation (void)
{
  PhModel *model = make_model (2, 1);
  guint dim = model->shape.input_dim;
  float *rows = g_new (float, 3 * dim);

  /* dim 0: constant 5 (std 0, floored at 1e-5); dim 1: 1 2 3 (mean 2, std sqrt(2/3));
   * others: -d, d, NaN (NaN ignored: mean 0, std d). */
  for (guint d = 0; d < dim; d++)
    {
      rows[0 * dim + d] = -(float) d;
      rows[1 * dim + d] = (float) d;
      rows[2 * dim + d] = NAN;
    }
  rows[0] = rows[dim] = rows[2 * dim] = 5.0f;
  rows[1] = 1.0f, rows[dim + 1] = 2.0f, rows[2 * dim + 1] = 3.0f;
  ph_model_set_normalisation (model, rows, 3);

  g_assert_cmpfloat_with_epsilon (model->norm_mean[0], 5.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (model->norm_scale[0], 1e5f, 1.0f);
  g_assert_cmpfloat_with_epsilon (model->norm_mean[1], 2.0f, 1e-6);
  g_assert_cmpfloat_with_epsilon (model->norm_scale[1], 1.0 / sqrt (2.0 / 3.0), 1e-5);
  for (guint d = 2; d < dim; d++)
    {
      g_assert_cmpfloat_with_epsilon (model->norm_mean[d], 0.0f, 1e-6);
      g_assert_cmpfloat_with_epsilon (model->norm_scale[d], 1.0f / d, 1e-6);
    }
  g_free (rows);
  ph_model_unref (model);
}

/* ---- files ---- */

static void
assert_models_equal (const PhModel *a, const PhModel *b)
{
  g_assert_cmpmem (&a->features, sizeof a->features, &b->features, sizeof b->features);
  g_assert_cmpmem (&a->shape, sizeof a->shape, &b->shape, sizeof b->shape);
  g_assert_cmpuint (a->n_params, ==, b->n_params);
  g_assert_cmpmem (a->flat, a->n_params * 4, b->flat, b->n_params * 4);
  g_assert_cmpmem (a->norm_mean, a->shape.input_dim * 4, b->norm_mean, b->shape.input_dim * 4);
  g_assert_cmpmem (a->norm_scale, a->shape.input_dim * 4, b->norm_scale,
                   b->shape.input_dim * 4);
  g_assert_true (b->params.w_out == b->flat + (a->params.w_out - a->flat));
}

static void
test_round_trip (void)
{
  char *dir = make_tmp_dir ();
  char *path = g_build_filename (dir, "model.phm", NULL);
  PhModel *model = make_model (5, 2);
  GError *error = NULL;

  g_assert_true (ph_model_save_file (model, path, &error));
  g_assert_no_error (error);
  PhModel *loaded = ph_model_load_file (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (loaded);
  g_assert_cmpint (loaded->ref_count, ==, 1);
  assert_models_equal (model, loaded);

  /* The file is exactly ph_model_to_bytes, and saving again overwrites it. */
  GBytes *bytes = ph_model_to_bytes (loaded);
  char *contents;
  gsize size;
  g_assert_true (g_file_get_contents (path, &contents, &size, NULL));
  g_assert_cmpmem (contents, size, g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_true (ph_model_save_file (loaded, path, &error));
  g_assert_no_error (error);

  g_free (contents);
  g_bytes_unref (bytes);
  ph_model_unref (loaded);
  ph_model_unref (model);
  g_free (path);
  remove_tmp_dir (dir);
}

/* Reads the file at the offsets docs/model-format.md gives. */
static void
test_byte_layout (void)
{
  PhModel *model = make_model (3, 1);
  GBytes *bytes = ph_model_to_bytes (model);
  gsize size;
  const guint8 *d = g_bytes_get_data (bytes, &size);
  guint dim = model->shape.input_dim;

  g_assert_cmpmem (d, 8, "PHLSTM\0\n", 8);
  g_assert_cmpuint (get_u32 (d + OFF_VERSION), ==, 1);
  g_assert_cmpuint (get_u32 (d + OFF_HEADER_SIZE), ==, HEADER_SIZE);
  g_assert_cmpmem (d + OFF_FEATURES, 52, &model->features, 52); /* host is little-endian */
  g_assert_cmpmem (d + OFF_SHAPE, 20, &model->shape, 20);
  g_assert_cmpuint (get_u32 (d + OFF_PHONE_COUNT), ==, 61);

  gsize pos = OFF_PHONE_NAMES;
  for (gint i = 0; i < PH_NUM_PHONES; i++)
    {
      const char *name = ph_phone_name (i);
      g_assert_cmpuint (d[pos], ==, strlen (name));
      g_assert_cmpmem (d + pos + 1, d[pos], name, strlen (name));
      pos += 1 + d[pos];
    }
  g_assert_cmpuint (pos, ==, HEADER_SIZE);
  g_assert_cmpmem (d + pos, 4 * dim, model->norm_mean, 4 * dim);
  pos += 4 * dim;
  g_assert_cmpmem (d + pos, 4 * dim, model->norm_scale, 4 * dim);
  pos += 4 * dim;
  g_assert_cmpuint (get_u32 (d + pos), ==, model->n_params);
  g_assert_cmpuint (get_u32 (d + pos + 4), ==, 0);
  pos += 8;
  g_assert_cmpmem (d + pos, 4 * model->n_params, model->flat, 4 * model->n_params);
  pos += 4 * model->n_params;
  g_assert_cmpuint (pos + 4, ==, size);
  g_assert_cmpuint (get_u32 (d + pos), ==, crc32_bitwise (d, pos));

  /* The reference CRC itself: the standard check value. */
  g_assert_cmpuint (crc32_bitwise ((const guint8 *) "123456789", 9), ==, 0xCBF43926u);

  g_bytes_unref (bytes);
  ph_model_unref (model);
}

/* One bad-file case: a mutation of a valid file, and what loading must say. */
typedef struct {
  const char *name;
  void (*mutate) (GByteArray *file, guint dim);
  gint code;
  const char *expect; /* substring of the message */
} BadCase;

static gsize
off_mean (guint dim)
{
  (void) dim;
  return HEADER_SIZE;
}

static gsize
off_scale (guint dim)
{
  return HEADER_SIZE + 4 * dim;
}

static gsize
off_n_params (guint dim)
{
  return HEADER_SIZE + 8 * dim;
}

static gsize
off_params (guint dim)
{
  return HEADER_SIZE + 8 * dim + 8;
}

static void
cut_empty (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_set_size (f, 0);
}

static void
cut_short_header (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_set_size (f, 6);
}

static void
cut_version (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_set_size (f, OFF_VERSION + 2);
}

static void
cut_features (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_set_size (f, OFF_FEATURES + 4 * 5 + 1);
}

static void
cut_shape (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_set_size (f, OFF_SHAPE + 4 * 2);
}

static void
cut_phones (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_set_size (f, OFF_PHONE_NAMES + 10);
}

static void
cut_mean (GByteArray *f, guint dim)
{
  g_byte_array_set_size (f, off_mean (dim) + 5);
}

static void
cut_scale (GByteArray *f, guint dim)
{
  g_byte_array_set_size (f, off_scale (dim) + 3);
}

static void
cut_n_params (GByteArray *f, guint dim)
{
  g_byte_array_set_size (f, off_n_params (dim) + 7);
}

static void
cut_params (GByteArray *f, guint dim)
{
  g_byte_array_set_size (f, off_params (dim) + 17);
}

static void
cut_checksum (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_set_size (f, f->len - 1);
}

static void
bad_magic (GByteArray *f, guint dim)
{
  (void) dim;
  f->data[3] = 'X';
}

static void
bad_version (GByteArray *f, guint dim)
{
  (void) dim;
  set_u32 (f->data + OFF_VERSION, 3);
}

static void
bad_header_size (GByteArray *f, guint dim)
{
  (void) dim;
  set_u32 (f->data + OFF_HEADER_SIZE, HEADER_SIZE + 4);
  fix_crc (f->data, f->len);
}

static void
bad_feature_config (GByteArray *f, guint dim)
{
  (void) dim;
  set_u32 (f->data + OFF_FEATURES, 0); /* sample_rate */
  fix_crc (f->data, f->len);
}

static void
bad_shape (GByteArray *f, guint dim)
{
  (void) dim;
  set_u32 (f->data + OFF_NUM_LAYERS, 0);
  fix_crc (f->data, f->len);
}

static void
bad_input_dim (GByteArray *f, guint dim)
{
  set_u32 (f->data + OFF_INPUT_DIM, dim + 1);
  fix_crc (f->data, f->len);
}

static void
bad_phone_count (GByteArray *f, guint dim)
{
  (void) dim;
  set_u32 (f->data + OFF_PHONE_COUNT, 60);
  fix_crc (f->data, f->len);
}

static void
bad_phone_name (GByteArray *f, guint dim)
{
  (void) dim;
  f->data[OFF_PHONE_NAMES + 2] = 'z'; /* "iy" -> "iz" */
  fix_crc (f->data, f->len);
}

static void
bad_n_params (GByteArray *f, guint dim)
{
  set_u32 (f->data + off_n_params (dim), get_u32 (f->data + off_n_params (dim)) + 1);
  fix_crc (f->data, f->len);
}

static void
nan_weight (GByteArray *f, guint dim)
{
  set_f32 (f->data + off_params (dim) + 4 * 11, NAN);
  fix_crc (f->data, f->len);
}

static void
inf_mean (GByteArray *f, guint dim)
{
  set_f32 (f->data + off_mean (dim) + 4, INFINITY);
  fix_crc (f->data, f->len);
}

static void
nan_scale (GByteArray *f, guint dim)
{
  set_f32 (f->data + off_scale (dim) + 8, NAN);
  fix_crc (f->data, f->len);
}

static void
zero_scale (GByteArray *f, guint dim)
{
  set_f32 (f->data + off_scale (dim), 0.0f);
  fix_crc (f->data, f->len);
}

static void
negative_scale (GByteArray *f, guint dim)
{
  set_f32 (f->data + off_scale (dim) + 4, -2.0f);
  fix_crc (f->data, f->len);
}

static void
flipped_weight (GByteArray *f, guint dim)
{
  f->data[off_params (dim) + 5] ^= 0x10;
}

static void
trailing_bytes (GByteArray *f, guint dim)
{
  (void) dim;
  g_byte_array_append (f, (const guint8 *) "abc", 3);
}

static const BadCase bad_cases[] = {
  { "empty", cut_empty, PH_ERROR_FORMAT, "truncated at magic" },
  { "short-header", cut_short_header, PH_ERROR_FORMAT, "truncated at magic" },
  { "cut-version", cut_version, PH_ERROR_FORMAT, "truncated at version" },
  { "cut-features", cut_features, PH_ERROR_FORMAT, "truncated at features.num_mel_bins" },
  { "cut-shape", cut_shape, PH_ERROR_FORMAT, "truncated at shape.num_layers" },
  { "cut-phones", cut_phones, PH_ERROR_FORMAT, "truncated at phone name" },
  { "cut-mean", cut_mean, PH_ERROR_FORMAT, "truncated at mean" },
  { "cut-scale", cut_scale, PH_ERROR_FORMAT, "truncated at scale" },
  { "cut-n-params", cut_n_params, PH_ERROR_FORMAT, "truncated at n_params" },
  { "cut-params", cut_params, PH_ERROR_FORMAT, "truncated at params" },
  { "cut-checksum", cut_checksum, PH_ERROR_FORMAT, "truncated at checksum" },
  { "bad-magic", bad_magic, PH_ERROR_FORMAT, "bad magic" },
  { "bad-version", bad_version, PH_ERROR_VERSION, "version 3" },
  { "bad-header-size", bad_header_size, PH_ERROR_FORMAT, "header size" },
  { "bad-feature-config", bad_feature_config, PH_ERROR_FORMAT, "invalid feature config" },
  { "bad-shape", bad_shape, PH_ERROR_FORMAT, "invalid shape: num_layers" },
  { "bad-input-dim", bad_input_dim, PH_ERROR_FORMAT, "input_dim mismatch" },
  { "bad-phone-count", bad_phone_count, PH_ERROR_FORMAT, "phone set mismatch" },
  { "bad-phone-name", bad_phone_name, PH_ERROR_FORMAT, "phone 0 is \"iz\"" },
  { "bad-n-params", bad_n_params, PH_ERROR_FORMAT, "n_params" },
  { "nan-weight", nan_weight, PH_ERROR_FORMAT, "non-finite value in weights" },
  { "inf-mean", inf_mean, PH_ERROR_FORMAT, "non-finite value in mean" },
  { "nan-scale", nan_scale, PH_ERROR_FORMAT, "non-finite value in scale" },
  { "zero-scale", zero_scale, PH_ERROR_FORMAT, "scale[0]" },
  { "negative-scale", negative_scale, PH_ERROR_FORMAT, "scale[1]" },
  { "flipped-weight", flipped_weight, PH_ERROR_CHECKSUM, "checksum mismatch" },
  { "trailing-bytes", trailing_bytes, PH_ERROR_FORMAT, "3 trailing bytes" },
};

static void
test_bad_files (void)
{
  char *dir = make_tmp_dir ();
  PhModel *model = make_model (3, 1);
  GBytes *good = ph_model_to_bytes (model);
  guint dim = model->shape.input_dim;

  for (gsize i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      const BadCase *c = &bad_cases[i];
      GByteArray *f = g_byte_array_new ();
      g_byte_array_append (f, g_bytes_get_data (good, NULL), g_bytes_get_size (good));
      c->mutate (f, dim);

      char *file = g_strconcat (c->name, ".phm", NULL);
      char *path = g_build_filename (dir, file, NULL);
      GError *error = NULL;
      g_assert_true (g_file_set_contents (path, (const char *) f->data, f->len, NULL));
      PhModel *loaded = ph_model_load_file (path, &error);
      g_test_message ("%s: %s", c->name, error ? error->message : "(loaded)");
      g_assert_null (loaded);
      g_assert_error (error, PH_ERROR, c->code);
      g_assert_nonnull (strstr (error->message, path));
      g_assert_nonnull (strstr (error->message, c->expect));
      g_clear_error (&error);

      /* The same through load_bytes with a caller-chosen name. */
      GBytes *bytes = g_bytes_new (f->data, f->len);
      g_assert_null (ph_model_load_bytes (bytes, file, &error));
      g_assert_error (error, PH_ERROR, c->code);
      g_assert_nonnull (strstr (error->message, file));
      g_clear_error (&error);

      g_bytes_unref (bytes);
      g_free (path);
      g_free (file);
      g_byte_array_unref (f);
    }

  /* Every proper prefix of a good file is truncated somewhere. */
  gsize good_size;
  const guint8 *good_data = g_bytes_get_data (good, &good_size);
  for (gsize len = 0; len < good_size; len++)
    {
      GBytes *prefix = g_bytes_new (good_data, len);
      GError *local = NULL;
      g_assert_null (ph_model_load_bytes (prefix, "prefix.phm", &local));
      g_assert_error (local, PH_ERROR, PH_ERROR_FORMAT);
      g_assert_nonnull (strstr (local->message, "prefix.phm: truncated at "));
      g_clear_error (&local);
      g_bytes_unref (prefix);
    }

  /* A missing file is an I/O error naming it. */
  char *missing = g_build_filename (dir, "missing.phm", NULL);
  GError *error = NULL;
  g_assert_null (ph_model_load_file (missing, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  /* Saving into a directory that does not exist is an I/O error too. */
  char *nowhere = g_build_filename (dir, "no-such-dir", "model.phm", NULL);
  g_assert_false (ph_model_save_file (model, nowhere, &error));
  g_assert_error (error, PH_ERROR, PH_ERROR_IO);
  g_assert_nonnull (strstr (error->message, nowhere));
  g_clear_error (&error);

  g_free (nowhere);
  g_free (missing);
  g_bytes_unref (good);
  ph_model_unref (model);
  remove_tmp_dir (dir);
}

/* ---- fuzzing ---- */

/* One random mutation: flip bits, truncate, insert or delete bytes, or write a random
 * or extreme 32-bit value (most likely to hit a size field) at an aligned offset. */
static void
mutate_once (GByteArray *f, GRand *rand)
{
  guint len = f->len;
  switch (g_rand_int_range (rand, 0, 5))
    {
    case 0:
      if (len > 0)
        f->data[g_rand_int_range (rand, 0, len)] ^= (guint8) g_rand_int_range (rand, 1, 256);
      break;
    case 1:
      g_byte_array_set_size (f, g_rand_int_range (rand, 0, len + 1));
      break;
    case 2:
      {
        guint8 junk[16];
        guint n = g_rand_int_range (rand, 1, sizeof junk + 1);
        for (guint i = 0; i < n; i++)
          junk[i] = (guint8) g_rand_int (rand);
        guint at = g_rand_int_range (rand, 0, len + 1);
        g_byte_array_set_size (f, len + n);
        memmove (f->data + at + n, f->data + at, len - at);
        memcpy (f->data + at, junk, n);
        break;
      }
    case 3:
      if (len > 0)
        {
          guint at = g_rand_int_range (rand, 0, len);
          guint n = g_rand_int_range (rand, 1, 17);
          g_byte_array_remove_range (f, at, MIN (len - at, n));
        }
      break;
    default:
      if (len >= 4)
        {
          static const guint32 extremes[] = { 0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 61, 4096, 1024 };
          guint at = 4 * g_rand_int_range (rand, 0, len / 4);
          guint32 v = g_rand_boolean (rand) ? g_rand_int (rand)
            : extremes[g_rand_int_range (rand, 0, G_N_ELEMENTS (extremes))];
          set_u32 (f->data + at, v);
        }
      break;
    }
}

static void
fuzz (gboolean recompute_crc, guint32 seed, guint iterations)
{
  GBytes *good = model_bytes (2, 1);
  GRand *rand = g_rand_new_with_seed (seed);
  guint loaded = 0;

  for (guint it = 0; it < iterations; it++)
    {
      GByteArray *f = g_byte_array_new ();
      g_byte_array_append (f, g_bytes_get_data (good, NULL), g_bytes_get_size (good));
      guint n_mutations = g_rand_int_range (rand, 1, 4);
      for (guint m = 0; m < n_mutations; m++)
        mutate_once (f, rand);
      if (recompute_crc)
        fix_crc (f->data, f->len);

      /* An exact-size copy so a read past the end is a real overflow under ASan. */
      GBytes *bytes = g_bytes_new (f->data, f->len);
      GError *error = NULL;
      PhModel *model = ph_model_load_bytes (bytes, "fuzz.phm", &error);
      if (model != NULL)
        {
          g_assert_no_error (error);
          g_assert_true (ph_lstm_shape_validate (&model->shape, NULL));
          g_assert_cmpuint (model->n_params, ==, ph_lstm_param_count (&model->shape));
          loaded++;
          ph_model_unref (model);
        }
      else
        {
          g_assert_nonnull (error);
          g_assert_true (error->domain == PH_ERROR);
          g_assert_nonnull (strstr (error->message, "fuzz.phm"));
          g_error_free (error);
        }
      g_bytes_unref (bytes);
      g_byte_array_unref (f);
    }
  g_test_message ("%u of %u mutated files loaded", loaded, iterations);
  g_rand_free (rand);
  g_bytes_unref (good);
}

static void
test_fuzz_raw (void)
{
  fuzz (FALSE, 1234, 3000);
}

static void
test_fuzz_recomputed_crc (void)
{
  fuzz (TRUE, 5678, 5000);
}

/* ---- limits: crafted files with a valid checksum ---- */

static void
append_u32 (GByteArray *f, guint32 v)
{
  guint8 b[4];
  set_u32 (b, v);
  g_byte_array_append (f, b, 4);
}

static void
append_f32 (GByteArray *f, float v)
{
  guint32 bits;
  memcpy (&bits, &v, 4);
  append_u32 (f, bits);
}

/* A complete version 1 file written field by field from the format document, whatever
 * the library would accept: zero mean, unit scale, zero weights, a valid checksum. */
static GByteArray *
craft_model_file (const PhFeatureConfig *c, const PhLstmShape *s)
{
  GByteArray *f = g_byte_array_new ();
  g_byte_array_append (f, (const guint8 *) "PHLSTM\0\n", 8);
  append_u32 (f, 1);
  append_u32 (f, HEADER_SIZE);
  const guint32 fields[] = { c->sample_rate, c->window_length, c->hop_length,
                             c->window_type };
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    append_u32 (f, fields[i]);
  append_f32 (f, c->preemphasis);
  append_u32 (f, c->num_mel_bins);
  append_f32 (f, c->low_freq);
  append_f32 (f, c->high_freq);
  append_u32 (f, c->num_ceps);
  append_f32 (f, c->cep_lifter);
  append_u32 (f, c->use_energy);
  append_u32 (f, c->delta_window);
  append_u32 (f, c->cmn_window);
  const guint32 shape[] = { s->input_dim, s->hidden_size, s->num_layers, s->output_dim,
                            s->delay };
  for (guint i = 0; i < G_N_ELEMENTS (shape); i++)
    append_u32 (f, shape[i]);
  append_u32 (f, PH_NUM_PHONES);
  for (gint p = 0; p < PH_NUM_PHONES; p++)
    {
      guint8 len = (guint8) strlen (ph_phone_name (p));
      g_byte_array_append (f, &len, 1);
      g_byte_array_append (f, (const guint8 *) ph_phone_name (p), len);
    }
  g_assert_cmpuint (f->len, ==, HEADER_SIZE);
  for (guint d = 0; d < s->input_dim; d++)
    append_f32 (f, 0.0f);
  for (guint d = 0; d < s->input_dim; d++)
    append_f32 (f, 1.0f);
  guint64 n = ph_lstm_param_count (s);
  append_u32 (f, (guint32) n);
  append_u32 (f, (guint32) (n >> 32));
  gsize params_at = f->len;
  g_byte_array_set_size (f, params_at + 4 * n + 4);
  memset (f->data + params_at, 0, 4 * n);
  fix_crc (f->data, f->len);
  return f;
}

/* The crafted file for `c` and a 1-layer network of `hidden` cells fails to load, with a
 * format error naming the file and `field`. */
static void
assert_crafted_model_refused (const PhFeatureConfig *c, guint hidden, const char *field)
{
  PhLstmShape s = { ph_feature_config_dim (c), hidden, 1, PH_NUM_PHONES, 0 };
  GByteArray *f = craft_model_file (c, &s);
  GBytes *bytes = g_byte_array_free_to_bytes (f);
  GError *error = NULL;
  PhModel *model = ph_model_load_bytes (bytes, "crafted.phm", &error);
  g_test_message ("%s: %s", field, error ? error->message : "(loaded)");
  g_assert_null (model);
  g_assert_error (error, PH_ERROR, PH_ERROR_FORMAT);
  g_assert_nonnull (strstr (error->message, "crafted.phm: "));
  g_assert_nonnull (strstr (error->message, field));
  g_clear_error (&error);
  g_bytes_unref (bytes);
}

/* Every size a model file sets is bounded by what a speech model needs (issue 17): the
 * crafted files below all loaded before, and the first made the labeller allocate 1 GB. */
static void
test_crafted_limits (void)
{
  PhFeatureConfig good, c;
  ph_feature_config_init (&good, 16000);

  /* The crafted file itself is sound: the default config loads. */
  PhLstmShape s = { ph_feature_config_dim (&good), 8, 1, PH_NUM_PHONES, 0 };
  GBytes *ok = g_byte_array_free_to_bytes (craft_model_file (&good, &s));
  GError *error = NULL;
  PhModel *model = ph_model_load_bytes (ok, "crafted.phm", &error);
  g_assert_no_error (error);
  ph_model_unref (model);
  g_bytes_unref (ok);

  c = good, c.window_length = 4096, c.num_mel_bins = 256, c.num_ceps = 255;
  c.cmn_window = 1000000;
  assert_crafted_model_refused (&c, 4, "window_length");
  c = good, c.window_length = 1600, c.num_mel_bins = 256, c.num_ceps = 255;
  assert_crafted_model_refused (&c, 4, "num_mel_bins");
  c = good, c.window_length = 1600, c.num_mel_bins = 128, c.num_ceps = 127;
  c.cmn_window = 1000000;
  assert_crafted_model_refused (&c, 4, "cmn_window");
  c = good, c.cmn_window = 3001; /* 30 s of 10 ms hops is 3000 frames */
  assert_crafted_model_refused (&c, 4, "cmn_window");
  c = good, c.window_length = 65536, c.hop_length = 1;
  assert_crafted_model_refused (&c, 4, "window_length");
  c = good, c.window_length = 1601; /* 100 ms at 16 kHz is 1600 samples */
  assert_crafted_model_refused (&c, 4, "window_length");
  c = good, c.hop_length = 15; /* 1 ms at 16 kHz is 16 samples */
  assert_crafted_model_refused (&c, 4, "hop_length");
  c = good, c.sample_rate = 768000, c.window_length = 19200, c.hop_length = 7680;
  assert_crafted_model_refused (&c, 4, "sample_rate");
  c = good;
  assert_crafted_model_refused (&c, 1025, "hidden_size");
  c = good, c.hop_length = 16; /* 1000 frames/s of 4.3 M parameters */
  assert_crafted_model_refused (&c, 1024, "multiply-adds per second");
}

static void
test_load_default (void)
{
  GError *error = NULL;
  PhModel *model = ph_model_load_default (&error);
  if (model == NULL)
    {
      /* Only a build without models/default.phm may fail, and only this way. */
      g_assert_error (error, PH_ERROR, PH_ERROR_UNSUPPORTED);
      g_clear_error (&error);
      return;
    }
  g_assert_no_error (error);
  g_assert_true (ph_lstm_shape_validate (&model->shape, NULL));
  ph_model_unref (model);
}

static float
float_from_bits (guint32 bits)
{
  float x;
  memcpy (&x, &bits, sizeof x);
  return x;
}

static guint32
bits_of (float x)
{
  guint32 bits;
  memcpy (&bits, &x, sizeof bits);
  return bits;
}

/* The two bfloat16 values around finite x (toward zero and away from it) and whether x
 * is nearer the one away from zero, ties going to the even one: what rounding to the
 * nearest bfloat16 must give, worked out in doubles. */
static float
nearest_bf16 (float x)
{
  float toward = float_from_bits (bits_of (x) & 0xffff0000u);
  float away = float_from_bits ((bits_of (x) & 0xffff0000u) + 0x10000u);
  double d_toward = fabs ((double) x - toward), d_away = fabs ((double) x - away);

  if (!isfinite (away))
    return toward;
  if (d_away < d_toward || (d_away == d_toward && (bits_of (away) & 0x10000u) == 0))
    return away;
  return toward;
}

/* ph_model_round_recurrent_to_bf16 rounds every w_h weight to the nearest bfloat16
 * (hand-worked cases, then every random weight against nearest_bf16) and leaves every
 * other parameter as it was; ph_model_recurrent_is_bf16 tells before from after. */
static void
test_round_recurrent_bf16 (void)
{
  PhModel *model = make_model (9, 2);
  PhModel *before = ph_model_copy (model);
  float *w_h = model->params.layer[0].w_h;
  const struct { float x, rounded; } cases[] = {
    { 1.0f, 1.0f },
    { 1.0f + 0x1p-8f, 1.0f },                              /* a tie: to even */
    { 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-6f },                /* a tie: to even, upward */
    { 1.0f + 0x1p-8f + 0x1p-20f, 1.0f + 0x1p-7f },         /* just above half a step */
    { -(1.0f + 0x1p-8f + 0x1p-20f), -(1.0f + 0x1p-7f) },
    { 0.0f, 0.0f },
    { 0x1p-149f, 0.0f },                                   /* the smallest subnormal */
    { FLT_MAX, float_from_bits (0x7f7f0000u) },            /* stays finite */
    { -FLT_MAX, float_from_bits (0xff7f0000u) },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    before->params.layer[0].w_h[i] = w_h[i] = cases[i].x;
  g_assert_false (ph_model_recurrent_is_bf16 (model));
  ph_model_round_recurrent_to_bf16 (model);
  g_assert_true (ph_model_recurrent_is_bf16 (model));
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_assert_cmphex (bits_of (w_h[i]), ==, bits_of (cases[i].rounded));

  gsize n_w_h = 4 * 9 * 9;
  for (guint l = 0; l < 2; l++)
    for (gsize i = 0; i < n_w_h; i++)
      g_assert_cmphex (bits_of (model->params.layer[l].w_h[i]), ==,
                       bits_of (nearest_bf16 (before->params.layer[l].w_h[i])));
  /* Everything else is untouched: compare the flat block with w_h put back. */
  for (guint l = 0; l < 2; l++)
    memcpy (model->params.layer[l].w_h, before->params.layer[l].w_h, n_w_h * sizeof (float));
  g_assert_cmpmem (model->flat, model->n_params * sizeof (float), before->flat,
                   before->n_params * sizeof (float));
  ph_model_unref (before);
  ph_model_unref (model);
}

/* The bound ph_model.h states: rounding moves a normal weight by at most 2^-8 of itself
 * (half a step of 8 significant bits), and 2^-9 is not a bound: over random weights of
 * every magnitude, checked against nearest_bf16, the worst move comes within 5% of 2^-8
 * and more than a fifth of the weights move by more than 2^-9. */
static void
test_round_recurrent_bf16_bound (void)
{
  PhModel *model = make_model (64, 1);
  float *w_h = model->params.layer[0].w_h;
  gsize n = 4 * 64 * 64, over_2_9 = 0;
  g_autofree float *before = g_new (float, n);
  GRand *rand = g_rand_new_with_seed (7);
  double worst = 0.0;

  for (gsize i = 0; i < n; i++)
    before[i] = w_h[i] = (float) ldexp (g_rand_double_range (rand, -1.0, 1.0),
                                        g_rand_int_range (rand, -100, 100));
  ph_model_round_recurrent_to_bf16 (model);
  for (gsize i = 0; i < n; i++)
    {
      double move = fabs ((double) w_h[i] - before[i]) / fabs (before[i]);
      g_assert_cmphex (bits_of (w_h[i]), ==, bits_of (nearest_bf16 (before[i])));
      g_assert_cmpfloat (move, <=, 0x1p-8);
      worst = MAX (worst, move);
      over_2_9 += move > 0x1p-9;
    }
  g_test_message ("worst move 2^%.3f of the weight, %.1f%% over 2^-9", log2 (worst),
                  100.0 * over_2_9 / n);
  g_assert_cmpfloat (worst, >, 0x1p-8 * 0.95);
  g_assert_cmpuint (over_2_9, >, n / 5);
  g_rand_free (rand);
  ph_model_unref (model);
}

/* ---- version 2: the phone LM ---- */

static PhPhoneLm *
two_sentence_lm (void)
{
  PhPhoneLmBuilder *builder = ph_phone_lm_builder_new (PH_PHONE_LM_CLASSES_40);
  gint a[] = { ph_phone_index ("s"), ph_phone_index ("iy") };
  gint b[] = { ph_phone_index ("bcl"), ph_phone_index ("b"), ph_phone_index ("ae") };

  ph_phone_lm_builder_add (builder, a, G_N_ELEMENTS (a));
  ph_phone_lm_builder_add (builder, b, G_N_ELEMENTS (b));
  PhPhoneLm *lm = ph_phone_lm_builder_estimate (builder);
  ph_phone_lm_builder_free (builder);
  return lm;
}

/* Byte offset of the LM section in a version 2 image of `size` bytes with K classes. */
static gsize
lm_section_offset (gsize size, guint K)
{
  return size - 4 - 4 * (K + K * K) - PH_NUM_PHONES - 4 - 8;
}

/* Version 2 keeps the LM bit for bit; without an LM a model is still written as
 * version 1; a damaged LM section (checksum made right) is refused naming the field. */
static void
test_lm_section (void)
{
  PhModel *model = make_model (8, 1);
  PhPhoneLm *lm = two_sentence_lm ();
  g_autoptr (GError) error = NULL;
  gsize size;

  ph_model_set_lm (model, lm);
  GBytes *bytes = ph_model_to_bytes (model);
  const guint8 *data = g_bytes_get_data (bytes, &size);
  g_assert_cmpuint (get_u32 (data + OFF_VERSION), ==, 2);
  g_assert_cmpmem (data + lm_section_offset (size, 40), 8, "PHONELM\n", 8);
  PhModel *loaded = ph_model_load_bytes (bytes, "v2.phm", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->lm->n_classes, ==, 40);
  g_assert_cmpmem (loaded->lm->class_of_phone, PH_NUM_PHONES, lm->class_of_phone,
                   PH_NUM_PHONES);
  g_assert_cmpmem (loaded->lm->log_start, 40 * sizeof (float), lm->log_start,
                   40 * sizeof (float));
  g_assert_cmpmem (loaded->lm->log_bigram, 1600 * sizeof (float), lm->log_bigram,
                   1600 * sizeof (float));

  /* damaged sections: class count, class map, a value */
  struct { gsize at; guint8 byte; const char *expected; } damage[] = {
    { 8, 99, "classes" },
    { 12 + 5, 77, "maps phone" },
    { 12 + PH_NUM_PHONES + 3, 0x7f, "start[0]" },
    { 0, 'X', "magic" },
  };
  for (guint i = 0; i < G_N_ELEMENTS (damage); i++) {
    guint8 *copy = g_memdup2 (data, size);
    copy[lm_section_offset (size, 40) + damage[i].at] = damage[i].byte;
    if (damage[i].at == 12 + PH_NUM_PHONES + 3)
      copy[lm_section_offset (size, 40) + damage[i].at - 1] = 0xc0; /* 0x7fc0....: NaN */
    fix_crc (copy, size);
    GBytes *bad = g_bytes_new_take (copy, size);
    g_assert_null (ph_model_load_bytes (bad, "bad.phm", &error));
    g_assert_nonnull (strstr (error->message, "bad.phm"));
    g_assert_nonnull (strstr (error->message, damage[i].expected));
    g_clear_error (&error);
    g_bytes_unref (bad);
  }
  /* truncated inside the LM */
  GBytes *cut = g_bytes_new (data, lm_section_offset (size, 40) + 20);
  g_assert_null (ph_model_load_bytes (cut, "cut.phm", &error));
  g_assert_nonnull (strstr (error->message, "truncated at phone LM"));
  g_clear_error (&error);
  g_bytes_unref (cut);

  ph_model_set_lm (loaded, NULL);
  GBytes *v1 = ph_model_to_bytes (loaded);
  g_assert_cmpuint (get_u32 (g_bytes_get_data (v1, NULL) + OFF_VERSION), ==, 1);
  PhModel *copy = ph_model_copy (model);
  g_assert_nonnull (copy->lm);
  ph_model_unref (copy);
  g_bytes_unref (v1);
  g_bytes_unref (bytes);
  ph_phone_lm_free (lm);
  ph_model_unref (loaded);
  ph_model_unref (model);
}

/* Models that differ in weights only have the same layout; another hidden size, or
 * other features, do not. */
static void
test_same_layout (void)
{
  PhModel *a = make_model (4, 2), *b = ph_model_copy (a), *c = make_model (5, 2);

  b->flat[0] += 1.0f;
  g_assert_true (ph_model_same_layout (a, b));
  g_assert_false (ph_model_same_layout (a, c));
  b->features.num_mel_bins += 1;
  g_assert_false (ph_model_same_layout (a, b));
  ph_model_unref (a);
  ph_model_unref (b);
  ph_model_unref (c);
}

/* The one rounding rule: exact floor of value * num / denom, also past 64-bit products. */
static void
test_time_rounding (void)
{
  g_assert_cmpuint (ph_frame_to_ns (3, 160, 16000), ==, 30 * G_GUINT64_CONSTANT (1000000));
  g_assert_cmpuint (ph_samples_to_ns (1, 44100), ==, 22675);
  g_assert_cmpuint (ph_scale_round_down (G_MAXUINT64 / 3, 3, 4),
                    ==, G_MAXUINT64 / 4);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/model/round-recurrent-bf16", test_round_recurrent_bf16);
  g_test_add_func ("/model/round-recurrent-bf16-bound", test_round_recurrent_bf16_bound);
  g_test_add_func ("/model/param-count", test_param_count);
  g_test_add_func ("/model/params-bind", test_params_bind);
  g_test_add_func ("/model/shape-validate", test_shape_validate);
  g_test_add_func ("/model/new", test_new);
  g_test_add_func ("/model/init-random", test_init_random);
  g_test_add_func ("/model/ref-copy", test_ref_copy);
  g_test_add_func ("/model/normalisation", test_normalisation);
  g_test_add_func ("/model/round-trip", test_round_trip);
  g_test_add_func ("/model/byte-layout", test_byte_layout);
  g_test_add_func ("/model/bad-files", test_bad_files);
  g_test_add_func ("/model/fuzz-raw", test_fuzz_raw);
  g_test_add_func ("/model/fuzz-recomputed-crc", test_fuzz_recomputed_crc);
  g_test_add_func ("/model/load-default", test_load_default);
  g_test_add_func ("/model/lm-section", test_lm_section);
  g_test_add_func ("/model/crafted-limits", test_crafted_limits);
  g_test_add_func ("/model/same-layout", test_same_layout);
  g_test_add_func ("/model/time-rounding", test_time_rounding);
  return g_test_run ();
}
