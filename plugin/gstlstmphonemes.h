/* gstlstmphonemes.h: the lstmphonemes element. Audio passes through unchanged; every
 * 10 ms frame is labelled with one of the 61 TIMIT phones by a stateful LSTM, posted as
 * "phoneme" / "phoneme-frame" element messages and attached as a GstPhonemeMeta. */
#pragma once

#include <gst/gst.h>
#include <gst/audio/gstaudiofilter.h>

#include "ph_labeller.h"
#include "gstphonememeta.h"

G_BEGIN_DECLS

#define GST_TYPE_LSTM_PHONEMES (gst_lstm_phonemes_get_type ())
G_DECLARE_FINAL_TYPE (GstLstmPhonemes, gst_lstm_phonemes, GST, LSTM_PHONEMES, GstAudioFilter)

/* What the streaming thread copies from the properties at each buffer boundary. */
typedef struct {
  gboolean post_messages;
  gboolean frame_messages;
  gboolean attach_meta;
  gboolean reset_on_discont;
  guint min_segment_frames;
  PhSegmenter decoder;        /* values of GST_TYPE_LSTM_PHONEMES_DECODER */
  gfloat lm_weight;
  gfloat insertion_penalty;
  guint max_lag;              /* frames */
  guint64 frame_interval;     /* ns between phoneme-frame messages, 0 = every frame */
} GstLstmPhonemesSettings;

/* The `decoder` property's enum: how frames become phone segments. */
#define GST_TYPE_LSTM_PHONEMES_DECODER (gst_lstm_phonemes_decoder_get_type ())
GType gst_lstm_phonemes_decoder_get_type (void);

struct _GstLstmPhonemes {
  GstAudioFilter parent;

  /* Under the object lock: properties and what other threads hand to the streaming
   * thread. */
  GstLstmPhonemesSettings settings;
  gchar *model_path;          /* NULL: the built-in default model */
  guint model_serial;         /* bumped on every `model` change */
  gchar *model_name;
  gboolean started;           /* between start() and stop() */
  PhModel *pending_model;     /* published, not yet in use */
  PhModel *current_model;     /* the model the streaming thread runs, for lstmadapt */
  guint wanted_rate;          /* rate of the model to use next, 0 before start */
  guint negotiated_rate;      /* rate of the current caps, 0 before caps */
  gboolean reset_requested;   /* the `reset` action signal was emitted */
  GstClockTime latency;       /* own latency, ns */
  gboolean report_latency;    /* add `latency` to latency queries */

  /* Streaming thread only. */
  PhLabeller *labeller;
  GstLstmPhonemesSettings active;
  GstAudioFormat format;
  guint rate;                 /* sample rate of the model in use */
  guint hop;                  /* samples per frame of the model in use */
  guint refused_rate;         /* rate of caps refused with an error, 0 = none */
  gboolean anchored;          /* `anchor` holds the time of frame 0 of this run */
  GstClockTime anchor;
  GstClockTime continue_at;   /* where a run started without DISCONT begins, or NONE */
  GstClockTime clip_end;      /* end of the audio while flushing, else NONE */
  GstPhonemeFrameQueue frames;
  /* frame-interval: the posteriors summed over the frames of the open interval. */
  double interval_sum[PH_NUM_PHONES];
  guint interval_frames;
  GstClockTime interval_start;
};

/* Hands `model` (a reference is taken; treat it as immutable from now on) to the
 * element: the streaming thread switches to it at its next buffer boundary, without
 * waiting for or blocking the caller. Thread-safe; the entry point for the lstmadapt
 * companion's weight snapshots. A model with another sample rate renegotiates caps. */
void gst_lstm_phonemes_publish_model (GstLstmPhonemes *self, PhModel *model);

/* The model the element runs or is about to run (the pending one when there is one),
 * with a new reference (treat it as immutable), or NULL before the element started.
 * `serial` (may be NULL) receives a number that changes whenever the `model`
 * property changes, so a companion can tell a user's new model from its own
 * publications. Thread-safe. */
PhModel *gst_lstm_phonemes_get_model (GstLstmPhonemes *self, guint *serial);

G_END_DECLS
