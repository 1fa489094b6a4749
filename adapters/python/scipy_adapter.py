#!/usr/bin/env python3
"""SciPy's softmax family behind softcert-exec/1:

    softcert certify --exec "python3 adapters/python/scipy_adapter.py"

Kernels (scipy.special, public API, axis=-1 on a rows × n array): softmax, log_softmax,
logsumexp and expit (sigmoid), in f32 and f64. Each is computed in the array's own dtype: SciPy
1.10's softmax, log_softmax and logsumexp are numpy expressions (max, exp of the shifted row, sum,
divide or log), so a float32 array is computed in float32 throughout (numpy's float32 exp and
pairwise float32 sum); expit is a ufunc with a float32 loop (1 / (1 + exp(-x)) in single
precision) and a float64 one. Nothing is cast: the adapter checks that the result has the input's
dtype. SciPy has no cross-entropy, temperature, masked softmax or attention: not offered.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adapter_support as support  # noqa: E402

np = support.import_or_refuse("numpy")
scipy = support.import_or_refuse("scipy")
special = support.import_or_refuse("scipy.special")


def same_dtype(fn):
    def call(a):
        out = fn(a)
        if out.dtype != a.dtype:
            raise TypeError(f"scipy returned {out.dtype} for {a.dtype}")
        return out
    return call


def expit_kernel(np_dtype):
    def kernel(x, count):
        if count == 0:
            return support.ERR_EMPTY, None
        return support.OK, support.to_list(same_dtype(special.expit)(np.array(x, dtype=np_dtype)))
    return kernel


def main():
    kernels = {}
    for dtype, np_dtype in (("f32", np.float32), ("f64", np.float64)):
        kernels[("softmax", dtype)] = support.rows_kernel(same_dtype(lambda a: special.softmax(a, axis=-1)), np_dtype)
        kernels[("log_softmax", dtype)] = support.rows_kernel(same_dtype(lambda a: special.log_softmax(a, axis=-1)),
                                                              np_dtype)
        kernels[("logsumexp", dtype)] = support.rows_kernel(same_dtype(lambda a: special.logsumexp(a, axis=-1)), np_dtype)
        kernels[("sigmoid", dtype)] = expit_kernel(np_dtype)
    support.serve(f"SciPy {scipy.__version__} (scipy.special, numpy {np.__version__})", kernels)


if __name__ == "__main__":
    np.seterr(all="ignore")  # overflow and invalid warnings would only go to stderr
    main()
