#!/usr/bin/python3
"""`phonemes label --format F` and pipelines/phonemes-labels.py --format F (the element's
bus messages) write the same bytes, for every format, and each parses as its format:

  phn        integer samples at the file's rate, tiling the file
  textgrid   a Praat long-text TextGrid, tier "phones", intervals tiling [0, xmax]
  jsonl      one JSON object per line: start, end, phone, phone39, confidence (+ viseme)
  audacity   start<TAB>end<TAB>phone
  srt, vtt   numbered SubRip cues / a WebVTT header and cues, one per spoken phone

Environment (tests/live/meson.build): PH_TOOL, PH_MAKE_TEST_MODEL, PH_SOURCE_ROOT,
GST_PLUGIN_PATH.
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import wave

sys.dont_write_bytecode = True   # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from live_common import make_wav  # noqa: E402
from test_pipelines import SILENCES, check_tiles, fail, parse_cues  # noqa: E402

READER = os.path.join(os.environ.get("PH_SOURCE_ROOT", "."), "pipelines", "phonemes-labels.py")
FORMATS = [("phn",), ("textgrid",), ("jsonl",), ("audacity",), ("srt",), ("vtt",),
           ("vtt", "--group", "word")]


def run(command):
    out = subprocess.run(command, capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        fail("%s failed (%d):\n%s" % (" ".join(command), out.returncode, out.stderr))
    return out.stdout


def parse_phn(text, rate):
    rows = [line.split() for line in text.splitlines()]
    if not rows or any(len(r) != 3 or not (r[0].isdigit() and r[1].isdigit()) for r in rows):
        fail("not a .PHN:\n" + text)
    return [(int(a) / rate, int(b) / rate, p) for a, b, p in rows]


def parse_textgrid(text):
    if not text.startswith('File type = "ooTextFile"\nObject class = "TextGrid"\n'):
        fail("TextGrid without its header")
    if 'name = "phones"' not in text:
        fail("TextGrid without a phones tier")
    size = int(re.search(r"intervals: size = (\d+)", text).group(1))
    intervals = re.findall(r'intervals \[\d+\]:\s+xmin = (\S+)\s+xmax = (\S+)\s+text = "([^"]*)"',
                           text)
    if len(intervals) != size:
        fail("TextGrid: %d intervals, size says %d" % (len(intervals), size))
    xmax = float(re.search(r"\nxmax = (\S+)", text).group(1))
    segments = [(float(a), float(b), p) for a, b, p in intervals]
    if abs(segments[-1][1] - xmax) > 1e-9:
        fail("TextGrid: the last interval does not end at xmax")
    return segments


def parse_jsonl(text):
    segments = []
    for line in text.splitlines():
        record = json.loads(line)
        if set(record) - {"viseme"} != {"start", "end", "phone", "phone39", "confidence"}:
            fail("JSON line with fields %s" % sorted(record))
        if not 0 <= record["confidence"] <= 1:
            fail("JSON line with confidence %s" % record["confidence"])
        segments.append((record["start"], record["end"], record["phone"]))
    return segments


def parse_audacity(text):
    rows = [line.split("\t") for line in text.splitlines()]
    if any(len(r) != 3 for r in rows):
        fail("not an Audacity label track:\n" + text)
    return [(float(a), float(b), p) for a, b, p in rows]


def check_format(fmt, text, rate, duration):
    if fmt in ("srt", "vtt"):
        cues = parse_cues(text, srt=fmt == "srt")
        return len(cues), [c[2].split(" (")[0] for c in cues]
    segments = {"phn": lambda: parse_phn(text, rate), "textgrid": lambda: parse_textgrid(text),
                "jsonl": lambda: parse_jsonl(text), "audacity": lambda: parse_audacity(text)}[fmt]()
    check_tiles(segments, duration, fmt)
    return len(segments), [p for _s, _e, p in segments if p not in SILENCES]


def main():
    tool = os.environ["PH_TOOL"]
    with tempfile.TemporaryDirectory(prefix="phonemes-formats-") as tmp:
        model = os.path.join(tmp, "model.phm")
        subprocess.run([os.environ["PH_MAKE_TEST_MODEL"], model, "16000", "13"], check=True)
        wav = make_wav(tmp)
        with wave.open(wav, "rb") as w:
            rate, duration = w.getframerate(), w.getnframes() / w.getframerate()
        spoken = None
        for fmt, *options in FORMATS:
            from_cli = run([tool, "label", "--model", model, "--format", fmt, *options, wav])
            from_bus = run(["/usr/bin/python3", READER, "--format", fmt, *options, wav,
                            "model=" + model])
            if from_cli != from_bus:
                fail("%s: phonemes label and phonemes-labels.py differ:\n%s\n---\n%s" % (
                    fmt, from_cli, from_bus))
            n, phones = check_format(fmt, from_cli, rate, duration)
            if options:   # word groups: the same phones, at most 6 per cue
                phones = sum((p.split() for p in phones), [])
            if spoken is not None and phones != spoken:
                fail("%s: other spoken phones than phn's" % " ".join([fmt] + options))
            spoken = phones
            print("%s: %d entries, the same from the command and the bus" % (
                " ".join([fmt] + options), n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
