/* tool_audio.h: audio input of the `phonemes` subcommands, through GStreamer: every format
 * decodebin reads, "-" for standard input, converted and resampled by the very elements
 * that go in front of lstmphonemes (decodebin ! audioconvert ! audioresample), into the
 * caps the element accepts, so the command sees the samples the element sees. */
#pragma once

#include <glib.h>
#include "phonemes.h"

/* What is known of the source while it streams. */
typedef struct {
  guint source_rate;       /* the decoded audio's own sample rate (set before any samples) */
  guint64 source_samples;  /* samples (per channel) decoded at source_rate so far */
} ToolAudioSource;

/* One buffer of mono samples at the requested rate: `s16` or `f32` is set, as the
 * negotiation chose (S16LE or F32LE, as for lstmphonemes); valid during the call. */
typedef void (*ToolAudioFunc) (const gint16 *s16, const float *f32, gsize n,
                               gpointer user_data);

/* Decodes `path` ("-": standard input) to mono at `rate` Hz (0: the source's own rate)
 * and calls `func` for each buffer as it arrives: the whole file is never in memory.
 * `source` (may be NULL) is filled as the stream goes. FALSE with an error naming the
 * file when it cannot be opened or decoded. */
gboolean tool_audio_stream (const char *path, guint rate, ToolAudioFunc func, gpointer user_data,
                            ToolAudioSource *source, GError **error);

/* The whole of `path` ("-": standard input) as float samples at `rate` Hz (0: the
 * source's own rate), decoded by tool_audio_stream(); int16 audio is scaled by 1/32768
 * as the features scale it. `source` (may be NULL) gets the source's own rate and
 * length. Free with ph_audio_clear(). */
gboolean tool_audio_read (const char *path, guint rate, PhAudio *audio, ToolAudioSource *source,
                          GError **error);
