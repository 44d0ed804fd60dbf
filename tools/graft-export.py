#!/usr/bin/env python3
"""graft-export: a PyTorch nn.Module as a .graft model file and its weights.

    tools/graft-export.py SOURCE:EXPR --input NAME=TYPE ... -o OUT.graft
        [--weights OUT.safetensors] [--dim NAME=VALUE ...] [--target NAME=TYPE ...]
        [--outputs NAME,...] [--loss EXPR] [--optimizer EXPR] [--freeze PATTERN ...]
        [--name MODEL] [--seed S] [--eval] [--graft GRAFT | --no-check]

SOURCE is a Python file (model.py) or an importable module
(torchvision.models); EXPR is evaluated in its namespace and gives the
nn.Module (`Net()`, `GPT(GPTConfig(n_layer=2))`, `resnet18(num_classes=10)`).
Its parameters are drawn by PyTorch from --seed (torch.manual_seed) and
written, with its buffers, as the state_dict to --weights (safetensors), to
be loaded by `graft train --init` or the C API's graft_load.

Each module class becomes a `module` with its PyTorch attribute names, so
the state_dict names are PyTorch's; each `forward` is traced with torch.fx,
one module at a time (the submodules it calls stay calls), and written one
statement per traced operation, each with the line of the user's Python it
comes from. Shapes are static, as in Graft: `x.size()` is traced, and
control flow on sizes (`assert t <= block_size`) is decided at export with
the --input shapes; control flow on tensor values is an error at its line.

--input gives forward's arguments in order (TYPE as the model language
writes it: f32[B, 1, 28, 28], i64[B, T], with names from --dim);
--target adds inputs that only the loss reads. --loss (a Graft expression
over the outputs and inputs) and --optimizer write the train block.

The written file is checked by `graft check` (--graft, or the graft on
PATH; --no-check skips it): an error in it is reported at the user's
Python line too.
"""

import argparse
import collections
import importlib
import importlib.util
import inspect
import json
import math
import operator
import os
import re
import shutil
import struct
import subprocess
import sys
import traceback

try:
    import torch
    import torch.fx as fx
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError:  # pragma: no cover - the message is the point
    sys.exit("graft-export: error: PyTorch is not installed (Debian: apt install python3-torch)")


class ExportError(Exception):
    """An error at a place in the user's Python (`where`: file:line)."""

    def __init__(self, message, where=None):
        super().__init__(message)
        self.where = where


# --- Types and values ---------------------------------------------------------

DTYPES = {  # torch dtype -> (Graft's name, safetensors' name)
    torch.float32: ("f32", "F32"), torch.float64: ("f64", "F64"),
    torch.float16: ("f16", "F16"), torch.bfloat16: ("bf16", "BF16"),
    torch.int64: ("i64", "I64"), torch.int32: ("i32", "I32"),
    torch.int8: ("i8", "I8"), torch.uint8: ("u8", "U8"), torch.bool: ("i1", "BOOL"),
}
GRAFT_DTYPES = {g: t for t, (g, _) in DTYPES.items()}
TORCH_DTYPE_NAMES = {torch.float32: "torch.float32", torch.float64: "torch.float64",
                     torch.float16: "torch.float16", torch.bfloat16: "torch.bfloat16",
                     torch.int64: "torch.long", torch.int32: "torch.int32",
                     torch.bool: "torch.bool"}

# Graft's reserved words that Python allows as names (docs/language.md).
RESERVED = {"model", "include", "true", "false"}


def parse_type(text, dims):
    """`f32[B, 1, 28, 28]` -> (dtype, [sizes], text), sizes from --dim."""
    m = re.fullmatch(r"\s*(\w+)\s*\[(.*)\]\s*", text)
    if not m or m.group(1) not in GRAFT_DTYPES:
        raise ExportError(f"'{text}' is not a type: write it as the model language does, "
                          f"f32[B, 784] ({', '.join(sorted(GRAFT_DTYPES))})")
    parts = [p.strip() for p in m.group(2).split(",")]
    sizes = []
    for part in filter(None, parts):
        if part.isdigit():
            sizes.append(int(part))
        elif part in dims:
            sizes.append(dims[part])
        else:
            raise ExportError(f"'{part}' in '{text}' is neither a size nor a --dim")
    return GRAFT_DTYPES[m.group(1)], sizes, f"{m.group(1)}[{', '.join(parts)}]"


def example(dtype, sizes):
    """A tensor of this type for tracing: only its shape and dtype matter,
    but integer inputs are zeros so that any embedding can index them."""
    if dtype.is_floating_point:
        return torch.randn(sizes, dtype=dtype)
    return torch.zeros(sizes, dtype=dtype)


def sequence(items, is_list):
    """`[a, b]`, or a tuple `(a, b)`, `(a,)`, of formatted items."""
    if is_list:
        return "[" + ", ".join(items) + "]"
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def literal(value):
    """A Python constant as Graft writes it."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "float('inf')" if value > 0 else "float('-inf')"
        if math.isnan(value):
            return "float('nan')"
        return repr(value)
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, torch.dtype):
        if value not in TORCH_DTYPE_NAMES:
            raise ExportError(f"the dtype {value} has no Graft equivalent")
        return TORCH_DTYPE_NAMES[value]
    if isinstance(value, (tuple, list, torch.Size)):
        return sequence([literal(v) for v in value], isinstance(value, list))
    raise ExportError(f"the constant {value!r} ({type(value).__name__}) has no Graft equivalent")


# --- Built-in modules: their constructors, as Graft's Modules.def takes them ----

def _pair_or_int(v):
    """A size as PyTorch's constructors take it: one int for equal ones
    (Conv2d's (3, 3), Conv1d's (3,)), else the tuple."""
    if isinstance(v, (tuple, list)) and v and all(x == v[0] for x in v):
        return v[0]
    return tuple(v) if isinstance(v, (tuple, list)) else v


def _args(positional, keywords, defaults):
    """Positional values, then keywords that differ from PyTorch's default."""
    parts = [literal(v) for v in positional]
    for k, v in keywords:
        if k in defaults and defaults[k] == v:
            continue
        parts.append(f"{k}={literal(v)}")
    return ", ".join(parts)


