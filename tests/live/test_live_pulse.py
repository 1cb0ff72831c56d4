#!/usr/bin/python3
"""A real live pipeline: a private PulseAudio server with a null sink; a WAV file is
played into it with pulsesink while `pulsesrc device=virt.monitor ! ... ! lstmphonemes !
fakesink sync=true` listens, exactly as a microphone would be read. Checks:

  - the played audio reaches lstmphonemes (silence before, signal while it plays);
  - "phoneme" messages are posted while the audio plays, each one between the
    element's own segment latency and the capture latency the pipeline reports (latency
    query) plus the element's `latency` after the end of its phone, with room for
    scheduling on a busy machine;
  - the latency query is live and, the element holding no audio back (report-latency
    is off by default), does not include the element's `latency`;
  - no buffer is late at the synced sink: no QoS message, nothing dropped;
  - every frame of a buffer's meta lies within `latency` before that buffer;
  - pipelines/label-live.sh (autoaudiosrc) labels the same source with a lag column.

Exits 77 (skipped) when pulseaudio, the pulse GStreamer elements or PyGObject are
missing. The server is private (own runtime dir and socket), always killed by pid
(finally, SIGTERM/SIGINT/SIGHUP handlers), and exits by itself 10 s after its last
client disconnects should this process be killed outright. The keep-alive client (a
silent stream into the null sink, as a microphone always delivers) avoids the burst
of buffered audio a pulsesrc gets when it starts reading an idle null sink's monitor.
"""
import os
import re
import shutil
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_common import make_wav  # noqa: E402

try:
    import gi
    gi.require_version("Gst", "1.0")
    from gi.repository import Gst
except (ImportError, ValueError) as import_error:
    print("SKIP: PyGObject with Gst 1.0 not importable: %s" % import_error)
    sys.exit(77)

WATCHDOG_S = 90            # the whole test, before meson's own timeout
SCHEDULING_SLACK = 100 * Gst.MSECOND
TIMESTAMP_SLACK = 40 * Gst.MSECOND   # pulsesrc's clock slaving shifts timestamps a little
# A buffer later than this at the synced sink counts as late. The element holds no audio
# and reports no latency, so the pipeline runs with the capture latency alone (30 ms):
# on a loaded shared machine (load 5 on 2 cores) the scheduler alone delays some buffers
# by more than 20 ms, with or without lstmphonemes in the pipeline.
MAX_LATENESS = 60 * Gst.MSECOND


class Failure(Exception):
    pass


def check(condition, message):
    if not condition:
        raise Failure(message)


# ---- the private PulseAudio server ----

class PulseServer:
    """pulseaudio --daemonize with a null sink `virt` and an anonymous unix socket."""

    def __init__(self, directory):
        self.directory = directory
        self.socket = os.path.join(directory, "pulse.socket")
        self.log = os.path.join(directory, "pulse.log")
        self.runtime = os.path.join(directory, "runtime")
        self.pid = None

    def start(self):
        os.makedirs(self.runtime, mode=0o700)
        config = os.path.join(self.directory, "server.pa")
        with open(config, "w") as f:
            f.write("load-module module-null-sink sink_name=virt\n"
                    "load-module module-native-protocol-unix auth-anonymous=1 socket=%s\n"
                    "set-default-sink virt\n"
                    "set-default-source virt.monitor\n" % self.socket)
        client_config = os.path.join(self.directory, "client.conf")
        with open(client_config, "w") as f:
            f.write("autospawn = no\n")
        env = dict(os.environ, HOME=self.directory, XDG_RUNTIME_DIR=self.runtime,
                   XDG_CONFIG_HOME=self.directory, PULSE_RUNTIME_PATH=self.runtime)
        subprocess.run(["pulseaudio", "--daemonize=yes", "--system=false",
                        "--exit-idle-time=10", "-n", "-F", config,
                        "--log-target=file:" + self.log], env=env, check=True, timeout=30)
        pid_file = os.path.join(self.runtime, "pid")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.pid is None and os.path.exists(pid_file):
                with open(pid_file) as f:
                    self.pid = int(f.read().split()[0])
            if self.pid is not None and os.path.exists(self.socket):
                break
            time.sleep(0.05)
        check(self.pid is not None and os.path.exists(self.socket),
              "pulseaudio did not come up: " + self.log_tail())
        # Clients of this process find it, and only it.
        os.environ["PULSE_SERVER"] = "unix:" + self.socket
        os.environ["PULSE_CLIENTCONFIG"] = client_config
        print("pulseaudio pid %d, socket %s" % (self.pid, self.socket))

    def stop(self):
        if self.pid is None:
            return
        pid, self.pid = self.pid, None
        for sig in (signal.SIGTERM, signal.SIGKILL):
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                return
            for _ in range(50):
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                time.sleep(0.05)

    def log_tail(self):
        try:
            with open(self.log) as f:
                return "".join(f.readlines()[-10:])
        except OSError:
            return "(no log)"


