#!/usr/bin/python3
"""torch_tbptt.py: PyTorch nn.LSTM doing the trainer's TBPTT(k1 = k2) for comparison.

The same work as bench-train's streaming mode: B endless streams of random frames and
phone targets; every k frames one truncated backward over the last k frames (the carried
state detached), global-norm clipping at 1.0 and one Adam step (lr 1e-3). Sizes: input
26, hidden H, L layers, 61 outputs, softmax cross-entropy averaged over the window.
PyTorch's LSTM has no peepholes and no input normalisation, so it does slightly less
arithmetic per frame than ours. Optional, for the benchmark only: needs python3-torch.

Prints one key=value line like bench-train.
"""
import argparse
import time

import torch


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--k", type=int, default=20, help="k1 = k2")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--frames", type=int, default=400, help="frames per stream per repetition")
    p.add_argument("--reps", type=int, default=5)
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(5)
    lstm = torch.nn.LSTM(26, a.hidden, num_layers=a.layers)
    out = torch.nn.Linear(a.hidden, 61)
    params = list(lstm.parameters()) + list(out.parameters())
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = torch.nn.CrossEntropyLoss()
    n_data = 200
    x_all = torch.rand(n_data, a.batch, 26) * 4 - 2
    y_all = torch.randint(0, 61, (n_data, a.batch))
    state = None

    def window(t0):
        nonlocal state
        idx = [(t0 + i) % n_data for i in range(a.k)]
        x, y = x_all[idx], y_all[idx]
        if state is not None:
            state = tuple(s.detach() for s in state)
        h, state = lstm(x, state)
        loss = loss_fn(out(h).reshape(-1, 61), y.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()

    cpu, wall = [], []
    n_windows = max(1, a.frames // a.k)
    for r in range(-1, a.reps):
        c0, w0 = time.process_time(), time.perf_counter()
        for w in range(n_windows):
            window(w * a.k)
        frames = n_windows * a.k * a.batch
        if r >= 0:
            cpu.append(frames / (time.process_time() - c0))
            wall.append(frames / (time.perf_counter() - w0))
    cpu.sort()
    wall.sort()
    med = lambda v: v[len(v) // 2] if len(v) % 2 else 0.5 * (v[len(v) // 2 - 1] + v[len(v) // 2])
    cpu_fps, wall_fps = med(cpu), med(wall)
    print(f"trainer=pytorch-{torch.__version__} hidden={a.hidden} layers={a.layers} "
          f"batch={a.batch} k1={a.k} k2={a.k} threads={a.threads} framewise=0 seq_len=0 "
          f"cpu_frames_per_s={cpu_fps:.0f} wall_frames_per_s={wall_fps:.0f} "
          f"frames_per_s={(wall_fps if a.threads > 1 else cpu_fps):.0f}", flush=True)


if __name__ == "__main__":
    main()
