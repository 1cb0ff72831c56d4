/* gstlstmadapt.h: the lstmadapt element. Audio passes through unchanged; from the
 * phoneme meta that lstmphonemes attaches, it trains a copy of that element's model
 * online with truncated BPTT(k1, k2) on a thread of its own, and publishes the
 * updated weights back to it. The engine is core/ph_adapter.h; the element, and the
 * threads and locks of both, are described in gstlstmadapt.c and docs/architecture.md. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* Where the training targets come from. */
typedef enum {
  GST_LSTM_ADAPT_MODE_SUPERVISED = 0, /* labels-location (.PHN) or the labels pad */
  GST_LSTM_ADAPT_MODE_PROMPTED = 1,   /* forced alignment against prompt-text */
  GST_LSTM_ADAPT_MODE_SELF = 2,       /* the model's own confident frames */
} GstLstmAdaptMode;

#define GST_TYPE_LSTM_ADAPT_MODE (gst_lstm_adapt_mode_get_type ())
GType gst_lstm_adapt_mode_get_type (void);

/* PhSchedule and PhOptimizerKind as GEnums, for the `schedule` / `optimizer`
 * properties. */
#define GST_TYPE_LSTM_ADAPT_SCHEDULE (gst_lstm_adapt_schedule_get_type ())
GType gst_lstm_adapt_schedule_get_type (void);
#define GST_TYPE_LSTM_ADAPT_OPTIMIZER (gst_lstm_adapt_optimizer_get_type ())
GType gst_lstm_adapt_optimizer_get_type (void);

#define GST_TYPE_LSTM_ADAPT (gst_lstm_adapt_get_type ())
G_DECLARE_FINAL_TYPE (GstLstmAdapt, gst_lstm_adapt, GST, LSTM_ADAPT, GstElement)

/* Caps of the `labels` request pad: UTF-8 text, one label per line
 * "START END PHONE": START and END in seconds of stream time of the audio (the
 * stream time of the audio pad's segment), PHONE a TIMIT-61 or ARPAbet symbol.
 * Any number of lines per buffer. */
#define GST_LSTM_ADAPT_LABELS_CAPS "text/x-phone-labels"

G_END_DECLS
