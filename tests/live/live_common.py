"""Shared by the tests in tests/live: test audio."""
import math
import os
import shutil
import struct
import subprocess
import wave

TEXT = "The quick brown fox jumps over the lazy dog. She sells sea shells."


def synthetic_wav(path, rate=22050, seconds=2.5):
    """Vowel-like harmonic bursts with pauses, 16-bit mono (when espeak-ng is missing)."""
    frames = bytearray()
    for i in range(int(rate * seconds)):
        t = i / rate
        piece = int(t / 0.25)
        f0 = 110 + 20 * (piece % 5)
        voiced = piece % 3 != 2
        v = sum(math.sin(2 * math.pi * f0 * k * t) / k for k in range(1, 8)) if voiced else 0
        frames += struct.pack("<h", int(6000 * v))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


def make_wav(directory, text=TEXT):
    """directory/speech.wav: `text` spoken by espeak-ng, or synthetic without it."""
    path = os.path.join(directory, "speech.wav")
    if shutil.which("espeak-ng"):
        subprocess.run(["espeak-ng", "-w", path, text], check=True, timeout=60)
    else:
        synthetic_wav(path)
    return path
