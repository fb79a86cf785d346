"""PyTorch + SciPy peer of bench:xcheck: the Hessian quantities of shipped checkpoints, recomputed in float64
without any lrscape code, from the files a PyTorch user would read.

Usage: xcheck_torch.py <folder>
<folder>/job.json (written by tools/bench/src/xcheck.ts) names, per experiment, the dataset (raw little-endian
float32 x, y and int32 labels, exported from the Arrow files by the TypeScript side: pyarrow is not assumed),
the activation and loss of the experiment config, and α's fraction of λmax; per checkpoint, its safetensors
file, the stored eigenvector file, m and the method; and the checkpoint pairs to compare.

The model is rebuilt from the checkpoint's own `layout` metadata (safetensors parsed here by hand): dense
layers dense0, dense1, … each a kernel [in, out] then a bias [out], z = a @ W + b, the activation on every
hidden layer, the last layer linear. Loss: the mean over the examples of ½‖f − y‖² (MSE) or of the softmax
cross-entropy against the label. θ is the checkpoint's float32 values, promoted to float64; everything after
that is float64.

- dense (small P): H = the Jacobian of the autograd gradient (P double-backward passes), symmetrised; every
  eigenpair by torch.linalg.eigh. Beside it, scipy eigsh on the float64 HVP operator for λmax and λ_min (the
  peer checked against itself).
- eigsh (large P): scipy.sparse.linalg.eigsh on a LinearOperator of float64 double-backward HVPs on a kept
  graph: the top m + 1 (which='LA'), and λ_min as the top of λmax·I − H (so ARPACK's tolerance is relative to
  λmax, as lrscape's bottom-end test is). Residuals ‖Hu − λu‖ measured with extra HVPs.

Per checkpoint: λmax, λ_min, the top eigenvalues, the gap λ_m − λ_{m+1}, the distance ‖sin Θ‖_F between the
stored top-m eigenvectors and PyTorch's, and (dense) the full-spectrum N_eff = Σ|λ|/(|λ| + α), α = fraction·λmax,
with the standard deviation of one normalised-Rademacher SLQ probe's estimate of it, exactly:
Var(zᵀAz) = 2(‖A‖_F² − Σ A_ii²) for A = f(H). Per pair: s = ‖U_aᵀU_b‖²_F/m and cos(√(Σθᵢ²/m)) from PyTorch's
eigenvectors. Prints one line `RESULT {json}`.
"""
import json
import os
import struct
import sys
import time

import numpy as np
import scipy
import scipy.sparse.linalg as sla
import torch

DTYPES = {"F32": "<f4", "F64": "<f8"}


