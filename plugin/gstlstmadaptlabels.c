/* gstlstmadaptlabels.c: lstmadapt's `labels` request pad. Its chain and event
 * functions run on the labels' own streaming thread; the pad's fields belong to it. */
#include "gstlstmadaptlabels.h"

#include "ph_error.h"

GST_DEBUG_CATEGORY_EXTERN (gst_lstm_adapt_debug);
#define GST_CAT_DEFAULT gst_lstm_adapt_debug

struct _GstLstmAdaptLabelsPad {
  GstPad parent;

  PhAdapter *adapter;
  GstSegment segment;
  guint64 bad_lines;
  gboolean warned_overlap;
};

G_DEFINE_TYPE (GstLstmAdaptLabelsPad, gst_lstm_adapt_labels_pad, GST_TYPE_PAD);

/* Warns (once, then logs) about a bad line, its bytes escaped (ph_error_quote): the
 * pad's data need not be UTF-8 nor printable. */
static void
warn_bad_line (GstLstmAdaptLabelsPad *self, GstObject *element, const gchar *raw_line)
{
  gchar *line = ph_error_quote (raw_line);

  if (self->bad_lines++ == 0)
    GST_ELEMENT_WARNING (element, STREAM, DECODE,
        ("Bad line on the labels pad: \"%s\"; expected \"START END PHONE\" with times in "
         "seconds of stream time, START < END, and a TIMIT or ARPAbet phone. Bad lines "
         "are skipped", line), (NULL));
  else
    GST_WARNING_OBJECT (element, "bad label line skipped: \"%s\"", line);
  g_free (line);
}

/* The labels cover stream time up to `position` (in the pad's segment). */
static void
advance (GstLstmAdaptLabelsPad *self, GstClockTime position)
{
  GstClockTime time;

  if (!GST_CLOCK_TIME_IS_VALID (position) || self->segment.format != GST_FORMAT_TIME)
    return;
  time = gst_segment_to_stream_time (&self->segment, GST_FORMAT_TIME, position);
  if (GST_CLOCK_TIME_IS_VALID (time))
    ph_adapter_advance_timed_labels (self->adapter, time);
}

/* Hands the labels of `map` to the adapter, warning about bad lines and overlaps. */
static void
take_labels (GstLstmAdaptLabelsPad *self, GstObject *element, const GstMapInfo *map)
{
  gboolean overlap = FALSE;
  GPtrArray *bad = ph_adapter_add_label_text (self->adapter, (const gchar *) map->data,
                                              map->size, &overlap);

  for (guint i = 0; i < bad->len; i++)
    warn_bad_line (self, element, g_ptr_array_index (bad, i));
  g_ptr_array_unref (bad);
  if (overlap && !self->warned_overlap)
    GST_WARNING_OBJECT (element, "labels overlap: where they do, the later one is used");
  self->warned_overlap |= overlap;
}

static GstFlowReturn
labels_chain (GstPad *pad, GstObject *parent, GstBuffer *buffer)
{
  GstLstmAdaptLabelsPad *self = GST_LSTM_ADAPT_LABELS_PAD (pad);
  GstMapInfo map;

  if (gst_buffer_map (buffer, &map, GST_MAP_READ)) {
    take_labels (self, parent, &map);
    gst_buffer_unmap (buffer, &map);
  }
  if (GST_BUFFER_PTS_IS_VALID (buffer))
    advance (self, GST_BUFFER_PTS (buffer) +
        (GST_BUFFER_DURATION_IS_VALID (buffer) ? GST_BUFFER_DURATION (buffer) : 0));
  gst_buffer_unref (buffer);
  return GST_FLOW_OK;
}

static gboolean
labels_event (GstPad *pad, GstObject *parent, GstEvent *event)
{
  GstLstmAdaptLabelsPad *self = GST_LSTM_ADAPT_LABELS_PAD (pad);
  GstClockTime ts, duration;

  (void) parent;
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:
      gst_event_copy_segment (event, &self->segment);
      break;
    case GST_EVENT_GAP:
      gst_event_parse_gap (event, &ts, &duration);
      if (GST_CLOCK_TIME_IS_VALID (ts))
        advance (self, ts + (GST_CLOCK_TIME_IS_VALID (duration) ? duration : 0));
      break;
    case GST_EVENT_EOS:
      ph_adapter_end_timed_labels (self->adapter, TRUE);
      break;
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_STREAM_START:
      ph_adapter_end_timed_labels (self->adapter, FALSE);
      gst_segment_init (&self->segment, GST_FORMAT_TIME);
      break;
    default:
      break;
  }
  gst_event_unref (event);   /* the labels stop here */
  return TRUE;
}

GstPad *
gst_lstm_adapt_labels_pad_new (GstPadTemplate *templ, PhAdapter *adapter)
{
  GstLstmAdaptLabelsPad *self = g_object_new (GST_TYPE_LSTM_ADAPT_LABELS_PAD,
      "name", "labels", "direction", GST_PAD_SINK, "template", templ, NULL);

  self->adapter = adapter;
  gst_pad_set_chain_function (GST_PAD (self), GST_DEBUG_FUNCPTR (labels_chain));
  gst_pad_set_event_function (GST_PAD (self), GST_DEBUG_FUNCPTR (labels_event));
  return GST_PAD (self);
}

static void
gst_lstm_adapt_labels_pad_class_init (GstLstmAdaptLabelsPadClass *klass)
{
  (void) klass;
}

static void
gst_lstm_adapt_labels_pad_init (GstLstmAdaptLabelsPad *self)
{
  gst_segment_init (&self->segment, GST_FORMAT_TIME);
}
