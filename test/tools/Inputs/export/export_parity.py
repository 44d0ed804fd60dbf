"""Exports a PyTorch module with tools/graft-export.py and trains it in
PyTorch, for the test that trains the export in Graft side by side.

usage: export_parity.py GRAFT_EXPORT OUT_DIR --steps N [--int-range NAME=HIGH]
           [--set NAME=EXPR] [--data-seed S] [--f64] -- EXPORTER_ARGUMENTS
           (without -o and --weights)

Writes OUT_DIR/model.graft and OUT_DIR/init.safetensors (the exporter's),
OUT_DIR/data.safetensors (N + 1 batches of every input, in order: the
batch dimension is each input type's first; the first N also raw, as
OUT_DIR/NAME.bin, for a C application), and PyTorch's run from those
weights on those batches with the exporter's --optimizer, --loss and
--freeze: OUT_DIR/losses.txt (the loss of each step) and
OUT_DIR/final.safetensors (the state_dict after N steps). With --f64
PyTorch trains in float64 from the same f32 weights and data (the exact
answer, against which f32 rounding is measured) and writes its final state
rounded to f32.
"""
import argparse
import copy
import fnmatch
import json
import importlib.util
import os
import re
import struct
import subprocess
import sys

import torch
import torch.nn.functional as F

def read_safetensors(path, metadata=None):
    with open(path, "rb") as f:
        data = f.read()
    n = struct.unpack("<Q", data[:8])[0]
    header = json.loads(data[8:8 + n])
    if metadata is not None:
        metadata.update(header.get("__metadata__", {}))
    dtypes = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64,
              "I32": torch.int32, "BOOL": torch.bool}
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        b, e = t["data_offsets"]
        raw = bytearray(data[8 + n + b:8 + n + e])
        out[name] = torch.frombuffer(raw, dtype=dtypes[t["dtype"]]).reshape(t["shape"]).clone() \
            if e > b else torch.zeros(t["shape"], dtype=dtypes[t["dtype"]])
    return out


def onnx_import(graft, a, dims, inputs, module, model, weights):
    """torch.onnx.export of a copy of `module` (tracing runs it: batch norm
    would update the original's statistics), graft import of the file, and
    the imported weights loaded back into `module`."""
    onnx_path = os.path.join(os.path.dirname(model), "model.onnx")
    examples = tuple(exporter.example(dt, sizes) for _, dt, sizes, _ in inputs)
    dynamic = {}
    for name, _, _, text in inputs:
        parts = [q.strip() for q in text[text.index("[") + 1:-1].split(",")]
        dynamic[name] = {i: q for i, q in enumerate(parts) if q in dims}
    outputs = a.outputs.split(",") if a.outputs else ["output"]
    torch.onnx.export(copy.deepcopy(module), examples, onnx_path, opset_version=args.opset,
                      training=torch.onnx.TrainingMode.TRAINING, do_constant_folding=False,
                      input_names=[n for n, *_ in inputs], output_names=outputs,
                      dynamic_axes=dynamic)
    cmd = [graft, "import", onnx_path, "-o", model, "--weights", weights]
    cmd += [f"--name={a.name}"] if a.name else []
    cmd += [f"--dim={d}" for d in a.dim] + [f"--target={t}" for t in a.target]
    cmd += [f"--freeze={f}" for f in a.freeze]
    if a.loss:
        cmd += ["--loss", a.loss, "--optimizer", a.optimizer]
    if subprocess.run(cmd).returncode != 0:
        sys.exit("export_parity: graft import failed")
    # Every state_dict key but the aliases of tied weights (ONNX keeps one),
    # and nothing else but the constants the import made buffers of.
    metadata = {}
    loaded = read_safetensors(weights, metadata)
    constants = set(filter(None, metadata.get("graft.import.constants", "").split(",")))
    loaded = {k: v for k, v in loaded.items() if k not in constants}
    missing, unexpected = module.load_state_dict(loaded, strict=False)
    state = module.state_dict()
    shared = {state[k].data_ptr() for k in loaded}
    missing = [k for k in missing if state[k].data_ptr() not in shared]
    if missing or unexpected:
        sys.exit(f"export_parity: graft import's weights lack {missing}, "
                 f"have extra {unexpected}")
    return set(loaded)


