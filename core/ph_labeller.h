/* ph_labeller.h: audio in, labelled frames and smoothed phone segments out. The one
 * labelling path shared by the lstmphonemes element and `phonemes label`, so both give
 * the same segments for the same audio and model.
 *
 * Frame i covers samples [i*hop, (i+1)*hop) since the last reset. Segments tile the
 * stream: each starts where the previous one ended, the first at frame 0, the last
 * ends at the last frame. Smoothing: the segment's phone changes only when another
 * phone has been the frame argmax for `min_segment_frames` consecutive frames; the new
 * segment then starts at the first frame of that streak.
 *
 * With a model that carries a phone LM, segments can come from the decoder instead
 * (ph_decoder.h: fixed-lag Viterbi with the LM, min_segment_frames as the minimum
 * duration); the frames, their posteriors and their argmax are the same either way. */
#pragma once

#include "ph_lstm.h"
#include "ph_decoder.h"

G_BEGIN_DECLS

/* Smoothing shared by the element's default and the CLI's, so both give the same
 * segments out of the box; the largest value any of them accepts. */
#define PH_DEFAULT_MIN_SEGMENT_FRAMES 3
#define PH_MAX_MIN_SEGMENT_FRAMES 100

typedef struct {
  guint64 index;            /* frame number since the last reset */
  gint phone;               /* argmax of the posteriors (TIMIT-61 index) */
  float confidence;         /* posteriors[phone] */
  const float *posteriors;  /* [PH_NUM_PHONES], valid during the callback */
  const float *features;    /* raw features of this frame [dim], valid during the callback */
  guint dim;
} PhFrame;

typedef struct {
  guint64 start_frame;
  guint64 n_frames;
  gint phone;               /* TIMIT-61 index */
  float confidence;         /* mean of posteriors[phone] over the segment's frames */
} PhSegment;

typedef struct {
  void (*frame) (const PhFrame *frame, gpointer user_data);       /* may be NULL */
  void (*segment) (const PhSegment *segment, gpointer user_data); /* may be NULL */
} PhLabellerCallbacks;

typedef struct _PhLabeller PhLabeller;

/* A labeller running `model` (a reference is taken). min_segment_frames >= 1. */
PhLabeller *ph_labeller_new (PhModel *model, guint min_segment_frames, GError **error);
void ph_labeller_free (PhLabeller *labeller);

/* The model in use (borrowed). */
PhModel *ph_labeller_model (const PhLabeller *labeller);

/* Switches to `model` (reference taken). A model with the same features and shape keeps
 * the stream going (weights swap between frames); another one resets the labeller,
 * dropping pending frames. */
void ph_labeller_set_model (PhLabeller *labeller, PhModel *model);

void ph_labeller_set_min_segment_frames (PhLabeller *labeller, guint min_segment_frames);

/* Reads the spectrum through a filterbank warped by `warp` (ph_features_set_vtlp_warp;
 * 1 = the plain filterbank, the default), from the next frame on, and for a model
 * switched to later. A measurement hook for per-speaker normalisation (bench/real); the
 * element does not set it. FALSE + GError outside PH_VTLP_MIN_WARP..PH_VTLP_MAX_WARP
 * (nothing changes then). */
gboolean ph_labeller_set_vtlp_warp (PhLabeller *labeller, double warp, GError **error);

/* How frames become segments. */
typedef enum {
  PH_SEGMENTER_AUTO,    /* the decoder when the model has a phone LM, else greedy */
  PH_SEGMENTER_GREEDY,  /* argmax with min_segment_frames smoothing */
  PH_SEGMENTER_DECODER, /* the phone-LM decoder; needs a model with a phone LM */
} PhSegmenter;

/* Chooses the segmenter and the decoder's settings (config->min_duration is ignored:
 * the labeller's min_segment_frames is the decoder's minimum duration). A change takes
 * effect at the next frame: what the old segmenter holds is emitted first, so segments
 * still tile the stream. FALSE + GError on an invalid config, or for
 * PH_SEGMENTER_DECODER with a model that has no phone LM (nothing changes then). A
 * model switched to later without an LM falls back to greedy under AUTO and DECODER. */
gboolean ph_labeller_set_segmenter (PhLabeller *labeller, PhSegmenter segmenter,
                                    const PhDecoderConfig *config, GError **error);

/* TRUE when segments currently come from the decoder. */
gboolean ph_labeller_uses_decoder (const PhLabeller *labeller);

/* Pushes samples; calls back for every frame and segment completed. */
void ph_labeller_push_s16 (PhLabeller *labeller, const gint16 *samples, gsize n,
                           const PhLabellerCallbacks *callbacks, gpointer user_data);
void ph_labeller_push_f32 (PhLabeller *labeller, const float *samples, gsize n,
                           const PhLabellerCallbacks *callbacks, gpointer user_data);

/* End of stream: emits every held-back frame (feature look-ahead, output delay) and
 * the last segment, then resets for a new stream. */
void ph_labeller_flush (PhLabeller *labeller, const PhLabellerCallbacks *callbacks,
                        gpointer user_data);

/* Drops everything pending and starts a new stream at frame 0, state zeroed. */
void ph_labeller_reset (PhLabeller *labeller);

/* Samples from the end of frame i's span until frame i is emitted: the feature
 * look-ahead plus the output delay. */
guint64 ph_labeller_latency_samples (const PhLabeller *labeller);

/* Samples from the end of a segment until it is reported at the latest: the frame
 * latency plus the min_segment_frames of the next segment that must be seen before it
 * closes (greedy), or the decoder's max_lag + 1 frames. */
guint64 ph_labeller_segment_latency_samples (const PhLabeller *labeller);

/* Samples pushed since the last reset. */
guint64 ph_labeller_samples_seen (const PhLabeller *labeller);

G_END_DECLS
