#!/usr/bin/python3
"""pipelines/enroll.sh, the one-command enrollment, with the built-in model:

  recordings on disk    flite-slt (a voice no shipped model trained on) reads 8 prompts
                        (`phonemes corpus synth --text`): the script adapts on the read
                        ones, the element replays them and reports the pass it kept,
                        the script writes a model that `phonemes label` loads, reports
                        the reading followed to its last word, and prints before/after
                        figures on the held-back ones
  the microphone        a live audiotestsrc stands in for it (PHONEMES_MIC) behind a
                        pseudo-terminal that presses Enter at each prompt: every
                        recording is a WAV of the right format, and a tone that matches
                        no prompt leaves the model as it was (written out unchanged)
  failures              no recordings and no terminal; too few prompts for the three
                        parts; a missing model; a bad MAX_PASSES or REPLAY_HOLDOUT; a
                        microphone source
                        that cannot start: each a clear message and exit status 1

Environment (tests/live/meson.build): GST_PLUGIN_PATH, PH_SOURCE_ROOT, PH_TOOL.
Needs Debian's /usr/bin/python3 (standard library only).
"""
import os
import re
import select
import shutil
import subprocess
import sys
import tempfile
import time
import wave

SCRIPT = os.path.join(os.environ.get("PH_SOURCE_ROOT", "."), "pipelines", "enroll.sh")
TOOL = os.environ.get("PH_TOOL", "phonemes")
PROMPTS = [
    "She saw him not far off.",
    "If he fears me, why come hither?",
    "I have been quite wretched without you.",
    "They walked on together in silence.",
    "The weather was remarkably fine.",
    "Nobody could be more kind than she was.",
    "We shall meet again in the morning.",
    "He looked at the letter for a long time.",
]


def fail(message):
    print("FAIL: " + message)
    sys.exit(1)


def run_enroll(out, rec_dir, env, timeout=240):
    return subprocess.run([SCRIPT, out, rec_dir], capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL,
                          env=dict(os.environ, PHONEMES=TOOL, **env))


def synthesize_readings(tmp):
    """DIR/NN.wav: flite-slt reading prompt NN; the prompts file."""
    prompts = os.path.join(tmp, "prompts.txt")
    with open(prompts, "w") as f:
        f.write("# test prompts\n\n" + "\n".join(PROMPTS) + "\n")
    corpus = os.path.join(tmp, "corpus")
    subprocess.run([TOOL, "corpus", "synth", "--out", corpus, "--voices", "flite-slt",
                    "--text", prompts, "--text-split", "all", "--minutes", "1.5",
                    "--seed", "3"], check=True, capture_output=True, timeout=120)
    voice_dir = os.path.join(corpus, "flite-slt")
    by_text = {}
    for name in sorted(os.listdir(voice_dir)):
        if name.endswith(".TXT"):
            with open(os.path.join(voice_dir, name)) as f:
                text = f.read().split(" ", 2)[2].strip()
            by_text.setdefault(text, os.path.join(voice_dir, name[:-4] + ".wav"))
    rec_dir = os.path.join(tmp, "rec")
    os.makedirs(rec_dir)
    for i, text in enumerate(PROMPTS):
        if text not in by_text:
            fail("corpus synth did not read %r" % text)
        shutil.copy(by_text[text], os.path.join(rec_dir, "%02d.wav" % (i + 1)))
    return prompts, rec_dir


def figures(stdout):
    """(before, after) phone error rates printed by the script."""
    found = {}
    for line in stdout.splitlines():
        m = re.match(r"\s+(before|after)\s+(\d+\.\d+)%", line)
        if m:
            found[m.group(1)] = float(m.group(2))
    if set(found) != {"before", "after"}:
        fail("no before/after figures in:\n" + stdout)
    return found["before"], found["after"]


def check_recordings_on_disk(tmp):
    prompts, rec_dir = synthesize_readings(tmp)
    out = os.path.join(tmp, "slt.phm")
    # 8 prompts, HOLD_EVERY=4: 2 held back (4, 8), 6 read; the element holds back every
    # second segment of the reading to choose between its 2 passes.
    r = run_enroll(out, rec_dir, {"PROMPTS": prompts, "COUNT": "8", "HOLD_EVERY": "4",
                                  "MAX_PASSES": "2", "REPLAY_HOLDOUT": "2"})
    if r.returncode != 0:
        fail("enroll.sh failed (%d):\n%s%s" % (r.returncode, r.stdout, r.stderr))
    if "adapting to 6 prompts" not in r.stderr or "up to 2 passes" not in r.stderr:
        fail("the parts are not 6 read / 2 held back, or not 2 passes:\n" + r.stderr)
    kept = re.search(r"replay kept pass (\d+)", r.stderr)
    if not kept or int(kept.group(1)) > 2:
        fail("the element did not say which pass it kept:\n" + r.stderr)
    adapted = os.path.join(rec_dir, "adapted.phm")
    with open(out, "rb") as a, open(adapted, "rb") as b:
        same = a.read() == b.read()
    if ("unchanged" in r.stdout) == (int(kept.group(1)) > 0) or \
            (int(kept.group(1)) > 0 and not same):
        fail("the model written is not the one the element kept (pass %s):\n%s"
             % (kept.group(1), r.stdout))
    words = sum(len(PROMPTS[i].split()) for i in (0, 1, 2, 4, 5, 6))
    if not re.search(r"prompt %d/%d words" % (words, words), r.stderr):
        fail("the reading was not followed to its last word (%d):\n%s" % (words, r.stderr))
    before, after = figures(r.stdout)
    if not 0 < before < 100 or not 0 <= after < 100:
        fail("implausible figures %.2f -> %.2f" % (before, after))
    label = subprocess.run([TOOL, "label", "--model", out, rec_dir + "/04.wav"],
                           capture_output=True, text=True, timeout=60)
    if label.returncode != 0 or len(label.stdout.splitlines()) < 5:
        fail("phonemes label cannot use the enrolled model:\n" + label.stderr)
    if not os.path.isdir(os.path.join(rec_dir, "held-back")):
        fail("no held-back corpus kept")
    print("recordings on disk: %.2f%% -> %.2f%% on the held-back prompts" % (before, after))


