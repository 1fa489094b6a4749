#!/usr/bin/env python3
"""TensorFlow's softmax family behind softcert-exec/1 (CPU, one thread, eager):

    softcert certify --exec "python3 adapters/python/tensorflow_adapter.py"

Kernels, public API on rows × n tensors, axis=-1, each op run eagerly (TensorFlow's CPU kernels
compute in the tensor's dtype; float32 softmax is Eigen's vectorised exp and sum):
- softmax: tf.nn.softmax; log_softmax: tf.nn.log_softmax; logsumexp: tf.math.reduce_logsumexp;
  sigmoid: tf.math.sigmoid;
- cross_entropy: tf.nn.sparse_softmax_cross_entropy_with_logits (one loss per row);
  cross_entropy_grad: its gradient through tf.GradientTape;
- masked_softmax as users write it: tf.where(keep, x, -inf) then tf.nn.softmax;
for f32 and f64, and f16/bf16 softmax and log_softmax where the CPU kernels exist (probed).
TensorFlow has no temperature, softmax backward or attention op outside Keras layers: not offered.
"""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adapter_support as support  # noqa: E402

np = support.import_or_refuse("numpy")
tf = support.import_or_refuse("tensorflow")
DTYPES = {"f32": tf.float32, "f64": tf.float64, "f16": tf.float16, "bf16": tf.bfloat16}


def tensor(x, dtype, *shape):
    return tf.cast(tf.constant(np.array(x, dtype=np.float64).reshape(shape)), DTYPES[dtype])


def out(t):
    return tf.cast(t, tf.float64).numpy().reshape(-1).tolist()


def rows(fn, dtype):
    def kernel(x, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        return support.OK, out(fn(tensor(x, dtype, r, n)))
    return kernel


def sigmoid(dtype):
    def kernel(x, count):
        if count == 0:
            return support.ERR_EMPTY, None
        return support.OK, out(tf.math.sigmoid(tensor(x, dtype, count)))
    return kernel


def labelled(dtype, grad):
    def kernel(z, labels, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        if any(not 0 <= y < n for y in labels):
            return support.ERR_LABEL, None
        logits = tensor(z, dtype, r, n)
        y = tf.constant(labels, dtype=tf.int64)
        with tf.GradientTape() as tape:
            tape.watch(logits)
            loss = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits)
        return support.OK, out(tape.gradient(loss, logits) if grad else loss)
    return kernel


def masked(dtype):
    def kernel(x, keep, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        kept = tf.constant(support.keep_mask(keep, r, n))
        a = tensor(x, dtype, r, n)
        return support.OK, out(tf.nn.softmax(tf.where(kept, a, tf.constant(-np.inf, DTYPES[dtype])), axis=-1))
    return kernel


def main():
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    kernels = {}
    for dtype in ("f32", "f64", "f16", "bf16"):
        kernels[("softmax", dtype)] = rows(lambda a: tf.nn.softmax(a, axis=-1), dtype)
        kernels[("log_softmax", dtype)] = rows(lambda a: tf.nn.log_softmax(a, axis=-1), dtype)
    for dtype in ("f32", "f64"):
        kernels[("logsumexp", dtype)] = rows(lambda a: tf.math.reduce_logsumexp(a, axis=-1), dtype)
        kernels[("sigmoid", dtype)] = sigmoid(dtype)
        kernels[("cross_entropy", dtype)] = labelled(dtype, grad=False)
        kernels[("cross_entropy_grad", dtype)] = labelled(dtype, grad=True)
        kernels[("masked_softmax", dtype)] = masked(dtype)
    support.serve(f"TensorFlow {tf.__version__} (CPU, 1 thread, eager)", kernels)


if __name__ == "__main__":
    main()