def _conv(m, name):
    kw = [("stride", _pair_or_int(m.stride)), ("padding", _pair_or_int(m.padding)),
          ("dilation", _pair_or_int(m.dilation)), ("groups", m.groups),
          ("bias", m.bias is not None), ("padding_mode", m.padding_mode)]
    if isinstance(m.padding, str):
        kw[1] = ("padding", m.padding)
    defaults = {"stride": 1, "padding": 0, "dilation": 1, "groups": 1, "bias": True,
                "padding_mode": "zeros"}
    return f"nn.{name}({_args([m.in_channels, m.out_channels, _pair_or_int(m.kernel_size)], kw, defaults)})"


def _conv_transpose(m, name):
    kw = [("stride", _pair_or_int(m.stride)), ("padding", _pair_or_int(m.padding)),
          ("output_padding", _pair_or_int(m.output_padding)), ("groups", m.groups),
          ("bias", m.bias is not None), ("dilation", _pair_or_int(m.dilation))]
    defaults = {"stride": 1, "padding": 0, "output_padding": 0, "groups": 1, "bias": True,
                "dilation": 1}
    return f"nn.{name}({_args([m.in_channels, m.out_channels, _pair_or_int(m.kernel_size)], kw, defaults)})"


def _batch_norm(m, name):
    if not m.track_running_stats:
        raise ExportError(f"{name}(track_running_stats=False) is not supported by Graft")
    if m.momentum is None:
        raise ExportError(f"{name}(momentum=None) (a cumulative average) is not supported by Graft")
    return f"nn.{name}({_args([m.num_features], [('eps', m.eps), ('momentum', m.momentum), ('affine', m.affine)], {'eps': 1e-5, 'momentum': 0.1, 'affine': True})})"


def _layer_norm(m):
    shape = tuple(m.normalized_shape)
    bias = getattr(m, "bias", None) is not None or not m.elementwise_affine
    kw = [("eps", m.eps), ("elementwise_affine", m.elementwise_affine)]
    if not bias:
        kw.append(("bias", False))
    return f"nn.LayerNorm({_args([shape[0] if len(shape) == 1 else shape], kw, {'eps': 1e-5, 'elementwise_affine': True})})"


def _pool(m, name, avg):
    kw = [("stride", _pair_or_int(m.stride)), ("padding", _pair_or_int(m.padding))]
    defaults = {"padding": 0, "ceil_mode": False}
    if not avg:
        kw.append(("dilation", _pair_or_int(m.dilation)))
        defaults["dilation"] = 1
        if m.return_indices:
            raise ExportError("MaxPool2d(return_indices=True) is not supported by Graft")
    kw.append(("ceil_mode", m.ceil_mode))
    if avg and (not m.count_include_pad or m.divisor_override is not None):
        raise ExportError("AvgPool2d with count_include_pad=False or divisor_override is not supported by Graft")
    ks = _pair_or_int(m.kernel_size)
    if _pair_or_int(m.stride) == ks:
        kw = kw[1:]
    return f"nn.{name}({_args([ks], kw, defaults)})"


def _recurrent(m, name):
    kw = [("num_layers", m.num_layers), ("bias", m.bias), ("batch_first", m.batch_first),
          ("dropout", float(m.dropout)), ("bidirectional", m.bidirectional)]
    defaults = {"num_layers": 1, "bias": True, "batch_first": False, "dropout": 0.0,
                "bidirectional": False}
    if name == "RNN":
        kw.append(("nonlinearity", m.nonlinearity))
        defaults["nonlinearity"] = "tanh"
    if getattr(m, "proj_size", 0):
        kw.append(("proj_size", m.proj_size))
    return f"nn.{name}({_args([m.input_size, m.hidden_size], kw, defaults)})"


def _multihead_attention(m):
    if m.bias_k is not None or m.add_zero_attn:
        raise ExportError("MultiheadAttention(add_bias_kv=True or add_zero_attn=True) is not supported by Graft")
    kw = [("dropout", float(m.dropout)), ("bias", m.in_proj_bias is not None or m.out_proj.bias is not None),
          ("batch_first", m.batch_first), ("kdim", m.kdim), ("vdim", m.vdim)]
    defaults = {"dropout": 0.0, "bias": True, "batch_first": False, "kdim": m.embed_dim, "vdim": m.embed_dim}
    return f"nn.MultiheadAttention({_args([m.embed_dim, m.num_heads], kw, defaults)})"