def read_safetensors(path):
    """(metadata, {name: float array}) of a safetensors file."""
    with open(path, "rb") as f:
        raw = f.read()
    (length,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + length].decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    data = raw[8 + length :]
    tensors = {}
    for name, entry in header.items():
        if entry["dtype"] not in DTYPES:
            raise ValueError(f"{path}: tensor {name!r} has dtype {entry['dtype']}; only {sorted(DTYPES)} are read")
        begin, end = entry["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=DTYPES[entry["dtype"]]).reshape(entry["shape"])
    return metadata, tensors


def mlp_from_checkpoint(path, input_dim, output_dim):
    """θ (float64, in the layout's order) and the layer shapes, from the checkpoint's layout metadata."""
    metadata, tensors = read_safetensors(path)
    if "layout" not in metadata:
        raise ValueError(f"{path}: no `layout` in the safetensors metadata")
    layout = sorted(json.loads(metadata["layout"]), key=lambda slot: slot["offset"])
    layers, offset = [], 0
    for i, slot in enumerate(layout):
        layer, role = i // 2, ("kernel", "bias")[i % 2]
        if slot["name"] != f"dense{layer}/{role}":
            raise ValueError(f"{path}: layout slot {i} is {slot['name']!r}, expected 'dense{layer}/{role}' (only MLPs are rebuilt)")
        if slot["offset"] != offset:
            raise ValueError(f"{path}: layout slot {slot['name']!r} at offset {slot['offset']}, expected {offset}")
        if list(tensors[slot["name"]].shape) != list(slot["shape"]):
            raise ValueError(f"{path}: tensor {slot['name']!r} has shape {list(tensors[slot['name']].shape)}, layout says {slot['shape']}")
        offset += int(np.prod(slot["shape"]))
        if role == "bias":
            kernel_shape = layout[i - 1]["shape"]
            if len(kernel_shape) != 2 or slot["shape"] != [kernel_shape[1]]:
                raise ValueError(f"{path}: {slot['name']!r} shape {slot['shape']} does not follow kernel {kernel_shape}")
            layers.append(tuple(kernel_shape))
    if len(layout) % 2 or not layers:
        raise ValueError(f"{path}: layout has {len(layout)} slots, expected kernel/bias pairs")
    widths = [layers[0][0]] + [out for _, out in layers]
    if any(layers[j][1] != layers[j + 1][0] for j in range(len(layers) - 1)):
        raise ValueError(f"{path}: layer shapes {layers} do not chain")
    if widths[0] != input_dim or widths[-1] != output_dim:
        raise ValueError(f"{path}: widths {widths} do not match the dataset ({input_dim} in, {output_dim} out)")
    theta = np.concatenate([tensors[slot["name"]].astype(np.float64).ravel() for slot in layout])
    return torch.from_numpy(theta), layers, int(metadata.get("step", -1))


class Objective:
    """L(θ) on the whole (exported) training set, float64."""

    def __init__(self, spec, folder):
        n, d, c = spec["n"], spec["input_dim"], spec["output_dim"]
        self.x = torch.from_numpy(np.fromfile(os.path.join(folder, spec["x"]), dtype="<f4").reshape(n, d).astype(np.float64))
        self.y = torch.from_numpy(np.fromfile(os.path.join(folder, spec["y"]), dtype="<f4").reshape(n, c).astype(np.float64))
        self.labels = torch.from_numpy(np.fromfile(os.path.join(folder, spec["labels"]), dtype="<i4").astype(np.int64)) if spec.get("labels") else None
        # lrscape's activations (libs/engine activations.ts): gelu is the exact zΦ(z), not the tanh approximation.
        activations = {"tanh": torch.tanh, "relu": torch.relu, "gelu": lambda z: torch.nn.functional.gelu(z, approximate="none"), "linear": lambda z: z}
        if spec["activation"] not in activations:
            raise ValueError(f"{spec['name']}: activation {spec['activation']!r} is not one the peer rebuilds ({sorted(activations)})")
        self.activation = activations[spec["activation"]]
        self.loss = spec["loss"]
        if self.loss == "cross_entropy" and self.labels is None:
            raise ValueError(f"{spec['name']}: cross-entropy needs labels")

    def __call__(self, theta, layers):
        a, offset = self.x, 0
        for j, (fan_in, fan_out) in enumerate(layers):
            w = theta[offset : offset + fan_in * fan_out].view(fan_in, fan_out)
            offset += fan_in * fan_out
            b = theta[offset : offset + fan_out]
            offset += fan_out
            z = a @ w + b
            a = self.activation(z) if j + 1 < len(layers) else z
        if self.loss == "mse":
            return 0.5 * ((a - self.y) ** 2).sum(dim=1).mean()
        return torch.nn.functional.cross_entropy(a, self.labels)


class Hessian:
    """Float64 HVPs at θ on a kept graph (grad with create_graph once, then the grad of g·v per product)."""

    def __init__(self, objective, theta, layers):
        self.theta = theta.clone().requires_grad_(True)
        self.grad = torch.autograd.grad(objective(self.theta, layers), self.theta, create_graph=True)[0]
        self.size = theta.numel()
        self.count = 0

    def hvp(self, v):
        self.count += 1
        vt = torch.from_numpy(np.ascontiguousarray(v, dtype=np.float64).ravel())
        return torch.autograd.grad(self.grad, self.theta, grad_outputs=vt, retain_graph=True)[0].numpy().copy()

    def operator(self, shift=None):
        if shift is None:
            return sla.LinearOperator((self.size, self.size), matvec=self.hvp, dtype=np.float64)
        return sla.LinearOperator((self.size, self.size), matvec=lambda v: shift * np.ravel(v) - self.hvp(v), dtype=np.float64)

    def dense(self):
        rows = np.empty((self.size, self.size))
        eye = np.eye(self.size)
        for i in range(self.size):
            rows[i] = self.hvp(eye[i])
        return 0.5 * (rows + rows.T)

    def residual(self, value, vector):
        return float(np.linalg.norm(self.hvp(vector) - value * vector))


def orthonormal(vectors):
    q, _ = np.linalg.qr(np.asarray(vectors, dtype=np.float64).T)
    return q


def stored_top(path, m):
    """The stored top-m eigenvectors of the full Hessian (tensors 'full/1' … 'full/m'), orthonormalised in float64."""
    _, tensors = read_safetensors(path)
    missing = [f"full/{r}" for r in range(1, m + 1) if f"full/{r}" not in tensors]
    if missing:
        raise ValueError(f"{path}: no tensor {missing[0]!r} (m = {m} needs the top {m} stored)")
    return orthonormal([tensors[f"full/{r}"] for r in range(1, m + 1)])


def sin_theta_fro(ua, ub):
    """‖sin Θ‖_F between two m-dimensional subspaces (orthonormal columns): √(m − ‖U_aᵀU_b‖²_F)."""
    c = ua.T @ ub
    return float(np.sqrt(max(0.0, ua.shape[1] - float((c**2).sum()))))


def compare(ua, ub):
    """s = ‖U_aᵀU_b‖²_F/m and cos of the RMS principal angle (principal cosines = singular values of U_aᵀU_b)."""
    m = ua.shape[1]
    c = ua.T @ ub
    cosines = np.clip(np.linalg.svd(c, compute_uv=False), -1.0, 1.0)
    angles = np.arccos(cosines)
    return {"overlap": float((c**2).sum() / m), "cos_rms_angle": float(np.cos(np.sqrt((angles**2).sum() / m)))}


def quadrature_errors(dense, values, vectors, alpha, steps, probes, seed):
    """Error of the k-step Gauss quadrature alone: for normalised Rademacher probes v = z/√P, P·Σ_j w_j f(θ_j) from
    k Lanczos steps (full reorthogonalisation, as lrscape's SLQ) against the same probe's exact zᵀf(H)z."""
    size = dense.shape[0]
    rng = np.random.default_rng(seed)
    f_values = f_of(values, alpha)
    scale = float(np.abs(values).max())
    errors = []
    for _ in range(probes):
        z = rng.choice([-1.0, 1.0], size=size)
        exact = float((f_values * (vectors.T @ z) ** 2).sum())
        basis = np.zeros((min(steps, size), size))
        alphas, betas = [], []
        q = z / np.linalg.norm(z)
        for j in range(basis.shape[0]):
            basis[j] = q
            w = dense @ q
            alphas.append(float(q @ w))
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)
            w -= basis[: j + 1].T @ (basis[: j + 1] @ w)  # twice is enough
            beta = float(np.linalg.norm(w))
            if j + 1 == basis.shape[0] or beta < 1e-12 * scale:
                break
            betas.append(beta)
            q = w / beta
        k = len(alphas)
        t = np.diag(alphas) + np.diag(betas[: k - 1], 1) + np.diag(betas[: k - 1], -1)
        nodes, s = np.linalg.eigh(t)
        quad = size * float((s[0] ** 2 * f_of(nodes, alpha)).sum())
        errors.append(quad - exact)
    return errors


