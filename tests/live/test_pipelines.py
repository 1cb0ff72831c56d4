#!/usr/bin/python3
"""Runs the ready-made scripts of pipelines/ on a spoken WAV with a test model and checks
what they write, against each other and against the file:

  label-file.sh        the timeline tiles the file
  write-phn.sh         the .PHN tiles the file in samples at its rate, same phones as above
  write-subtitles.sh   SRT (one cue per non-silent phone, with its confidence) and
                       WebVTT word groups (the same phones, at most 6 per cue)
  watch-phonemes.py    on a file: the same timeline; live: the latency header and a
                       lag column
  label-live.sh        live (an audiotestsrc stands in for the microphone)
  visualize.py --png   one 640x360 PNG per video frame at --fps, the picture changing,
                       with the default scope and with each installed one; without
                       a display (no --png) a clear error, not a crash
  adapt-*.sh           when the lstmadapt element exists: each writes a model that
                       label-file.sh then uses (otherwise reported as skipped); labels
                       at the file's rate (as `phonemes align` writes them) are read at
                       that rate, labels at another rate are refused with the fix, the
                       element's warnings reach the user, self mode reports agreement
  print-adapt.awk      an error that gst-launch-1.0 wrote into the middle of a message
                       line (it prints errors from the posting thread) is shown and is
                       the first error; the message cut from its header is still read
  failures             label-file.sh on a file that is not audio, or with a model that
                       does not exist, says what failed (the pipeline's error) and exits
                       non-zero

Environment (tests/gst/meson.build): GST_PLUGIN_PATH, PH_MAKE_TEST_MODEL, PH_SOURCE_ROOT.
"""
import os
import re
import struct
import subprocess
import sys
import tempfile
import wave

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_common import TEXT, make_wav  # noqa: E402

PIPELINES = os.path.join(os.environ.get("PH_SOURCE_ROOT", "."), "pipelines")
SILENCES = {"h#", "pau", "epi"}
TIMELINE = re.compile(r"\s*(\d+\.\d{3})\s+(\d+\.\d{3})\s+(\S+)\s+(\S*)\s+(\d\.\d\d)(\s+-?\d+\.\d)?$")


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run_script(name, *args, env=None, timeout=120):
    """Runs pipelines/NAME; the completed process."""
    command = [os.path.join(PIPELINES, name)] + list(args)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                          env=dict(os.environ, **(env or {})))


def script(name, *args, env=None, timeout=120):
    """Runs pipelines/NAME; its stdout. Fails the test on a non-zero exit."""
    out = run_script(name, *args, env=env, timeout=timeout)
    if out.returncode != 0:
        fail("%s %s failed (%d):\n%s%s" % (name, " ".join(args), out.returncode, out.stdout,
                                           out.stderr))
    return out.stdout


def script_fails(name, *args, env=None, expect=()):
    """Runs pipelines/NAME, which must fail and say each of `expect` on stderr, and
    not blame a missing plugin."""
    out = run_script(name, *args, env=env)
    if out.returncode == 0:
        fail("%s %s succeeded:\n%s%s" % (name, " ".join(args), out.stdout, out.stderr))
    for text in expect:
        if text not in out.stderr:
            fail("%s %s: %r not said on stderr:\n%s" % (name, " ".join(args), text, out.stderr))
    if "is the plugin built" in out.stderr:
        fail("%s %s blames the plugin:\n%s" % (name, " ".join(args), out.stderr))
    return out


def parse_timeline(text, name):
    rows = [TIMELINE.match(line) for line in text.splitlines() if not line.startswith("#")]
    if not rows or not all(rows):
        fail("%s: not a timeline:\n%s" % (name, text))
    return [(float(m.group(1)), float(m.group(2)), m.group(3)) for m in rows]


def check_tiles(segments, duration, name):
    at = 0.0
    for start, end, phone in segments:
        if abs(start - at) > 0.0015 or end <= start:
            fail("%s: %s at %.3f-%.3f does not follow %.3f" % (name, phone, start, end, at))
        at = end
    if abs(at - duration) > 0.002:
        fail("%s: ends at %.3f s, the file lasts %.3f s" % (name, at, duration))


def check_phn(path, timeline, duration, rate):
    with open(path) as f:
        rows = [line.split() for line in f]
    samples = [(int(a), int(b), p) for a, b, p in rows]
    check_tiles([(a / rate, b / rate, p) for a, b, p in samples], duration, "PHN")
    if [p for _a, _b, p in samples] != [p for _s, _e, p in timeline]:
        fail("the PHN phones differ from the timeline's")
    print("write-phn.sh: %d phones, %d samples" % (len(samples), samples[-1][1]))


