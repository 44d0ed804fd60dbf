"""PyTorch eager baseline of examples/word_language_model.graft: ms per
training step.

pytorch/examples' word_language_model: model.py's RNNModel (LSTM, emsize
and nhid 200, 2 layers, dropout 0.2, Wikitext-2's 33278 words) and
main.py's step (bptt 35, batch 20): zero_grad, forward from the carried
hidden state, NLLLoss, backward, clip_grad_norm_(0.25), SGD with lr 20,
as graft's fused train step does.
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

from torch_timing import report, setup


class RNNModel(nn.Module):
    """model.py's, for rnn_type LSTM."""

    def __init__(self, ntoken, ninp, nhid, nlayers, dropout=0.5):
        super().__init__()
        self.ntoken = ntoken
        self.drop = nn.Dropout(dropout)
        self.encoder = nn.Embedding(ntoken, ninp)
        self.rnn = nn.LSTM(ninp, nhid, nlayers, dropout=dropout)
        self.decoder = nn.Linear(nhid, ntoken)
        initrange = 0.1
        nn.init.uniform_(self.encoder.weight, -initrange, initrange)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -initrange, initrange)

    def forward(self, input, hidden):
        emb = self.drop(self.encoder(input))
        output, hidden = self.rnn(emb, hidden)
        output = self.drop(output)
        decoded = self.decoder(output)
        decoded = decoded.view(-1, self.ntoken)
        return F.log_softmax(decoded, dim=1), hidden


threads, steps = setup()
ntokens, bptt, batch = 33278, 35, 20
model = RNNModel(ntokens, 200, 200, 2, 0.2)
model.train()
criterion = nn.NLLLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=20.0)
data = torch.randint(0, ntokens, (bptt, batch))
targets = torch.randint(0, ntokens, (bptt * batch,))
hidden = (torch.zeros(2, batch, 200), torch.zeros(2, batch, 200))


def step():
    optimizer.zero_grad()
    output, _ = model(data, hidden)
    loss = criterion(output, targets)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
    optimizer.step()


report(step, threads, steps)
