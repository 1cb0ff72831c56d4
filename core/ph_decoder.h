/* ph_decoder.h: a streaming fixed-lag Viterbi decoder from per-frame phone posteriors
 * to phone segments, with a phone bigram (ph_phone_lm.h), a minimum duration, an LM
 * weight and an insertion penalty.
 *
 * Search space: a segment is a run of frames of one LM class, at least `min_duration`
 * frames long; consecutive segments have different classes. A path's score is
 *
 *   sum over frames t of  log(sum of the posteriors of the class's phones at t)
 *   + sum over segments of  lm_weight * log P(class | previous class) - insertion_penalty
 *
 * (the first segment scores log P(first class)). The decoder keeps, for every state
 * (class, frames into the segment up to min_duration), the best path ending there.
 *
 * Streaming: a frame is final once the best paths of every state agree on it (their
 * tracebacks converge), or at the latest when `max_lag` newer frames have arrived, in
 * which case the best path decides it and the states that disagree with it are
 * dropped. A segment is emitted once the frame after it is final, so it is reported at
 * most max_lag + 1 frames after its end. With max_lag at least the stream's length,
 * the output is exactly the offline Viterbi path.
 *
 * A segment's phone is the member of its class with the largest posterior sum over the
 * segment's frames; its confidence is that phone's mean posterior there. */
#pragma once

#include <glib.h>
#include "ph_phone_lm.h"

G_BEGIN_DECLS

/* Chosen on real speech of unseen speakers (pocketsphinx-testdata, bench/real/run
 * --sweep): LM weights 0.5-3, penalties 0-4, lags 5-1000 frames; a lag of 20 frames
 * already gives the offline decode there. */
#define PH_DECODER_DEFAULT_LM_WEIGHT 1.0f
#define PH_DECODER_DEFAULT_INSERTION_PENALTY 2.0f
#define PH_DECODER_DEFAULT_MAX_LAG 20
#define PH_DECODER_MAX_LAG 1000
#define PH_DECODER_MAX_MIN_DURATION 100

typedef struct {
  float lm_weight;          /* >= 0 */
  float insertion_penalty;  /* >= 0, subtracted per segment (natural-log units) */
  guint max_lag;            /* frames, 1..PH_DECODER_MAX_LAG */
  guint min_duration;       /* frames per segment, 1..PH_DECODER_MAX_MIN_DURATION */
} PhDecoderConfig;

/* The defaults above, min_duration 3. */
void ph_decoder_config_init (PhDecoderConfig *config);

/* FALSE + GError naming the bad field. */
gboolean ph_decoder_config_validate (const PhDecoderConfig *config, GError **error);

/* One decoded segment; frames are counted from the decoder's last reset. */
typedef struct {
  guint64 start_frame;
  guint64 n_frames;
  gint phone;        /* TIMIT-61 index */
  float confidence;
} PhDecodedSegment;

typedef void (*PhDecoderSegmentFunc) (const PhDecodedSegment *segment, gpointer user_data);

typedef struct _PhDecoder PhDecoder;

/* A decoder over `lm` (copied). NULL + GError on an invalid config. */
PhDecoder *ph_decoder_new (const PhPhoneLm *lm, const PhDecoderConfig *config,
                           GError **error);
void ph_decoder_free (PhDecoder *decoder);

/* Decodes one frame's posteriors [PH_NUM_PHONES]; calls `func` for every segment that
 * became final. Non-finite or negative posteriors count as 0. */
void ph_decoder_push (PhDecoder *decoder, const float *posteriors,
                      PhDecoderSegmentFunc func, gpointer user_data);

/* End of stream: decides the frames still open along the best complete path and
 * emits the remaining segments, then resets. */
void ph_decoder_flush (PhDecoder *decoder, PhDecoderSegmentFunc func, gpointer user_data);

/* Forgets everything: the next frame is frame 0 of a new stream. */
void ph_decoder_reset (PhDecoder *decoder);

/* Frames pushed and not yet final (at most max_lag after a push). */
guint ph_decoder_pending_frames (const PhDecoder *decoder);

G_END_DECLS
