"""SciPy peer of bench:lanczos: top-k eigenpairs of the benchmark MLP's Hessian by scipy.sparse.linalg.eigsh
(ARPACK, which='LA') on PyTorch HVPs, at the θ and θ' written by tools/bench/src/lanczos.ts.

Usage: lanczos_scipy.py <folder>
HVPs: float32 double backward on a kept graph (grad with create_graph once per θ, then the grad of g·v per
matvec, retain_graph), counted in the LinearOperator's matvec. For each tol of the bench's grid, loosest
first, eigsh runs from v0 and the true relative residuals ‖Hu − λu‖/|λ| of its pairs are measured with
extra, uncounted HVPs; the first tol meeting the target is reported. At θ' the warm run starts from
v0 = the sum of θ's eigenvectors (what our warm start uses), the cold one from the random v0.
Prints one line `RESULT {json}`.
"""
import json
import sys
import time

import numpy as np
import scipy
import scipy.sparse.linalg as sla
import torch

from lrscape_torch import flat, load_batch, load_f32, load_meta, loss_fn, parameters, split_flat


class Hessian:
    """H at θ as a counted float64 LinearOperator over float32 PyTorch HVPs."""

    def __init__(self, theta, meta, batch):
        x, y, labels = batch
        self.meta = meta
        self.params = parameters(theta, meta)
        value = loss_fn(self.params, x, y, labels, meta["activation"], meta["loss"])
        self.grad = torch.autograd.grad(value, self.params, create_graph=True)
        self.size = sum(p.numel() for p in self.params)
        self.count = 0
        self.hvp_seconds = 0.0

    def hvp(self, v):
        vt = split_flat(torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32).ravel()), self.meta)
        hv = torch.autograd.grad(self.grad, self.params, grad_outputs=vt, retain_graph=True)
        return flat(hv).numpy().astype(np.float64)

    def counted(self, v):
        self.count += 1
        start = time.perf_counter()
        hv = self.hvp(v)
        self.hvp_seconds += time.perf_counter() - start
        return hv

    def operator(self):
        return sla.LinearOperator((self.size, self.size), matvec=self.counted, dtype=np.float64)


def worst_relative_residual(h, values, vectors):
    worst = 0.0
    for i, value in enumerate(values):
        u = vectors[:, i]
        worst = max(worst, float(np.linalg.norm(h.hvp(u) - value * u) / abs(value)))
    return worst


def scan(theta, meta, batch, v0, label):
    """Loosest tol of the grid whose eigsh result meets the target; seconds = setup at θ + eigsh."""
    out = {"tol": None, "hvps": None, "seconds": None, "split": None, "worst": None, "values": [], "vectors": None, "scan": []}
    for tol in meta["tolerances"]:
        start = time.perf_counter()
        h = Hessian(theta, meta, batch)
        setup = time.perf_counter() - start
        values, vectors = sla.eigsh(h.operator(), k=meta["count"], which="LA", tol=tol, v0=v0)
        seconds = time.perf_counter() - start
        order = np.argsort(values)[::-1]
        values, vectors = values[order], vectors[:, order]
        worst = worst_relative_residual(h, values, vectors)
        out["scan"].append({"tol": tol, "hvps": h.count, "seconds": seconds, "worst": worst})
        print(f"{label}: tol {tol:.0e} -> {h.count} HVPs, {seconds:.1f} s, worst true relative residual {worst:.2e}", flush=True)
        if worst <= meta["target"]:
            split = {"setup": setup, "hvp": h.hvp_seconds, "arpack": seconds - setup - h.hvp_seconds}
            out.update(tol=tol, hvps=h.count, seconds=seconds, split=split, worst=worst, values=[float(v) for v in values], vectors=vectors)
            break
    return out


def main(folder):
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    meta = load_meta(folder)
    batch = load_batch(folder, meta)
    theta = load_f32(folder, "theta.f32")
    theta_next = load_f32(folder, "theta_next.f32")
    size = theta.size
    v0 = np.random.default_rng(meta["seed"]).standard_normal(size)

    at_theta = scan(theta, meta, batch, v0, "eigsh at θ")
    warm_v0 = at_theta["vectors"].sum(axis=1) if at_theta["vectors"] is not None else v0
    next_warm = scan(theta_next, meta, batch, warm_v0, "eigsh at θ' warm")
    next_cold = scan(theta_next, meta, batch, v0, "eigsh at θ' cold")
    for r in (at_theta, next_warm, next_cold):
        r.pop("vectors")
    print("RESULT " + json.dumps({
        "torch": torch.__version__, "scipy": scipy.__version__,
        "at_theta": at_theta, "next_warm": next_warm, "next_cold": next_cold,
    }))


if __name__ == "__main__":
    main(sys.argv[1])
