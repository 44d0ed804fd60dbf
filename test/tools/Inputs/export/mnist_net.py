# pytorch/examples' MNIST Net, imported from its main.py (mnist_main.py, the
# file as it is upstream), with its two dropouts set to p = 0 for the exact
# comparison (the dropout masks of two libraries cannot be equal).
from mnist_main import Net


def NetWithoutDropout():
    net = Net()
    net.dropout1.p = net.dropout2.p = 0.0
    return net
