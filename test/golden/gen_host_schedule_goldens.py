#!/usr/bin/python3
"""Writes host_schedule_goldens.json: the learning rates of the schedules
the host evaluates from more than the step count's closed form.

Run with Debian's PyTorch (/usr/bin/python3 has torch):

    /usr/bin/python3 test/golden/gen_host_schedule_goldens.py > test/golden/host_schedule_goldens.json

"lambda": LambdaLR with schedule functions written in both languages (a
lambda is the same text in both; a def differs in its braces). torch runs
LambdaLR(SGD(lr=base_lr), lr_lambda) for 40 steps and records
get_last_lr() before each; unittests/OptimizerTest.cpp compiles the model
file's train block with the front-end and compares graft::scheduledLR.

"plateau": ReduceLROnPlateau with its options, stepped with a fixed
sequence of metrics over two parameter groups; the rates after each step
and the state (best, num_bad_epochs, cooldown_counter), against
graft::Plateau.
"""
import json
import math

import torch

# nanoGPT's train.py schedule, in its numbers for shakespeare_char scaled
# down: warmup_iters 5, lr_decay_iters 30, learning_rate 1e-3, min_lr 1e-4.
NANOGPT_PY = '''
def get_lr(it):
    # 1) linear warmup for warmup_iters steps
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    # 2) if it > lr_decay_iters, return min learning rate
    if it > lr_decay_iters:
        return min_lr
    # 3) in between, use cosine decay down to min learning rate
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio)) # coeff ranges 0..1
    return min_lr + coeff * (learning_rate - min_lr)
'''
NANOGPT_GRAFT = '''
def get_lr(it) {
  # 1) linear warmup for warmup_iters steps
  if it < warmup_iters {
    return learning_rate * (it + 1) / (warmup_iters + 1)
  }
  # 2) if it > lr_decay_iters, return min learning rate
  if it > lr_decay_iters {
    return min_lr
  }
  # 3) in between, use cosine decay down to min learning rate
  decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
  coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio)) # coeff ranges 0..1
  return min_lr + coeff * (learning_rate - min_lr)
}
'''
# Hugging Face's get_linear_schedule_with_warmup, its inner function.
LINEAR_PY = '''
def lr_lambda(current_step):
    if current_step < num_warmup_steps:
        return float(current_step) / float(max(1, num_warmup_steps))
    return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))
'''
LINEAR_GRAFT = '''
def lr_lambda(current_step) {
  if current_step < num_warmup_steps {
    return float(current_step) / float(max(1, num_warmup_steps))
  }
  return max(0.0, float(num_training_steps - current_step) / float(max(1, num_training_steps - num_warmup_steps)))
}
'''
CONSTANTS = {"warmup_iters": 5, "lr_decay_iters": 30, "learning_rate": 1e-3,
             "min_lr": 1e-4, "num_warmup_steps": 4, "num_training_steps": 25}

CASES = [
    # (python definitions, graft definitions, the lr_lambda expression)
    ("", "", "lambda epoch: 0.95 ** epoch"),
    ("", "", "lambda step: min(1.0, (step + 1) / 8) * (0.5 if step // 10 % 2 == 1 else 1.0)"),
    ("", "", "lambda n: math.sqrt(1.0 / max(n, 1)) if n > 0 and not n == 3 else -(-1.0)"),
    ("", "", "lambda s: abs(math.sin(s)) + math.exp(-s) + math.log(s + 1) + math.floor(s / 3) + math.ceil(s / 7) + int(s / 4) + s % 3 - s % -4"),
    (LINEAR_PY, LINEAR_GRAFT, "lr_lambda"),
    # get_lr gives the rate itself: LambdaLR's factor divides by the base.
    (NANOGPT_PY, NANOGPT_GRAFT, "lambda it: get_lr(it) / learning_rate"),
]


PLATEAU_METRICS = [1.0, 0.9, 0.95, 0.92, 0.9, 0.91, 0.5, 0.52, 0.5, 0.5,
                   0.5, 0.49999, 0.3, 0.31, 0.32, 0.33, 0.34, 0.35, 0.2, 0.2,
                   0.2, 0.2, 0.2, 0.2]
PLATEAU_CASES = [
    {},
    {"patience": 1},
    {"patience": 0, "factor": 0.5, "cooldown": 2},
    {"mode": "max", "patience": 1, "threshold": 0.01},
    {"threshold_mode": "abs", "threshold": 0.02, "patience": 1},
    {"patience": 0, "factor": 0.1, "min_lr": 0.002, "eps": 1e-3},
    {"mode": "max", "threshold_mode": "abs", "threshold": 0.0, "patience": 2,
     "cooldown": 1, "factor": 0.3},
]


def plateau_goldens():
    out = []
    for options in PLATEAU_CASES:
        a = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        b = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = torch.optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.03}],
                              lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **options)
        steps = []
        for m in PLATEAU_METRICS:
            opt.step()
            sched.step(m)
            steps.append({"lrs": [g["lr"] for g in opt.param_groups],
                          "best": sched.best,
                          "bad_epochs": sched.num_bad_epochs,
                          "cooldown": sched.cooldown_counter})
        out.append({"options": options, "base_lrs": [0.1, 0.03],
                    "metrics": PLATEAU_METRICS, "steps": steps})
    return out


def main():
    out = []
    for py, graft, expr in CASES:
        env = {"math": math, **CONSTANTS}
        exec(py, env)
        fn = eval(expr, env)
        p = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))
        opt = torch.optim.SGD([p], lr=learning_rate())
        sched = torch.optim.lr_scheduler.LambdaLR(opt, fn)
        lrs = []
        for _ in range(40):
            lrs.append(sched.get_last_lr()[0])
            opt.step()
            sched.step()
        constants = "\n".join(f"  {k} = {v!r}" for k, v in CONSTANTS.items())
        body = "\n".join("  " + line for line in graft.strip().splitlines())
        source = ("model s {\n  input x: f32[2]\n  param w: f32[2] = zeros\n"
                  f"{constants}\n{body}\n"
                  "  train {\n    loss = (x * w).sum()\n"
                  f"    optimizer = SGD(lr={learning_rate()!r})\n"
                  f"    lr_schedule = LambdaLR(lr_lambda={expr})\n  }}\n}}\n")
        out.append({"source": source, "base_lr": learning_rate(), "lrs": lrs})
    print(json.dumps({"torch": torch.__version__, "lambda": out,
                      "plateau": plateau_goldens()}, indent=1))


def learning_rate():
    return CONSTANTS["learning_rate"]


if __name__ == "__main__":
    main()
