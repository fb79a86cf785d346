"""The benchmark MLP in PyTorch, defined exactly as lrscape defines it (DESIGN §5), for the bench peers.

θ is lrscape's flat float32 vector: layer by layer, the kernel (row-major [in, out]) then the bias, so
z_l = a_l @ W_l + b_l; hidden layers use the activation, the last layer is linear. Losses are means over
the examples: MSE = ½‖f − y‖² per example, cross-entropy of softmax(f) against the one-hot y.
The TypeScript bench writes the batch and θ as raw little-endian files; these helpers read them.
"""
import json
import os

import numpy as np
import torch


def load_meta(folder):
    with open(os.path.join(folder, "meta.json")) as f:
        return json.load(f)


def load_f32(folder, name):
    return np.fromfile(os.path.join(folder, name), dtype="<f4")


def load_batch(folder, meta):
    n, d, c = meta["n"], meta["input_dim"], meta["classes"]
    x = torch.from_numpy(load_f32(folder, "x.f32").reshape(n, d).copy())
    y = torch.from_numpy(load_f32(folder, "y.f32").reshape(n, c).copy())
    labels = torch.from_numpy(np.fromfile(os.path.join(folder, "labels.i32"), dtype="<i4").astype(np.int64))
    return x, y, labels


def widths(meta):
    return [meta["input_dim"], *meta["hidden"], meta["classes"]]


def shapes(meta):
    """[(in, out), (out,), …] in θ's order."""
    w = widths(meta)
    out = []
    for l in range(len(w) - 1):
        out.append((w[l], w[l + 1]))
        out.append((w[l + 1],))
    return out


def split_flat(flat, meta):
    """Views of a flat tensor as the parameter tensors, in θ's order."""
    parts, offset = [], 0
    for shape in shapes(meta):
        size = int(np.prod(shape))
        parts.append(flat[offset : offset + size].view(*shape))
        offset += size
    return parts


def parameters(theta, meta):
    """Leaf tensors (requires_grad) holding θ."""
    flat = torch.as_tensor(np.asarray(theta, dtype=np.float32))
    return [p.clone().requires_grad_(True) for p in split_flat(flat, meta)]


def network(params, x, activation):
    act = torch.tanh if activation == "tanh" else torch.relu
    a = x
    layers = len(params) // 2
    for l in range(layers):
        z = a @ params[2 * l] + params[2 * l + 1]
        a = act(z) if l + 1 < layers else z
    return a


def loss_fn(params, x, y, labels, activation, loss):
    f = network(params, x, activation)
    if loss == "mse":
        return 0.5 * ((f - y) ** 2).sum(dim=1).mean()
    return torch.nn.functional.cross_entropy(f, labels)


def flat(tensors):
    return torch.cat([t.reshape(-1) for t in tensors])
