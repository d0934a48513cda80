"""Hello World: the 3Blue1Brown digit network (784-16-16-10) trained on real MNIST digits.

    python -m examples.mnist                  # ReLU + minibatch SGD, 30 epochs (seconds)
    python -m examples.mnist --activation sigmoid --lr 1.0      # as in the video
    python -m examples.mnist --help

What it reproduces (3Blue1Brown, "But what is a neural network?" and "Gradient descent, how
neural networks learn"): a network with two hidden layers of 16 neurons, 13,002 weights and
biases in all, learns to read handwritten digits by minibatch stochastic gradient descent on the
cross-entropy cost, reaching about 90% or more on digits it has never seen. And the closing
observation of the second video: fed pure random noise, the trained network still answers with
confidence -- it has only learned to separate the digits it was shown, not what a digit is.

The run writes to the output folder (default `runs/mnist`): the checkpoint (`model.npz`, saved
with nn.save; no pickle), the network's computation graph with one box per layer (`graph.svg`),
the loss and accuracy curves (`history.png`), and the first layer's weights as images
(`weights.png`).
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

import autograd as ag
import nn
import optim

OPTIMIZERS = ("sgd", "momentum", "adam")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m examples.mnist",
        description="Train the 784-16-16-10 network of 3Blue1Brown's video on the bundled "
                    "MNIST subset (4,000 training and 1,000 test digits).")
    p.add_argument("--epochs", type=int, default=30, help="passes over the training set (30)")
    p.add_argument("--lr", type=float, default=None,
                   help="learning rate (default: 0.1 for relu+sgd, 1.0 for sigmoid+sgd, "
                        "0.05 for momentum, 0.005 for adam)")
    p.add_argument("--batch-size", type=int, default=32, help="minibatch size (32)")
    p.add_argument("--optimizer", choices=OPTIMIZERS, default="sgd",
                   help="sgd: plain minibatch SGD (default); momentum: SGD with momentum 0.9; "
                        "adam: Adam")
    p.add_argument("--activation", choices=("relu", "sigmoid"), default="relu",
                   help="hidden-layer activation: relu (default) or sigmoid as in the video")
    p.add_argument("--seed", type=int, default=0, help="seed for weights and shuffling (0)")
    p.add_argument("--out", default=os.path.join("runs", "mnist"),
                   help="output folder (runs/mnist)")
    p.add_argument("--data", default=None,
                   help="MNIST folder (the four IDX files) or .npz; default: the bundled subset")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--no-figures", action="store_true",
                   help="skip the graph drawing and the plots")
    return p.parse_args(argv)


def default_lr(optimizer: str, activation: str) -> float:
    if optimizer == "adam":
        return 0.005
    if optimizer == "momentum":
        return 0.05
    return 1.0 if activation == "sigmoid" else 0.1


def make_optimizer(name: str, params: Any, lr: float) -> optim.Optimizer:
    if name == "adam":
        return optim.Adam(params, lr=lr)
    if name == "momentum":
        return optim.SGD(params, lr=lr, momentum=0.9)
    return optim.SGD(params, lr=lr)


def accuracy(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    with ag.no_grad():
        return float((model(x).data.argmax(axis=1) == y).mean())


def _progress(iterable: Any, total: int, disable: bool) -> Any:
    """tqdm when installed (the demo extra installs it), otherwise a plain iterator."""
    if disable:
        return iterable
    try:
        from tqdm import tqdm
    except ImportError:
        return iterable
    return tqdm(iterable, total=total, unit="epoch", dynamic_ncols=True)


def train(args: argparse.Namespace) -> dict[str, Any]:
    ag.manual_seed(args.seed)
    (x_train, y_train), (x_test, y_test) = nn.datasets.mnist(args.data)
    model = nn.MLP([784, 16, 16, 10], activation=args.activation)
    lr = args.lr if args.lr is not None else default_lr(args.optimizer, args.activation)
    opt = make_optimizer(args.optimizer, model.parameters(), lr)
    loss_fn = nn.CrossEntropyLoss()
    loader = nn.data.DataLoader((x_train, y_train), batch_size=args.batch_size, shuffle=True)

    history: dict[str, list[float]] = {"loss": [], "acc": [], "test_acc": []}
    start = time.perf_counter()
    bar = _progress(range(args.epochs), args.epochs, args.no_progress)
    for _epoch in bar:
        model.train()
        total, correct, seen = 0.0, 0, 0
        for xb, yb in loader:
            logits = model(xb)
            loss = loss_fn(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(yb)
            correct += int((logits.data.argmax(axis=1) == yb).sum())
            seen += len(yb)
        model.eval()
        history["loss"].append(total / seen)
        history["acc"].append(correct / seen)
        history["test_acc"].append(accuracy(model, x_test, y_test))
        if hasattr(bar, "set_postfix"):
            bar.set_postfix(loss=f"{total / seen:.3f}", acc=f"{correct / seen:.3f}",
                            test_acc=f"{history['test_acc'][-1]:.3f}")
    seconds = time.perf_counter() - start
    return {"model": model, "history": history, "seconds": seconds, "lr": lr,
            "test": (x_test, y_test), "train": (x_train, y_train)}


def noise_confidence(model: nn.Module, n: int = 1000, seed: int = 1) -> tuple[float, np.ndarray]:
    """Mean top-class probability the trained net gives to uniform random-noise images."""
    noise = np.random.default_rng(seed).random((n, 784)).astype(np.float32)
    with ag.no_grad():
        probs = ag.softmax(model(noise), axis=1).data
    return float(probs.max(axis=1).mean()), np.bincount(probs.argmax(axis=1), minlength=10)


def write_figures(model: nn.Module, history: dict, x: np.ndarray, y: np.ndarray,
                  out: str) -> list[str]:
    """The computation graph (one box per layer), the training curves and the weights."""
    import viz

    written = []
    images = ag.Tensor(x[:4])
    loss = nn.CrossEntropyLoss()(model(images), y[:4])
    loss.backward()
    graph = viz.draw_graph(loss, show_values=False, names={images: "images", loss: "loss"})
    try:
        written.append(viz.render(graph, os.path.join(out, "graph.svg")))
    except viz.RendererNotFound as e:
        dot_path = os.path.join(out, "graph.dot")
        with open(dot_path, "w") as f:
            f.write(graph.source)
        written.append(dot_path)
        print(f"note: {e}")
    model.zero_grad()
    try:
        written.append(_save_fig(viz.plot_history(history), os.path.join(out, "history.png")))
        written.append(_save_fig(viz.show_weights(model[0]), os.path.join(out, "weights.png")))
    except ImportError as e:
        print(f"note: plots skipped ({e}); install them with: pip install 'chainrule[plots]'")
    return written


def _save_fig(fig: Any, path: str) -> str:
    fig.savefig(path, dpi=110)
    import matplotlib.pyplot as plt

    plt.close(fig)
    return path


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    result = train(args)
    model, history = result["model"], result["history"]
    x_test, y_test = result["test"]
    test_acc = history["test_acc"][-1] if history["test_acc"] else accuracy(model, x_test, y_test)
    print(f"network 784-16-16-10 ({args.activation}), {model.num_parameters():,} parameters, "
          f"{args.optimizer} lr={result['lr']:g}, {args.epochs} epochs in "
          f"{result['seconds']:.1f} s")
    print(f"test accuracy: {test_acc:.1%} on {len(y_test)} digits never seen in training")

    checkpoint = os.path.join(args.out, "model.npz")
    nn.save(model.state_dict(), checkpoint)
    print(f"checkpoint:    {checkpoint}")

    confidence, votes = noise_confidence(model)
    print(f"random noise:  the trained net is on average {confidence:.0%} sure of its answer "
          f"for images of pure noise (answers per digit: {votes.tolist()}) -- it has learned to "
          "separate digits, not what a digit is")

    if not args.no_figures:
        for path in write_figures(model, history, *result["train"], args.out):
            print(f"figure:        {path}")
    print(f"output folder: {os.path.abspath(args.out)}")
    result.update(test_acc=test_acc, noise_confidence=confidence, checkpoint=checkpoint)
    return result


if __name__ == "__main__":
    main()