p = argparse.ArgumentParser()
p.add_argument("exporter")
p.add_argument("out")
p.add_argument("--steps", type=int, required=True)
p.add_argument("--int-range", action="append", default=[])
p.add_argument("--data-seed", type=int, default=1)
p.add_argument("--f64", action="store_true", help="train PyTorch in float64")
p.add_argument("--onnx", metavar="GRAFT",
               help="bring the module in through ONNX instead: torch.onnx.export "
                    "(training mode, --opset, --dim sizes as dynamic axes), then "
                    "GRAFT import with the exporter arguments' --dim, --target, "
                    "--loss, --optimizer and --freeze; PyTorch then trains from "
                    "the weights graft import wrote (load_state_dict, strict)")
p.add_argument("--opset", type=int, default=13, help="with --onnx, the ONNX opset")
p.add_argument("--set", action="append", default=[], metavar="NAME=EXPR",
               help="an input computed from the others (Python, the inputs in scope), "
                    "e.g. targets=(idx + 1) %% 65: data a model can learn")
argv = sys.argv[1:]
split = argv.index("--") if "--" in argv else len(argv)
args, rest = p.parse_args(argv[:split]), argv[split + 1:]

spec = importlib.util.spec_from_file_location("graft_export", args.exporter)
exporter = importlib.util.module_from_spec(spec)
spec.loader.exec_module(exporter)
os.makedirs(args.out, exist_ok=True)
model, weights = os.path.join(args.out, "model.graft"), os.path.join(args.out, "init.safetensors")
a = exporter.arguments().parse_args(rest + ["-o", model])
if args.onnx:
    dims, inputs, targets, module = exporter.prepare(a)
    imported = onnx_import(args.onnx, a, dims, inputs, module, model, weights)
else:
    if exporter.main(rest + ["-o", model, "--weights", weights]) != 0:
        sys.exit("export_parity: the export failed")
    dims, inputs, targets, module = exporter.prepare(a)
highs = {k: int(v) for k, v in (r.split("=") for r in args.int_range)}
gen = torch.Generator().manual_seed(args.data_seed)
data = {}
for name, dtype, sizes, _ in inputs + targets:
    shape = [(args.steps + 1) * sizes[0]] + sizes[1:]  # one more: no epoch ends
    if dtype.is_floating_point:
        data[name] = torch.randn(shape, generator=gen, dtype=dtype)
    else:
        data[name] = torch.randint(0, highs.get(name, 2), shape, generator=gen, dtype=dtype)
for s in args.set:
    name, expr = s.split("=", 1)
    data[name] = eval(expr, {"torch": torch}, dict(data)).to(data[name].dtype)
exporter.write_safetensors(os.path.join(args.out, "data.safetensors"), data)
for name, tensor in data.items():  # the batches trained, raw, for a C app
    steps = tensor[:args.steps * (tensor.shape[0] // (args.steps + 1))]
    with open(os.path.join(args.out, name + ".bin"), "wb") as f:
        f.write(steps.contiguous().numpy().tobytes())

if args.f64:
    module.double()
for name, param in module.named_parameters():
    if any(fnmatch.fnmatchcase(name, pat) or name.startswith(pat + ".") for pat in a.freeze):
        param.requires_grad_(False)
opt_name, opt_args = re.fullmatch(r"(\w+)\((.*)\)", a.optimizer).groups()
optimizer = getattr(torch.optim, opt_name)(
    [q for q in module.parameters() if q.requires_grad], **eval(f"dict({opt_args})"))
losses = []
for step in range(args.steps):
    batch = {}
    for name, _, sizes, _ in inputs + targets:
        batch[name] = data[name][step * sizes[0]:(step + 1) * sizes[0]]
        if args.f64 and batch[name].is_floating_point():
            batch[name] = batch[name].double()
    results = module(*[batch[n] for n, _, _, _ in inputs])
    results = results if isinstance(results, tuple) else (results,)
    names = a.outputs.split(",") if a.outputs else \
        (["output"] if len(results) == 1 else [f"output{i}" for i in range(len(results))])
    loss = eval(a.loss, {"F": F, "torch": torch, **batch, **dict(zip(names, results))})
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
with open(os.path.join(args.out, "losses.txt"), "w") as f:
    f.write("".join("%.6f\n" % l for l in losses))
final = {k: v.float() if v.is_floating_point() else v for k, v in module.state_dict().items()
         if not args.onnx or k in imported}  # ONNX names a tied weight once
exporter.write_safetensors(os.path.join(args.out, "final.safetensors"), final)
print("exported and trained in PyTorch: %d steps, losses %.4f .. %.4f" % (args.steps, losses[0], losses[-1]))
