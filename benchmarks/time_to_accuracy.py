"""Seconds of training until 88% test accuracy on Fashion-MNIST with the default recipe,
for manualnn and for PyTorch running the same recipe (issue 4, part 5).

    python benchmarks/time_to_accuracy.py [--target 0.88] [--threads N] [--out FILE]

The recipe is the CLI's default (``manualnn.cli.config.RunConfig``): 784-512-256-10 with
ReLU and dropout 0.2, softmax cross-entropy with label smoothing 0.1, AdamW (lr 1e-3,
weight decay 0.01 on the weights, not the biases), cosine schedule over 30 epochs after
one warm-up epoch, set before every step, batch 128, standardized inputs, 10% of the
training rows held out.  Both engines get the data, splits and preprocessing of
``experiment.prepare``, manualnn's initial weights, and the same batch order (the same
generator as ``fit``'s shuffle); only the dropout masks differ (each draws its own).
The clock runs during training only; the test accuracy is measured after every epoch,
off the clock, until it reaches the target (at most the recipe's 30 epochs).
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np
import report

from manualnn.backend.threads import describe, limit_threads
from manualnn.cli import experiment
from manualnn.cli.config import RunConfig
from manualnn.train import TrainState, evaluate, fit


def setup():
    """(config, splits, net, loss, optimizer, schedule, shuffle seed) of the default run."""
    config = RunConfig()
    ds, splits, _, seeds = experiment.prepare(config)
    X = splits["train"][0]
    net, loss, opt, schedule = experiment.build(config, X.shape[1], len(ds.classes), seeds)
    return config, splits, net, loss, opt, schedule, seeds[3]


def run_manualnn(target, max_epochs):
    config, splits, net, loss, opt, schedule, shuffle_seed = setup()
    state = TrainState(shuffle_rng=np.random.default_rng(shuffle_seed))
    X, y = splits["train"]
    Xt, yt = splits["test"]
    seconds, curve = 0.0, []
    while state.epoch < max_epochs:
        start = time.perf_counter()
        fit(net, X, y, loss, opt, epochs=state.epoch + 1, batch_size=config.batch_size,
            state=state, schedule=schedule, log=lambda *a: None, progress=False)
        seconds += time.perf_counter() - start
        accuracy = 1.0 - evaluate(net, Xt, yt, loss)[1]
        curve.append((state.epoch, seconds, accuracy))
        if accuracy >= target:
            break
    return curve


def run_torch(target, max_epochs, threads):
    import torch

    torch.set_num_threads(threads)
    config, splits, net, _, _, schedule, shuffle_seed = setup()
    X, y = (torch.from_numpy(a) for a in (splits["train"][0], splits["train"][1].astype(np.int64)))
    Xt, yt = splits["test"][0], splits["test"][1]
    layers = []
    for i, (W, b) in enumerate(zip(net.W, net.b)):
        lin = torch.nn.Linear(*W.shape)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(W.T.copy()))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < net.L - 1:
            layers += [torch.nn.ReLU(), torch.nn.Dropout(config.dropout)]
    model = torch.nn.Sequential(*layers)
    lossf = torch.nn.CrossEntropyLoss(label_smoothing=config.label_smoothing)
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    biases = [m.bias for m in model if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.AdamW([{"params": weights, "weight_decay": config.weight_decay},
                             {"params": biases, "weight_decay": 0.0}], lr=config.lr,
                            betas=(config.beta1, config.beta2), eps=config.eps)
    rng, B, n = np.random.default_rng(shuffle_seed), config.batch_size, X.shape[0]
    steps = -(-n // B)
    seconds, curve = 0.0, []
    for epoch in range(max_epochs):
        start = time.perf_counter()
        model.train()
        order = torch.from_numpy(rng.permutation(n))
        for b in range(steps):
            rows = order[b * B:(b + 1) * B]
            for group in opt.param_groups:
                group["lr"] = schedule.lr_at(epoch, b, steps)
            opt.zero_grad()
            value = lossf(model(X[rows]), y[rows])
            value.backward()
            opt.step()
        seconds += time.perf_counter() - start
        model.eval()
        with torch.no_grad():
            pred = model(torch.from_numpy(Xt)).argmax(dim=1).numpy()
        accuracy = float((pred == yt).mean())
        curve.append((epoch + 1, seconds, accuracy))
        if accuracy >= target:
            break
    return curve


def render(curves, target, threads) -> str:
    out = ["# Time to accuracy (issue 4, part 5)", "",
           (f"Seconds of training until {target:.0%} test accuracy on Fashion-MNIST, default "
           f"recipe, {threads} thread(s) ({describe()}); run "
           f"{time.strftime('%Y-%m-%d %H:%M')} by `benchmarks/time_to_accuracy.py` on a "
           "machine shared with other work."), "",
           ("| engine | epochs to target | seconds to target | seconds per epoch | "
           "test accuracy per epoch |"),
           "|---|---|---|---|---|"]
    for name, curve in curves.items():
        hit = next(((e, s) for e, s, a in curve if a >= target), None)
        accs = ", ".join(f"{a:.4f}" for _, _, a in curve)
        epochs, secs = (f"{hit[0]}", f"{hit[1]:.1f}") if hit else ("not reached", "n/a")
        per_epoch = curve[-1][1] / curve[-1][0]
        out.append(f"| {name} | {epochs} | {secs} | {per_epoch:.2f} | {accs} |")
    times = {n: next((s for _, s, a in c if a >= target), None) for n, c in curves.items()}
    if all(times.values()) and len(times) == 2:
        out += ["", (f"manualnn reaches it {times['PyTorch'] / times['manualnn']:.2f}x as "
                "fast as PyTorch.")]
    return "\n".join(out) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--target", type=float, default=0.88)
    ap.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="BLAS and PyTorch threads (default: every core, as users run)")
    ap.add_argument("--max-epochs", type=int, default=RunConfig().epochs)
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__),
                                                  "time_to_accuracy.md"))
    args = ap.parse_args(argv)
    curves = {}
    with limit_threads(args.threads):
        curves["manualnn"] = run_manualnn(args.target, args.max_epochs)
        print("manualnn", curves["manualnn"], flush=True)
        try:
            curves["PyTorch"] = run_torch(args.target, args.max_epochs, args.threads)
            print("PyTorch", curves["PyTorch"], flush=True)
        except ImportError as exc:
            print(f"PyTorch not run: {exc}", file=sys.stderr)
        text = render(curves, args.target, args.threads)
    print(text)
    report.write_atomic(args.out, text)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
