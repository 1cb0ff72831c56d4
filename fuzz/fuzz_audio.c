/* fuzz_audio.c: the WAV and NIST SPHERE readers on any bytes; audio that decodes is
 * resampled to 16 kHz (bounded: seed files are short). */
#include "fuzz.h"
#include "phonemes.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  PhAudio audio;
  GError *error = NULL;

  if (ph_audio_parse (data, size, "fuzz.wav", &audio, &error))
    {
      if (audio.n_samples <= 1000000)
        ph_audio_resample (&audio, 16000);
      ph_audio_clear (&audio);
    }
  g_clear_error (&error);
  return 0;
}
