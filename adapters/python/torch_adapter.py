#!/usr/bin/env python3
"""PyTorch's softmax family behind softcert-exec/1 (CPU, one thread):

    softcert certify --exec "python3 adapters/python/torch_adapter.py"

Kernels, all public API on CPU tensors, computed in the tensor's own dtype (PyTorch's CPU kernels
accumulate float32 in float32 with vectorised exp; bfloat16 softmax and log_softmax accumulate in
float32 and round the result to bfloat16):
- softmax, log_softmax: torch.softmax / torch.log_softmax(x, dim=-1): f32, f64, and bf16/f16 where
  the installed build has the kernel (Debian's 1.13 has bf16 on CPU, not f16: the f16 kernels are
  probed and not offered);
- logsumexp: torch.logsumexp(x, dim=-1); sigmoid: torch.sigmoid;
- cross_entropy: torch.nn.functional.cross_entropy(z, y, reduction='none'); cross_entropy_grad: its
  gradient through autograd (torch.autograd.grad of the per-row losses, upstream gradient 1);
- softmax_backward: the kernel autograd runs for softmax, torch.ops.aten._softmax_backward_data(dy,
  y, dim, dtype). Autograd saves the forward output and calls exactly this on it; calling it
  directly is the only way to give it the y softcert chooses (softmax(log y) would recompute a
  slightly different y). (tools/autograd/derivatives.yaml: softmax's backward is
  _softmax_backward_data(grad, result, dim, self.scalar_type()));
- masked_softmax as users write it: x.masked_fill(~keep, -inf).softmax(-1);
- attention: torch.nn.functional.scaled_dot_product_attention (is_causal), when the installed
  torch has it (2.0 and later; Debian's 1.13 does not, so it is not offered).
PyTorch has no softmax with a temperature argument: not offered.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adapter_support as support  # noqa: E402

torch = support.import_or_refuse("torch")
F = torch.nn.functional
DTYPES = {"f32": torch.float32, "f64": torch.float64, "f16": torch.float16, "bf16": torch.bfloat16}


def tensor(x, dtype, *shape):
    return torch.tensor(x, dtype=torch.float64).to(DTYPES[dtype]).reshape(*shape)


def out(t):
    return t.detach().to(torch.float64).reshape(-1).tolist()


def rows(fn, dtype):
    def kernel(x, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        with torch.no_grad():
            return support.OK, out(fn(tensor(x, dtype, r, n)))
    return kernel


def sigmoid(dtype):
    def kernel(x, count):
        if count == 0:
            return support.ERR_EMPTY, None
        return support.OK, out(torch.sigmoid(tensor(x, dtype, count)))
    return kernel


def labelled(dtype, grad):
    def kernel(z, labels, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        if any(not 0 <= y < n for y in labels):
            return support.ERR_LABEL, None  # torch raises "Target out of bounds"
        logits = tensor(z, dtype, r, n).requires_grad_(grad)
        loss = F.cross_entropy(logits, torch.tensor(labels, dtype=torch.int64), reduction="none")
        if not grad:
            return support.OK, out(loss)
        (g,) = torch.autograd.grad(loss, logits, grad_outputs=torch.ones_like(loss))
        return support.OK, out(g)
    return kernel


def softmax_backward(dtype):
    def kernel(y, dy, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        return support.OK, out(torch.ops.aten._softmax_backward_data(tensor(dy, dtype, r, n), tensor(y, dtype, r, n), -1,
                                                                     DTYPES[dtype]))
    return kernel


def masked_softmax(dtype):
    def kernel(x, keep, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        kept = torch.from_numpy(support.keep_mask(keep, r, n))
        with torch.no_grad():
            return support.OK, out(tensor(x, dtype, r, n).masked_fill(~kept, float("-inf")).softmax(-1))
    return kernel


def attention(dtype):
    def kernel(q, k, v, lq, lk, d, dv, causal):
        if 0 in (lq, lk, d, dv):
            return support.ERR_EMPTY, None
        with torch.no_grad():
            o = F.scaled_dot_product_attention(tensor(q, dtype, lq, d), tensor(k, dtype, lk, d), tensor(v, dtype, lk, dv),
                                               is_causal=bool(causal))
        return support.OK, out(o)
    return kernel


def version():
    where = os.path.dirname(torch.__file__)
    if where.startswith("/usr/lib/python3/"):
        try:
            import subprocess
            deb = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-torch"], capture_output=True, text=True,
                                 timeout=10).stdout.strip()
            return f"{torch.__version__} (Debian python3-torch {deb})" if deb else torch.__version__
        except Exception:  # noqa: BLE001 - the version alone then
            pass
    return torch.__version__


def main():
    torch.set_num_threads(1)
    kernels = {}
    for dtype in ("f32", "f64", "f16", "bf16"):
        kernels[("softmax", dtype)] = rows(lambda a: torch.softmax(a, dim=-1), dtype)
        kernels[("log_softmax", dtype)] = rows(lambda a: torch.log_softmax(a, dim=-1), dtype)
    for dtype in ("f32", "f64"):
        kernels[("logsumexp", dtype)] = rows(lambda a: torch.logsumexp(a, dim=-1), dtype)
        kernels[("sigmoid", dtype)] = sigmoid(dtype)
        kernels[("cross_entropy", dtype)] = labelled(dtype, grad=False)
        kernels[("cross_entropy_grad", dtype)] = labelled(dtype, grad=True)
        kernels[("softmax_backward", dtype)] = softmax_backward(dtype)
        kernels[("masked_softmax", dtype)] = masked_softmax(dtype)
        if hasattr(F, "scaled_dot_product_attention"):
            kernels[("attention", dtype)] = attention(dtype)
    support.serve(f"PyTorch {version()} (CPU, 1 thread)", kernels)


if __name__ == "__main__":
    main()
