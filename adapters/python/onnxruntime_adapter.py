#!/usr/bin/env python3
"""ONNX Runtime's softmax family behind softcert-exec/1 (CPU execution provider, one thread):

    softcert certify --exec "python3 adapters/python/onnxruntime_adapter.py"

Each kernel is one ONNX operator in a one-node model built in memory with onnx.helper (opset 13,
input shape [rows, n] symbolic, so one session serves every shape), run by an InferenceSession
on the CPU execution provider with intra- and inter-op threads set to 1:
- softmax: Softmax(axis=-1); log_softmax: LogSoftmax(axis=-1);
- logsumexp: ReduceLogSumExp(axes=[-1], keepdims=0); sigmoid: Sigmoid;
- cross_entropy: SoftmaxCrossEntropyLoss(reduction='none') with int64 labels;
for f32 and f64, and f16/bf16 Softmax and LogSoftmax. Each kernel is probed at start: ORT's CPU
provider registers some operators only for some types (a model it cannot run fails to load) and
those are not offered. The operators compute in the tensor's type (float32 kernels use MLAS's
vectorised exp; double ones the scalar code). ONNX has no temperature, softmax backward (outside
training builds), masked softmax or attention operator in the default domain: not offered.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import adapter_support as support  # noqa: E402

np = support.import_or_refuse("numpy")
onnx = support.import_or_refuse("onnx")
ort = support.import_or_refuse("onnxruntime")
from onnx import TensorProto, helper  # noqa: E402

ELEM = {"f32": TensorProto.FLOAT, "f64": TensorProto.DOUBLE, "f16": TensorProto.FLOAT16, "bf16": TensorProto.BFLOAT16}
NUMPY = {"f32": np.float32, "f64": np.float64, "f16": np.float16}


def session(op, dtype, out_shape, labels=False, **attributes):
    inputs = [helper.make_tensor_value_info("x", ELEM[dtype], ["rows", "n"])]
    names = ["x"]
    if labels:
        inputs.append(helper.make_tensor_value_info("y", TensorProto.INT64, ["rows"]))
        names.append("y")
    node = helper.make_node(op, names, ["out"], **attributes)
    graph = helper.make_graph([node], f"softcert_{op}", inputs,
                              [helper.make_tensor_value_info("out", ELEM[dtype], out_shape)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8  # opset 13's IR version: every ONNX Runtime of the last years loads it
    onnx.checker.check_model(model)
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def to_numpy(x, dtype, *shape):
    a = np.array(x, dtype=np.float64).reshape(shape)
    if dtype == "bf16":  # numpy has no bfloat16: ORT takes its bit patterns through ml_dtypes
        import ml_dtypes
        return a.astype(ml_dtypes.bfloat16)
    return a.astype(NUMPY[dtype])


def lazy(make):
    """The session, built on first use (so the probe is the first use)."""
    cache = []

    def get():
        if not cache:
            cache.append(make())
        return cache[0]
    return get


def rows(op, dtype, per_row=False, **attributes):
    get = lazy(lambda: session(op, dtype, ["rows"] if per_row else ["rows", "n"], **attributes))

    def kernel(x, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        (out,) = get().run(None, {"x": to_numpy(x, dtype, r, n)})
        return support.OK, support.to_list(out)
    return kernel


def sigmoid(dtype):
    def make():
        node = helper.make_node("Sigmoid", ["x"], ["out"])
        graph = helper.make_graph([node], "softcert_Sigmoid", [helper.make_tensor_value_info("x", ELEM[dtype], ["count"])],
                                  [helper.make_tensor_value_info("out", ELEM[dtype], ["count"])])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
        model.ir_version = 8
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    get = lazy(make)

    def kernel(x, count):
        if count == 0:
            return support.ERR_EMPTY, None
        (out,) = get().run(None, {"x": to_numpy(x, dtype, count)})
        return support.OK, support.to_list(out)
    return kernel


def cross_entropy(dtype):
    get = lazy(lambda: session("SoftmaxCrossEntropyLoss", dtype, ["rows"], labels=True, reduction="none"))

    def kernel(z, labels, r, n):
        if r == 0 or n == 0:
            return support.ERR_EMPTY, None
        if any(not 0 <= y < n for y in labels):
            return support.ERR_LABEL, None
        (out,) = get().run(None, {"x": to_numpy(z, dtype, r, n), "y": np.array(labels, dtype=np.int64)})
        return support.OK, support.to_list(out)
    return kernel


def main():
    kernels = {}
    for dtype in ("f32", "f64", "f16", "bf16"):
        kernels[("softmax", dtype)] = rows("Softmax", dtype, axis=-1)
        kernels[("log_softmax", dtype)] = rows("LogSoftmax", dtype, axis=-1)
    for dtype in ("f32", "f64"):
        kernels[("logsumexp", dtype)] = rows("ReduceLogSumExp", dtype, per_row=True, axes=[-1], keepdims=0)
        kernels[("sigmoid", dtype)] = sigmoid(dtype)
        kernels[("cross_entropy", dtype)] = cross_entropy(dtype)
    support.serve(f"ONNX Runtime {ort.__version__} (CPUExecutionProvider, 1 thread; onnx {onnx.__version__})", kernels)


if __name__ == "__main__":
    main()
