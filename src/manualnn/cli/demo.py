"""The course's two models on Fashion-MNIST through ``manualnn.simple_ml``.

Usage: python -m manualnn.cli.demo DATA_DIR  (the folder with the four IDX .gz files)
"""

import os
import sys
import time

from manualnn.simple_ml import parse_mnist, train_nn, train_softmax


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    folder = argv[0] if argv else "/usr/share/datasets/fashion-mnist"
    X_tr, y_tr = parse_mnist(os.path.join(folder, "train-images-idx3-ubyte.gz"),
                             os.path.join(folder, "train-labels-idx1-ubyte.gz"))
    X_te, y_te = parse_mnist(os.path.join(folder, "t10k-images-idx3-ubyte.gz"),
                             os.path.join(folder, "t10k-labels-idx1-ubyte.gz"))
    for title, run in [("Softmax regression", lambda: train_softmax(
                            X_tr, y_tr, X_te, y_te, epochs=20, lr=0.2, batch=100)),
                       ("Two-layer network, hidden 400", lambda: train_nn(
                            X_tr, y_tr, X_te, y_te, hidden_dim=400, epochs=20, lr=0.2,
                            batch=100))]:
        print(f"\n{title} on Fashion-MNIST")
        start = time.perf_counter()
        run()
        print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
