#!/usr/bin/python3
"""Writes test/golden/parity/*.golden: PyTorch's numbers for the parity suite
(test/Library/parity-*.test, docs/Testing.md "PyTorch parity"): public
reference models trained for STEPS steps, checked by
test/Library/Inputs/golden_harness.c.

    /usr/bin/python3 test/golden/gen_parity_goldens.py              # all of them
    /usr/bin/python3 test/golden/gen_parity_goldens.py parity_mnist # one model
    ... --out DIR --if-torch --exact-only
        (the lit tests: the exact golden only, into DIR; exit 0 without torch)

The models are transcriptions of
  - nanoGPT's model.py (github.com/karpathy/nanoGPT): GPT with Block,
    CausalSelfAttention (the non-flash path: explicit causal mask, attention
    dropout), MLP (exact GELU), LayerNorm with the bias option (bias=False
    here), transformer.drop, lm_head tied to transformer.wte; its
    configure_optimizers (AdamW, parameters of dim >= 2 decayed, the others
    not, betas (0.9, 0.95)) and train.py's clip_grad_norm_(1.0);
  - pytorch/examples' mnist/main.py Net (conv 1->32->64, max_pool2d,
    dropout 0.25 and 0.5, fc 9216->128->10, log_softmax, nll_loss);
  - a small BatchNorm2d CNN (trained in train mode, evaluated in eval mode).
Their Graft versions are test/Library/Inputs/parity_*.graft. Sizes are small
so that each test runs in seconds.

Three kinds of golden (the format of gen_library_goldens.py, whose formula,
record() and initial ranges are reused, plus the lines below):

  exact: dropout off. Initial parameters from the formula, the same batches
    on both sides; the loss of every step, every parameter (and buffer) after
    the last step, and for the BatchNorm CNN the eval-mode loss and outputs
    on a held-out batch after training. Lines:
      checks sparse        grads/params only where recorded (the last step)
      batches N            step s uses the inputs recorded for step
                           (s - 1) % N + 1 (a small data set, cycled)
      evalloss S V         graft_eval's loss on the inputs of step S
      output S NAME ...    graft_eval's output (a tensor record)
  dropout: dropout on. PyTorch trains K times from the same parameters on
    the same batches with torch.manual_seed(1..K); the mean training loss of
    steps LO..HI of each run is recorded. The harness does the same with
    graft_init(ctx, 1..K) (its dropout seed) and compares the two means of K
    window means. Lines:
      dropout K LO HI
      seedmean SEED V
  control: the same as dropout, but PyTorch with another dropout p: the
    harness must reject it (the comparison can fail).

Everything is float32 on one thread; the file is the same bytes every run.
"""
import argparse
import math
import os
import sys

import numpy as np

if "--if-torch" in sys.argv:  # the lit tests regenerate only when torch is here
    try:
        import torch  # noqa: F401
    except ImportError:
        print("torch is not installed: not regenerated (the checked-in goldens are used)")
        sys.exit(0)
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.dont_write_bytecode = True  # the lit tests run this from the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_library_goldens import (ROOT, fmt, formula, formula_labels,  # noqa: E402
                                 init_range, record, splitmix64, fnv1a64)

OUT = os.path.join(ROOT, "test", "golden", "parity")
STEPS = 50        # training steps of every golden
K = 24            # seeds per side in the dropout comparisons
WINDOW = (11, 50)  # steps whose losses are averaged per seed


# ---------------------------------------------------------------- nanoGPT --
# model.py of karpathy/nanoGPT, transcribed (GPTConfig fields as arguments).
class LayerNorm(nn.Module):
    """LayerNorm but with an optional bias (nanoGPT's)."""

    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self, n_embd, n_head, block_size, dropout, bias):
        super().__init__()
        assert n_embd % n_head == 0
        self.c_attn = nn.Linear(n_embd, 3 * n_embd, bias=bias)
        self.c_proj = nn.Linear(n_embd, n_embd, bias=bias)
        self.attn_dropout = nn.Dropout(dropout)
        self.resid_dropout = nn.Dropout(dropout)
        self.n_head, self.n_embd, self.dropout = n_head, n_embd, dropout
        # torch 1.13 has no scaled_dot_product_attention: nanoGPT's slow path.
        # Not persistent here (nanoGPT's is), so that state_dict() holds the
        # parameters only; the values are nanoGPT's.
        self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                             .view(1, 1, block_size, block_size), persistent=False)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
        att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float('-inf'))
        att = F.softmax(att, dim=-1)
        att = self.attn_dropout(att)
        y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.resid_dropout(self.c_proj(y))


