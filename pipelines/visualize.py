#!/usr/bin/python3
"""Watch lstmphonemes work: the sound as a scope video (spectrum or waveform) with the
phone being heard and the model's confidence in it written over it, and the last
phones along the bottom.

  pipelines/visualize.py [options]                   live, from the microphone
  pipelines/visualize.py [options] AUDIO             a file, played along
  pipelines/visualize.py [options] AUDIO --png DIR   no display: render the frames to
                                                     DIR/frame-00000.png, ... at full speed
options:
  --model FILE    model for lstmphonemes (default: the built-in one)
  --scope NAME    spectrascope, wavescope, synaescope or monoscope (default: the first
                  of these GStreamer has; the first three come with gst-plugins-bad)
  --fps N         video frames per second (default 25), whichever scope draws: a
                  videorate after the scope holds it (scopes pick their own rates)

Without --png it needs a display ($DISPLAY or $WAYLAND_DISPLAY): with neither it says
"no display: use --png DIR" and exits 1.

The pipeline (gst-launch-1.0 syntax; the text of the two textoverlays is set here):

  SOURCE ! audioconvert ! audioresample ! lstmphonemes ! tee name=t
    t. ! queue ! audioconvert ! autoaudiosink                       (files only)
    t. ! queue ! audioconvert ! SCOPE ! videorate ! video/x-raw,framerate=25/1 !
         videoconvert ! videoscale ! video/x-raw,width=640,height=360 ! textoverlay name=now !
         textoverlay name=history ! videoconvert ! autovideosink

The current phone comes from the GstPhonemeMeta on the audio buffers entering the
scope (the frames computed when that audio was labelled), so it is in step with the
picture drawn from the same audio; the history line from the "phoneme" bus messages.
"""
import argparse
import collections
import os
import signal
import sys
import threading
import warnings

import gi

gi.require_version("Gst", "1.0")
from gi.repository import GLib, Gst  # noqa: E402

SCOPES = ["spectrascope", "wavescope", "synaescope", "monoscope"]
HISTORY = 12           # phones on the history line
BAR_CELLS = 10         # width of the confidence bar
SILENCES = {"h#", "pau", "epi"}


def use_built_plugin():
    """Without GST_PLUGIN_PATH, this checkout's built plugin if any (as common.sh does)."""
    built = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "build",
                         "plugin")
    if not os.environ.get("GST_PLUGIN_PATH") and os.path.exists(
            os.path.join(built, "libgstphonemes.so")):
        os.environ["GST_PLUGIN_PATH"] = os.path.normpath(built)


