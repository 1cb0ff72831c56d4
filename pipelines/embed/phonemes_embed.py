#!/usr/bin/python3
"""How a Python application uses the lstmphonemes element, with nothing but PyGObject
(python3-gi, gir1.2-gstreamer-1.0): the "phoneme" bus messages and the GstPhonemeMeta on
the buffers. The same program as phonemes-embed.c, line for line the same output:

  phonemes_embed.py AUDIO [MODEL]

  phoneme START END PHONE PHONE39 CONFIDENCE   a phone segment, times in seconds
  meta N FIRST LAST PHONES...                  the N 10 ms frames a buffer carries

Plain PyGObject cannot s.get_value() a GstValueArray field (gst-python's overrides can);
s.get_array() works everywhere. The GBytes fields come as GLib.Bytes.
"""
import sys
import threading
import warnings

import gi

gi.require_version("Gst", "1.0")
from gi.repository import Gst  # noqa: E402

NUM_PHONES = 61
PRINT_LOCK = threading.Lock()   # the streaming thread and the main thread both print


def say(line):
    with PRINT_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def array_field(structure, name):
    """A GstValueArray field as a list, or None."""
    ok, array = structure.get_array(name)
    if not ok:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # GValueArray is deprecated
        return [array.get_nth(i) for i in range(array.n_values)]


def meta_line(s):
    """The printed line of one phoneme meta; ValueError when fields are missing."""
    ok, n = s.get_uint("n-frames")
    timestamps, phones = array_field(s, "timestamps"), array_field(s, "phones")
    posteriors = s.get_value("posteriors") if s.has_field("posteriors") else None
    if (not ok or n == 0 or timestamps is None or phones is None or
            len(timestamps) != n or len(phones) != n or posteriors is None or
            len(posteriors.get_data()) != n * NUM_PHONES * 4):
        raise ValueError("a phoneme meta lacked documented fields: " + s.to_string())
    return "meta %d %.3f %.3f %s" % (n, timestamps[0] / 1e9, timestamps[-1] / 1e9,
                                     " ".join(phones))


def phoneme_line(s):
    start, duration = s.get_value("timestamp"), s.get_value("duration")
    return "phoneme %.3f %.3f %s %s %.4f" % (start / 1e9, (start + duration) / 1e9,
                                             s.get_value("phone"), s.get_value("phone39"),
                                             s.get_value("confidence"))


def build_pipeline(audio, model, counts):
    pipeline = Gst.parse_launch("filesrc name=source ! decodebin ! audioconvert ! "
                                "audioresample ! lstmphonemes name=labeller ! "
                                "fakesink name=sink")
    pipeline.get_by_name("source").set_property("location", audio)
    if model:
        pipeline.get_by_name("labeller").set_property("model", model)

    def on_buffer(_pad, info):   # streaming thread
        meta = info.get_buffer().get_custom_meta("GstPhonemeMeta")
        if meta is not None:
            s = meta.get_structure()
            try:
                say(meta_line(s))
                counts["metas"] += 1
                counts["frames"] += s.get_value("n-frames")
            except ValueError as error:
                counts["bad"] = str(error)
        return Gst.PadProbeReturn.OK

    sink_pad = pipeline.get_by_name("sink").get_static_pad("sink")
    sink_pad.add_probe(Gst.PadProbeType.BUFFER, on_buffer)
    return pipeline


def run(pipeline):
    """Runs to EOS or error, printing the phoneme messages; the exit status."""
    bus = pipeline.get_bus()
    phonemes, status = 0, None
    if pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
        print("the pipeline does not start", file=sys.stderr)
    while status is None:
        message = bus.timed_pop_filtered(Gst.CLOCK_TIME_NONE, Gst.MessageType.ELEMENT |
                                         Gst.MessageType.EOS | Gst.MessageType.ERROR)
        if message.type == Gst.MessageType.ELEMENT:
            s = message.get_structure()
            if s.get_name() == "phoneme":
                say(phoneme_line(s))
                phonemes += 1
        elif message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            print("error from %s: %s\n%s" % (message.src.get_name(), error.message,
                                             debug or ""), file=sys.stderr)
            status = 1
        else:
            status = 0
    pipeline.set_state(Gst.State.NULL)
    say("%d phoneme messages" % phonemes)
    return status


def main(argv):
    Gst.init(None)
    if len(argv) not in (1, 2):
        print("usage: phonemes_embed.py AUDIO [MODEL]", file=sys.stderr)
        return 2
    if Gst.ElementFactory.find("lstmphonemes") is None:
        print("cannot build the pipeline: no element \"lstmphonemes\" (is the phonemes "
              "plugin installed or on GST_PLUGIN_PATH?)", file=sys.stderr)
        return 1
    counts = {"metas": 0, "frames": 0, "bad": None}
    status = run(build_pipeline(argv[0], argv[1] if len(argv) > 1 else None, counts))
    say("%d metas, %d frames" % (counts["metas"], counts["frames"]))
    if counts["bad"]:
        print(counts["bad"], file=sys.stderr)
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