BUILTIN_MODULES = {
    nn.Linear: lambda m: f"nn.Linear({_args([m.in_features, m.out_features], [('bias', m.bias is not None)], {'bias': True})})",
    nn.Conv1d: lambda m: _conv(m, "Conv1d"),
    nn.Conv2d: lambda m: _conv(m, "Conv2d"),
    nn.ConvTranspose2d: lambda m: _conv_transpose(m, "ConvTranspose2d"),
    nn.BatchNorm1d: lambda m: _batch_norm(m, "BatchNorm1d"),
    nn.BatchNorm2d: lambda m: _batch_norm(m, "BatchNorm2d"),
    nn.LayerNorm: _layer_norm,
    nn.GroupNorm: lambda m: f"nn.GroupNorm({_args([m.num_groups, m.num_channels], [('eps', m.eps), ('affine', m.affine)], {'eps': 1e-5, 'affine': True})})",
    nn.Embedding: lambda m: f"nn.Embedding({_args([m.num_embeddings, m.embedding_dim], [('padding_idx', m.padding_idx)], {'padding_idx': None})})",
    nn.Dropout: lambda m: f"nn.Dropout({literal(float(m.p))})",
    nn.ReLU: lambda m: f"nn.ReLU({'inplace=True' if m.inplace else ''})",
    nn.GELU: lambda m: f"nn.GELU({_args([], [('approximate', m.approximate)], {'approximate': 'none'})})",
    nn.ReLU6: lambda m: f"nn.ReLU6({'inplace=True' if m.inplace else ''})",
    nn.Hardtanh: lambda m: f"nn.Hardtanh({_args([], [('min_val', m.min_val), ('max_val', m.max_val), ('inplace', m.inplace)], {'min_val': -1.0, 'max_val': 1.0, 'inplace': False})})",
    nn.LeakyReLU: lambda m: f"nn.LeakyReLU({_args([], [('negative_slope', m.negative_slope)], {'negative_slope': 0.01})})",
    nn.ELU: lambda m: f"nn.ELU({_args([], [('alpha', m.alpha)], {'alpha': 1.0})})",
    nn.Softplus: lambda m: f"nn.Softplus({_args([], [('beta', m.beta), ('threshold', m.threshold)], {'beta': 1, 'threshold': 20})})",
    nn.SiLU: lambda m: "nn.SiLU()", nn.Tanh: lambda m: "nn.Tanh()",
    nn.Sigmoid: lambda m: "nn.Sigmoid()", nn.Hardswish: lambda m: "nn.Hardswish()",
    nn.Hardsigmoid: lambda m: "nn.Hardsigmoid()", nn.Mish: lambda m: "nn.Mish()",
    nn.Softmax: lambda m: f"nn.Softmax({_args([], [('dim', m.dim)], {})})",
    nn.LogSoftmax: lambda m: f"nn.LogSoftmax({_args([], [('dim', m.dim)], {})})",
    nn.MaxPool2d: lambda m: _pool(m, "MaxPool2d", avg=False),
    nn.AvgPool2d: lambda m: _pool(m, "AvgPool2d", avg=True),
    nn.AdaptiveAvgPool2d: lambda m: f"nn.AdaptiveAvgPool2d({literal(_pair_or_int(m.output_size))})",
    nn.Flatten: lambda m: f"nn.Flatten({_args([], [('start_dim', m.start_dim), ('end_dim', m.end_dim)], {'start_dim': 1, 'end_dim': -1})})",
    nn.RNN: lambda m: _recurrent(m, "RNN"), nn.LSTM: lambda m: _recurrent(m, "LSTM"),
    nn.GRU: lambda m: _recurrent(m, "GRU"),
    nn.MultiheadAttention: _multihead_attention,
}

# torchvision's own layers that Graft has (where torchvision is installed).
try:
    import torchvision.ops
    BUILTIN_MODULES[torchvision.ops.StochasticDepth] = \
        lambda m: f"StochasticDepth({literal(float(m.p))}, {literal(m.mode)})"
    TORCHVISION_FUNCTIONS = {torchvision.ops.stochastic_depth: "stochastic_depth"}
except ImportError:
    TORCHVISION_FUNCTIONS = {}


def is_builtin(m):
    return type(m) in BUILTIN_MODULES or type(m) is nn.Identity


def is_container(m):
    """nn.Sequential, ModuleList and ModuleDict, or a subclass that keeps
    their forward (torchvision's Conv2dNormActivation): written as
    constructors. A subclass with a forward of its own (DenseNet's
    _DenseBlock) is a module like any other."""
    for kind in (nn.Sequential, nn.ModuleList, nn.ModuleDict):
        if isinstance(m, kind):
            # Graft numbers a Sequential's children; one built from an
            # OrderedDict (names like `head`) is a module of its own.
            numbered = kind is not nn.Sequential or \
                [n for n, _ in m.named_children()] == [str(i) for i in range(len(m))]
            return type(m).forward is kind.forward and numbered
    return False


def module_inputs(module, examples):
    """The positional arguments of each module's first call in a forward
    on the example inputs (modules inside a Sequential are called with
    values no traced forward shows)."""
    seen = {}

    def hook(m, args):
        seen.setdefault(m, (tuple(args), {}))
    handles = [m.register_forward_pre_hook(hook) for m in module.modules()]
    try:
        with torch.no_grad():
            module(*examples)
    except Exception as e:  # inputs the module cannot take, at the user's line
        message = str(e).strip().split("\n")[0]
        raise ExportError(message, error_line(e))
    finally:
        for h in handles:
            h.remove()
    return seen


# --- Tracing -----------------------------------------------------------------

# PyTorch's frames between the user's code and the tracer: fx, the
# torch-function dispatch, the functional wrappers and Module.__call__. Other
# PyTorch code (a built-in module's forward that is traced, as ReLU6's) is
# where the operation comes from.
PYTORCH_MACHINERY = re.compile(
    r"/torch/(fx/|overrides\.py|_tensor\.py|_jit_internal\.py|functional\.py|"
    r"nn/functional\.py|nn/modules/module\.py)")


def error_line(e):
    """Where an exception raised in the user's forward comes from: the
    innermost frame of the user's own code (a call of nn.Linear with the
    wrong shape is the caller's line, not Linear.forward's), else of any
    code but PyTorch's machinery."""
    frames = traceback.extract_tb(e.__traceback__)
    return user_line(frames, re.compile(r"/torch/")) or user_line(frames)


