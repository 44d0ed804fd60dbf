"""Times a PyTorch training step for the bench/torch_*.py baselines.

    threads, steps = setup()        # from argv: [THREADS [STEPS]]
    report(step, threads, steps)    # 5 warm-up steps, then the mean
    report_training(model, opt, x, y, threads, steps)
        # the same for a classifier: zero_grad, cross_entropy, backward, step

prints "pytorch VERSION: train step X ms (mean of N steps, T thread(s))",
the line bench/run.sh reads.
"""
import sys
import time

import torch


def setup():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    return threads, steps


def report(step, threads, steps):
    for _ in range(5):
        step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    ms = 1000 * (time.perf_counter() - start) / steps
    print(f"pytorch {torch.__version__}: train step {ms:.3f} ms "
          f"(mean of {steps} steps, {threads} thread(s))")


def report_training(model, opt, x, y, threads, steps):
    """Times zero_grad + forward + cross_entropy + backward + step, as
    graft's fused train step does."""
    def step():
        opt.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        opt.step()

    report(step, threads, steps)