def f_of(lam, alpha):
    """N_eff's f(λ) = |λ|/(|λ| + α)."""
    return np.abs(lam) / (np.abs(lam) + alpha)


def analyse_dense(h, m, alpha_fraction, top_count, slq_steps, quadrature_probes, seed):
    start = time.perf_counter()
    dense = h.dense()
    values, vectors = np.linalg.eigh(dense)  # ascending
    seconds_build_eigh = time.perf_counter() - start
    lam_max, lam_min = float(values[-1]), float(values[0])
    alpha = alpha_fraction * lam_max
    f = f_of(values, alpha)
    # diag f(H) = Σ_k U_ik² f_k; one Rademacher probe's zᵀf(H)z has variance 2(‖f(H)‖²_F − Σ_i f(H)_ii²).
    diag = (vectors**2) @ f
    slq_probe_std = float(np.sqrt(max(0.0, 2.0 * (float((f**2).sum()) - float((diag**2).sum())))))
    top_values = values[::-1][:top_count]
    u = vectors[:, ::-1][:, :m].copy()
    # The peer against itself: ARPACK on the HVP operator for both ends.
    start = time.perf_counter()
    count0 = h.count
    v0 = np.random.default_rng(0).standard_normal(h.size)
    arpack_max = float(sla.eigsh(h.operator(), k=1, which="LA", tol=1e-12, v0=v0)[0][0])
    arpack_min = float(lam_max - sla.eigsh(h.operator(shift=lam_max), k=1, which="LA", tol=1e-12, v0=v0)[0][0])
    arpack_seconds = time.perf_counter() - start
    start = time.perf_counter()
    quad_errors = quadrature_errors(dense, values, vectors, alpha, slq_steps, quadrature_probes, seed) if slq_steps else []
    return {
        "method": "dense",
        "lambda_max": lam_max,
        "lambda_min": lam_min,
        "residual_max": h.residual(lam_max, vectors[:, -1]),
        "residual_min": h.residual(lam_min, vectors[:, 0]),
        "top_values": [float(v) for v in top_values],
        "n_eff": float(f.sum()),
        "alpha": alpha,
        # |∂N_eff/∂α| = Σ |λ|/(|λ| + α)²: what an error in λmax (hence α) moves N_eff by.
        "n_eff_alpha_sensitivity": float((np.abs(values) / (np.abs(values) + alpha) ** 2).sum()),
        "slq_probe_std": slq_probe_std,
        "arpack_lambda_max": arpack_max,
        "arpack_lambda_min": arpack_min,
        "arpack_hvps": h.count - count0,
        "slq_steps": slq_steps,
        "quadrature_errors": quad_errors,
        "seconds": {"dense_and_eigh": seconds_build_eigh, "arpack": arpack_seconds, "quadrature": time.perf_counter() - start},
    }, u