def user_line(frames=None, pytorch=PYTORCH_MACHINERY):
    """file:line of the innermost frame of the user's code in `frames` (by
    default the current stack): not PyTorch's machinery (`pytorch`), not
    this script's."""
    inside = False  # past this script's own innermost frames
    for frame in reversed(frames if frames is not None else traceback.extract_stack()):
        path = frame.filename
        if path.endswith("graft-export.py"):
            if inside and frame.name != "factory":
                return None  # out of the traced code
            continue
        inside = True
        if pytorch.search(path):
            continue
        # A package's file from the package on; the user's relative to the
        # working directory when below it.
        short = re.sub(r".*/(site|dist)-packages/", "", path)
        if short == path and not os.path.relpath(path).startswith(".."):
            short = os.path.relpath(path)
        return f"{short}:{frame.lineno}"
    return None


def concrete(value):
    """The example value of an fx argument (nodes in tuples, lists, dicts
    and slices replaced by theirs)."""
    if isinstance(value, fx.Node):
        return value.meta["val"]
    if isinstance(value, slice):
        return slice(concrete(value.start), concrete(value.stop), concrete(value.step))
    if isinstance(value, (tuple, list)):
        return type(value)(concrete(v) for v in value)
    if isinstance(value, dict):
        return {k: concrete(v) for k, v in value.items()}
    return value


class Tracer(fx.Tracer):
    """Traces one module's forward; its submodules stay calls. Every node
    carries its value on the example inputs (node.meta["val"]), so that
    sizes unpack and control flow on sizes is decided, as Graft's static
    shapes decide it."""

    def __init__(self, root, examples, elements=()):
        super().__init__()
        self.traced = root
        self.examples = examples  # placeholder name -> example value
        # A list argument's elements, each a placeholder of its own (fx's
        # concrete_args): (argument, index, example value) in order, and
        # the placeholder each became.
        self.elements = collections.deque(elements)
        self.list_args = {}  # placeholder name -> (argument, index)

    def is_leaf_module(self, m, qualname):
        return m is not self.traced and not (
            isinstance(m, (nn.ModuleList, nn.ModuleDict)) and is_container(m))

    def create_node(self, kind, target, args, kwargs, name=None, type_expr=None):
        node = super().create_node(kind, target, args, kwargs, name, type_expr)
        node.meta["where"] = user_line() if kind not in ("placeholder", "output") else None
        if kind == "placeholder":
            name = target.lstrip("*")
            if name not in self.examples and self.elements:
                argument, index, value = self.elements.popleft()
                self.list_args[name] = (argument, index)
                node.meta["val"] = value
            else:
                node.meta["val"] = self.examples.get(name)
        if kind == "placeholder" or kind == "output":
            return node
        cargs, ckwargs = concrete(node.args), concrete(node.kwargs)
        # The value, computed with fx's patches of nn.Module lifted (else
        # a module's own attribute reads would be traced again).
        patched = nn.Module.__call__, nn.Module.__getattr__
        nn.Module.__call__ = fx._symbolic_trace._orig_module_call
        nn.Module.__getattr__ = fx._symbolic_trace._orig_module_getattr
        try:
            with torch.no_grad():
                if kind == "get_attr":
                    value = self.root
                    for part in target.split("."):
                        value = getattr(value, part)
                elif kind == "call_function":
                    value = target(*cargs, **ckwargs)
                elif kind == "call_method":
                    value = getattr(cargs[0], target)(*cargs[1:], **ckwargs)
                else:
                    value = self.root.get_submodule(target)(*cargs, **ckwargs)
        except Exception as e:
            raise ExportError(f"{e}", node.meta["where"])
        finally:
            nn.Module.__call__, nn.Module.__getattr__ = patched
        node.meta["val"] = value
        return node

    def getattr(self, attr, attr_val, parameter_proxy_cache):
        # Buffers are read as nodes too (fx only does so for parameters), so
        # that `self.bias[:, :, :T, :T]` with a traced T can be traced.
        if isinstance(attr_val, torch.Tensor) and not isinstance(attr_val, nn.Parameter):
            for name, buffer in self.root.named_buffers():
                if buffer is attr_val:
                    if name not in parameter_proxy_cache:
                        parameter_proxy_cache[name] = self.create_proxy("get_attr", name, (), {})
                    return parameter_proxy_cache[name]
        return super().getattr(attr, attr_val, parameter_proxy_cache)

    def to_bool(self, proxy):
        value = proxy.node.meta.get("val")
        if isinstance(value, torch.Tensor):
            raise ExportError("control flow on a tensor's values cannot be exported: Graft's "
                              "program is the same for every batch (sizes are fine)",
                              user_line())
        return bool(value)

    def iter(self, proxy):
        value = proxy.node.meta.get("val")
        if isinstance(value, (tuple, list, torch.Size)):
            return iter([proxy[i] for i in range(len(value))])
        return super().iter(proxy)


FACTORIES = ("arange", "zeros", "ones", "full", "eye")