def array_field(structure, name):
    """A GstValueArray field as a list (plain PyGObject cannot get_value() it)."""
    ok, array = structure.get_array(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # GValueArray is deprecated
        return [array.get_nth(i) for i in range(array.n_values)] if ok else []


def confidence_bar(confidence):
    filled = int(round(confidence * BAR_CELLS))
    return "\u2588" * filled + "\u2591" * (BAR_CELLS - filled)


class Visualizer:
    """Builds the pipeline, keeps the overlay texts up to date, runs the main loop."""

    def __init__(self, args):
        self.args = args
        self.lock = threading.Lock()
        self.current = None                            # (phone, confidence)
        self.history = collections.deque(maxlen=HISTORY)
        self.loop = GLib.MainLoop()
        self.exit_code = 0
        self.pipeline = Gst.parse_launch(self.description())
        self.now = self.pipeline.get_by_name("now")
        self.history_overlay = self.pipeline.get_by_name("history")
        scope_sink = self.pipeline.get_by_name("scope").get_static_pad("sink")
        scope_sink.add_probe(Gst.PadProbeType.BUFFER, self.on_audio_buffer)
        self.now.get_static_pad("video_sink").add_probe(Gst.PadProbeType.BUFFER,
                                                        self.on_video_buffer)
        bus = self.pipeline.get_bus()
        bus.enable_sync_message_emission()
        bus.connect("sync-message::element", self.on_phoneme_message)
        bus.add_signal_watch()
        bus.connect("message", self.on_message)

    def description(self):
        args = self.args
        if args.audio:
            source = 'filesrc location="%s" ! decodebin' % args.audio.replace('"', '\\"')
        else:
            source = os.environ.get("PHONEMES_MIC", "autoaudiosrc")
        model = ' model="%s"' % args.model.replace('"', '\\"') if args.model else ""
        if args.png:
            video_sink = ('pngenc ! multifilesink sync=false location="%s"' %
                          os.path.join(args.png, "frame-%05d.png").replace('"', '\\"'))
        else:
            video_sink = "autovideosink"
        listen = ("t. ! queue ! audioconvert ! audioresample ! autoaudiosink "
                  if args.audio and not args.png else "")
        return (
            "%s ! audioconvert ! audioresample ! lstmphonemes name=labeller%s ! tee name=t "
            "%s"
            "t. ! queue ! audioconvert ! %s name=scope ! videorate ! "
            "video/x-raw,framerate=%d/1 ! "
            "videoconvert ! videoscale ! video/x-raw,width=640,height=360 ! "
            "textoverlay name=now valignment=top halignment=left font-desc=\"Sans 36\" "
            "wrap-mode=none ! "
            "textoverlay name=history valignment=bottom halignment=left "
            "font-desc=\"Sans 20\" wrap-mode=none ! videoconvert ! %s"
            % (source, model, listen, args.scope, args.fps, video_sink))

    # Streaming thread of the scope branch: the frames labelled with this audio.
    def on_audio_buffer(self, _pad, info):
        meta = info.get_buffer().get_custom_meta("GstPhonemeMeta")
        if meta is not None:
            s = meta.get_structure()
            phones, confidence = array_field(s, "phones"), array_field(s, "confidence")
            if phones:
                with self.lock:
                    self.current = (phones[-1], confidence[-1])
        return Gst.PadProbeReturn.OK

    # Same thread, for each video frame the scope draws from that audio.
    def on_video_buffer(self, _pad, _info):
        with self.lock:
            current, history = self.current, " ".join(self.history)
        if current:
            phone, confidence = current
            self.now.set_property("text", "%s  %s %d%%" % (
                phone, confidence_bar(confidence), round(100 * confidence)))
        self.history_overlay.set_property("text", history)
        return Gst.PadProbeReturn.OK

    # Posting thread: closed phone segments, for the history line.
    def on_phoneme_message(self, _bus, message):
        s = message.get_structure()
        if s is not None and s.get_name() == "phoneme":
            phone = s.get_value("phone")
            with self.lock:
                self.history.append("\u00b7" if phone in SILENCES else phone)

    def on_message(self, _bus, message):
        if message.type == Gst.MessageType.EOS:
            self.loop.quit()
        elif message.type == Gst.MessageType.ERROR:
            error, debug = message.parse_error()
            print("ERROR from %s: %s\n%s" % (message.src.get_path_string(), error.message,
                                             debug or ""), file=sys.stderr)
            if "videosink" in message.src.get_path_string().lower():
                print("no display? render to PNG files instead: --png DIR", file=sys.stderr)
            self.exit_code = 1
            self.loop.quit()
        elif message.type == Gst.MessageType.LATENCY:
            self.pipeline.recalculate_latency()

    def run(self):
        if self.pipeline.set_state(Gst.State.PLAYING) == Gst.StateChangeReturn.FAILURE:
            message = self.pipeline.get_bus().timed_pop_filtered(0, Gst.MessageType.ERROR)
            print("the pipeline does not start: %s" %
                  (message.parse_error()[0].message if message else "see above"),
                  file=sys.stderr)
            self.exit_code = 1
        else:
            GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, self.interrupt)
            self.loop.run()
        self.pipeline.set_state(Gst.State.NULL)
        return self.exit_code

    def interrupt(self):
        self.loop.quit()
        return GLib.SOURCE_REMOVE


def parse_args(argv):
    parser = argparse.ArgumentParser(description="lstmphonemes over a scope video")
    parser.add_argument("audio", nargs="?", help="audio file (default: the microphone)")
    parser.add_argument("--model", help="model file for lstmphonemes")
    parser.add_argument("--scope", help="visualizer element: " + ", ".join(SCOPES))
    parser.add_argument("--fps", type=int, default=25, help="video frames per second")
    parser.add_argument("--png", metavar="DIR", help="render frames to DIR as PNG files")
    args = parser.parse_args(argv)
    if args.png and not args.audio:
        parser.error("--png needs an audio file")
    if args.fps <= 0:
        parser.error("--fps must be positive")
    if args.png:
        os.makedirs(args.png, exist_ok=True)
    return args


def have_display():
    """An X11 or Wayland display to open a window on (else autovideosink falls through to
    sinks such as DirectFB's, which crash without one)."""
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def main(argv):
    args = parse_args(argv)
    if not args.png and not have_display():
        print("no display: use --png DIR to render the frames to PNG files", file=sys.stderr)
        return 1
    use_built_plugin()
    Gst.init(None)
    for element in ["lstmphonemes", "textoverlay"]:
        if Gst.ElementFactory.find(element) is None:
            print("GStreamer element %s not found (%s)" % (element, {
                "lstmphonemes": "build the plugin: ./quickstart label",
                "textoverlay": "install gstreamer1.0-x"}[element]), file=sys.stderr)
            return 1
    if args.scope is None:
        args.scope = next((s for s in SCOPES if Gst.ElementFactory.find(s)), None)
        if args.scope is None:
            print("no scope element found: install gstreamer1.0-plugins-good", file=sys.stderr)
            return 1
    return Visualizer(args).run()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