# ---- audio ----

def peak(buffer, caps):
    """Largest absolute sample of an S16LE or F32LE mono buffer, scaled to [0, 1]."""
    fmt = caps.get_structure(0).get_string("format")
    ok, info = buffer.map(Gst.MapFlags.READ)
    if not ok:
        return 0.0
    try:
        data = bytes(info.data)
    finally:
        buffer.unmap(info)
    if fmt == "S16LE":
        values = struct.unpack("<%dh" % (len(data) // 2), data)
        return max((abs(v) for v in values), default=0) / 32768.0
    values = struct.unpack("<%df" % (len(data) // 4), data)
    return max((abs(v) for v in values), default=0.0)


# ---- the recording pipeline ----

class Recorder:
    """pulsesrc ! ... ! lstmphonemes ! queue ! fakesink sync=true, and what it observes.

    The queue matters: without it the sink's wait for the clock (until the pipeline
    latency has passed) holds the streaming thread, so lstmphonemes would only see each
    buffer after the previous one was rendered, and report that much later.
    provide-clock=false: pulsesrc's own clock starts at PLAYING, but its first samples
    can arrive 0.5 s later stamped as captured at 0, a backlog the sink rightly drops;
    slaved to the system clock, pulsesrc stamps buffers when they are captured."""

    def __init__(self, model):
        self.pipeline = Gst.parse_launch(
            "pulsesrc device=virt.monitor provide-clock=false ! audioconvert ! audioresample ! "
            "lstmphonemes name=labeller model=\"%s\" ! queue ! "
            "fakesink name=sink sync=true qos=true max-lateness=%d" % (model, MAX_LATENESS))
        self.labeller = self.pipeline.get_by_name("labeller")
        self.sink = self.pipeline.get_by_name("sink")
        self.lock = threading.Lock()
        self.phonemes = []        # (posted at running time, phone end running time, phone)
        self.levels = []          # (buffer running time, peak)
        self.arrivals = []        # (buffer running time, arrival - its end)
        self.meta_violations = []
        self.buffers = 0
        self.qos = 0
        self.errors = []
        self.first_buffer = threading.Event()
        bus = self.pipeline.get_bus()
        bus.enable_sync_message_emission()
        bus.connect("sync-message::element", self.on_element)
        self.labeller.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self.on_input)
        self.sink.get_static_pad("sink").add_probe(Gst.PadProbeType.BUFFER, self.on_output)

    def running_time_now(self):
        clock = self.pipeline.get_clock()
        return clock.get_time() - self.pipeline.get_base_time()

    def on_element(self, _bus, message):   # posting (streaming) thread
        s = message.get_structure()
        if s.get_name() != "phoneme":
            return
        now = self.running_time_now()
        with self.lock:
            self.phonemes.append((now, s.get_value("running-time") + s.get_value("duration"),
                                  s.get_value("phone")))

    def on_input(self, pad, info):
        buffer = info.get_buffer()
        segment = pad.get_sticky_event(Gst.EventType.SEGMENT, 0).parse_segment()
        level = peak(buffer, pad.get_current_caps())
        running_time = segment.to_running_time(Gst.Format.TIME, buffer.pts)
        arrival = self.running_time_now() - running_time - buffer.duration
        with self.lock:
            self.levels.append((running_time, level))
            self.arrivals.append((running_time, arrival))
        return Gst.PadProbeReturn.OK

    def on_output(self, _pad, info):
        """Each meta frame must lie within the element's latency before its buffer."""
        buffer = info.get_buffer()
        self.buffers += 1
        self.first_buffer.set()
        meta = buffer.get_custom_meta("GstPhonemeMeta")
        if meta is None:
            return Gst.PadProbeReturn.OK
        ok, stamps = meta.get_structure().get_array("timestamps")
        latency = self.labeller.get_property("latency")
        for i in range(stamps.n_values if ok else 0):
            stamp = stamps.get_nth(i)
            if not (buffer.pts - latency < stamp and stamp + 10 * Gst.MSECOND <=
                    buffer.pts + buffer.duration):
                self.meta_violations.append((stamp, buffer.pts, buffer.duration))
        return Gst.PadProbeReturn.OK

    def pump(self, seconds, until=None):
        """Handles bus messages for up to `seconds` or until `until()` holds."""
        bus = self.pipeline.get_bus()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not (until and until()):
            message = bus.timed_pop(20 * Gst.MSECOND)
            if message is None:
                continue
            if message.type == Gst.MessageType.LATENCY:
                self.pipeline.recalculate_latency()
            elif message.type == Gst.MessageType.QOS and message.src == self.sink:
                self.qos += 1
            elif message.type == Gst.MessageType.ERROR:
                self.errors.append(message.parse_error()[0].message)
                return
            elif message.type == Gst.MessageType.EOS:
                return


def play(wav):
    """Plays `wav` into the null sink; returns the pipeline (PLAYING)."""
    player = Gst.parse_launch("filesrc location=\"%s\" ! wavparse ! audioconvert ! "
                              "audioresample ! pulsesink device=virt" % wav)
    check(player.set_state(Gst.State.PLAYING) != Gst.StateChangeReturn.FAILURE,
          "pulsesink does not start")
    return player


def wait_for_eos(pipeline, seconds):
    message = pipeline.get_bus().timed_pop_filtered(
        int(seconds * Gst.SECOND), Gst.MessageType.EOS | Gst.MessageType.ERROR)
    check(message is not None, "no EOS within %d s" % seconds)
    check(message.type == Gst.MessageType.EOS,
          "error: %s" % (message.parse_error()[0].message if message else ""))


# ---- the checks ----

def check_live_run(recorder, play_start, play_end, segment_latency):
    query = Gst.Query.new_latency()
    check(recorder.pipeline.query(query), "latency query failed")
    live, reported, _maximum = query.parse_latency()
    own = recorder.labeller.get_property("latency")
    print("latency: element %.1f ms, pipeline (query) %.1f ms, live=%s" % (
        own / 1e6, reported / 1e6, live))
    check(live, "the latency query does not say live")
    check(own > 0 and not recorder.labeller.get_property("report-latency"),
          "the element's latency is unknown, or reported by default")
    check(reported < own, "the pipeline latency includes the element's, which holds no audio")
    reported += own   # messages come the element's latency after the captured audio

    with recorder.lock:
        levels, phonemes = list(recorder.levels), list(recorder.phonemes)
    before = [p for t, p in levels if t < play_start - 100 * Gst.MSECOND]
    during = [p for t, p in levels if play_start <= t <= play_end]
    check(before and max(before) < 0.01, "the monitor was not silent before playing")
    check(during and max(during) > 0.05,
          "the played audio did not reach lstmphonemes (peak %.4f)" % max(during, default=0))

    arrivals = [a for t, a in recorder.arrivals if t > play_start]
    print("buffers reach lstmphonemes %.1f ms (median) after their end" % (
        statistics.median(arrivals) / 1e6))
    while_playing = [p for p in phonemes if play_start <= p[0] <= play_end]
    check(len(while_playing) >= 3,
          "only %d phoneme messages while the audio played" % len(while_playing))
    lags = [posted - end for posted, end, _phone in phonemes]
    print("%d phoneme messages (%d while playing); lag after the phone's end: min %.1f, "
          "median %.1f, max %.1f ms" % (len(phonemes), len(while_playing), min(lags) / 1e6,
                                       statistics.median(lags) / 1e6, max(lags) / 1e6))
    check(min(lags) >= segment_latency - TIMESTAMP_SLACK,
          "a phone was reported %.1f ms after its end, before its closing audio could have "
          "been captured (%.1f ms): timestamps are wrong" % (min(lags) / 1e6,
                                                             segment_latency / 1e6))
    check(statistics.median(lags) <= reported,
          "median lag %.1f ms exceeds the reported latency %.1f ms" % (
              statistics.median(lags) / 1e6, reported / 1e6))
    check(max(lags) <= reported + SCHEDULING_SLACK,
          "max lag %.1f ms exceeds the reported latency %.1f ms by more than %d ms" % (
              max(lags) / 1e6, reported / 1e6, SCHEDULING_SLACK // Gst.MSECOND))

    stats = recorder.sink.get_property("stats")
    dropped = stats.get_value("dropped")
    print("sink: %d rendered, %d dropped, %d QoS messages" % (
        stats.get_value("rendered"), dropped, recorder.qos))
    check(dropped == 0 and recorder.qos == 0, "late buffers at the synced sink")
    check(not recorder.meta_violations,
          "meta frames outside [buffer - latency, buffer end]: %s" % recorder.meta_violations[:3])


def run_label_live_script(model, wav):
    """pipelines/label-live.sh reads the default source (the monitor) while wav plays."""
    script = os.path.join(os.environ["PH_SOURCE_ROOT"], "pipelines", "label-live.sh")
    process = subprocess.Popen([script, "model=" + model], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True,
                               env=dict(os.environ, SECONDS_TO_RUN="3"))
    time.sleep(0.5)
    player = play(wav)
    try:
        out, err = process.communicate(timeout=30)
    finally:
        player.set_state(Gst.State.NULL)
    check(process.returncode == 0, "label-live.sh failed:\n" + out + err)
    lines = out.splitlines()
    check(any(line.startswith("# latency") and "(live)" in line for line in lines),
          "label-live.sh: no live latency header:\n" + out)
    # start end phone phone39 confidence lag; phone39 is empty for "q" (it folds to none)
    row = re.compile(r"\s*\d+\.\d{3}\s+\d+\.\d{3}\s+\S+\s+\S*\s+\d\.\d\d\s+-?\d+\.\d$")
    rows = [line for line in lines if not line.startswith("#")]
    check(rows and all(row.match(r) for r in rows), "label-live.sh: no lag column:\n" + out)
    check(lines[-1].startswith("# ") and "lag" in lines[-1], "label-live.sh: no summary")
    print("label-live.sh: %d phones; %s" % (len(rows), lines[-1]))


def main():
    for program in ["pulseaudio"]:
        if shutil.which(program) is None:
            print("SKIP: %s not installed (apt install pulseaudio)" % program)
            return 77
    Gst.init(None)
    for element in ["pulsesrc", "pulsesink", "wavparse", "lstmphonemes"]:
        if Gst.ElementFactory.find(element) is None:
            if element == "lstmphonemes":
                print("FAIL: lstmphonemes not found (GST_PLUGIN_PATH?)")
                return 1
            print("SKIP: GStreamer element %s missing (gstreamer1.0-pulseaudio)" % element)
            return 77

    with tempfile.TemporaryDirectory(prefix="phonemes-live-") as tmp:
        server = PulseServer(tmp)

        def on_signal(signum, _frame):
            raise SystemExit("killed by signal %d" % signum)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, on_signal)
        signal.signal(signal.SIGALRM, on_signal)
        signal.alarm(WATCHDOG_S)
        pipelines = []
        try:
            model = os.path.join(tmp, "model.phm")
            subprocess.run([os.environ["PH_MAKE_TEST_MODEL"], model, "16000", "3"],
                           check=True, timeout=60)
            wav = make_wav(tmp)
            server.start()

            keep_alive = Gst.parse_launch("audiotestsrc is-live=true wave=silence ! "
                                          "pulsesink device=virt")
            pipelines.append(keep_alive)
            keep_alive.set_state(Gst.State.PLAYING)
            time.sleep(0.5)

            recorder = Recorder(model)
            pipelines.append(recorder.pipeline)
            check(recorder.pipeline.set_state(Gst.State.PLAYING) !=
                  Gst.StateChangeReturn.FAILURE, "pulsesrc does not start")
            recorder.pump(15, until=recorder.first_buffer.is_set)
            check(recorder.first_buffer.is_set(), "no audio from pulsesrc within 15 s")
            recorder.pump(0.7)

            play_start = recorder.running_time_now()
            player = play(wav)
            pipelines.append(player)
            bus = player.get_bus()
            ended = []

            def player_done():
                message = bus.pop_filtered(Gst.MessageType.EOS | Gst.MessageType.ERROR)
                if message is not None:
                    ended.append(message)
                return bool(ended)
            recorder.pump(30, until=player_done)
            check(ended and ended[0].type == Gst.MessageType.EOS,
                  "the player did not reach EOS")
            play_end = recorder.running_time_now()
            recorder.pump(1.0)
            check(not recorder.errors, "recorder error: %s" % recorder.errors)

            hop = 10 * Gst.MSECOND   # the element's latency is one hop + the segment latency
            segment_latency = recorder.labeller.get_property("latency") - hop
            check_live_run(recorder, play_start, play_end, segment_latency)
            recorder.pipeline.send_event(Gst.Event.new_eos())
            recorder.pump(5)
            recorder.pipeline.set_state(Gst.State.NULL)
            player.set_state(Gst.State.NULL)

            run_label_live_script(model, wav)
        except Failure as failure:
            print("FAIL: %s" % failure)
            return 1
        finally:
            signal.alarm(0)
            for pipeline in pipelines:
                pipeline.set_state(Gst.State.NULL)
            server.stop()
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