def trace(module, example_args, example_kwargs):
    """The fx graph of module.forward, with the example arguments' values."""
    sig = inspect.signature(module.forward)
    bound = sig.bind(*example_args, **example_kwargs)
    concrete_args = {}
    for name, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            code = module.forward.__code__
            raise ExportError(f"{type(module).__name__}.forward takes *args or **kwargs; "
                              "Graft's methods take named parameters",
                              f"{os.path.relpath(code.co_filename)}:{code.co_firstlineno}")
        if name not in bound.arguments:
            concrete_args[name] = p.default
    # A list of tensors (DenseNet's layers take the features so far): one
    # placeholder per element, the forward written to take the list.
    elements = []
    for name, value in bound.arguments.items():
        if isinstance(value, (list, tuple)) and value and \
                all(isinstance(v, torch.Tensor) for v in value):
            concrete_args[name] = type(value)(fx.PH for _ in value)
            elements += [(name, i, v) for i, v in enumerate(value)]
    tracer = Tracer(module, dict(bound.arguments), elements)
    # Factories taking sizes (torch.arange(0, t)): PyTorch's argument parser
    # does not let a Proxy stand for a number, so they are traced by hand.
    originals = {name: getattr(torch, name) for name in FACTORIES}

    def traced(original):
        def factory(*args, **kwargs):
            found = []
            fx.node.map_aggregate((args, kwargs), lambda a: found.append(a) if isinstance(a, fx.Proxy) else None)
            if found:
                return tracer.create_proxy("call_function", original, args, kwargs)
            return original(*args, **kwargs)
        return factory
    # Unpacking a traced value (`x, _ = self.attn(x)`) asks the tracer,
    # which knows the value's length; torch 1.13's own Proxy.__iter__ reads
    # the caller's bytecode, which Python 3.11 laid out differently.
    proxy_iter = fx.Proxy.__iter__
    try:
        for name, original in originals.items():
            setattr(torch, name, traced(original))
        fx.Proxy.__iter__ = lambda proxy: proxy.tracer.iter(proxy)
        graph = tracer.trace(module, concrete_args=concrete_args or None)
    except ExportError:
        raise
    except Exception as e:  # what tracing cannot follow, at the user's line
        message = str(e).strip().split("\n")[0]
        raise ExportError(f"cannot trace {type(module).__name__}.forward: {type(e).__name__}: {message}",
                          error_line(e))
    finally:
        fx.Proxy.__iter__ = proxy_iter
        for name, original in originals.items():
            setattr(torch, name, original)
    graph.owning_module = module
    graph.list_args = tracer.list_args
    return graph, list(bound.arguments)


# --- Writing .graft ------------------------------------------------------------

BINARY = {operator.add: "+", operator.sub: "-", operator.mul: "*", operator.truediv: "/",
          operator.floordiv: "//", operator.mod: "%", operator.pow: "**",
          operator.matmul: "@", operator.lt: "<", operator.le: "<=", operator.gt: ">",
          operator.ge: ">=", operator.eq: "==", operator.ne: "!=",
          operator.iadd: "+", operator.isub: "-", operator.imul: "*", operator.itruediv: "/"}
INPLACE_METHODS = {F.relu: "relu_", torch.relu: "relu_", torch.sigmoid: "sigmoid_",
                   torch.tanh: "tanh_", torch.exp: "exp_"}
INPLACE_FUNCTIONS = {F.relu6, F.hardtanh}  # Graft's take inplace=True too
DROPPED_KWARGS = {"device", "layout", "pin_memory", "memory_format", "_stacklevel"}


def attr_path(path, self_=""):
    """`transformer.h.0.attn` -> `transformer.h[0].attn`, after `self.` in a
    module; a name that is not an identifier (RegNet's `block1-0`) read as
    Python reads it, `getattr(self, "block1-0")`."""
    out = self_[:-1]
    for part in path.split("."):
        if part.isdigit():
            out += f"[{part}]"
        elif part.isidentifier():
            out += ("." if out else "") + part
        else:
            out = f"getattr({out or 'self'}, {literal(part)})"
    return out


def function_name(target):
    """How Graft spells a traced function: torch.*, F.*, math.*, builtins."""
    name = getattr(target, "__name__", None)
    if name and getattr(torch, name, None) is target:
        return f"torch.{name}"
    if name and getattr(F, name, None) is target:
        return f"F.{name}"
    if name and getattr(math, name, None) is target:
        return f"math.{name}"
    if target in (max, min, int, float, len, abs):
        return target.__name__
    return TORCHVISION_FUNCTIONS.get(target)


def signature_defaults(target):
    # F.max_pool2d and its kind are dispatchers over (*args, **kwargs):
    # their defaults are those of the function without indices.
    target = getattr(F, "_" + getattr(target, "__name__", ""), target)
    try:
        return {k: p.default for k, p in inspect.signature(target).parameters.items()
                if p.default is not inspect.Parameter.empty}
    except (TypeError, ValueError):
        return {}


