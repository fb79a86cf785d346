"""PyTorch peer of bench:engine: gradient and HVP times of the benchmark MLP, single-thread CPU.

Usage: engine_torch.py <folder written by tools/bench/src/engine.ts> [threads (default 1)] [tag (default "set")]
Gradient: forward + torch.autograd.grad. HVP (as in issue 5's table): forward, grad with create_graph,
then grad of g·v, every call. Also the HVP on a kept graph (grad with create_graph once at θ, then only
the grad of g·v per call, retain_graph) — PyTorch's counterpart of our curvatureAt-then-hvp.
Median of 10 after 2 warm-ups, wall clock and CPU time (time.process_time: on a shared machine the CPU time of a
one-thread run is what the load changes least). Writes torch-<tag>-<threads>-<case>-grad.f32 / -hvp.f32 for the agreement check
and prints one line `RESULT {json}`.
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch

from lrscape_torch import flat, load_batch, load_f32, load_meta, loss_fn, parameters, split_flat

REPEATS, WARMUPS = 10, 2


def timed(fn):
    """Median wall ms and median CPU ms (this process, all its threads) of REPEATS calls after WARMUPS."""
    for _ in range(WARMUPS):
        fn()
    times, cpu = [], []
    for _ in range(REPEATS):
        start, start_cpu = time.perf_counter(), time.process_time()
        fn()
        times.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
    return statistics.median(times), statistics.median(cpu)


def main(folder, threads, tag):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    meta = load_meta(folder)
    x, y, labels = load_batch(folder, meta)
    theta = load_f32(folder, "theta.f32")
    v = split_flat(torch.from_numpy(load_f32(folder, "v.f32").copy()), meta)
    results = {}
    for case in meta["cases"]:
        name, activation, loss = case["name"], case["activation"], case["loss"]
        params = parameters(theta, meta)
        out = {}

        def grad():
            value = loss_fn(params, x, y, labels, activation, loss)
            out["loss"] = value.item()
            out["grad"] = torch.autograd.grad(value, params)

        def hvp():
            value = loss_fn(params, x, y, labels, activation, loss)
            g = torch.autograd.grad(value, params, create_graph=True)
            gv = sum((gi * vi).sum() for gi, vi in zip(g, v))
            out["hvp"] = torch.autograd.grad(gv, params)

        value = loss_fn(params, x, y, labels, activation, loss)
        kept = torch.autograd.grad(value, params, create_graph=True)

        def hvp_kept():
            gv = sum((gi * vi).sum() for gi, vi in zip(kept, v))
            out["hvp_kept"] = torch.autograd.grad(gv, params, retain_graph=True)

        grad_ms, grad_cpu_ms = timed(grad)
        hvp_ms, hvp_cpu_ms = timed(hvp)
        hvp_kept_ms, hvp_kept_cpu_ms = timed(hvp_kept)
        flat(out["grad"]).numpy().astype("<f4").tofile(os.path.join(folder, f"torch-{tag}-{threads}-{name}-grad.f32"))
        flat(out["hvp"]).numpy().astype("<f4").tofile(os.path.join(folder, f"torch-{tag}-{threads}-{name}-hvp.f32"))
        results[name] = {
            "grad_ms": grad_ms, "hvp_ms": hvp_ms, "hvp_retained_ms": hvp_kept_ms, "loss": out["loss"],
            "grad_cpu_ms": grad_cpu_ms, "hvp_cpu_ms": hvp_cpu_ms, "hvp_retained_cpu_ms": hvp_kept_cpu_ms,
        }
        print(f"{name}: grad {grad_ms:.1f} ms, hvp {hvp_ms:.1f} ms, hvp on kept graph {hvp_kept_ms:.1f} ms", flush=True)
    print("RESULT " + json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "repeats": REPEATS, "cases": results}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1, sys.argv[3] if len(sys.argv) > 3 else "set")
