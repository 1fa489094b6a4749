#!/usr/bin/env python3
"""JAX's softmax family behind softcert-exec/1 (CPU backend, one thread):

    softcert certify --exec "python3 adapters/python/jax_adapter.py"

Kernels, public API, each wrapped in jax.jit (as models call them: compiled once per shape by
XLA, the results of a jitted call are what production sees), on a rows × n array, axis=-1:
- softmax: jax.nn.softmax; masked_softmax: jax.nn.softmax(x, where=keep), the API's own masking
  (masked positions excluded from the max and the sum, and set to 0 in the output);
- log_softmax: jax.nn.log_softmax; logsumexp: jax.scipy.special.logsumexp; sigmoid: jax.nn.sigmoid;
- attention: jax.nn.dot_product_attention (implementation 'xla', is_causal top-left aligned as
  DESIGN.md §2), where the installed jax has it and only with dv = d (its value must have the
  query's head size; other shapes are declined);
f32 and f64 (jax_enable_x64, so a float64 array stays float64), and f16/bf16 softmax and
log_softmax. Each is computed in the array's dtype as XLA's CPU backend does it: f32 and f64
natively; f16 and bf16 elementwise operations are evaluated in float32 and rounded back to the
type after each operation (XLA's float normalisation), and the reductions accumulate in the type.
JAX has no cross-entropy, temperature or softmax backward in its core API: not offered.
"""
import os
import sys

# One thread, CPU only: before jax is imported.
os.environ.setdefault("JAX_PLATFORMS", "cpu")
os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                           " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1").strip()

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adapter_support as support  # noqa: E402

np = support.import_or_refuse("numpy")
jax = support.import_or_refuse("jax")
jax.config.update("jax_enable_x64", True)
jnp = jax.numpy
import jax.scipy.special  # noqa: E402

DTYPES = {"f32": jnp.float32, "f64": jnp.float64, "f16": jnp.float16, "bf16": jnp.bfloat16}

softmax = jax.jit(lambda a: jax.nn.softmax(a, axis=-1))
log_softmax = jax.jit(lambda a: jax.nn.log_softmax(a, axis=-1))
logsumexp = jax.jit(lambda a: jax.scipy.special.logsumexp(a, axis=-1))
sigmoid = jax.jit(jax.nn.sigmoid)
masked = jax.jit(lambda a, keep: jax.nn.softmax(a, axis=-1, where=keep))


def array(x, dtype, *shape):
    return jnp.asarray(np.array(x, dtype=np.float64).reshape(shape), dtype=DTYPES[dtype])


def rows(fn, dtype):
    def kernel(x, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        out = fn(array(x, dtype, r, n))
        assert out.dtype == DTYPES[dtype], out.dtype
        return support.OK, support.to_list(out)
    return kernel


def sigmoid_kernel(dtype):
    def kernel(x, count):
        if count == 0:
            return support.ERR_EMPTY, None
        return support.OK, support.to_list(sigmoid(array(x, dtype, count)))
    return kernel


def masked_kernel(dtype):
    def kernel(x, keep, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        where = jnp.asarray(support.keep_mask(keep, r, n))
        return support.OK, support.to_list(masked(array(x, dtype, r, n), where))
    return kernel


attention = jax.jit(lambda q, k, v, causal: jax.nn.dot_product_attention(q, k, v, is_causal=causal, implementation="xla"),
                    static_argnums=3)


def attention_kernel(dtype):
    def kernel(q, k, v, lq, lk, d, dv, causal):
        if 0 in (lq, lk, d, dv):
            return support.ERR_EMPTY, None
        if dv != d:
            return support.ERR_UNSUPPORTED, None
        # (T, N, H) with one head.
        o = attention(array(q, dtype, lq, 1, d), array(k, dtype, lk, 1, d), array(v, dtype, lk, 1, dv), bool(causal))
        return support.OK, support.to_list(o)
    return kernel


def main():
    kernels = {}
    for dtype in ("f32", "f64", "f16", "bf16"):
        kernels[("softmax", dtype)] = rows(softmax, dtype)
        kernels[("log_softmax", dtype)] = rows(log_softmax, dtype)
    for dtype in ("f32", "f64"):
        kernels[("logsumexp", dtype)] = rows(logsumexp, dtype)
        kernels[("sigmoid", dtype)] = sigmoid_kernel(dtype)
        kernels[("masked_softmax", dtype)] = masked_kernel(dtype)
        if hasattr(jax.nn, "dot_product_attention"):
            kernels[("attention", dtype)] = attention_kernel(dtype)
    import jaxlib
    support.serve(f"JAX {jax.__version__} (jaxlib {jaxlib.__version__}, XLA CPU, 1 thread)", kernels)


if __name__ == "__main__":
    main()
