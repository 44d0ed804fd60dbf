#!/usr/bin/python3
"""Writes optimizer_goldens.json: torch.optim's numbers for the optimizer tests.

Run with Debian's PyTorch (/usr/bin/python3 has torch; a pyenv python may not):

    /usr/bin/python3 test/golden/gen_optimizer_goldens.py > test/golden/optimizer_goldens.json

Every case trains the same small model, fc1 (Linear 4->5) -> tanh -> fc2
(Linear 5->3, bias frozen) -> mse_loss, for 3 steps with torch.optim, in
float32 and float64, and records the initial parameters, each step's inputs,
loss, parameters and optimizer state (state_dict keys "fc1.weight.exp_avg").
The case also carries its `graft.train` line, so the C++ test builds exactly
the configuration that torch ran. unittests/OptimizerTest.cpp reads the file.
"""
import importlib
import inspect
import json
import re
import zlib

import torch
import torch.nn.functional as F

STEPS = 3
B = 4
NAMES = ["fc1.weight", "fc1.bias", "fc2.weight", "fc2.bias"]
FROZEN = {"fc2.bias"}
SHAPES = {"fc1.weight": [5, 4], "fc1.bias": [5], "fc2.weight": [3, 5],
          "fc2.bias": [3]}


def tensor(t):
    # Nine significant digits round-trip a float32 exactly; float64 needs 17.
    digits = 9 if t.dtype == torch.float32 else 17
    return {"shape": list(t.shape),
            "data": [float(f"{v:.{digits}g}")
                     for v in t.detach().reshape(-1).tolist()]}


def mlir_dtype(dt):
    return {torch.float32: "f32", torch.float64: "f64"}[dt]


def model_ir(dt, train, batch):
    t = mlir_dtype(dt)
    return f"""graft.model @m {{
  %x = graft.input "x" : tensor<{batch}x4x{t}>
  %y = graft.input "y" : tensor<{batch}x3x{t}>
  %w1 = graft.param "fc1.weight" init <zeros> : tensor<5x4x{t}>
  %b1 = graft.param "fc1.bias" init <zeros> : tensor<5x{t}>
  %w2 = graft.param "fc2.weight" init <zeros> : tensor<3x5x{t}>
  %b2 = graft.param "fc2.bias" frozen init <zeros> : tensor<3x{t}>
  %h = graft.linear %x, %w1, %b1 : (tensor<{batch}x4x{t}>, tensor<5x4x{t}>, tensor<5x{t}>) -> tensor<{batch}x5x{t}>
  %a = graft.tanh %h : tensor<{batch}x5x{t}>
  %o = graft.linear %a, %w2, %b2 : (tensor<{batch}x5x{t}>, tensor<3x5x{t}>, tensor<3x{t}>) -> tensor<{batch}x3x{t}>
  %l = graft.mse_loss %o, %y : (tensor<{batch}x3x{t}>, tensor<{batch}x3x{t}>) -> tensor<{t}>
  graft.loss %l : tensor<{t}>
  {train}
}}
"""


def mlir_float(v):
    """A float as MLIR's parser reads it: 1e-06 needs a point (1.0e-06)."""
    r = repr(float(v))
    mantissa, e, exponent = r.partition("e")
    return mantissa + (".0" if e and "." not in mantissa else "") + e + exponent


def train_attr(kind, opts, groups, extra):
    """The graft.train line of a configuration."""
    parts = []
    for k, v in opts.items():
        if k == "betas":
            parts.append(f"betas = array<f64: {v[0]!r}, {v[1]!r}>")
        elif isinstance(v, bool):
            parts.append(f"{k} = {'true' if v else 'false'}")
        else:
            parts.append(f"{k} = {mlir_float(v)} : f64")
    if groups:
        gs = []
        for g in groups:
            items = ["params = [" + ", ".join(f'"{p}"' for p in g["params"]) + "]"]
            items += [f"{k} = {mlir_float(v)} : f64" for k, v in g.items()
                      if k != "params"]
            gs.append("{" + ", ".join(items) + "}")
        parts.append("param_groups = [" + ", ".join(gs) + "]")
    for k, v in extra.items():
        if k == "lr_schedule":
            parts.append("lr_schedule = " + schedule_attr(v))
        elif isinstance(v, int):
            parts.append(f"{k} = {v} : i64")
        elif v == float("inf"):  # MLIR spells infinity by its bits
            parts.append(f"{k} = 0x7FF0000000000000 : f64")
        else:
            parts.append(f"{k} = {mlir_float(v)} : f64")
    return f"graft.train {kind} {{" + ", ".join(parts) + "}"


