/* gstlstmadaptlabels.h: the `labels` request pad of lstmadapt, a pad with a streaming
 * thread and a segment of its own: it parses the timed labels it receives
 * (GST_LSTM_ADAPT_LABELS_CAPS) and hands them to the element's adapter, telling it how
 * far in stream time the labels go, so that frames wait for their labels. */
#pragma once

#include <gst/gst.h>

#include "ph_adapter.h"

G_BEGIN_DECLS

#define GST_TYPE_LSTM_ADAPT_LABELS_PAD (gst_lstm_adapt_labels_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstLstmAdaptLabelsPad, gst_lstm_adapt_labels_pad, GST,
                      LSTM_ADAPT_LABELS_PAD, GstPad)

/* A labels pad from `templ` feeding `adapter` (borrowed: it outlives the pad). */
GstPad *gst_lstm_adapt_labels_pad_new (GstPadTemplate *templ, PhAdapter *adapter);

G_END_DECLS
