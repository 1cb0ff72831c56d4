#!/usr/bin/python3
"""End-to-end checks of the lstmphonemes plugin with the GStreamer command-line tools.

  e2e      gst-launch-1.0 -m filesrc ! wavparse ! audioconvert ! audioresample !
           lstmphonemes ! fakesink on a real WAV (espeak-ng speech when available, a
           synthetic WAV otherwise); the posted "phoneme" messages must tile the file.
  inspect  gst-inspect-1.0 lstmphonemes documents every property (description,
           default, range) and the reset action signal.

Environment (set by tests/gst/meson.build): GST_PLUGIN_PATH, PH_MAKE_TEST_MODEL.
Only the standard library is used.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import wave

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "live"))
import live_common  # noqa: E402  (the test audio, shared with the live tests)

PROPERTIES = ["model", "model-name", "post-messages", "frame-messages", "attach-meta",
              "reset-on-discont", "min-segment-frames", "latency"]
TEXT = "The quick brown fox jumps over the lazy dog. She sells sea shells by the sea shore."


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def make_model(directory):
    path = os.path.join(directory, "model.phm")
    subprocess.run([os.environ["PH_MAKE_TEST_MODEL"], path, "16000", "5"], check=True)
    return path


def make_wav(directory):
    print("WAV from espeak-ng" if shutil.which("espeak-ng")
          else "WAV synthetic (espeak-ng not found)")
    return live_common.make_wav(directory, TEXT)


MESSAGE = re.compile(
    r'\(element\): phoneme, timestamp=\(guint64\)(\d+), stream-time=\(guint64\)(\d+), '
    r'running-time=\(guint64\)(\d+), duration=\(guint64\)(\d+), '
    r'phone=\(string\)("(?:[^"\\]|\\.)*"|[^,;]+), phone39=\(string\)("(?:[^"\\]|\\.)*"|[^,;]*), '
    r'confidence=\(double\)([0-9.eE+-]+), viseme=\(string\)([^,;]+);')
VISEMES = {"sil", "PP", "FF", "TH", "DD", "kk", "CH", "SS", "nn", "RR", "aa", "E", "ih", "oh",
           "ou"}


def unquote(value):
    if value.startswith('"'):
        value = re.sub(r"\\(.)", r"\1", value[1:-1])
    return value


def test_e2e():
    with tempfile.TemporaryDirectory(prefix="lstmphonemes-e2e-") as tmp:
        model = make_model(tmp)
        wav = make_wav(tmp)
        with wave.open(wav, "rb") as w:
            wav_duration_ns = w.getnframes() * 10**9 // w.getframerate()
        cmd = ["gst-launch-1.0", "-m", "filesrc", "location=" + wav, "!", "wavparse", "!",
               "audioconvert", "!", "audioresample", "!", "lstmphonemes", "model=" + model,
               "!", "fakesink"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=240)
        if out.returncode != 0:
            fail("gst-launch-1.0 failed:\n" + out.stdout + out.stderr)
        segments = [m.groups() for m in MESSAGE.finditer(out.stdout)]
        if not segments:
            fail("no phoneme messages in:\n" + out.stdout)
        at = 0
        for ts, stream_time, running_time, duration, phone, phone39, confidence, viseme \
                in segments:
            ts, duration = int(ts), int(duration)
            if ts != at:
                fail("segment at %d ns, expected %d ns (segments must tile)" % (ts, at))
            if int(running_time) != ts or int(stream_time) != ts:
                fail("running-time/stream-time differ from timestamp at %d" % ts)
            if duration <= 0 or not unquote(phone) or not 0 < float(confidence) <= 1:
                fail("bad segment: %s %s %s" % (duration, phone, confidence))
            if viseme not in VISEMES:
                fail("segment at %d ns: viseme %r is not an Oculus viseme" % (ts, viseme))
            at = ts + duration
        # audioresample may round the length by a sample at 16 kHz.
        if abs(at - wav_duration_ns) > 200000:
            fail("segments end at %d ns, the WAV lasts %d ns" % (at, wav_duration_ns))
        print("%d segments tile [0, %.3f s]: %s ..." % (
            len(segments), at / 1e9, " ".join(unquote(s[4]) for s in segments[:12])))


def test_inspect():
    out = subprocess.run(["gst-inspect-1.0", "lstmphonemes"], capture_output=True, text=True,
                         timeout=120)
    if out.returncode != 0:
        fail("gst-inspect-1.0 failed:\n" + out.stdout + out.stderr)
    text = out.stdout
    if "Filter/Analyzer/Audio" not in text:
        fail("klass missing")
    if '"reset"' not in text:
        fail("reset action signal missing")
    blocks = re.split(r"\n  (?=[a-z][a-z-]*\s*: )", text.split("Element Properties:")[1])
    described = {}
    for block in blocks:
        m = re.match(r"([a-z][a-z-]*)\s*: (.+)", block.strip())
        if m:
            described[m.group(1)] = block
    for prop in PROPERTIES:
        block = described.get(prop)
        if block is None:
            fail("property %s missing" % prop)
        description = re.match(r"[a-z-]+\s*: (.*)", block.strip()).group(1)
        if len(description) < 20:
            fail("property %s has no real description" % prop)
        if "Default:" not in block:
            fail("property %s shows no default" % prop)
    if "Range: 1 - 100 Default: 3" not in described["min-segment-frames"]:
        fail("min-segment-frames range/default not shown")
    print("all %d properties documented" % len(PROPERTIES))


if __name__ == "__main__":
    {"e2e": test_e2e, "inspect": test_inspect}[sys.argv[1]]()
