#!/usr/bin/python3
"""Labels a file (any format decodebin reads) or the microphone with lstmphonemes and
writes the phone segments the element posts on the bus ("phoneme" messages) as:

  timeline   start_s end_s phone phone39 confidence (default; as label-file.sh prints)
  phn        TIMIT .PHN: start_sample end_sample phone, at the file's sample rate
             (--rate HZ for another), rounded down; the segments tile the audio
  textgrid   Praat TextGrid (long text format), one interval tier "phones"
  jsonl      one JSON object per segment: start, end (s), phone, phone39, confidence,
             viseme
  audacity   start_s<TAB>end_s<TAB>phone: import in Audacity as a label track
  srt, vtt   SubRip or WebVTT subtitles: one cue per spoken phone with its confidence,
             or with --group word one cue per word-sized group (the phones between
             silences, at most 6); silences (h#, pau, epi) get no cue

The same formats, with the same numbers, as `phonemes label --format F` (tools/
label_formats.c): for a file, both print exactly the same.

  pipelines/phonemes-labels.py [--format F] [--group phone|word] [--output FILE]
                               [--rate HZ] AUDIO|mic [lstmphonemes properties...]
  e.g. pipelines/phonemes-labels.py --format srt --output phones.srt speech.wav model=my.phm

The pipeline: filesrc location=AUDIO ! decodebin ! audioconvert ! audioresample !
lstmphonemes PROPERTIES ! fakesink sync=false (the microphone: $PHONEMES_MIC, default
autoaudiosrc, and sync=true; Ctrl-C ends it, the last phone still written).
Needs PyGObject (python3-gi) and the GStreamer typelib (gir1.2-gstreamer-1.0).
"""
import argparse
import os
import shlex
import signal
import sys

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

FORMATS = ["timeline", "phn", "textgrid", "jsonl", "audacity", "srt", "vtt"]
SILENCES = {"h#", "pau", "epi"}
MAX_GROUP_PHONES = 6


def use_built_plugin():
    """Without GST_PLUGIN_PATH, this checkout's built plugin if any (as common.sh does)."""
    built = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "build",
                         "plugin")
    if not os.environ.get("GST_PLUGIN_PATH") and os.path.exists(
            os.path.join(built, "libgstphonemes.so")):
        os.environ["GST_PLUGIN_PATH"] = os.path.normpath(built)


class Segment:
    """One "phoneme" message: times in ns, as the element posts them."""

    def __init__(self, structure):
        self.start = structure.get_uint64("timestamp")[1]
        self.end = self.start + structure.get_uint64("duration")[1]
        self.phone = structure.get_string("phone")
        self.phone39 = structure.get_string("phone39") or ""
        self.confidence = structure.get_double("confidence")[1]
        self.viseme = structure.get_string("viseme") if structure.has_field("viseme") else None


def cue_time(ns, srt):
    ms = (ns + 500000) // 1000000
    return "%02d:%02d:%02d%s%03d" % (ms // 3600000, ms // 60000 % 60, ms // 1000 % 60,
                                     "," if srt else ".", ms % 1000)


