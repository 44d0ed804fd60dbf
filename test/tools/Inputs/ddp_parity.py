"""PyTorch's side of train-mpi-ddp.test: pytorch/examples' MNIST Net and
Adadelta(lr=1.0) step (main.py's, as test/golden/gen_parity_goldens.py
transcribes it, dropout off) trained by RANKS processes under
DistributedDataParallel on the gloo backend, each rank's batch its own,
from one set of initial weights. Writes, in OUT:
  init.safetensors     the initial state_dict (torch's initialisers, seed 0)
  data.npy, target.npy the samples: step s of rank r takes rows
                       (s * RANKS + r) * B .. + B, as graft train
                       --no-shuffle under mpirun -np RANKS gives them
  final.safetensors    the state_dict after STEPS steps (rank 0's)
  losses.txt           each step's loss, the mean over the ranks

usage: ddp_parity.py OUT RANKS STEPS B
"""
import os
import sys

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
import torch.nn.functional as F

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "..", "golden"))
from gen_init_goldens import write_safetensors  # noqa: E402
from gen_parity_goldens import Net  # noqa: E402


def save(path, state):
    """As examples/mnist.graft names them: its model holds the Net as `net`."""
    write_safetensors(path, {"net." + name: t for name, t in state.items()})


def run(rank, out, ranks, steps, batch, port):
    torch.set_num_threads(1)
    os.environ["MASTER_ADDR"] = "127.0.0.1"
    os.environ["MASTER_PORT"] = str(port)
    dist.init_process_group("gloo", rank=rank, world_size=ranks)
    model = Net(0.0, 0.0)
    model.load_state_dict(torch.load(os.path.join(out, "init.pt")))
    model.train()
    ddp = torch.nn.parallel.DistributedDataParallel(model)
    optimizer = torch.optim.Adadelta(ddp.parameters(), lr=1.0)
    data = torch.from_numpy(np.load(os.path.join(out, "data.npy")))
    target = torch.from_numpy(np.load(os.path.join(out, "target.npy")))
    losses = []
    for s in range(steps):
        rows = slice((s * ranks + rank) * batch, (s * ranks + rank + 1) * batch)
        optimizer.zero_grad()
        loss = F.nll_loss(ddp(data[rows]), target[rows])
        loss.backward()
        optimizer.step()
        mean = loss.detach().clone()
        dist.all_reduce(mean)
        losses.append(mean.item() / ranks)
    if rank == 0:
        save(os.path.join(out, "final.safetensors"), model.state_dict())
        with open(os.path.join(out, "losses.txt"), "w") as f:
            f.write("".join("%.9g\n" % l for l in losses))
    dist.destroy_process_group()


if __name__ == "__main__":
    out, ranks, steps, batch = sys.argv[1], *map(int, sys.argv[2:5])
    torch.manual_seed(0)
    model = Net(0.0, 0.0)
    torch.save(model.state_dict(), os.path.join(out, "init.pt"))
    save(os.path.join(out, "init.safetensors"), model.state_dict())
    rng = np.random.default_rng(0)
    n = ranks * (steps + 1) * batch  # more than the run takes: it ends inside the epoch
    np.save(os.path.join(out, "data.npy"),
            rng.standard_normal((n, 1, 28, 28), dtype=np.float32))
    np.save(os.path.join(out, "target.npy"), rng.integers(0, 10, n))
    mp.spawn(run, args=(out, ranks, steps, batch, 29500 + os.getpid() % 2000),
             nprocs=ranks)
