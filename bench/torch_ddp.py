"""PyTorch's data-parallel baseline of bench/dist.sh: pytorch/examples'
MNIST Net and Adadelta step (as bench/torch_mnist.py), each rank one
process of one thread with its own batch of B, DistributedDataParallel on
the gloo backend (Debian's python3-torch has no NCCL or MPI backend), or
plain eager for 1 rank. Prints "pytorch VERSION: RANKS rank(s): step X ms,
Y samples/s" from rank 0.

usage: torch_ddp.py RANKS [STEPS [B]]
"""
import os
import sys
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "golden"))
from gen_parity_goldens import Net  # noqa: E402


def run(rank, ranks, steps, batch, port):
    torch.set_num_threads(1)
    torch.manual_seed(0)
    model = Net()
    model.train()
    if ranks > 1:
        os.environ["MASTER_ADDR"] = "127.0.0.1"
        os.environ["MASTER_PORT"] = str(port)
        dist.init_process_group("gloo", rank=rank, world_size=ranks)
        model = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=1.0)
    torch.manual_seed(rank)
    data = torch.randn(batch, 1, 28, 28)
    target = torch.randint(0, 10, (batch,))

    def step():
        optimizer.zero_grad()
        loss = F.nll_loss(model(data), target)
        loss.backward()
        optimizer.step()

    for _ in range(5):
        step()
    if ranks > 1:
        dist.barrier()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if ranks > 1:
        dist.barrier()
    ms = 1000 * (time.perf_counter() - start) / steps
    if rank == 0:
        print(f"pytorch {torch.__version__}: {ranks} rank(s): step {ms:.3f} ms, "
              f"{ranks * batch * 1000 / ms:.0f} samples/s", flush=True)
    if ranks > 1:
        dist.destroy_process_group()


if __name__ == "__main__":
    ranks = int(sys.argv[1])
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 30
    batch = int(sys.argv[3]) if len(sys.argv) > 3 else 64
    port = 29500 + os.getpid() % 1000
    if ranks == 1:
        run(0, 1, steps, batch, port)
    else:
        mp.spawn(run, args=(ranks, steps, batch, port), nprocs=ranks)
