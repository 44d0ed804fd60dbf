"""Writes the ONNX files of test/tools/import-errors.test (and the fuzzer's
seeds): small models built with onnx.helper, each valid but for one thing.

usage: make_onnx.py OUT_DIR
"""
import os
import sys

import onnx
from onnx import TensorProto, helper, numpy_helper
import numpy as np

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
F = TensorProto.FLOAT


def save(name, nodes, inputs, outputs, inits=(), opset=13, check=True, **kw):
    graph = helper.make_graph(nodes, name, inputs, outputs, initializer=list(inits))
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                          producer_name="make_onnx.py", **kw)
    m.ir_version = 8
    if check:
        onnx.checker.check_model(m)
    onnx.save(m, os.path.join(out, name + ".onnx"))
    return m


def vi(name, shape, t=F):
    return helper.make_tensor_value_info(name, t, shape)


def weight(name, *shape):
    return numpy_helper.from_array(
        np.random.default_rng(0).standard_normal(shape).astype(np.float32), name)


# A valid linear layer with ReLU, batch dim named.
linear = save("linear", [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["h"], name="/fc/Gemm", transB=1),
                         helper.make_node("Relu", ["h"], ["y"], name="/relu/Relu")],
              [vi("x", ["batch", 4])], [vi("y", ["batch", 3])],
              [weight("fc.weight", 3, 4), weight("fc.bias", 3)])
with open(os.path.join(out, "linear.onnx"), "rb") as f:
    data = f.read()
with open(os.path.join(out, "truncated.onnx"), "wb") as f:
    f.write(data[:len(data) // 2])
with open(os.path.join(out, "text.onnx"), "w") as f:
    f.write("this is not a protobuf message\n")

save("unknown_op", [helper.make_node("Hardmax", ["x"], ["y"], name="/head/Hardmax")],
     [vi("x", [2, 4])], [vi("y", [2, 4])])
save("custom_domain", [helper.make_node("Fancy", ["x"], ["y"], name="/f/Fancy", domain="com.example")],
     [vi("x", [2, 4])], [vi("y", [2, 4])], check=False)
# Cyclic: each node reads the other's output.
save("cyclic", [helper.make_node("Relu", ["b"], ["a"], name="/r1/Relu"),
                helper.make_node("Relu", ["a"], ["b"], name="/r2/Relu")],
     [vi("x", [2])], [vi("b", [2])], check=False)
# Wrong types: a float added to an int64.
save("wrong_type", [helper.make_node("Add", ["x", "n"], ["y"], name="/Add")],
     [vi("x", [2]), vi("n", [2], TensorProto.INT64)], [vi("y", [2])], check=False)
save("opset11", [helper.make_node("Relu", ["x"], ["y"], name="/Relu")],
     [vi("x", [2])], [vi("y", [2])], opset=11)
save("asymmetric_pads", [helper.make_node("Conv", ["x", "conv.weight"], ["y"], name="/conv/Conv",
                                          kernel_shape=[2, 2], pads=[0, 0, 1, 1])],
     [vi("x", [1, 1, 4, 4])], [vi("y", [1, 2, 4, 4])], [weight("conv.weight", 2, 1, 2, 2)])
save("pool_indices", [helper.make_node("MaxPool", ["x"], ["y", "i"], name="/pool/MaxPool",
                                         kernel_shape=[2, 2], strides=[2, 2]),
                      helper.make_node("Cast", ["i"], ["z"], name="/Cast", to=F)],
     [vi("x", [1, 1, 4, 4])], [vi("y", [1, 1, 2, 2]), vi("z", [1, 1, 2, 2])])
m = save("external", [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], name="/fc/Gemm", transB=1)],
         [vi("x", [2, 4])], [vi("y", [2, 3])], [weight("fc.weight", 3, 4)])
onnx.save_model(m, os.path.join(out, "external.onnx"), save_as_external_data=True,
                all_tensors_to_one_file=True, location="external.data", size_threshold=0)
# Mismatched data: an initializer whose raw bytes are short of its shape.
bad = weight("fc.weight", 3, 4)
bad.raw_data = bad.raw_data[:20]
save("short_tensor", [helper.make_node("Gemm", ["x", "fc.weight"], ["y"], name="/fc/Gemm", transB=1)],
     [vi("x", [2, 4])], [vi("y", [2, 3])], [bad], check=False)
# A zero stride: libonnx's pooling shape inference divides by it (SIGFPE).
save("zero_stride", [helper.make_node("MaxPool", ["x"], ["y"], name="/pool/MaxPool",
                                      kernel_shape=[2, 2], strides=[0, 0])],
     [vi("x", [1, 1, 4, 4])], [vi("y", [1, 1, 2, 2])], check=False)
print("wrote", len(os.listdir(out)), "files to", out)
