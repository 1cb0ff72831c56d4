#!/usr/bin/env python3
"""docs/features.md is a recipe an independent implementation can follow: this is that
recipe, transcribed naively in float64 (a plain DFT, no FFT library), checked against
`phonemes features` (the shipped model's configuration: Hamming, 26 filters, 12 cepstra
+ log energy, CMN over 300 frames, deltas over +-2) on a signal with silence, tones and
noise. Usage: features_recipe.py PHONEMES_TOOL"""
import cmath
import math
import os
import struct
import subprocess
import sys
import tempfile
import wave

RATE = 16000
W = (RATE * 25 + 500) // 1000
H = (RATE * 10 + 500) // 1000
P = (W - H) // 2
PREEMPHASIS, M, C, LIFTER, N, CMN = 0.97, 26, 12, 22, 2, 300
LOW_HZ, HIGH_HZ = 20.0, RATE / 2


def test_signal():
    """0.1 s of silence, then tones and noise: 0.6 s of 16-bit samples."""
    seed, out = 1, []
    for j in range(int(0.6 * RATE)):
        seed = (seed * 1103515245 + 12345) % 2**31
        if j < 0.1 * RATE:
            out.append(0)
            continue
        t = j / RATE
        x = 0.3 * math.sin(2 * math.pi * (200 + 900 * t) * t) + 0.1 * math.sin(2 * math.pi * 2500 * t)
        out.append(int(32767 * max(-1.0, min(1.0, x + 0.05 * (seed / 2**31 - 0.5)))))
    return out


def mel(hz):
    return 1127.0 * math.log(1.0 + hz / 700.0)


def filterbank(fft_size):
    low, spacing = mel(LOW_HZ), (mel(HIGH_HZ) - mel(LOW_HZ)) / (M + 1)
    rows = []
    for m in range(M):
        left = low + m * spacing
        centre, right = left + spacing, left + 2 * spacing
        row = []
        for k in range(fft_size // 2 + 1):
            f = mel(k * RATE / fft_size)
            row.append((f - left) / (centre - left) if left < f <= centre else
                       (right - f) / (right - centre) if centre < f < right else 0.0)
        rows.append(row)
    return rows


def base_frames(x):
    fft_size = 1 << (W - 1).bit_length()
    window = [0.54 - 0.46 * math.cos(2 * math.pi * j / (W - 1)) for j in range(W)]
    weights = filterbank(fft_size)
    twiddle = [cmath.exp(-2j * math.pi * q / fft_size) for q in range(fft_size)]
    lifter = [1 + LIFTER / 2 * math.sin(math.pi * k / LIFTER) for k in range(C + 1)]
    frames = []
    for i in range(math.ceil(len(x) / H)):
        start = i * H - P
        raw = [x[start + j] if 0 <= start + j < len(x) else 0.0 for j in range(W)]
        energy = math.log(max(sum(v * v for v in raw), 1e-10))
        y = [(raw[j] - PREEMPHASIS * raw[max(j - 1, 0)]) * window[j] for j in range(W)]
        power = [abs(sum(y[j] * twiddle[j * k % fft_size] for j in range(W))) ** 2
                 for k in range(fft_size // 2 + 1)]
        log_mel = [math.log(max(sum(a * b for a, b in zip(row, power)), 1e-10)) for row in weights]
        cepstra = [lifter[k] * math.sqrt(2 / M) *
                   sum(log_mel[m] * math.cos(math.pi * k * (m + 0.5) / M) for m in range(M))
                   for k in range(1, C + 1)]
        frames.append(cepstra + [energy])
    return frames


def features(x):
    base = base_frames(x)
    normalised = []
    for i, b in enumerate(base):
        n = min(i + 1, CMN)
        normalised.append([b[d] - sum(f[d] for f in base[i - n + 1:i + 1]) / n for d in range(len(b))])
    last, denominator = len(normalised) - 1, 2 * sum(n * n for n in range(1, N + 1))
    out = []
    for i, b in enumerate(normalised):
        deltas = [sum(n * (normalised[min(i + n, last)][d] - normalised[max(i - n, 0)][d])
                      for n in range(1, N + 1)) / denominator for d in range(len(b))]
        out.append(b + deltas)
    return out


def main():
    samples = test_signal()
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "recipe.wav")
        with wave.open(path, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(RATE)
            w.writeframes(struct.pack("<%dh" % len(samples), *samples))
        text = subprocess.run([sys.argv[1], "features", path], check=True,
                              capture_output=True, text=True).stdout
    got = [[float(v) for v in line.split()] for line in text.splitlines()]
    want = features([s / 32768.0 for s in samples])
    assert len(got) == len(want), (len(got), len(want))
    worst = 0.0
    for i, (g, w) in enumerate(zip(got, want)):
        assert len(g) == len(w) == 2 * (C + 1), (i, len(g))
        for d, (a, b) in enumerate(zip(g, w)):
            # phonemes prints 6 significant digits; the C code computes in float32
            error = abs(a - b) / (1e-3 + abs(b))
            worst = max(worst, error)
            assert abs(a - b) <= 1e-4 + 2e-5 * abs(b), (i, d, a, b)
    print("%d frames match docs/features.md (largest relative difference %.2g)" % (len(got), worst))


if __name__ == "__main__":
    main()