def cue_seconds(stamp):
    h, m, s = re.split(r":", stamp.replace(",", "."))
    return int(h) * 3600 + int(m) * 60 + float(s)


def parse_cues(text, srt):
    blocks = [b for b in text.strip().split("\n\n") if b]
    if not srt:
        if blocks[0] != "WEBVTT":
            fail("WebVTT without its header")
        blocks = blocks[1:]
    cues = []
    for number, block in enumerate(blocks, 1):
        lines = block.split("\n")
        if srt:
            if lines[0] != str(number):
                fail("SRT cue %d numbered %r" % (number, lines[0]))
            lines = lines[1:]
        m = re.match(r"(\d\d:\d\d:\d\d[,.]\d{3}) --> (\d\d:\d\d:\d\d[,.]\d{3})$", lines[0])
        if not m or len(lines) != 2 or ("," in lines[0]) != srt:
            fail("bad cue: %r" % block)
        cues.append((cue_seconds(m.group(1)), cue_seconds(m.group(2)), lines[1]))
    for (s1, e1, _t1), (s2, _e2, _t2) in zip(cues, cues[1:]):
        if not s1 < e1 <= s2:
            fail("cues overlap or go back: %s" % cues)
    return cues


def check_subtitles(srt_text, vtt_text, timeline):
    spoken = [p for _s, _e, p in timeline if p not in SILENCES]
    phone_cues = parse_cues(srt_text, srt=True)
    if [t.split(" (")[0] for _s, _e, t in phone_cues] != spoken:
        fail("SRT cues are not the spoken phones of the timeline")
    if not all(re.search(r" \(\d+%\)$", t) for _s, _e, t in phone_cues):
        fail("SRT cues lack the confidence")
    word_cues = parse_cues(vtt_text, srt=False)
    grouped = [t.split() for _s, _e, t in word_cues]
    if sum(grouped, []) != spoken or max(len(g) for g in grouped) > 6:
        fail("WebVTT word cues do not group the spoken phones (<= 6 per cue)")
    print("write-subtitles.sh: %d phone cues (SRT), %d word cues (WebVTT)" % (
        len(phone_cues), len(word_cues)))


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        fail("%s is not a PNG" % path)
    return struct.unpack(">II", head[16:24])


def element_exists(name):
    return subprocess.run(["gst-inspect-1.0", "--exists", "--atleast-version=0.0.0",
                           name]).returncode == 0


def check_visualize_frames(wav, model, frames_dir, duration, scope_args):
    name = "visualize.py " + " ".join(scope_args or ["(default scope)"])
    script("visualize.py", wav, "--model", model, "--png", frames_dir, "--fps", "10",
           *scope_args)
    names = sorted(os.listdir(frames_dir))
    expected = int(duration * 10)
    if not expected - 2 <= len(names) <= expected + 2:
        fail("%s: %d frames for %.2f s at 10 fps" % (name, len(names), duration))
    if any(png_size(os.path.join(frames_dir, n)) != (640, 360) for n in names):
        fail("%s: frames are not 640x360" % name)
    contents = {open(os.path.join(frames_dir, n), "rb").read() for n in names}
    if len(contents) < len(names) // 2:
        fail("%s: the picture hardly changes" % name)
    print("%s: %d frames, 640x360" % (name, len(names)))


def check_visualize_without_display(wav, model):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    out = subprocess.run([os.path.join(PIPELINES, "visualize.py"), wav, "--model", model],
                         capture_output=True, text=True, timeout=60, env=env)
    if out.returncode != 1 or "no display: use --png" not in out.stderr:
        fail("visualize.py without a display: exit %d, %r (expected 1 and 'no display: use "
             "--png')" % (out.returncode, out.stderr))
    print("visualize.py without a display: %s" % out.stderr.strip())


def check_visualize(wav, model, tmp, duration):
    """The default scope and every installed one hold --fps (scopes from gst-plugins-bad
    choose their own rate without the videorate)."""
    runs = [[]] + [["--scope", s] for s in ("monoscope", "spectrascope", "wavescope",
                                             "synaescope") if element_exists(s)]
    for i, scope_args in enumerate(runs):
        check_visualize_frames(wav, model, os.path.join(tmp, "frames-%d" % i), duration,
                               scope_args)
    check_visualize_without_display(wav, model)


