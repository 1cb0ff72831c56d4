#!/usr/bin/python3
"""Runs the embedding examples, pipelines/embed/phonemes-embed (C, built by meson) and
pipelines/embed/phonemes_embed.py (PyGObject), on the same WAV and model. Each must
print phone segments that tile the file and metas whose frames follow each other 10 ms
apart, with counts that match their summary lines; and the two programs must print
exactly the same lines (the pipeline is deterministic; only the interleaving of the
streaming thread's meta lines with the bus lines may differ).

  test_embed.py C-PROGRAM PYTHON-PROGRAM
Environment (tests/gst/meson.build): GST_PLUGIN_PATH, PH_MAKE_TEST_MODEL.
"""
import os
import re
import subprocess
import sys
import tempfile
import wave

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_common import make_wav  # noqa: E402

PHONEME = re.compile(r"phoneme (\d+\.\d{3}) (\d+\.\d{3}) (\S+) (\S*) (\d\.\d{4})$")
META = re.compile(r"meta (\d+) (\d+\.\d{3}) (\d+\.\d{3})((?: \S+)+)$")


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def check_output(name, text, duration):
    lines = text.splitlines()
    phonemes = [PHONEME.match(line) for line in lines if line.startswith("phoneme ")]
    metas = [META.match(line) for line in lines if line.startswith("meta ")]
    if not phonemes or not all(phonemes):
        fail("%s: bad phoneme lines:\n%s" % (name, text))
    if not metas or not all(metas):
        fail("%s: bad meta lines:\n%s" % (name, text))
    at = 0.0
    for m in phonemes:
        start, end = float(m.group(1)), float(m.group(2))
        if abs(start - at) > 1e-6 or end <= start:
            fail("%s: segment %s does not follow the previous one (ends %.3f)" % (
                name, m.group(0), at))
        at = end
    if abs(at - duration) > 0.002:
        fail("%s: segments end at %.3f s, the file lasts %.3f s" % (name, at, duration))
    frames, next_start = 0, 0.0
    for m in metas:
        n, first, last = int(m.group(1)), float(m.group(2)), float(m.group(3))
        if len(m.group(4).split()) != n or abs(first - next_start) > 1e-6 or \
                abs(last - first - 0.01 * (n - 1)) > 1e-6:
            fail("%s: meta frames not consecutive: %s" % (name, m.group(0)))
        frames, next_start = frames + n, last + 0.01
    if "%d phoneme messages" % len(phonemes) not in lines:
        fail("%s: summary does not count %d phoneme messages" % (name, len(phonemes)))
    if "%d metas, %d frames" % (len(metas), frames) not in lines:
        fail("%s: summary does not count %d metas, %d frames" % (name, len(metas), frames))
    # Frames still pending at EOS are only posted as messages (gstphonememeta.h).
    if not duration - 0.1 <= frames * 0.01 <= duration + 0.01:
        fail("%s: %d frames in metas for %.3f s of audio" % (name, frames, duration))
    print("%s: %d segments, %d metas, %d frames" % (name, len(phonemes), len(metas), frames))


def run(command):
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        fail("%s failed (%d):\n%s%s" % (command[0], out.returncode, out.stdout, out.stderr))
    return out.stdout


def main(c_program, python_program):
    with tempfile.TemporaryDirectory(prefix="phonemes-embed-") as tmp:
        model = os.path.join(tmp, "model.phm")
        subprocess.run([os.environ["PH_MAKE_TEST_MODEL"], model, "16000", "11"], check=True)
        wav = make_wav(tmp)
        with wave.open(wav, "rb") as w:
            duration = w.getnframes() / w.getframerate()
        c_out = run([c_program, wav, model])
        py_out = run(["/usr/bin/python3", python_program, wav, model])
    check_output("C", c_out, duration)
    check_output("Python", py_out, duration)
    if sorted(c_out.splitlines()) != sorted(py_out.splitlines()):
        fail("the C and Python programs print different lines")
    print("C and Python print the same %d lines" % len(c_out.splitlines()))

    # Without the plugin both say what is missing instead of crashing.
    with tempfile.TemporaryDirectory(prefix="phonemes-embed-") as tmp:
        env = dict(os.environ, GST_PLUGIN_PATH="/nonexistent",
                   GST_REGISTRY=os.path.join(tmp, "registry.bin"))
        for command in ([c_program, "x.wav"], ["/usr/bin/python3", python_program, "x.wav"]):
            out = subprocess.run(command, capture_output=True, text=True, timeout=120,
                                 env=env)
            if out.returncode != 1 or "GST_PLUGIN_PATH" not in out.stderr:
                fail("%s without the plugin: exit %d, %s" % (command[-2], out.returncode,
                                                            out.stderr))
    print("without the plugin both exit 1 naming GST_PLUGIN_PATH")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print("usage: test_embed.py C-PROGRAM PYTHON-PROGRAM")
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