def schedule_attr(spec):
    """An lr_schedule dictionary: numbers, milestones, strings, booleans
    and SequentialLR's nested schedules."""
    items = []
    for a, b in spec.items():
        if a == "schedulers":
            items.append(f"{a} = [" + ", ".join(map(schedule_attr, b)) + "]")
        elif a == "milestones":
            items.append(f"{a} = array<i64: " + ", ".join(map(str, b)) + ">")
        elif isinstance(b, bool):
            items.append(f"{a} = {'true' if b else 'false'}")
        elif isinstance(b, str):
            items.append(f'{a} = "{b}"')
        elif isinstance(b, int):
            items.append(f"{a} = {b} : i64")
        else:
            items.append(f"{a} = {mlir_float(b)} : f64")
    return "{" + ", ".join(items) + "}"


def matches(pattern, name):
    return re.fullmatch(".*".join(map(re.escape, pattern.split("*"))), name)


def make_schedule(opt, spec):
    if spec is None:
        return None
    args = {k: v for k, v in spec.items() if k != "kind"}
    if "schedulers" in args:
        args["schedulers"] = [make_schedule(opt, c) for c in args["schedulers"]]
    if spec["kind"] == "OneCycleLR":
        args["cycle_momentum"] = False  # Graft's requirement; see the docs
    return getattr(torch.optim.lr_scheduler, spec["kind"])(opt, **args)