class GptMLP(nn.Module):
    def __init__(self, n_embd, dropout, bias):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd, bias=bias)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd, bias=bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x):
        return self.dropout(self.c_proj(self.gelu(self.c_fc(x))))


class GptBlock(nn.Module):
    def __init__(self, n_embd, n_head, block_size, dropout, bias):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=bias)
        self.attn = CausalSelfAttention(n_embd, n_head, block_size, dropout, bias)
        self.ln_2 = LayerNorm(n_embd, bias=bias)
        self.mlp = GptMLP(n_embd, dropout, bias)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    # n_layer 2, n_head 2, n_embd 32, block_size 16, vocab 65 (shakespeare_char)
    V, T, C, H, L, BIAS = 65, 16, 32, 2, 2, False

    def __init__(self, dropout):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(self.V, self.C),
            wpe=nn.Embedding(self.T, self.C),
            drop=nn.Dropout(dropout),
            h=nn.ModuleList([GptBlock(self.C, self.H, self.T, dropout, self.BIAS)
                             for _ in range(self.L)]),
            ln_f=LayerNorm(self.C, bias=self.BIAS),
        ))
        self.lm_head = nn.Linear(self.C, self.V, bias=False)
        self.transformer.wte.weight = self.lm_head.weight  # weight tying

    def forward(self, idx, targets):
        pos = torch.arange(0, idx.size(1), dtype=torch.long, device=idx.device)
        tok_emb = self.transformer.wte(idx)
        pos_emb = self.transformer.wpe(pos)
        x = self.transformer.drop(tok_emb + pos_emb)
        for block in self.transformer.h:
            x = block(x)
        x = self.transformer.ln_f(x)
        logits = self.lm_head(x)
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1),
                               ignore_index=-1)

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        param_dict = {pn: p for pn, p in self.named_parameters() if p.requires_grad}
        decay_params = [p for n, p in param_dict.items() if p.dim() >= 2]
        nodecay_params = [p for n, p in param_dict.items() if p.dim() < 2]
        optim_groups = [
            {'params': decay_params, 'weight_decay': weight_decay},
            {'params': nodecay_params, 'weight_decay': 0.0},
        ]
        return torch.optim.AdamW(optim_groups, lr=learning_rate, betas=betas)


def gpt_init_range(name, shape):
    """nanoGPT's _init_weights as uniform ranges of the same standard
    deviation (std * sqrt(3)): Linear and Embedding weights std 0.02, the
    residual projections (c_proj.weight) 0.02 / sqrt(2 * n_layer), LayerNorm
    weights around 1."""
    if name.endswith("c_proj.weight"):
        return 0.0, 0.02 / math.sqrt(2 * GPT.L) * math.sqrt(3)
    if len(shape) >= 2:
        return 0.0, 0.02 * math.sqrt(3)
    return init_range(name, shape)


# The first lines of tinyshakespeare (Coriolanus, public domain), the data of
# nanoGPT's shakespeare_char, with its 65-character vocabulary.
TEXT = """First Citizen:
Before we proceed any further, hear me speak.

All:
Speak, speak.

First Citizen:
You are all resolved rather to die than to famish?

All:
Resolved. resolved.

First Citizen:
First, you know Caius Marcius is chief enemy to the people.

All:
We know't, we know't.

First Citizen:
Let us kill him, and we'll have corn at our own price.
Is't a verdict?

All:
No more talking on't; let it be done: away, away!

Second Citizen:
One word, good citizens.

First Citizen:
We are accounted poor citizens, the patricians good.
What authority surfeits on would relieve us: if they
would yield us but the superfluity, while it were
wholesome, we might guess they relieved us humanely;
"""
VOCAB = "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
assert len(VOCAB) == 65


def shakespeare_batch(key, B, T):
    """nanoGPT's get_batch: B random offsets (from the formula's hash, not
    torch.randint), x = data[i:i+T], y = data[i+1:i+1+T]."""
    data = [VOCAB.index(ch) for ch in TEXT]
    with np.errstate(over="ignore"):
        h = splitmix64(fnv1a64(key) ^ splitmix64(np.arange(B, dtype=np.uint64)))
    ix = (h % np.uint64(len(data) - T)).astype(np.int64).tolist()
    x = torch.tensor([data[i:i + T] for i in ix], dtype=torch.int64)
    y = torch.tensor([data[i + 1:i + 1 + T] for i in ix], dtype=torch.int64)
    return x, y


