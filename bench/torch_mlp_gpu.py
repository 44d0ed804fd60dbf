"""PyTorch on the GPU, the baseline of bench/mlp.graft's CUDA library: ms per
training step (zero_grad + forward + backward + SGD momentum step), eager and
torch.compile (default and reduce-overhead modes), synchronised around the
timed loop.
    torch_mlp_gpu.py [STEPS]"""
import sys
import time

import torch

steps = int(sys.argv[1]) if len(sys.argv) > 1 else 200
if not torch.cuda.is_available():
    sys.exit("torch_mlp_gpu: PyTorch %s sees no CUDA device" % torch.__version__)
dev = torch.device("cuda")
torch.manual_seed(0)


def make():
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 512), torch.nn.ReLU(),
        torch.nn.Linear(512, 10)).to(dev)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    return model, opt


x = torch.randn(128, 784)
y = torch.randint(0, 10, (128,))


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
    print("pytorch %s %s (%s): train step %.3f ms (mean of %d steps)"
          % (torch.__version__, label, torch.cuda.get_device_name(), ms, steps))


model, opt = make()
bench("eager", model, opt, model)
# torch.compile's default mode, and "reduce-overhead", which replays CUDA
# graphs as Graft's runtime does.
for mode in ["default", "reduce-overhead"]:
    try:
        model, opt = make()
        bench("torch.compile mode=" + mode, model, opt,
              torch.compile(model, mode=mode))
    except Exception as e:  # torch.compile needs a working Triton
        print("pytorch torch.compile mode=%s: unavailable (%s)"
              % (mode, str(e).splitlines()[0]))
