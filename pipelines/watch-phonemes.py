#!/usr/bin/python3
"""Runs a pipeline written as for gst-launch-1.0 and prints every phone lstmphonemes
reports, the moment it is posted:

    start_s  end_s  phone  phone39  confidence  lag_ms

lag_ms (live sources only) is how long after the phone ended, in the pipeline's
running time, the element reported it: the latency the labelling achieves. The lines
starting with '#' give the latency the element and the whole pipeline report, and on
exit (EOS, --seconds elapsed, or Ctrl-C, which sends EOS first so the last phone is
still reported) a summary.

  pipelines/watch-phonemes.py [--seconds N] autoaudiosrc ! audioconvert ! \\
      audioresample ! lstmphonemes ! fakesink sync=true

Needs PyGObject (python3-gi) and the GStreamer typelib (gir1.2-gstreamer-1.0).
"""
import os
import signal
import statistics
import sys
import threading

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

USAGE = "usage: watch-phonemes.py [--seconds N] PIPELINE-DESCRIPTION (as for gst-launch-1.0)"


def use_built_plugin():
    """Without GST_PLUGIN_PATH, this checkout's built plugin if any (as common.sh does)."""
    built = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "build",
                         "plugin")
    if not os.environ.get("GST_PLUGIN_PATH") and os.path.exists(
            os.path.join(built, "libgstphonemes.so")):
        os.environ["GST_PLUGIN_PATH"] = os.path.normpath(built)


def ms(ns):
    return ns / 1e6


class PhonemeWatcher:
    """Owns the pipeline and the main loop; prints what lstmphonemes posts."""

    def __init__(self, description):
        self.pipeline = Gst.parse_launchv(description)
        self.loop = GLib.MainLoop()
        self.live = False
        self.lags = []
        self.phones = 0
        self.reported_latency = None
        self.exit_code = 0
        self.stopping = False
        self.print_lock = threading.Lock()
        bus = self.pipeline.get_bus()
        # Phones are printed from the posting thread, so lag_ms is not delayed by the
        # main loop; everything else goes through the main loop.
        bus.enable_sync_message_emission()
        bus.connect("sync-message::element", self.on_element_message)
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def say(self, text):
        with self.print_lock:
            print(text, flush=True)

    def labellers(self):
        found = []
        self.pipeline.iterate_recurse().foreach(
            lambda element: found.append(element)
            if element.get_factory() and element.get_factory().get_name() == "lstmphonemes"
            else None)
        return found

    def lag_of(self, end_running_time):
        clock = self.pipeline.get_clock()
        if not self.live or clock is None or end_running_time >= Gst.CLOCK_TIME_NONE:
            return None
        return clock.get_time() - self.pipeline.get_base_time() - end_running_time

    def on_element_message(self, _bus, message):
        s = message.get_structure()
        if s is None or s.get_name() != "phoneme":
            return
        start, duration = s.get_value("timestamp"), s.get_value("duration")
        lag = self.lag_of(s.get_value("running-time") + duration)
        line = "%8.3f %8.3f  %-5s %-4s %.2f" % (
            start / 1e9, (start + duration) / 1e9, s.get_value("phone"),
            s.get_value("phone39"), s.get_value("confidence"))
        if lag is not None:
            self.lags.append(lag)
            line += "  %7.1f" % ms(lag)
        self.phones += 1
        self.say(line)

    def report_latency(self):
        if self.pipeline.get_state(0)[1] != Gst.State.PLAYING:
            return   # a live pipeline answers for real only once playing
        query = Gst.Query.new_latency()
        if not self.pipeline.query(query):
            return
        live, minimum, _maximum = query.parse_latency()
        own = [element.get_property("latency") for element in self.labellers()]
        if (live, minimum) == self.reported_latency:
            return
        self.reported_latency = (live, minimum)
        self.say("# latency: lstmphonemes %s ms, whole pipeline %.1f ms (%s)" % (
            ", ".join("%.1f" % ms(x) for x in own) or "?", ms(minimum),
            "live" if live else "not live: no lag column"))

    def on_message(self, _bus, message):
        kind = message.type
        if kind == Gst.MessageType.EOS:
            self.loop.quit()
        elif kind == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            print("ERROR from %s: %s\n%s" % (message.src.get_path_string(), error.message,
                                             debug or ""), file=sys.stderr)
            self.exit_code = 1
            self.loop.quit()
        elif kind == Gst.MessageType.WARNING:
            warning, _debug = message.parse_warning()
            print("WARNING from %s: %s" % (message.src.get_path_string(), warning.message),
                  file=sys.stderr)
        elif kind == Gst.MessageType.LATENCY:
            self.pipeline.recalculate_latency()   # as gst-launch-1.0 does
            self.report_latency()
        elif kind == Gst.MessageType.ASYNC_DONE:
            self.report_latency()
        elif (kind == Gst.MessageType.STATE_CHANGED and message.src == self.pipeline and
              message.parse_state_changed()[1] == Gst.State.PLAYING):
            self.report_latency()

    def stop(self):
        """First call: EOS, so pending phones are reported; second call: quit now."""
        if self.stopping:
            self.loop.quit()
        else:
            self.stopping = True
            self.pipeline.send_event(Gst.Event.new_eos())
        return GLib.SOURCE_REMOVE

    def summary(self):
        text = "# %d phones" % self.phones
        if self.lags:
            text += "; lag after the end of a phone: median %.1f ms, max %.1f ms" % (
                ms(statistics.median(self.lags)), ms(max(self.lags)))
        self.say(text)

    def run(self, seconds):
        if not self.labellers():
            print("no lstmphonemes element in the pipeline", file=sys.stderr)
            return 2
        # PAUSED first, as gst-launch-1.0 does: only that step tells a live pipeline.
        result = self.pipeline.set_state(Gst.State.PAUSED)
        self.live = result == Gst.StateChangeReturn.NO_PREROLL
        if (result == Gst.StateChangeReturn.FAILURE or
                self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE):
            message = self.pipeline.get_bus().timed_pop_filtered(0, Gst.MessageType.ERROR)
            reason = message.parse_error()[0].message if message else "see above"
            print("the pipeline does not start: %s" % reason, file=sys.stderr)
            self.pipeline.set_state(Gst.State.NULL)
            return 1
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.stop)
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, self.stop)
        if seconds:
            GLib.timeout_add(int(seconds * 1000), self.stop)
        self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        self.summary()
        return self.exit_code


def main(argv):
    seconds = None
    if argv[:1] == ["--seconds"] and len(argv) > 2:
        seconds, argv = float(argv[1]), argv[2:]
    if not argv or argv[0].startswith("-"):
        print(USAGE, file=sys.stderr)
        return 2
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)   # `| head` ends us quietly
    use_built_plugin()
    Gst.init(None)
    try:
        watcher = PhonemeWatcher(argv)
    except GLib.Error as error:
        print("cannot build the pipeline: %s" % error.message, file=sys.stderr)
        return 2
    return watcher.run(seconds)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