class Writer:
    """Writes the module definitions and the model."""

    def __init__(self, dims, inputs):
        self.dims = dims
        self.inputs = inputs    # module -> (args, kwargs) of its first call
        self.definitions = []   # module definition texts, in dependency order
        self.by_text = {}       # body text -> module name
        self.names = {}         # class name -> count of definitions so far

    def module_name(self, cls_name, body):
        if cls_name in ("Sequential", "ModuleList", "ModuleDict"):
            cls_name = "Named" + cls_name  # not Graft's built-in of that name
        if body in self.by_text:
            return self.by_text[body]
        n = self.names.get(cls_name, 0)
        self.names[cls_name] = n + 1
        name = cls_name if n == 0 else f"{cls_name}_{n}"
        self.by_text[body] = name
        self.definitions.append((name, body))
        return name

    # constructors of children
    def constructor(self, m, calls):
        if type(m) is nn.Identity:
            return "nn.Identity()"
        if type(m) in BUILTIN_MODULES:
            # Graft's built-in modules make f32 parameters.
            for name, t in list(m.named_parameters(recurse=False)) + list(m.named_buffers(recurse=False)):
                if t.is_floating_point() and t.dtype != torch.float32:
                    raise ExportError(f"{type(m).__name__}.{name} is {t.dtype}: Graft's nn.{type(m).__name__} "
                                      "makes float32 parameters (export the model in float32)")
            return BUILTIN_MODULES[type(m)](m)
        if is_container(m) and isinstance(m, nn.Sequential):
            return "nn.Sequential(" + ", ".join(self.constructor(c, calls) for c in m.children()) + ")"
        if is_container(m) and isinstance(m, nn.ModuleList):
            return "nn.ModuleList([" + ", ".join(self.constructor(c, calls) for c in m.children()) + "])"
        if is_container(m):
            return "nn.ModuleDict(dict(" + ", ".join(f"{k}={self.constructor(c, calls)}" for k, c in m.named_children()) + "))"
        return self.define(m, calls.get(m)) + "()"

    def define(self, m, example):
        """A `module` definition for a custom module instance; its name.
        A module the forward never calls (efficientnet's StochasticDepth
        where a block has no residual) has its parameters and no forward."""
        body, _ = self.body(m, example, as_model=False)
        return self.module_name(type(m).__name__, body)

    def body(self, m, example, as_model):
        """The lines of a module's body (its __init__ and forward)."""
        graph, arg_names = trace(m, *example) if example else (fx.Graph(), [])
        # Each submodule's example arguments: as this forward calls it
        # (keywords included), else as the whole model's forward did.
        fx_calls = {}
        for node in graph.nodes:
            if node.op == "call_module":
                sub = m.get_submodule(node.target)
                fx_calls.setdefault(sub, (tuple(concrete(node.args)), dict(concrete(node.kwargs))))
        calls = collections.ChainMap(fx_calls, self.inputs)
        self_ = "" if as_model else "self."
        # A submodule's name need not be an identifier in a module
        # (setattr(self, "block1-0", ...), as nn.Module.add_module takes
        # it); a parameter's, a buffer's and the model's own must.
        for name in ([] if self_ else [n for n, _ in m.named_children()]) + \
                list(m._parameters) + list(m._buffers):
            if not name.isidentifier():
                raise ExportError(f"{type(m).__name__} has an attribute named '{name}': Graft's "
                                  "parameter, buffer and model attribute names are identifiers")
        lines = []
        for name, child in m.named_children():
            if name.isidentifier():
                lines.append((f"{self_}{name} = {self.constructor(child, calls)}", None))
            else:
                lines.append((f"setattr(self, {literal(name)}, {self.constructor(child, calls)})", None))
        for name, p in m.named_parameters(recurse=False):
            lines.append((f"param {name}: {DTYPES[p.dtype][0]}[{', '.join(map(str, p.shape))}] = zeros", None))
        for name, b in m.named_buffers(recurse=False):
            if name in m._non_persistent_buffers_set:
                raise ExportError(f"{type(m).__name__}.{name} is a non-persistent buffer: its values "
                                  "are not in the state_dict, so the weights file cannot carry them")
            lines.append((f"buffer {name}: {DTYPES[b.dtype][0]}[{', '.join(map(str, b.shape))}] = zeros", None))
        taken = {n for n, _ in m.named_children()} | {n for n, _ in m.named_parameters(recurse=False)} | \
            {n for n, _ in m.named_buffers(recurse=False)} | set(self.dims)
        forward, returned = self.forward_lines(graph, self_, taken)
        if as_model:
            return lines + self.ties(m) + forward, returned
        text = "\n".join(["  " + l for l, _ in lines])
        if not example:
            return text, None
        params = ", ".join(["self"] + [self.var(n) for n in arg_names])
        text += f"\n\n  def forward({params}) {{\n"
        text += "\n".join(f"    {l}" + (f"  # {w}" if w else "") for l, w in forward)
        text += f"\n    return {returned}\n  }}"
        return text, None

    def ties(self, m):
        """Weight tying (`transformer.wte.weight = lm_head.weight`): a
        parameter under several names is assigned, in the model body, from
        its last name to its first, which named_parameters() gives."""
        names = {}
        for prefix, sub in m.named_modules(remove_duplicate=False):
            for name, p in sub._parameters.items():
                if p is not None:
                    names.setdefault(id(p), []).append(f"{prefix}.{name}" if prefix else name)
        return [(f"{attr_path(group[0])} = {attr_path(other)}", None)
                for group in names.values() if len(group) > 1 for other in group[1:]]

    def var(self, name):
        return name + "_" if name in RESERVED else name

    def forward_lines(self, graph, self_, taken):
        """The statements of a traced forward; the names (or expression) it
        returns. Values are named as fx names its nodes, but never after a
        submodule, a parameter or a dim of the body (`conv1 = conv1(x)`
        would rebind the module in a model body)."""
        env = {}
        taken = set(taken) | {self.var(a) for a, _ in getattr(graph, "list_args", {}).values()}
        order = {n: i for i, n in enumerate(graph.nodes)}
        # What the result needs: fx keeps the nodes that control flow on
        # sizes read (`b, n = x.size(); if n == 8`), decided at export.
        # Module calls and in-place methods (`x.add_(y)`) write state.
        live = set()
        for node in reversed(graph.nodes):
            writes = node.op == "call_module" or (
                node.op == "call_method" and node.target.endswith("_")) or \
                node.kwargs.get("inplace") is True
            if node.op == "output" or writes or node in live:
                live.add(node)
                live.update(node.all_input_nodes)

        def fresh(name):
            base = self.var(name)
            name, n = base, 0
            while name in taken:
                n += 1
                name = f"{base}_out" if n == 1 else f"{base}_out{n}"
            taken.add(name)
            return name
        out, returned = [], None

        def arg(a):
            if isinstance(a, fx.Node):
                return env[a]
            if isinstance(a, slice):
                return ":".join("" if v is None else arg(v) for v in (a.start, a.stop)) + \
                    ("" if a.step is None else ":" + arg(a.step))
            if a is Ellipsis:
                return "..."
            if isinstance(a, (tuple, list)):
                return sequence([arg(v) for v in a], isinstance(a, list))
            return literal(a)

        def call_args(args, kwargs, defaults):
            parts = [arg(a) for a in args]
            for k, v in kwargs.items():
                if k in DROPPED_KWARGS or (k in defaults and not isinstance(v, fx.Node) and defaults[k] == v and type(defaults[k]) is type(v)):
                    continue
                parts.append(f"{k}={arg(v)}")
            return ", ".join(parts)

        for node in graph.nodes:
            where = node.meta.get("where")
            if node not in live and node.op != "placeholder":
                continue
            if node.op == "placeholder":
                element = getattr(graph, "list_args", {}).get(node.target)
                env[node] = fresh(node.target.lstrip("*"))
                if element:  # input_1 = input[0]
                    out.append((f"{env[node]} = {self.var(element[0])}[{element[1]}]", None))
                continue
            if node.op == "output":
                result = node.args[0]
                if isinstance(result, (tuple, list)):
                    returned = ", ".join(arg(r) for r in result)
                else:
                    returned = arg(result)
                continue
            if node.op == "get_attr":
                env[node] = attr_path(node.target, self_)
                continue
            if node.op == "call_function" and node.target is getattr:
                attr = node.args[1]
                if attr in ("device",):
                    env[node] = None
                    continue
                expr = f"{arg(node.args[0])}.{attr}"
            elif node.op == "call_function" and node.target is torch._assert:
                continue  # decided at export with the static shapes
            elif node.op == "call_function" and node.target is operator.getitem:
                index = node.args[1]
                text = ", ".join(arg(i) for i in index) if isinstance(index, tuple) else arg(index)
                expr = f"{arg(node.args[0])}[{text}]"
            elif node.op == "call_function" and node.target in BINARY:
                expr = f"{arg(node.args[0])} {BINARY[node.target]} {arg(node.args[1])}"
            elif node.op == "call_function" and node.target in (operator.neg,):
                expr = f"-{arg(node.args[0])}"
            elif node.op == "call_function":
                name = function_name(node.target)
                if name is None:
                    raise ExportError(f"{getattr(node.target, '__module__', '')}."
                                      f"{getattr(node.target, '__name__', node.target)} has no Graft equivalent", where)
                kwargs = dict(node.kwargs)
                source = node.args[0] if node.args else None
                if kwargs.pop("inplace", False) is True and any(
                        order[u] > order[node] for u in source.users if u is not node):
                    # F.relu(x, inplace=True) with x read after: Graft's
                    # in-place method, whose result every name of x then
                    # denotes, as in PyTorch. Read by nothing after, the
                    # function is the same.
                    if node.target in INPLACE_FUNCTIONS:
                        kwargs["inplace"] = True
                        expr = f"{name}({call_args(node.args, kwargs, signature_defaults(node.target))})"
                    elif node.target in INPLACE_METHODS:
                        expr = f"{arg(source)}.{INPLACE_METHODS[node.target]}()"
                    else:
                        raise ExportError(f"{name}(inplace=True) overwrites a value read after it; "
                                          "Graft has no in-place form of it", where)
                else:
                    expr = f"{name}({call_args(node.args, kwargs, signature_defaults(node.target))})"
            elif node.op == "call_method":
                if node.target in ("to", "type") and node.args[1:] and isinstance(node.args[1], torch.device):
                    env[node] = env[node.args[0]]
                    continue
                expr = f"{arg(node.args[0])}.{node.target}({call_args(node.args[1:], node.kwargs, {})})"
            else:  # call_module
                if type(graph.owning_module.get_submodule(node.target)) is nn.Identity:
                    env[node] = arg(node.args[0])
                    continue
                expr = f"{attr_path(node.target, self_)}({call_args(node.args, node.kwargs, {})})"
            name = fresh(node.name)
            env[node] = name
            out.append((f"{name} = {expr}", where))
        return out, returned