def wav_ok(path):
    with wave.open(path, "rb") as w:
        return (w.getframerate() == 16000 and w.getnchannels() == 1 and
                w.getsampwidth() == 2 and w.getnframes() > 1600)


def run_at_terminal(out, rec_dir, env, timeout=240):
    """Runs enroll.sh with a pseudo-terminal for stdin that presses Enter 1.5 s after each
    prompt is shown; (exit status, stdout, stderr)."""
    master, slave = os.openpty()
    proc = subprocess.Popen([SCRIPT, out, rec_dir], stdin=slave, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=dict(os.environ, PHONEMES=TOOL, **env))
    os.close(slave)
    stderr = b""
    answered = 0
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stderr], [], [], 1)
        chunk = os.read(proc.stderr.fileno(), 65536) if ready else b""
        if ready and not chunk:
            break                           # the script closed stderr: it is ending
        stderr += chunk
        if stderr.count(b"press Enter") > answered:
            time.sleep(1.5)
            os.write(master, b"\n")
            answered += 1
    try:
        proc.wait(timeout=max(1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        proc.kill()
        fail("enroll.sh at a terminal did not finish:\n" + stderr.decode())
    os.close(master)
    return proc.returncode, proc.stdout.read().decode(), stderr.decode()


def check_microphone(tmp):
    """A tone recording per prompt (Enter 1.5 s after each prompt)."""
    prompts = os.path.join(tmp, "mic-prompts.txt")
    with open(prompts, "w") as f:
        f.write("\n".join(PROMPTS[:4]) + "\n")
    rec_dir = os.path.join(tmp, "mic")
    out = os.path.join(tmp, "mic.phm")
    returncode, stdout, stderr = run_at_terminal(out, rec_dir, {
        "PROMPTS": prompts, "COUNT": "4", "HOLD_EVERY": "3", "MAX_PASSES": "1",
        "PHONEMES_MIC": "audiotestsrc is-live=true freq=300"})
    if returncode != 0:
        fail("enroll.sh with a microphone failed (%d):\n%s%s" % (returncode, stdout, stderr))
    if stderr.count("press Enter") != 4:
        fail("not 4 prompts shown:\n" + stderr)
    for i in range(1, 5):
        if not wav_ok(os.path.join(rec_dir, "%02d.wav" % i)):
            fail("recording %d is not a 16 kHz mono 16-bit WAV of some length" % i)
    start = os.path.join(tmp, "built-in.phm")
    subprocess.run([TOOL, "round-weights", "-o", start], check=True, capture_output=True)
    with open(start, "rb") as a, open(out, "rb") as b:
        unchanged = a.read() == b.read()
    if "unchanged" in stdout and not unchanged:
        fail("the script says unchanged but wrote another model")
    if not unchanged:
        fail("a tone read as the prompts changed the model:\n" + stdout + stderr)
    print("microphone: 4 prompts recorded; a tone leaves the model unchanged")


def check_failures(tmp):
    r = run_enroll(os.path.join(tmp, "x.phm"), os.path.join(tmp, "empty"), {})
    if r.returncode == 0 or "no terminal to record it" not in r.stderr:
        fail("no recordings, no terminal: %d\n%s" % (r.returncode, r.stderr))
    r = run_enroll(os.path.join(tmp, "x.phm"), os.path.join(tmp, "empty"), {"COUNT": "2"})
    if r.returncode == 0 or "each part needs one at least" not in r.stderr:
        fail("2 prompts: %d\n%s" % (r.returncode, r.stderr))
    r = run_enroll(os.path.join(tmp, "x.phm"), os.path.join(tmp, "empty"),
                   {"MODEL": os.path.join(tmp, "missing.phm")})
    if r.returncode == 0 or "cannot read the model" not in r.stderr:
        fail("missing model: %d\n%s" % (r.returncode, r.stderr))
    r = run_enroll(os.path.join(tmp, "x.phm"), os.path.join(tmp, "empty"),
                   {"MAX_PASSES": "0"})
    if r.returncode == 0 or "MAX_PASSES must be a positive whole number" not in r.stderr:
        fail("MAX_PASSES=0: %d\n%s" % (r.returncode, r.stderr))
    r = run_enroll(os.path.join(tmp, "x.phm"), os.path.join(tmp, "empty"),
                   {"REPLAY_HOLDOUT": "1"})
    if r.returncode == 0 or "REPLAY_HOLDOUT must be a whole number" not in r.stderr:
        fail("REPLAY_HOLDOUT=1: %d\n%s" % (r.returncode, r.stderr))
    returncode, _, stderr = run_at_terminal(os.path.join(tmp, "x.phm"),
                                            os.path.join(tmp, "broken-mic"),
                                            {"PHONEMES_MIC": "no-such-audio-source"}, timeout=60)
    if returncode == 0 or "did not start" not in stderr or "press Enter" not in stderr:
        fail("a microphone that cannot start: %d\n%s" % (returncode, stderr))
    print("failures: clear messages")


def main():
    with tempfile.TemporaryDirectory() as tmp:
        check_failures(tmp)
        check_recordings_on_disk(tmp)
        check_microphone(tmp)
    return 0


if __name__ == "__main__":
    sys.exit(main())