def analyse_eigsh(h, m, top_count, tol):
    start = time.perf_counter()
    count0 = h.count
    v0 = np.random.default_rng(0).standard_normal(h.size)
    k = max(top_count, m + 1)
    values, vectors = sla.eigsh(h.operator(), k=k, which="LA", tol=tol, v0=v0)
    order = np.argsort(values)[::-1]
    values, vectors = values[order], vectors[:, order]
    top_hvps = h.count - count0
    lam_max = float(values[0])
    seconds_top = time.perf_counter() - start
    count0 = h.count
    shifted, low = sla.eigsh(h.operator(shift=lam_max), k=1, which="LA", tol=tol, v0=v0)
    lam_min = float(lam_max - shifted[0])
    bottom_hvps = h.count - count0
    return {
        "method": "eigsh",
        "lambda_max": lam_max,
        "lambda_min": lam_min,
        "residual_max": h.residual(lam_max, vectors[:, 0]),
        "residual_min": h.residual(lam_min, low[:, 0]),
        "top_residuals": [h.residual(float(values[i]), vectors[:, i]) for i in range(m)],
        "top_values": [float(v) for v in values[:top_count]],
        "hvps": {"top": top_hvps, "bottom": bottom_hvps},
        "seconds": {"top": seconds_top, "bottom": time.perf_counter() - start - seconds_top},
    }, vectors[:, :m].copy()


def main(folder):
    threads = 1
    torch.set_num_threads(threads)
    with open(os.path.join(folder, "job.json")) as f:
        job = json.load(f)
    objectives = {name: Objective({**spec, "name": name}, folder) for name, spec in job["experiments"].items()}
    results, eigenvectors = {}, {}
    for cp in job["checkpoints"]:
        spec = job["experiments"][cp["experiment"]]
        theta, layers, step = mlp_from_checkpoint(cp["checkpoint"], spec["input_dim"], spec["output_dim"])
        if step != cp["step"]:
            raise ValueError(f"{cp['checkpoint']}: metadata step {step}, expected {cp['step']}")
        start = time.perf_counter()
        h = Hessian(objectives[cp["experiment"]], theta, layers)
        m = cp["m"]
        if cp["method"] == "dense":
            out, u = analyse_dense(h, m, spec["alpha_fraction"], job["top_count"], cp.get("slq_steps"), job["quadrature_probes"], cp["step"])
        else:
            out, u = analyse_eigsh(h, m, job["top_count"], job["eigsh_tol"])
        top = out["top_values"]
        out["gap_m"] = float(top[m - 1] - top[m]) if len(top) > m else None
        out["stored_sin_theta"] = sin_theta_fro(stored_top(cp["vectors"], m), u) if cp.get("vectors") else None
        out["parameters"] = int(theta.numel())
        out["total_seconds"] = time.perf_counter() - start
        eigenvectors[cp["id"]] = u
        results[cp["id"]] = out
        print(f"{cp['id']}: P = {theta.numel()}, {out['method']}, λmax {out['lambda_max']:.6g}, λmin {out['lambda_min']:.6g}, {out['total_seconds']:.1f} s", flush=True)
    pairs = []
    for pair in job["pairs"]:
        ua, ub = eigenvectors[pair["a"]], eigenvectors[pair["b"]]
        m = pair["m"]
        pairs.append({"a": pair["a"], "b": pair["b"], "m": m, **compare(ua[:, :m], ub[:, :m])})
    print("RESULT " + json.dumps({"torch": torch.__version__, "scipy": scipy.__version__, "numpy": np.__version__, "threads": threads, "checkpoints": results, "pairs": pairs}))


if __name__ == "__main__":
    main(sys.argv[1])
