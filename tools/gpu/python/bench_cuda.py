"""PyTorch CUDA peer of the GPU check's engine bench (tools/gpu/src/bench.ts), on the same GPU.

Usage: bench_cuda.py <folder written by `bench.ts data`> [repeats (default 10)]
(BENCH_TORCH_DEVICE=cpu runs the same on the CPU: a dry run of this script where there is no GPU.)
The model, losses and files are bench:engine's (tools/bench/python/lrscape_torch.py), float32 on cuda:0.
Gradient: forward + torch.autograd.grad, on the GPU; also with the gradient copied to the host (what our engine
always does: its float64 sums are on the CPU). HVP: forward, grad with create_graph, grad of g·v, every call;
also on a kept graph (grad with create_graph once, then only the grad of g·v). Each time is the median of
`repeats` calls after 3 warm-ups, each call closed by torch.cuda.synchronize(). Writes
torch-cuda-<case>-grad.f32 / -hvp.f32 for the agreement check and prints one line `RESULT {json}`.
"""
import json
import os
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench", "python"))
from lrscape_torch import flat, load_batch, load_f32, load_meta, loss_fn, parameters, split_flat  # noqa: E402

WARMUPS = 3


DEVICE = torch.device(os.environ.get("BENCH_TORCH_DEVICE", "cuda:0"))
sync = torch.cuda.synchronize if DEVICE.type == "cuda" else (lambda: None)


def timed(fn, repeats):
    for _ in range(WARMUPS):
        fn()
    sync()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        sync()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main(folder, repeats):
    device = DEVICE
    torch.backends.cuda.matmul.allow_tf32 = False  # float32 products, as ours
    torch.backends.cudnn.allow_tf32 = False
    meta = load_meta(folder)
    x, y, labels = (t.to(device) for t in load_batch(folder, meta))
    theta = load_f32(folder, "theta.f32")
    v = [t.to(device) for t in split_flat(torch.from_numpy(load_f32(folder, "v.f32").copy()), meta)]
    results = {}
    for case in meta["cases"]:
        name, activation, loss = case["name"], case["activation"], case["loss"]
        params = [p.detach().to(device).requires_grad_(True) for p in parameters(theta, meta)]
        out = {}

        def grad():
            value = loss_fn(params, x, y, labels, activation, loss)
            out["loss"] = value
            out["grad"] = torch.autograd.grad(value, params)

        def grad_to_host():
            grad()
            out["grad_host"] = flat(out["grad"]).cpu()

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

        grad_ms = timed(grad, repeats)
        grad_to_host_ms = timed(grad_to_host, repeats)
        hvp_ms = timed(hvp, repeats)
        hvp_kept_ms = timed(hvp_kept, repeats)
        flat(out["grad"]).cpu().numpy().astype("<f4").tofile(os.path.join(folder, f"torch-cuda-{name}-grad.f32"))
        flat(out["hvp"]).cpu().numpy().astype("<f4").tofile(os.path.join(folder, f"torch-cuda-{name}-hvp.f32"))
        results[name] = {"grad_ms": grad_ms, "grad_to_host_ms": grad_to_host_ms, "hvp_ms": hvp_ms, "hvp_retained_ms": hvp_kept_ms, "loss": out["loss"].item()}
        print(f"{name}: grad {grad_ms:.2f} ms (to host {grad_to_host_ms:.2f}), hvp {hvp_ms:.2f} ms, on a kept graph {hvp_kept_ms:.2f} ms", flush=True)
    print("RESULT " + json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(0) if DEVICE.type == "cuda" else "cpu", "n": meta["n"], "repeats": repeats, "cases": results}))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10)