def write_safetensors(path, tensors):
    """The state_dict as safetensors (little-endian, in state_dict order)."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        if t.dtype not in DTYPES:
            raise ExportError(f"{name}: the dtype {t.dtype} cannot be written")
        data = t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.view(torch.int16).numpy().tobytes()
        header[name] = {"dtype": DTYPES[t.dtype][1], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    write_atomically(path, struct.pack("<Q", len(text)) + text + b"".join(blobs))


def write_atomically(path, data):
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def load_module(spec):
    """SOURCE:EXPR -> the nn.Module."""
    source, sep, expr = spec.partition(":")
    if not sep or not expr:
        raise ExportError(f"'{spec}': give SOURCE:EXPR, e.g. model.py:Net() or "
                          "torchvision.models:resnet18(num_classes=10)")
    if source.endswith(".py"):
        if not os.path.exists(source):
            raise ExportError(f"{source}: no such file")
        sys.path.insert(0, os.path.dirname(os.path.abspath(source)))
        name = os.path.basename(source)[:-3]
        spec_ = importlib.util.spec_from_file_location(name, source)
        mod = importlib.util.module_from_spec(spec_)
        sys.modules[name] = mod
        spec_.loader.exec_module(mod)
    else:
        mod = importlib.import_module(source)
    if not expr.rstrip().endswith(")"):
        expr += "()"
    try:
        module = eval(expr, dict(vars(mod)))
    except Exception as e:
        raise ExportError(f"'{expr}': {type(e).__name__}: {e}")
    if not isinstance(module, nn.Module):
        raise ExportError(f"'{expr}' gives a {type(module).__name__}, not an nn.Module")
    return module


def arguments():
    p = argparse.ArgumentParser(prog="graft-export", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("module", metavar="SOURCE:EXPR")
    p.add_argument("--input", action="append", default=[], metavar="NAME=TYPE",
                   help="forward's arguments, in order (f32[B, 1, 28, 28])")
    p.add_argument("--target", action="append", default=[], metavar="NAME=TYPE",
                   help="an input only the loss reads (i64[B])")
    p.add_argument("--dim", action="append", default=[], metavar="NAME=VALUE")
    p.add_argument("--outputs", help="names of forward's results, comma-separated")
    p.add_argument("--loss", help="the train block's loss, a Graft expression")
    p.add_argument("--optimizer", default="SGD(lr=0.01)")
    p.add_argument("--freeze", action="append", default=[], metavar="PATTERN")
    p.add_argument("--name", help="the model's name (default: the module's class)")
    p.add_argument("--seed", type=int, default=0, help="torch.manual_seed before building")
    p.add_argument("--eval", action="store_true", help="export in eval mode (model.eval())")
    p.add_argument("-o", "--output", required=True, metavar="OUT.graft")
    p.add_argument("--weights", metavar="OUT.safetensors")
    p.add_argument("--graft", help="check the written file with this graft binary "
                   "(default: the graft on PATH, if any)")
    p.add_argument("--no-check", action="store_true", help="do not run graft check")
    return p


def prepare(a):
    """The command line's dims, inputs and targets ((name, dtype, sizes,
    type text) each), and the module built from --seed."""
    dims = {}
    for d in a.dim:
        k, sep, v = d.partition("=")
        if not sep or not v.isdigit() or int(v) <= 0 or not k.isidentifier():
            raise ExportError(f"--dim {d}: give NAME=VALUE with a positive integer")
        dims[k] = int(v)

    def typed(specs, flag):
        out = []
        for s in specs:
            k, sep, t = s.partition("=")
            if not sep or not k.isidentifier():
                raise ExportError(f"{flag} {s}: give NAME=TYPE, e.g. x=f32[B, 784]")
            out.append((k,) + parse_type(t, dims))
        return out
    inputs, targets = typed(a.input, "--input"), typed(a.target, "--target")
    if not inputs:
        raise ExportError("give forward's arguments with --input NAME=TYPE")
    torch.manual_seed(a.seed)
    module = load_module(a.module)
    module.train(not a.eval)
    return dims, inputs, targets, module


def main(argv=None):
    a = arguments().parse_args(argv)
    try:
        dims, inputs, targets, module = prepare(a)
        # Tracing runs the module (batch norm updates its running
        # statistics): the weights written are those from before.
        current = module.state_dict()
        state = type(current)((k, v.detach().clone()) for k, v in current.items())
        state._metadata = getattr(current, "_metadata", None)  # versions, for load_state_dict
        torch.manual_seed(a.seed)
        examples = tuple(example(dt, sz) for _, dt, sz, _ in inputs)
        writer = Writer(dims, module_inputs(module, examples))
        lines, returned = writer.body(module, (examples, {}), as_model=True)
        results = [r.strip() for r in returned.split(",")] if returned else []
        names = [n.strip() for n in a.outputs.split(",")] if a.outputs else \
            (["output"] if len(results) == 1 else [f"output{i}" for i in range(len(results))])
        if len(names) != len(results):
            raise ExportError(f"--outputs names {len(names)} results; forward returns {len(results)}")
        model_name = a.name or re.sub(r"\W", "_", type(module).__name__)
        text = [f"# Exported from {a.module} by tools/graft-export.py (torch {torch.__version__},"
                f" seed {a.seed}); weights: {os.path.basename(a.weights) if a.weights else 'none written'}."]
        text += [f"dim {k} = {v}" for k, v in dims.items()]
        for name, body in writer.definitions:
            text.append(f"\nmodule {name} {{\n{body}\n}}")
        text.append(f"\nmodel {model_name} {{")
        for name, _, _, t in inputs + targets:
            text.append(f"  input {name}: {t}")
        text.append("")
        for line, where in lines:
            text.append(f"  {line}" + (f"  # {where}" if where else ""))
        for name, r in zip(names, results):
            text.append(f"  output {name} = {r}" if name != r else f"  output {name}")
        if a.freeze:
            text.append(f"  freeze {', '.join(a.freeze)}")
        if a.loss:
            text += ["", "  train {", f"    loss = {a.loss}", f"    optimizer = {a.optimizer}", "  }"]
        text.append("}")
        write_atomically(a.output, ("\n".join(text) + "\n").encode())
        if a.weights:
            write_safetensors(a.weights, state)
        module.load_state_dict(state)
        graft = None if a.no_check else (a.graft or shutil.which("graft"))
        if graft:
            check = subprocess.run([graft, "check", a.output], capture_output=True, text=True)
            if check.returncode == 0:
                # The names Graft gives the parameters and buffers must be
                # the state_dict's (tied parameters once, under the first).
                graft_names = set(re.findall(r"^\s*(?:param|buffer)\s+(\S+):", check.stdout, re.M))
                expected = {n for n, _ in module.named_parameters()} | \
                    {n for n, _ in module.named_buffers() if n in state}
                if graft_names != expected:
                    raise ExportError("the written model names its tensors differently from the "
                                      f"state_dict: only in {a.output}: {sorted(graft_names - expected)[:5]}; "
                                      f"only in the state_dict: {sorted(expected - graft_names)[:5]}")
            if check.returncode != 0:
                with open(a.output) as f:
                    graft_lines = f.read().split("\n")
                sys.stderr.write(check.stderr)
                for m in re.finditer(re.escape(a.output) + r":(\d+):\d+: error", check.stderr):
                    line = graft_lines[int(m.group(1)) - 1]
                    loc = re.search(r"#\s*(\S+:\d+)\s*$", line)
                    if loc:
                        sys.stderr.write(f"{loc.group(1)}: note: the Python line this statement was exported from\n")
                return 1
        return 0
    except ExportError as e:
        where = f"{e.where}: " if e.where else ""
        sys.stderr.write(f"graft-export: {where}error: {e}\n")
        return 1


if __name__ == "__main__":
    sys.exit(main())