GPT_B, GPT_BATCHES = 4, 10


def gpt_inputs(step):
    b = (step - 1) % GPT_BATCHES + 1
    x, y = shakespeare_batch(f"batch@{b}", GPT_B, GPT.T)
    return [("idx", x), ("targets", y)]


def gpt_train(model, p):
    return model.configure_optimizers(weight_decay=0.1, learning_rate=1e-3,
                                      betas=(0.9, 0.95))


# ------------------------------------------------------------------ MNIST --
# pytorch/examples mnist/main.py's Net, transcribed; dropout p as an argument.
class Net(nn.Module):
    def __init__(self, p1=0.25, p2=0.5):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 32, 3, 1)
        self.conv2 = nn.Conv2d(32, 64, 3, 1)
        self.dropout1 = nn.Dropout(p1)
        self.dropout2 = nn.Dropout(p2)
        self.fc1 = nn.Linear(9216, 128)
        self.fc2 = nn.Linear(128, 10)

    def forward(self, x):
        x = self.conv1(x)
        x = F.relu(x)
        x = self.conv2(x)
        x = F.relu(x)
        x = F.max_pool2d(x, 2)
        x = self.dropout1(x)
        x = torch.flatten(x, 1)
        x = self.fc1(x)
        x = F.relu(x)
        x = self.dropout2(x)
        x = self.fc2(x)
        output = F.log_softmax(x, dim=1)
        return output


class MnistModel(nn.Module):  # train(): loss = F.nll_loss(model(data), target)
    def __init__(self, scale):
        super().__init__()
        self.net = Net(0.25 * scale, 0.5 * scale)

    def forward(self, x, y):
        return F.nll_loss(self.net(x), y)


MNIST_B, MNIST_BATCHES = 4, 8
# MNIST's Normalize((0.1307,), (0.3081,)) maps [0, 1] to [-0.42, 2.82]
MNIST_RANGE = (1.2, 1.6)


def image_inputs(shape, classes, batches, names=("x", "y")):
    def inputs(step):
        b = (step - 1) % batches + 1 if step <= STEPS else step
        x = torch.from_numpy(formula(f"x@{b}", math.prod(shape), *MNIST_RANGE)).reshape(shape)
        y = formula_labels(f"y@{b}", [shape[0]], classes)
        # The images are the formula's "x@<step>" whatever the input's name.
        return [(names[0], x, MNIST_RANGE, "x"), (names[1], y)]
    return inputs


def mnist_train(model, p):
    # mnist/main.py's optimizer. Its StepLR(step_size=1, gamma=0.7) steps per
    # epoch; the 50 steps here are within the first.
    return torch.optim.Adadelta(model.parameters(), lr=1.0)


