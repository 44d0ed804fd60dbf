"""PyTorch eager baseline of the GPT benchmark (bench/run.sh gpt): ms per
training step.

The model is nanoGPT's model.py as the PyTorch parity suite transcribes it
(test/golden/gen_parity_goldens.py: bias=False, the head tied to the token
embedding, nanoGPT's explicit causal attention), the same model as
examples/nanogpt.graft, here at n_layer 4, n_head 4,
n_embd 128, block_size 128, vocab 65, batch 8, dropout 0 (bench/run.sh
passes the same dims to graft bench). The step is nanoGPT's and the parity
model's train block: forward, cross-entropy, backward, clip_grad_norm_(1.0),
AdamW (lr 1e-3, betas (0.9, 0.95), weight decay 0.1 on the 2-D
parameters), zero_grad.

    torch_gpt.py [THREADS [STEPS]] [--size T C H L B] [--cuda [--tf32]
                 [--modes eager,default]]

--size: block_size, n_embd, n_head, n_layer, batch instead of 128 128 4 4 8
(graft bench's --dim T= C= H= L= B=).

--cuda: on the GPU (scripts/gpu-check.sh), the inputs copied from the host
every step as graft_train_step's are, synchronised around the timed loop;
--tf32 sets allow_tf32 (Graft's --allow-tf32); --modes adds torch.compile's
modes.
"""
import argparse
import os
import sys
import time

import torch

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "test", "golden"))
from gen_parity_goldens import GPT  # noqa: E402


class BenchGPT(GPT):
    V, T, C, H, L, BIAS = 65, 128, 128, 4, 4, False


BATCH = 8

ap = argparse.ArgumentParser()
ap.add_argument("threads", nargs="?", type=int, default=1)
ap.add_argument("steps", nargs="?", type=int, default=50)
ap.add_argument("--cuda", action="store_true")
ap.add_argument("--tf32", action="store_true")
ap.add_argument("--modes", default="eager")
ap.add_argument("--size", nargs=5, type=int, metavar=("T", "C", "H", "L", "B"))
args = ap.parse_args()
if args.size:
    BenchGPT.T, BenchGPT.C, BenchGPT.H, BenchGPT.L, BATCH = args.size
torch.set_num_threads(args.threads)
torch.manual_seed(0)
dev = torch.device("cuda" if args.cuda else "cpu")
if args.cuda and not torch.cuda.is_available():
    raise SystemExit("torch_gpt: PyTorch %s sees no CUDA device" % torch.__version__)
torch.backends.cuda.matmul.allow_tf32 = args.tf32
idx = torch.randint(0, BenchGPT.V, (BATCH, BenchGPT.T))
targets = torch.randint(0, BenchGPT.V, (BATCH, BenchGPT.T))


def bench(mode):
    model = BenchGPT(dropout=0.0).to(dev)
    opt = model.configure_optimizers(0.1, 1e-3, (0.9, 0.95))
    fwd = model if mode == "eager" else torch.compile(model, mode=mode)

    def step():
        loss = fwd(idx.to(dev), targets.to(dev))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad()
        return loss

    sync = torch.cuda.synchronize if args.cuda else (lambda: None)
    for _ in range(5):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        loss = step()
    loss.item()
    sync()
    ms = 1000 * (time.perf_counter() - start) / args.steps
    where = ("%s %s" % (torch.cuda.get_device_name(), "tf32" if args.tf32 else "f32")
             if args.cuda else "%d thread(s)" % args.threads)
    label = "" if mode == "eager" else " torch.compile mode=" + mode
    print(f"pytorch {torch.__version__} gpt{label}: train step {ms:.3f} ms "
          f"(mean of {args.steps} steps, {where})")


for mode in args.modes.split(","):
    try:
        bench(mode)
    except Exception as e:  # torch.compile needs a working Triton
        print("pytorch torch.compile mode=%s: unavailable (%s)"
              % (mode, str(e).splitlines()[0]))
