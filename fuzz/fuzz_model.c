/* fuzz_model.c: the model loader (docs/model-format.md) on any bytes, once as given and
 * once with the trailing CRC-32 recomputed, so mutations reach the checks behind the
 * checksum; a model that loads labels 0.1 s of audio, so a file's sizes are proven to
 * give bounded work. */
#include "fuzz.h"
#include "phonemes.h"

#include <string.h>

/* IEEE CRC-32 (zlib's), bit by bit: independent of the library's table. */
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

static void
label_briefly (PhModel *model)
{
  GError *error = NULL;
  PhLabeller *labeller = ph_labeller_new (model, 3, &error);
  if (labeller == NULL)
    {
      g_clear_error (&error);
      return;
    }
  gsize n = model->features.sample_rate / 10;
  float *samples = g_new0 (float, n);
  for (gsize i = 0; i < n; i++)
    samples[i] = (float) ((i * 7919) % 2001) / 1000.0f - 1.0f;
  ph_labeller_push_f32 (labeller, samples, n, NULL, NULL);
  ph_labeller_flush (labeller, NULL, NULL);
  g_free (samples);
  ph_labeller_free (labeller);
}

static void
load (const guint8 *data, gsize size)
{
  GBytes *bytes = g_bytes_new (data, size);
  GError *error = NULL;
  PhModel *model = ph_model_load_bytes (bytes, "fuzz.phm", &error);
  if (model != NULL)
    {
      label_briefly (model);
      ph_model_unref (model);
    }
  g_clear_error (&error);
  g_bytes_unref (bytes);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  load (data, size);
  if (size >= 4)
    {
      guint8 *fixed = g_memdup2 (data, size);
      guint32 crc = GUINT32_TO_LE (crc32_bitwise (fixed, size - 4));
      memcpy (fixed + size - 4, &crc, 4);
      load (fixed, size);
      g_free (fixed);
    }
  return 0;
}