def _nadam_torch2(params, grads, exp_avgs, exp_avg_sqs, mu_products,
                  state_steps, *, beta1, beta2, lr, weight_decay,
                  momentum_decay, eps):
    """torch 2.x's _single_tensor_nadam (its default, non-capturable path).

    torch 1.13's multiplies mu_product_next by mu once more
    (`mu_product * mu * mu_next` after `mu_product *= mu`); PyTorch 2.0
    fixed it, and Graft follows the fix. The rest is 1.13's line for line
    (2.x writes exp_avg.lerp_, a rounding difference in the last place).
    """
    for i, param in enumerate(params):
        grad = grads[i]
        exp_avg = exp_avgs[i]
        exp_avg_sq = exp_avg_sqs[i]
        mu_product = mu_products[i]
        step_t = state_steps[i]
        step_t += 1
        step = step_t.item()
        bias_correction2 = 1 - beta2 ** step
        if weight_decay != 0:
            grad = grad.add(param, alpha=weight_decay)
        mu = beta1 * (1. - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1. - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        mu_product *= mu
        mu_product_next = mu_product.item() * mu_next
        exp_avg.mul_(beta1).add_(grad, alpha=1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt().add_(eps)
        param.addcdiv_(grad, denom,
                       value=-lr * (1. - mu) / (1. - mu_product.item()))
        param.addcdiv_(exp_avg, denom, value=-lr * mu_next / (1. - mu_product_next))


if torch.__version__.startswith("1."):
    importlib.import_module("torch.optim.nadam")._single_tensor_nadam = \
        _nadam_torch2

# torch 2.x options that 1.13's class lacks, applied as 2.x applies them
# before the update: maximize negates the gradient, decoupled_weight_decay
# scales the parameter by 1 - lr * weight_decay (and adds no decay to the
# gradient).
EMULATED = ("maximize", "decoupled_weight_decay")


def run_case(name, kind, opts, groups=(), extra=None, dt=torch.float64,
             accumulation=1, steps=STEPS):
    extra = dict(extra or {})
    gen = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    params = {n: torch.nn.Parameter(
        (torch.rand(SHAPES[n], generator=gen, dtype=torch.float64) - 0.5).to(dt))
        for n in NAMES}
    params["fc2.bias"].requires_grad_(False)
    init = {n: tensor(p) for n, p in params.items()}

    # torch's parameter groups: the unmatched parameters first (the default
    # group), then each group. Frozen parameters are in the optimizer too,
    # as users do; their grad stays None, so torch skips them.
    default = [params[n] for n in NAMES
               if not any(matches(pt, n) for g in groups for pt in g["params"])]
    pgroups = [{"params": default}]
    for g in groups:
        pgroups.append({**{k: v for k, v in g.items() if k != "params"},
                        "params": [params[n] for n in NAMES
                                   if any(matches(pt, n) for pt in g["params"])]})
    topts = dict(opts)
    if "betas" in topts:
        topts["betas"] = tuple(topts["betas"])
    cls = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam,
           "adamw": torch.optim.AdamW, "adadelta": torch.optim.Adadelta,
           "adagrad": torch.optim.Adagrad,
           "rmsprop": torch.optim.RMSprop, "adamax": torch.optim.Adamax,
           "nadam": torch.optim.NAdam, "radam": torch.optim.RAdam}[kind]
    emulate = {k: topts.pop(k) for k in EMULATED
               if k in topts and k not in inspect.signature(cls).parameters}
    if emulate.get("decoupled_weight_decay"):
        decay = topts.pop("weight_decay", 0.0)
    opt = cls(pgroups, **topts)
    sched = make_schedule(opt, extra.get("lr_schedule"))

    history = []
    for s in range(steps):
        x = torch.randn(B * accumulation, 4, generator=gen,
                        dtype=torch.float64).to(dt)
        y = torch.randn(B * accumulation, 3, generator=gen,
                        dtype=torch.float64).to(dt)
        lrs = [g["lr"] for g in opt.param_groups]
        opt.zero_grad()
        h = torch.tanh(F.linear(x, params["fc1.weight"], params["fc1.bias"]))
        out = F.linear(h, params["fc2.weight"], params["fc2.bias"])
        loss = F.mse_loss(out, y)
        loss.backward()
        if "clip_grad_norm" in extra:
            torch.nn.utils.clip_grad_norm_(
                [p for p in params.values() if p.requires_grad],
                extra["clip_grad_norm"], extra.get("clip_norm_type", 2.0))
        if "clip_grad_value" in extra:
            torch.nn.utils.clip_grad_value_(
                [p for p in params.values() if p.requires_grad],
                extra["clip_grad_value"])
        with torch.no_grad():
            for group in opt.param_groups:
                for p in group["params"]:
                    if p.grad is None:
                        continue
                    if emulate.get("maximize"):
                        p.grad.neg_()
                    if emulate.get("decoupled_weight_decay"):
                        p.mul_(1 - group["lr"] * decay)
        opt.step()
        if sched:
            sched.step()
        state = {}
        for n, p in params.items():
            if n in FROZEN:
                # Adagrad builds state for every parameter it is given; a
                # frozen one is never updated, and Graft keeps none for it.
                continue
            for k, v in opt.state.get(p, {}).items():
                if v is None:  # SGD without momentum
                    continue
                state[f"{n}.{k}"] = tensor(v if torch.is_tensor(v)
                                           else torch.tensor(float(v)))
        history.append({"x": tensor(x), "y": tensor(y), "loss": float(loss),
                      "lrs": lrs,
                      "params": {n: tensor(p) for n, p in params.items()},
                      "state": state})
    if accumulation > 1:
        extra["accumulation_steps"] = accumulation
    return {"name": f"{name}_{mlir_dtype(dt)}", "dtype": mlir_dtype(dt),
            "ir": model_ir(dt, train_attr(kind, opts, groups, extra), B),
            "accumulation": accumulation, "init": init, "steps": history}


CASES = [
    ("sgd_plain", "sgd", {"lr": 0.1}),
    ("sgd_momentum", "sgd", {"lr": 0.1, "momentum": 0.9}),
    ("sgd_dampening", "sgd", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("sgd_nesterov", "sgd", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("sgd_weight_decay", "sgd", {"lr": 0.1, "momentum": 0.5,
                                 "weight_decay": 0.1}),
    ("sgd_maximize", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1,
                             "maximize": True}),
    ("adam_plain", "adam", {"lr": 0.01}),
    ("adam_betas_eps", "adam", {"lr": 0.01, "betas": [0.8, 0.99],
                                "eps": 1e-3}),
    ("adam_weight_decay", "adam", {"lr": 0.01, "weight_decay": 0.1}),
    ("adam_amsgrad", "adam", {"lr": 0.01, "amsgrad": True}),
    ("adam_maximize", "adam", {"lr": 0.01, "weight_decay": 0.1,
                               "maximize": True}),
    ("adamw_plain", "adamw", {"lr": 0.01}),
    ("adamw_weight_decay", "adamw", {"lr": 0.01, "weight_decay": 0.3}),
    ("adamw_amsgrad", "adamw", {"lr": 0.01, "amsgrad": True,
                                "weight_decay": 0.1}),
    ("adadelta_plain", "adadelta", {"lr": 1.0}),
    ("adadelta_rho_eps", "adadelta", {"lr": 0.5, "rho": 0.8, "eps": 1e-4,
                                      "weight_decay": 0.1}),
    ("adadelta_maximize", "adadelta", {"lr": 1.0, "maximize": True}),
    ("adagrad_plain", "adagrad", {"lr": 0.1}),
    ("adagrad_decay", "adagrad", {"lr": 0.1, "lr_decay": 0.5,
                                  "weight_decay": 0.1,
                                  "initial_accumulator_value": 0.2,
                                  "eps": 1e-6}),
    ("rmsprop_plain", "rmsprop", {"lr": 0.01}),
    ("rmsprop_momentum", "rmsprop", {"lr": 0.01, "momentum": 0.9,
                                     "weight_decay": 0.1}),
    ("rmsprop_centered", "rmsprop", {"lr": 0.01, "alpha": 0.9,
                                     "centered": True}),
    ("rmsprop_centered_momentum", "rmsprop", {"lr": 0.01, "centered": True,
                                              "momentum": 0.5,
                                              "maximize": True}),
    ("adamax_plain", "adamax", {"lr": 0.01}),
    ("adamax_options", "adamax", {"lr": 0.01, "betas": [0.8, 0.99],
                                  "eps": 1e-3, "weight_decay": 0.1,
                                  "maximize": True}),
    ("nadam_plain", "nadam", {"lr": 0.01}),
    ("nadam_options", "nadam", {"lr": 0.01, "betas": [0.8, 0.99],
                                "momentum_decay": 0.1, "weight_decay": 0.1}),
    ("nadam_decoupled", "nadam", {"lr": 0.01, "weight_decay": 0.1,
                                  "decoupled_weight_decay": True,
                                  "maximize": True}),
]
# RAdam rectifies from the step where rho_t > 5 (the 6th with these betas):
# 8 steps cover both of its branches.
LONG_CASES = [
    ("radam_plain", "radam", {"lr": 0.01}),
    ("radam_options", "radam", {"lr": 0.01, "betas": [0.8, 0.9], "eps": 1e-4,
                                "weight_decay": 0.1}),
    ("radam_decoupled", "radam", {"lr": 0.01, "weight_decay": 0.1,
                                  "decoupled_weight_decay": True}),
]
GROUP_CASES = [
    # The usual setup: no weight decay on biases; a second group with its own lr.
    ("adamw_groups", "adamw", {"lr": 0.01, "weight_decay": 0.2},
     [{"params": ["*.bias"], "weight_decay": 0.0},
      {"params": ["fc2.w*"], "lr": 0.05}]),
    ("sgd_groups", "sgd", {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.1},
     [{"params": ["*.bias"], "weight_decay": 0.0, "momentum": 0.5}]),
    # Momentum buffers on the weights only.
    ("rmsprop_groups", "rmsprop", {"lr": 0.01},
     [{"params": ["*.weight"], "momentum": 0.5, "alpha": 0.9}]),
]
EXTRA_CASES = [
    ("sgd_clip_norm", "sgd", {"lr": 0.1, "momentum": 0.9},
     {"clip_grad_norm": 0.3}),
    ("adam_clip_norm_inf", "adam", {"lr": 0.01},
     {"clip_grad_norm": 0.05, "clip_norm_type": float("inf")}),
    ("sgd_clip_norm_big", "sgd", {"lr": 0.1}, {"clip_grad_norm": 100.0}),
    ("sgd_clip_value", "sgd", {"lr": 0.1, "momentum": 0.9},
     {"clip_grad_value": 0.05}),
    ("adam_steplr", "adam", {"lr": 0.01},
     {"lr_schedule": {"kind": "StepLR", "step_size": 1, "gamma": 0.5}}),
    # pytorch/examples' mnist/main.py: Adadelta(lr=1.0), StepLR(1, 0.7).
    ("adadelta_steplr", "adadelta", {"lr": 1.0},
     {"lr_schedule": {"kind": "StepLR", "step_size": 1, "gamma": 0.7}}),
    ("sgd_linearlr", "sgd", {"lr": 0.1, "momentum": 0.9},
     {"lr_schedule": {"kind": "LinearLR", "start_factor": 0.25,
                      "total_iters": 2}}),
]
ACCUMULATION_CASES = [
    ("sgd_accumulation", "sgd", {"lr": 0.1, "momentum": 0.9}, 2),
    ("adam_accumulation", "adam", {"lr": 0.01}, 2),
    ("adamw_accumulation_clip", "adamw", {"lr": 0.01}, 3),
    ("rmsprop_accumulation", "rmsprop", {"lr": 0.01, "momentum": 0.9}, 2),
]


def schedule_goldens():
    """get_last_lr() of each scheduler over 12 epochs, base lr 0.1."""
    out = []
    specs = [
        {"kind": "StepLR", "step_size": 3, "gamma": 0.5},
        {"kind": "StepLR", "step_size": 2},
        {"kind": "ExponentialLR", "gamma": 0.9},
        {"kind": "CosineAnnealingLR", "T_max": 10},
        {"kind": "CosineAnnealingLR", "T_max": 6, "eta_min": 0.01},
        {"kind": "LinearLR"},
        {"kind": "LinearLR", "start_factor": 0.1, "end_factor": 0.5,
         "total_iters": 4},
        {"kind": "MultiStepLR", "milestones": [2, 5, 5, 9], "gamma": 0.5},
        {"kind": "ConstantLR"},
        {"kind": "ConstantLR", "factor": 0.5, "total_iters": 3},
        {"kind": "CosineAnnealingWarmRestarts", "T_0": 4},
        {"kind": "CosineAnnealingWarmRestarts", "T_0": 2, "T_mult": 2,
         "eta_min": 0.01},
        {"kind": "OneCycleLR", "max_lr": 1.0, "total_steps": 12},
        {"kind": "OneCycleLR", "max_lr": 0.5, "epochs": 3,
         "steps_per_epoch": 4, "pct_start": 0.25, "anneal_strategy": "linear",
         "div_factor": 10.0, "final_div_factor": 100.0},
        {"kind": "OneCycleLR", "max_lr": 1.0, "total_steps": 12,
         "three_phase": True},
        # nanoGPT's get_lr: linear warm-up, cosine decay to min_lr, min_lr.
        {"kind": "SequentialLR", "milestones": [3, 9],
         "schedulers": [
             {"kind": "LinearLR", "start_factor": 0.25, "total_iters": 3},
             {"kind": "CosineAnnealingLR", "T_max": 6, "eta_min": 0.01},
             {"kind": "ConstantLR", "factor": 0.1, "total_iters": 100}]},
        {"kind": "SequentialLR", "milestones": [4],
         "schedulers": [{"kind": "ConstantLR", "factor": 0.1,
                         "total_iters": 2},
                        {"kind": "ExponentialLR", "gamma": 0.9}]},
    ]
    for spec in specs:
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make_schedule(opt, spec)
        lrs = []
        # OneCycleLR refuses to step past its total_steps (12 here).
        for epoch in range(13):
            lrs.append(sched.get_last_lr()[0])
            opt.step()
            if epoch < 12:
                sched.step()
        extra = {"lr_schedule": spec}
        out.append({"train": train_attr("sgd", {"lr": 0.1}, (), extra),
                    "base_lr": 0.1, "lrs": lrs})
    return out


def main():
    torch.manual_seed(0)
    cases = []
    for dt in (torch.float32, torch.float64):
        for name, kind, opts in CASES:
            cases.append(run_case(name, kind, opts, dt=dt))
        for name, kind, opts in LONG_CASES:
            cases.append(run_case(name, kind, opts, dt=dt, steps=8))
        for name, kind, opts, groups in GROUP_CASES:
            cases.append(run_case(name, kind, opts, groups, dt=dt))
        for name, kind, opts, extra in EXTRA_CASES:
            cases.append(run_case(name, kind, opts, extra=extra, dt=dt))
        for name, kind, opts, n in ACCUMULATION_CASES:
            extra = {"clip_grad_norm": 0.2} if "clip" in name else None
            cases.append(run_case(name, kind, opts, extra=extra, dt=dt,
                                  accumulation=n))
    print(json.dumps({"torch": torch.__version__, "cases": cases,
                      "schedules": schedule_goldens()}, indent=None))


if __name__ == "__main__":
    main()