# -------------------------------------------------------------- BatchNorm --
class BnCnn(nn.Module):  # test/Library/Inputs/parity_bn_cnn.graft
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.conv2 = nn.Conv2d(8, 16, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(16)
        self.fc = nn.Linear(16 * 4 * 4, 10)

    def logits(self, x):
        h = F.max_pool2d(F.relu(self.bn1(self.conv1(x))), 2)
        h = F.max_pool2d(F.relu(self.bn2(self.conv2(h))), 2)
        return self.fc(h.flatten(1))

    def forward(self, x, y):
        return F.cross_entropy(self.logits(x), y)


BN_B, BN_BATCHES = 8, 8


def bn_train(model, p):
    return torch.optim.SGD(model.parameters(), lr=0.02, momentum=0.9, weight_decay=5e-4)


# ------------------------------------------------------------- the runs ---
def set_initial(model, ranges, lines):
    params = dict(model.named_parameters())
    with torch.no_grad():
        for name, p in params.items():
            c, w = ranges(name, list(p.shape))
            p.copy_(torch.from_numpy(formula(name, p.numel(), c, w)).reshape(p.shape))
            if lines is not None:
                lines.append(f"init {name} {p.numel()} {c!r} {w!r}")
    return params


def input_lines(step, inputs):
    lines = []
    for item in inputs:
        name, v = item[0], item[1]
        if len(item) >= 3:  # a float input from the formula (of `key`@step)
            key = item[3] if len(item) > 3 and item[3] != name else ""
            lines.append(f"finput {step} {name} {v.numel()} {item[2][0]!r} "
                         f"{item[2][1]!r}" + (f" {key}" if key else ""))
        else:
            lines.append(f"iinput {step} {name} {v.numel()} "
                         + " ".join(str(int(x)) for x in v.reshape(-1).tolist()))
    return lines


def header(spec, lines, kind):
    lines += [f"model {spec['model']}", f"source {spec['source']}",
              "dims " + " ".join(f"{k}={v}" for k, v in spec["dims"][kind].items()),
              f"steps {STEPS}", f"batches {spec['batches']}"]


def train_steps(spec, model, opt, params, on_step=None):
    losses = []
    for step in range(1, STEPS + 1):
        args = [item[1] for item in spec["inputs"](step)]
        opt.zero_grad(set_to_none=False)
        loss = model(*args)
        loss.backward()
        if spec.get("clip"):
            norm = torch.nn.utils.clip_grad_norm_(
                [p for p in params.values() if p.requires_grad], spec["clip"])
            spec.setdefault("norms", []).append(float(norm))
        opt.step()
        losses.append(float(loss))
    return losses


def exact(spec):
    torch.manual_seed(0)  # unused: dropout is off
    model = spec["module"](0.0)
    lines = []
    header(spec, lines, "exact")
    lines.append("checks sparse")
    spread = f64_spread(spec)
    lines.append(f"# PyTorch float32 vs float64 after {STEPS} steps: worst error / allowed "
                 f"error {spread:.2g} (rtol 1e-4, atol 1e-5)")
    params = set_initial(model, spec["ranges"], lines)
    for name, p in params.items():
        lines.append(record("param0", 0, name, p, full=8, sample=8))
    for step in range(1, spec["batches"] + 1):
        lines += input_lines(step, spec["inputs"](step))
    opt = spec["train"](model, 0.0)
    model.train()
    spec["norms"] = []
    losses = train_steps(spec, model, opt, params)
    for step, loss in enumerate(losses, 1):
        lines.append(f"loss {step} {fmt(loss)}")
    for name, p in params.items():
        lines.append(record("param", STEPS, name, p))
    for name, b in model.state_dict().items():
        if name not in params and not any(b is q for q in params.values()) \
                and name in dict(model.named_buffers()):
            lines.append(record("buffer", STEPS, name, b))
    note = f"loss {losses[0]:.4f} -> {losses[-1]:.4f}; float32 vs float64 {spread:.2g} of the allowance"
    if spec["norms"]:
        clipped = sum(n > spec["clip"] for n in spec["norms"])
        note += f"; gradient norm above {spec['clip']} (clipped) at {clipped} of {STEPS} steps"
    if spec.get("eval"):
        model.eval()
        ev = STEPS + 1
        inputs = spec["inputs"](ev)
        lines += input_lines(ev, inputs)
        with torch.no_grad():
            args = [item[1] for item in inputs]
            lines.append(f"evalloss {ev} {fmt(float(model(*args)))}")
            lines.append(record("output", ev, spec["eval"], model.logits(args[0])))
        with torch.no_grad():  # what batch statistics would give instead
            model.train()
            batch_stats = float(model(*args))
        note += (f"; eval loss {float(lines[-2].split()[2]):.4f} "
                 f"(with batch statistics instead: {batch_stats:.4f})")
    return lines, note


def f64_spread(spec):
    """How far PyTorch's own float32 run is from the same run in float64,
    as a fraction of the harness's allowance (1e-5 + 1e-4 |x|), worst over
    the losses and the final parameters and buffers: the scale of float32
    rounding after STEPS steps of this model's dynamics. Written into the
    golden as a comment; Graft's error is expected to be of this order."""
    runs = []
    for dtype in (torch.float32, torch.float64):
        model = spec["module"](0.0)
        params = set_initial(model, spec["ranges"], None)
        model.to(dtype)
        opt = spec["train"](model, 0.0)
        model.train()

        def inputs(step, dtype=dtype):
            return [(item[0], item[1].to(dtype) if item[1].is_floating_point() else item[1])
                    for item in spec["inputs"](step)]
        losses = train_steps(dict(spec, inputs=inputs, norms=[]), model, opt, params)
        state = {n: t.detach().double() for n, t in model.state_dict().items()
                 if t.is_floating_point()}
        runs.append((losses, state))
    (l32, s32), (l64, s64) = runs
    ratio = max(abs(a - b) / (1e-5 + 1e-4 * abs(b)) for a, b in zip(l32, l64))
    for n in s32:
        d = (s32[n] - s64[n]).abs() / (1e-5 + 1e-4 * s64[n].abs())
        ratio = max(ratio, float(d.max()))
    return ratio


def dropout_runs(spec, p, seeds):
    """Per seed: the mean loss of the WINDOW steps, from the formula's
    parameters, on the golden's batches, with torch.manual_seed(seed)."""
    means = []
    for seed in seeds:
        model = spec["module"](p)
        set_initial(model, spec["ranges"], None)
        params = dict(model.named_parameters())
        opt = spec["train"](model, p)
        model.train()
        torch.manual_seed(seed)
        losses = train_steps(spec, model, opt, params)
        means.append(float(np.mean(losses[WINDOW[0] - 1:WINDOW[1]])))
    return means


def dropout(spec, p, name_suffix):
    lines = []
    header(spec, lines, "dropout")
    lines.append(f"dropout {K} {WINDOW[0]} {WINDOW[1]}")
    set_initial(spec["module"](p), spec["ranges"], lines)
    for step in range(1, spec["batches"] + 1):
        lines += input_lines(step, spec["inputs"](step))
    means = dropout_runs(spec, p, range(1, K + 1))
    for seed, m in enumerate(means, 1):
        lines.append(f"seedmean {seed} {fmt(m)}")
    note = (f"p scale {p}: window mean {np.mean(means):.5f}, "
            f"sd over seeds {np.std(means, ddof=1):.5f}")
    return lines, note


def gpt_module(p):
    return GPT(p)


MODELS = [
    dict(name="parity_nanogpt", model="nanogpt",
         source="examples/nanogpt.graft",
         dims=dict(exact={"DROPOUT": 1}, dropout={}),
         module=gpt_module, ranges=gpt_init_range, inputs=gpt_inputs,
         batches=GPT_BATCHES, train=gpt_train, clip=1.0,
         dropout=0.2, control=0.1),
    dict(name="parity_mnist", model="mnist",
         source="examples/mnist.graft",
         dims=dict(exact={"B": MNIST_B, "DROPOUT": 1}, dropout={"B": MNIST_B}),
         module=MnistModel, ranges=init_range,
         inputs=image_inputs([MNIST_B, 1, 28, 28], 10, MNIST_BATCHES,
                             names=("data", "target")),
         batches=MNIST_BATCHES, train=mnist_train,
         dropout=1.0, control=0.5),
    dict(name="parity_bn_cnn", model="parity_bn_cnn",
         source="test/Library/Inputs/parity_bn_cnn.graft",
         dims=dict(exact={}), module=lambda p: BnCnn(), ranges=init_range,
         inputs=image_inputs([BN_B, 1, 16, 16], 10, BN_BATCHES),
         batches=BN_BATCHES, train=bn_train, eval="logits"),
]


def write(name, lines):
    path = os.path.join(OUT, name + ".golden")
    text = (f"# Written by test/golden/gen_parity_goldens.py (torch {torch.__version__}); "
            "do not edit.\n" + "\n".join(lines) + "\n")
    with open(path, "w") as f:
        f.write(text)
    print(f"wrote {name}.golden: {len(text)} bytes")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("only", nargs="*", help="model names (default: all)")
    ap.add_argument("--out", help="write here instead of test/golden/parity")
    ap.add_argument("--exact-only", action="store_true",
                    help="not the dropout goldens (minutes of training)")
    ap.add_argument("--if-torch", action="store_true",
                    help="exit 0 when torch is not installed")
    args = ap.parse_args()
    global OUT
    if args.out:
        OUT = os.path.abspath(args.out)
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    for spec in MODELS:
        if args.only and spec["name"] not in args.only:
            continue
        lines, note = exact(spec)
        write(spec["name"], lines)
        print(f"  {note}")
        if args.exact_only:
            continue
        if spec.get("dropout") is not None:
            lines, note = dropout(spec, spec["dropout"], "_dropout")
            write(spec["name"] + "_dropout", lines)
            print(f"  {note}")
        if spec.get("control") is not None:
            lines, note = dropout(spec, spec["control"], "_control")
            write(spec["name"] + "_control", lines)
            print(f"  {note}")


if __name__ == "__main__":
    main()
