"""PyTorch eager baseline of bench/gpt.graft: ms per training step.

The model is nanoGPT's model.py (github.com/karpathy/nanoGPT), written as
it writes it, at bench/gpt.graft's configuration: n_layer 4, n_head 4,
n_embd 128, block_size 128, vocab_size 65, dropout 0, bias, batch 8. Two
differences, both Graft's as well: the head is not tied to the token
embedding, and on PyTorch < 2.0 attention takes nanoGPT's own fallback
path (masked softmax of q @ k^T; 2.0 and later use
F.scaled_dot_product_attention, as nanoGPT does). The step is nanoGPT's:
forward, cross-entropy, backward, clip_grad_norm_(1.0), AdamW(lr 6e-4,
betas (0.9, 0.95), weight decay 0.1 on the 2-D parameters only),
zero_grad(set_to_none=True).

    torch_gpt.py [THREADS [STEPS]] [--cuda [--tf32] [--modes eager,default]]

--cuda: on the GPU (scripts/gpu-check.sh), the inputs copied from the host
every step as graft_train_step's are, synchronised around the timed loop;
--tf32 sets allow_tf32 (Graft's --allow-tf32); --modes adds torch.compile's
modes.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
from torch.nn import functional as F


n_layer, n_head, n_embd, block_size, vocab_size, batch = 4, 4, 128, 128, 65, 8


class LayerNorm(nn.Module):
    def __init__(self, ndim, bias):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(ndim))
        self.bias = nn.Parameter(torch.zeros(ndim)) if bias else None

    def forward(self, input):
        return F.layer_norm(input, self.weight.shape, self.weight, self.bias, 1e-5)


class CausalSelfAttention(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_attn = nn.Linear(n_embd, 3 * n_embd)
        self.c_proj = nn.Linear(n_embd, n_embd)
        self.flash = hasattr(torch.nn.functional, "scaled_dot_product_attention")
        if not self.flash:
            self.register_buffer("bias", torch.tril(torch.ones(block_size, block_size))
                                 .view(1, 1, block_size, block_size))

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(n_embd, dim=2)
        k = k.view(B, T, n_head, C // n_head).transpose(1, 2)
        q = q.view(B, T, n_head, C // n_head).transpose(1, 2)
        v = v.view(B, T, n_head, C // n_head).transpose(1, 2)
        if self.flash:
            y = F.scaled_dot_product_attention(q, k, v, attn_mask=None,
                                               dropout_p=0, is_causal=True)
        else:
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            att = att.masked_fill(self.bias[:, :, :T, :T] == 0, float("-inf"))
            att = F.softmax(att, dim=-1)
            y = att @ v
        y = y.transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class MLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.c_fc = nn.Linear(n_embd, 4 * n_embd)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * n_embd, n_embd)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = LayerNorm(n_embd, bias=True)
        self.attn = CausalSelfAttention()
        self.ln_2 = LayerNorm(n_embd, bias=True)
        self.mlp = MLP()

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(vocab_size, n_embd),
            wpe=nn.Embedding(block_size, n_embd),
            h=nn.ModuleList([Block() for _ in range(n_layer)]),
            ln_f=LayerNorm(n_embd, bias=True)))
        self.lm_head = nn.Linear(n_embd, vocab_size, bias=False)

    def forward(self, idx, targets):
        b, t = idx.size()
        pos = torch.arange(0, t, dtype=torch.long, device=idx.device)
        x = self.transformer.wte(idx) + self.transformer.wpe(pos)
        for block in self.transformer.h:
            x = block(x)
        logits = self.lm_head(self.transformer.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))

    def configure_optimizers(self, weight_decay, learning_rate, betas):
        params = [p for p in self.parameters() if p.requires_grad]
        groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": weight_decay},
                  {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
        return torch.optim.AdamW(groups, lr=learning_rate, betas=betas)


ap = argparse.ArgumentParser()
ap.add_argument("threads", nargs="?", type=int, default=1)
ap.add_argument("steps", nargs="?", type=int, default=50)
ap.add_argument("--cuda", action="store_true")
ap.add_argument("--tf32", action="store_true")
ap.add_argument("--modes", default="eager")
args = ap.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(0)
dev = torch.device("cuda" if args.cuda else "cpu")
if args.cuda and not torch.cuda.is_available():
    raise SystemExit("torch_gpt: PyTorch %s sees no CUDA device" % torch.__version__)
torch.backends.cuda.matmul.allow_tf32 = args.tf32
idx = torch.randint(0, vocab_size, (batch, block_size))
targets = torch.randint(0, vocab_size, (batch, block_size))


def bench(mode):
    model = GPT().to(dev)
    opt = model.configure_optimizers(0.1, 6e-4, (0.9, 0.95))
    fwd = model if mode == "eager" else torch.compile(model, mode=mode)

    def step():
        loss = fwd(idx.to(dev), targets.to(dev))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
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
    print(f"pytorch {torch.__version__}{label}: train step {ms:.3f} ms "
          f"(mean of {args.steps} steps, {where})")


for mode in args.modes.split(","):
    try:
        bench(mode)
    except Exception as e:  # torch.compile needs a working Triton
        print("pytorch torch.compile mode=%s: unavailable (%s)"
              % (mode, str(e).splitlines()[0]))