class LabelWriter:
    """Writes segments in one format; the C twin is tools/label_formats.c."""

    def __init__(self, fmt, group, out):
        self.format, self.group, self.out = fmt, group, out
        self.rate = None          # phn: samples per second
        self.cues = 0
        self.kept = []            # textgrid: every segment; subtitles: the word group
        if fmt == "vtt":
            out.write("WEBVTT\n\n")

    def add(self, s):
        write = self.out.write
        if self.format == "timeline":
            write("%8.3f %8.3f  %-5s %-4s %.2f\n" % (s.start / 1e9, s.end / 1e9, s.phone,
                                                     s.phone39, s.confidence))
        elif self.format == "phn":
            write("%d %d %s\n" % (s.start * self.rate // 1000000000,
                                  s.end * self.rate // 1000000000, s.phone))
        elif self.format == "audacity":
            write("%.6f\t%.6f\t%s\n" % (s.start / 1e9, s.end / 1e9, s.phone))
        elif self.format == "jsonl":
            write('{"start": %.6f, "end": %.6f, "phone": "%s", "phone39": "%s", '
                  '"confidence": %.4f%s}\n' % (
                      s.start / 1e9, s.end / 1e9, s.phone, s.phone39, s.confidence,
                      ', "viseme": "%s"' % s.viseme if s.viseme is not None else ""))
        elif self.format == "textgrid":
            self.kept.append(s)
        else:
            self.add_subtitle(s)
        self.out.flush()          # line by line, for live sources

    def cue(self, start, end, text):
        srt = self.format == "srt"
        self.cues += 1
        if srt:
            self.out.write("%d\n" % self.cues)
        self.out.write("%s --> %s\n%s\n\n" % (cue_time(start, srt), cue_time(end, srt), text))

    def flush_group(self):
        if self.kept:
            self.cue(self.kept[0].start, self.kept[-1].end,
                     " ".join(s.phone for s in self.kept))
        self.kept = []

    def add_subtitle(self, s):
        if s.phone in SILENCES:
            self.flush_group()
        elif self.group == "phone":
            self.cue(s.start, s.end, "%s (%d%%)" % (s.phone, int(100 * s.confidence + 0.5)))
        else:
            self.kept.append(s)
            if len(self.kept) >= MAX_GROUP_PHONES:
                self.flush_group()

    def finish(self):
        if self.format == "textgrid":
            self.write_textgrid()
        elif self.format in ("srt", "vtt"):
            self.flush_group()
        self.out.flush()

    def write_textgrid(self):
        xmax = self.kept[-1].end / 1e9 if self.kept else 0
        write = self.out.write
        write('File type = "ooTextFile"\nObject class = "TextGrid"\n\n'
              "xmin = 0\nxmax = %.9g\ntiers? <exists>\nsize = 1\nitem []:\n"
              '    item [1]:\n        class = "IntervalTier"\n        name = "phones"\n'
              "        xmin = 0\n        xmax = %.9g\n        intervals: size = %d\n"
              % (xmax, xmax, len(self.kept)))
        for i, s in enumerate(self.kept, 1):
            write("        intervals [%d]:\n            xmin = %.9g\n            xmax = %.9g\n"
                  '            text = "%s"\n' % (i, s.start / 1e9, s.end / 1e9, s.phone))


class BusReader:
    """Runs the pipeline and hands each "phoneme" message to the writer, in order."""

    def __init__(self, args, writer):
        self.writer = writer
        self.rate = args.rate
        self.segments = 0
        self.exit_code = 0
        self.loop = GLib.MainLoop()
        self.pipeline = Gst.parse_launch(description(args))
        self.pipeline.get_by_name("convert").get_static_pad("sink").add_probe(
            Gst.PadProbeType.EVENT_DOWNSTREAM, self.on_event)
        bus = self.pipeline.get_bus()
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    # Streaming thread: the decoded audio's caps, for the .PHN sample rate.
    def on_event(self, _pad, info):
        event = info.get_event()
        if event.type == Gst.EventType.CAPS and self.rate is None:
            ok, rate = event.parse_caps().get_structure(0).get_int("rate")
            if ok:
                self.rate = rate
        return Gst.PadProbeReturn.OK

    def on_message(self, _bus, message):
        structure = message.get_structure()
        if message.type == Gst.MessageType.ELEMENT and structure.get_name() == "phoneme":
            self.writer.rate = self.rate
            self.writer.add(Segment(structure))
            self.segments += 1
        elif message.type == Gst.MessageType.EOS:
            self.loop.quit()
        elif message.type == Gst.MessageType.WARNING:
            warning, debug = message.parse_warning()
            print("WARNING: from element %s: %s\n%s" % (message.src.get_path_string(),
                                                       warning.message, debug or ""),
                  file=sys.stderr)
        elif message.type == Gst.MessageType.ERROR:
            # As gst-launch words it, so the scripts read the same whichever runs.
            error, debug = message.parse_error()
            print("ERROR: from element %s: %s\n%s" % (message.src.get_path_string(),
                                                     error.message, debug or ""),
                  file=sys.stderr)
            self.exit_code = 1
            self.loop.quit()

    def interrupt(self):
        self.pipeline.send_event(Gst.Event.new_eos())   # the last phone is still posted
        return GLib.SOURCE_REMOVE

    def run(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            message = self.pipeline.get_bus().timed_pop_filtered(0, Gst.MessageType.ERROR)
            print("ERROR: the pipeline does not start: %s" %
                  (message.parse_error()[0].message if message else "see above"),
                  file=sys.stderr)
            self.exit_code = 1
        else:
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.interrupt)
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        if self.exit_code == 0:
            self.writer.finish()
        if self.exit_code == 0 and self.segments == 0:
            print("phonemes-labels.py: no phoneme messages", file=sys.stderr)
            self.exit_code = 1
        return self.exit_code


def quote(value):
    return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')


def description(args):
    """The pipeline, gst-launch syntax; `properties` are NAME=VALUE for lstmphonemes."""
    if args.audio == "mic":
        source, sync = os.environ.get("PHONEMES_MIC", "autoaudiosrc"), "true"
    else:
        source, sync = "filesrc location=%s ! decodebin" % quote(args.audio), "false"
    properties = " ".join("%s=%s" % (name, quote(value)) for name, value in
                          (p.split("=", 1) for p in args.properties))
    return ("%s ! audioconvert name=convert ! audioresample ! lstmphonemes %s ! "
            "queue ! fakesink sync=%s" % (source, properties, sync))


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="write the phones lstmphonemes posts as labels or subtitles",
        epilog="formats: " + ", ".join(FORMATS))
    parser.add_argument("--format", "-f", choices=FORMATS, default="timeline")
    parser.add_argument("--group", choices=["phone", "word"], default="phone",
                        help="srt, vtt: a cue per phone (default) or per word-sized group")
    parser.add_argument("--output", "-o", metavar="FILE", help="write here (default: stdout)")
    parser.add_argument("--rate", type=int, metavar="HZ",
                        help="phn: samples at this rate (default: the file's)")
    parser.add_argument("audio", metavar="AUDIO|mic")
    parser.add_argument("properties", nargs="*", metavar="NAME=VALUE",
                        help="lstmphonemes properties, e.g. model=my.phm")
    args = parser.parse_args(argv)
    if args.audio != "mic" and not os.access(args.audio, os.R_OK):
        parser.error("cannot read audio file '%s'" % args.audio)
    if any("=" not in p for p in args.properties):
        parser.error("lstmphonemes properties are NAME=VALUE: %s" % shlex.join(args.properties))
    if args.rate is not None and args.rate <= 0:
        parser.error("--rate must be positive")
    return args


def main(argv):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # quietly, as a shell tool, into `head`
    args = parse_args(argv)
    use_built_plugin()
    Gst.init(None)
    if Gst.ElementFactory.find("lstmphonemes") is None:
        print("phonemes-labels.py: GStreamer element lstmphonemes not found: build the plugin "
              "(./quickstart label) or install it (meson install)", file=sys.stderr)
        return 1
    out = open(args.output, "w") if args.output else sys.stdout
    try:
        return BusReader(args, LabelWriter(args.format, args.group, out)).run()
    finally:
        if args.output:
            out.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