def lstmadapt_available():
    return element_exists("lstmadapt")


def phn_at_rate(phn, from_rate, rate, path):
    """The labels of `phn` (samples at `from_rate`) in samples at `rate`."""
    with open(phn) as f, open(path, "w") as out:
        for line in f:
            start, end, phone = line.split()
            out.write("%d %d %s\n" % (int(start) * rate // from_rate,
                                      int(end) * rate // from_rate, phone))
    return path


# gst-launch-1.0 -m output where the streaming thread's error landed between the header
# and the body of a message the main thread was printing (a few runs in a hundred of
# adapt-supervised.sh with labels at the wrong rate): the element's error, then the
# pipeline's error that follows from it.
SPLICED = """Got message #81 from element "fakesink0" (tag): ERROR: from element \
/GstPipeline:pipeline0/GstLstmAdapt:lstmadapt0: labels misfit: set labels-rate=16000
Additional debug info:
gstlstmadapt.c(418): check_labels_against_duration (): lstmadapt0
ERROR: pipeline doesn't want to preroll.
Got message #90 from element "lstmadapt0" (element): lstmadapt, running-time=(guint64)1000000000, \
updates=(guint64)3, frames-trained=(guint64)30, windows-dropped=(guint64)0, loss=(double)1.5;
GstMessageTag, taglist=(taglist)"taglist\\,\\ container-format\\=\\(string\\)WAV\\;";
Got message #91 from element "lstmphonemes0" (element): ERROR: from element \
/GstPipeline:pipeline0/GstDecodeBin:decodebin0/GstWavParse:wavparse0: Internal data stream error.
lstmadapt, running-time=(guint64)2000000000, updates=(guint64)6, frames-trained=(guint64)60, \
windows-dropped=(guint64)0, loss=(double)1.25;
"""


def check_print_adapt_spliced_error():
    out = subprocess.run([os.path.join(PIPELINES, "print-adapt.awk")], input=SPLICED,
                         capture_output=True, text=True, timeout=30)
    errors = out.stderr.splitlines()
    if out.returncode != 1 or len(errors) != 1 or not errors[0].startswith(
            "ERROR: from element /GstPipeline:pipeline0/GstLstmAdapt:lstmadapt0: ") \
            or "labels-rate=16000" not in errors[0]:
        fail("print-adapt.awk on an error written into a message line: exit %d, stderr:\n%s"
             % (out.returncode, out.stderr))
    if len(out.stdout.splitlines()) != 2 or "updates      6" not in out.stdout:
        fail("print-adapt.awk loses the progress around a spliced error:\n" + out.stdout)
    print("print-adapt.awk: an error spliced into a message line is shown first")


def check_adaptation(wav, phn, model, tmp):
    if not lstmadapt_available():
        print("SKIPPED PART: adaptation scripts (the lstmadapt element is not built yet)")
        return
    with wave.open(wav, "rb") as w:
        rate = w.getframerate()
    # write-phn.sh writes samples at the file's rate, as `phonemes align` does; the same
    # labels in 16 kHz samples stand for labels written at another rate.
    at_file_rate = phn
    at_16k = phn_at_rate(phn, rate, 16000, os.path.join(tmp, "16k.PHN"))
    fast = {"MODEL": model, "PACE": "fast"}
    # Labels at another rate than the file's, without labels-rate: read at the file's
    # rate, they do not fit, and are refused with the fix; nothing is written.
    if rate != 16000:
        refused = os.path.join(tmp, "refused.phm")
        script_fails("adapt-supervised.sh", wav, at_16k, refused, env=fast,
                     expect=("ERROR", "labels-rate=16000"))
        if os.path.exists(refused):
            fail("adapt-supervised.sh wrote a model from labels it refused")
        print("adapt-supervised.sh: labels at another rate refused")
    # The element's warnings reach the user: nothing trained at confidence 1.
    out = run_script("adapt-self.sh", os.path.join(tmp, "none.phm"), wav,
                     "confidence-threshold=1.0", env=fast)
    if "WARNING" not in out.stderr or "Nothing was adapted" not in out.stderr:
        fail("adapt-self.sh does not show the element's warning:\n%s%s" % (out.stdout,
                                                                           out.stderr))
    runs = {   # real time (as live) once, PACE=fast twice
        "adapt-supervised.sh": ((wav, at_16k, os.path.join(tmp, "supervised.phm"), "k1=10",
                                 "k2=20", "labels-rate=16000"), "fast"),
        "adapt-prompted.sh": ((TEXT, os.path.join(tmp, "prompted.phm"), wav), ""),
        "adapt-self.sh": ((os.path.join(tmp, "self.phm"), wav, "confidence-threshold=0.0"),
                          "fast"),
    }
    runs["adapt-supervised.sh (labels at the file's rate)"] = (
        (wav, at_file_rate, os.path.join(tmp, "supervised-file-rate.phm")), "fast")
    for name, (args, pace) in runs.items():
        # prompted: the built-in model, which can tell whether the reading matches the
        # prompt (with a random one nothing matches, and nothing is trained)
        env = {"PACE": pace} if name == "adapt-prompted.sh" else {"MODEL": model, "PACE": pace}
        out = script(name.split()[0], *args, env=env)
        if "dropped    0" not in out.splitlines()[-1]:
            fail("%s dropped training windows:\n%s" % (name, out))
        if "-1.000" in out:
            fail("%s reports a measure of -1:\n%s" % (name, out))
        measure = "agreement" if name == "adapt-self.sh" else "accuracy"
        if not all(measure in line for line in out.splitlines()):
            fail("%s does not report its %s:\n%s" % (name, measure, out))
        adapted = [a for a in args if a.endswith(".phm")][0]
        if not os.path.getsize(adapted):
            fail("%s wrote an empty model" % name)
        relabelled = parse_timeline(script("label-file.sh", wav, "model=" + adapted),
                                    "label-file.sh with the adapted model")
        print("%s: %d progress lines; the adapted model labels %d segments" % (
            name, len(out.splitlines()), len(relabelled)))


def main():
    with tempfile.TemporaryDirectory(prefix="phonemes-pipelines-") as tmp:
        model = os.path.join(tmp, "model.phm")
        subprocess.run([os.environ["PH_MAKE_TEST_MODEL"], model, "16000", "13"], check=True)
        wav = make_wav(tmp)
        with wave.open(wav, "rb") as w:
            rate, duration = w.getframerate(), w.getnframes() / w.getframerate()

        timeline = parse_timeline(script("label-file.sh", wav, "model=" + model),
                                  "label-file.sh")
        check_tiles(timeline, duration, "label-file.sh")
        print("label-file.sh: %d segments tile %.3f s" % (len(timeline), duration))

        phn = os.path.join(tmp, "speech.PHN")
        script("write-phn.sh", wav, phn, "model=" + model)
        check_phn(phn, timeline, duration, rate)

        srt, vtt = os.path.join(tmp, "phones.srt"), os.path.join(tmp, "words.vtt")
        script("write-subtitles.sh", wav, srt, "model=" + model)
        script("write-subtitles.sh", wav, vtt, "word", "model=" + model)
        with open(srt) as f_srt, open(vtt) as f_vtt:
            check_subtitles(f_srt.read(), f_vtt.read(), timeline)

        watched = script("watch-phonemes.py", "filesrc", "location=" + wav, "!", "decodebin",
                         "!", "audioconvert", "!", "audioresample", "!", "lstmphonemes",
                         "model=" + model, "!", "fakesink")
        if parse_timeline(watched, "watch-phonemes.py") != timeline:
            fail("watch-phonemes.py and label-file.sh disagree on the file")
        live = script("label-live.sh", "model=" + model, env={
            "PHONEMES_MIC": "audiotestsrc is-live=true wave=pink-noise", "SECONDS_TO_RUN": "1.5"})
        rows = parse_timeline(live, "label-live.sh")
        if "(live)" not in live or not all(line.split()[5:] for line in live.splitlines()
                                           if not line.startswith("#")):
            fail("label-live.sh: no live header or lag column:\n" + live)
        print("label-live.sh: %d phones with their lag" % len(rows))

        check_visualize(wav, model, tmp, duration)
        check_print_adapt_spliced_error()
        check_adaptation(wav, phn, model, tmp)

        readme = os.path.join(os.environ.get("PH_SOURCE_ROOT", "."), "README.md")
        script_fails("label-file.sh", readme, "model=" + model, expect=("ERROR",))
        missing = os.path.join(tmp, "no-such-model.phm")
        script_fails("label-file.sh", wav, "model=" + missing, expect=("ERROR", missing))
        print("label-file.sh: a file that is not audio and a missing model say what failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
