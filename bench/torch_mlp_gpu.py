"""PyTorch on the GPU, the baseline of the CUDA libraries of bench/mlp.graft
and bench/wide_mlp.graft: ms per training step (zero_grad + forward +
backward + SGD momentum step), eager and torch.compile (default and
reduce-overhead modes), synchronised around the timed loop.
    torch_mlp_gpu.py [STEPS] [--wide B W] [--tf32] [--modes eager,default,...]
--wide: wide_mlp's layers (W -> W -> W -> 10 on a batch of B) instead of
mlp's (784 -> 512 -> 512 -> 10 on 128). --tf32: products in TF32
(torch.backends.cuda.matmul.allow_tf32, Graft's --allow-tf32); off, f32."""
import argparse
import time

import torch

ap = argparse.ArgumentParser()
ap.add_argument("steps", nargs="?", type=int, default=200)
ap.add_argument("--wide", nargs=2, type=int, metavar=("B", "W"))
ap.add_argument("--tf32", action="store_true")
ap.add_argument("--modes", default="eager,default,reduce-overhead")
args = ap.parse_args()
steps = args.steps
if not torch.cuda.is_available():
    raise SystemExit("torch_mlp_gpu: PyTorch %s sees no CUDA device" % torch.__version__)
dev = torch.device("cuda")
torch.manual_seed(0)
torch.backends.cuda.matmul.allow_tf32 = args.tf32
torch.backends.cudnn.allow_tf32 = args.tf32
batch, widths = (128, [784, 512, 512, 10]) if not args.wide else (
    args.wide[0], [args.wide[1]] * 3 + [10])
name = "wide_mlp B=%d W=%d" % tuple(args.wide) if args.wide else "mlp"
precision = "tf32" if args.tf32 else "f32"


def make():
    layers = []
    for i in range(len(widths) - 1):
        layers.append(torch.nn.Linear(widths[i], widths[i + 1]))
        if i + 2 < len(widths):
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, opt


x = torch.randn(batch, widths[0])
y = torch.randint(0, 10, (batch,))


def bench(label, model, opt, fwd):
    def step():
        # Inputs come from the host each step, as graft_train_step's do.
        xs, ys = x.to(dev, non_blocking=False), y.to(dev)
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(fwd(xs), ys)
        loss.backward()
        opt.step()
        return loss
    for _ in range(10):
        step()
    torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        loss = step()
    loss.item()
    torch.cuda.synchronize()
    ms = 1000 * (time.perf_counter() - start) / steps
    print("pytorch %s %s %s %s (%s): train step %.3f ms (mean of %d steps)"
          % (torch.__version__, name, precision, label,
             torch.cuda.get_device_name(), ms, steps))


for mode in args.modes.split(","):
    model, opt = make()
    if mode == "eager":
        bench("eager", model, opt, model)
        continue
    # torch.compile's default mode, and "reduce-overhead", which replays
    # CUDA graphs as Graft's runtime does.
    try:
        bench("torch.compile mode=" + mode, model, opt,
              torch.compile(model, mode=mode))
    except Exception as e:  # torch.compile needs a working Triton
        print("pytorch torch.compile mode=%s: unavailable (%s)"
              % (mode, str(e).splitlines()[0]))
