/* gstphonememeta.h: the phoneme buffer meta, a GstCustomMeta backed by a GstStructure
 * so that C and Python (PyGObject) read it without linking any phonemes library:
 *
 *   GstCustomMeta *meta = gst_buffer_get_custom_meta (buffer, "GstPhonemeMeta");
 *   GstStructure *s = gst_custom_meta_get_structure (meta);   (named "phoneme-meta")
 *
 * Python: s = buffer.get_custom_meta("GstPhonemeMeta").get_structure(). Plain PyGObject
 * cannot convert GstValueArray fields with s.get_value() (gst-python's overrides can);
 * ok, a = s.get_array("timestamps") works everywhere ([a.get_nth(i) for i in
 * range(a.n_values)]). The GBytes fields come as GLib.Bytes (.get_data()).
 *
 * Fields, one entry per 10 ms frame, in frame order:
 *   n-frames        guint          frames in this meta (>= 1)
 *   dim             guint          feature values per frame
 *   frame-duration  guint64        ns covered by one frame (hop / rate)
 *   timestamps      GstValueArray  of guint64: start of each frame, ns (buffer time base)
 *   phones          GstValueArray  of strings: TIMIT-61 symbol of the frame's argmax
 *   phone-index     GstValueArray  of gint: TIMIT-61 index (0..60) of the argmax
 *   confidence      GstValueArray  of gdouble: posterior of the argmax
 *   posteriors      GBytes         float32 little-endian, row-major n-frames x 61
 *   features        GBytes         float32 little-endian, row-major n-frames x dim
 *                                  (raw features, before the model's normalisation)
 *   run-starts      GstValueArray  of guint: the frames (indices into this meta) that
 *                                  begin a run, a stretch of continuous LSTM state: the
 *                                  state was zeroed before them (a stream start, a
 *                                  DISCONT with reset-on-discont, the reset action, a
 *                                  flush, a model of another layout); usually empty
 *
 * Which buffer carries a frame: lstmphonemes never holds audio back, and a frame exists
 * only once its look-ahead has arrived, so a frame rides on the buffer being processed
 * when it is computed (about the element's `latency` after the frame). `timestamps`
 * give each frame's true time. Frames still pending at EOS are only posted as messages.
 *
 * The meta has no tags: it describes time, not the samples' layout, so elements that
 * copy untagged metas (identity, queue, tee, audioconvert, ...) keep it.
 *
 * Applications in C read it typed with the installed header phonemes-meta.h
 * (gst_phoneme_meta_get_frames, _get_posteriors, _get_features). */
#pragma once

#include <gst/gst.h>

#include "phonemes-meta.h"   /* the names, and the typed API applications use */

G_BEGIN_DECLS

/* Frames a queue holds at most (60 s of 10 ms frames); more are dropped. */
#define GST_PHONEME_FRAME_QUEUE_MAX 6000

/* Registers the meta once per process; returns its info. Thread-safe. */
const GstMetaInfo *gst_phoneme_meta_get_info (void);

/* The phoneme meta of `buffer` (NULL when it has none), e.g. for tests. */
GstCustomMeta *gst_phoneme_meta_get (GstBuffer *buffer);

/* Frames waiting for a buffer to carry them. Owned by one thread; its storage grows
 * geometrically and is reused, so steady state does not allocate. */
typedef struct {
  guint n_frames;
  guint capacity;           /* frames the arrays below hold */
  guint dim;                /* feature values per frame of the queued frames */
  gsize features_capacity;  /* floats in `features` */
  GstClockTime frame_duration;
  guint64 *timestamps;
  gint *phones;
  float *confidence;
  float *posteriors;        /* capacity x 61 */
  float *features;          /* features_capacity floats */
  gboolean *run_starts;     /* capacity: the frame begins a run */
  gboolean dropped;         /* a frame was dropped: the next one begins a run */
} GstPhonemeFrameQueue;

void gst_phoneme_frame_queue_init (GstPhonemeFrameQueue *queue);

/* Frees the storage; the queue is empty and reusable after it. */
void gst_phoneme_frame_queue_clear (GstPhonemeFrameQueue *queue);

/* Forgets the queued frames, keeping the storage. */
void gst_phoneme_frame_queue_drop (GstPhonemeFrameQueue *queue);

/* One frame as the labeller emits it. */
typedef struct {
  GstClockTime timestamp, duration;
  gint phone;
  float confidence;
  const float *posteriors;  /* 61 */
  const float *features;    /* dim */
  guint dim;
  gboolean run_start;       /* the LSTM state was zeroed before this frame */
} GstPhonemeMetaFrame;

/* Queues one frame (copied). Frames of a different dim than the queued ones replace
 * them. FALSE when the queue is full; a frame lost either way makes the next one begin
 * a run, as its reader cannot carry state across it. */
gboolean gst_phoneme_frame_queue_push (GstPhonemeFrameQueue *queue,
                                       const GstPhonemeMetaFrame *frame);

/* Attaches the queued frames to `buffer` (writable) as one phoneme meta and empties
 * the queue. Does nothing and returns NULL when the queue is empty. */
GstCustomMeta *gst_phoneme_frame_queue_attach (GstPhonemeFrameQueue *queue,
                                               GstBuffer *buffer);

/* A phoneme meta's fields, checked against the layout above: borrowed from the
 * structure, valid while it lives. */
typedef struct {
  guint n_frames, dim;
  GstClockTime frame_duration;
  const GValue *timestamps, *phone_index, *confidence, *run_starts; /* run_starts may be NULL */
  const float *posteriors, *features;   /* little-endian hosts */
} GstPhonemeMetaView;

/* Reads the meta's structure `s` into `view`; FALSE when a field is missing or of the
 * wrong type or size. */
gboolean gst_phoneme_meta_view (const GstStructure *s, GstPhonemeMetaView *view);

/* Frame i of `view` (timestamp, phone, confidence, the rows, whether it begins a run). */
void gst_phoneme_meta_view_frame (const GstPhonemeMetaView *view, guint i,
                                  GstPhonemeMetaFrame *frame);

G_END_DECLS
