"""Backpropagation as a flip-book: one picture per step of the backward pass.

The steps come in exactly the order the engine runs them (`autograd.engine.toposort`): an op is
processed only after every consumer of its output has sent its gradient back, so the gradient
it receives is complete. Each frame highlights the op being processed, colours the edges along
which it sends gradients to its inputs (labelled with what it sends), and writes every gradient
known so far on the tensors ('?' where none has arrived yet). The gradients are recomputed here
on arrays, op by op, with the ops' own VJPs; the graph and the tensors' `.grad` are untouched.
"""

from __future__ import annotations

import io
import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from autograd import Tensor

from .chain_rule import backward_steps
from .dot import HIGHLIGHT, Decorations, build_digraph, derivative_labels, op_label
from .render import pipe, render
from .trace import Edge, format_array, format_number, trace

GIF_HINT = 'assembling a GIF needs Pillow: pip install "chainrule[gif]" (or pip install pillow)'


def _frame_paths(path_prefix: str | os.PathLike, n: int, format: str) -> tuple[list[Path], Path]:
    """Frame files and the GIF's path: '<prefix>_000.svg', ... and '<prefix>.gif'; a prefix
    that is a folder (existing, or ending with a separator) gets 'step_000.svg', 'backward.gif'."""
    text = os.fspath(path_prefix)
    p = Path(text)
    if text.endswith(("/", os.sep)) or p.is_dir():
        p.mkdir(parents=True, exist_ok=True)
        return [p / f"step_{k:03d}.{format}" for k in range(n)], p / "backward.gif"
    p.parent.mkdir(parents=True, exist_ok=True)
    return ([p.with_name(f"{p.name}_{k:03d}.{format}") for k in range(n)],
            p.with_name(f"{p.name}.gif"))


def _sent(g) -> str:
    text = format_array(g)
    if text is None:
        return f"sends grad of norm {format_number(float((g.astype(float) ** 2).sum()) ** 0.5)}"
    return f"sends {text}"


def backward_frames(root: Tensor, path_prefix: str | os.PathLike, format: str = "svg", *,
                    gif: bool = False, duration_ms: int = 900,
                    names: Mapping[Tensor, str] | None = None, show_values: bool = True,
                    show_derivatives: bool = False, rankdir: str = "LR", max_nodes: int = 200,
                    cluster_modules: bool = True) -> list[str]:
    """Render one picture per backward step and return their paths, in backward order.

    Files are '<path_prefix>_000.<format>', '<path_prefix>_001.<format>', ... (inside the folder
    when `path_prefix` is one). The root's gradient is seeded with ones (for a non-scalar root
    that is the backward pass of `root.sum()`). With `gif=True` the frames are also assembled,
    as png, into '<path_prefix>.gif' (`duration_ms` per frame; needs Pillow), whose path is
    appended as the last element of the returned list.
    """
    if gif:
        try:
            from PIL import Image
        except ImportError:
            raise ImportError(GIF_HINT) from None
    graph = trace(root, names)
    if not graph.ops:
        raise ValueError("backward_frames: root was not computed by any recorded op (it has no "
                         "grad_fn), so there is no backward pass to show")
    steps = list(backward_steps(graph))
    files, gif_path = _frame_paths(path_prefix, len(steps), format.lower())
    derivs = derivative_labels(graph) if show_derivatives else {}
    root_name = graph.root.name
    digraphs = []
    for step in steps:
        op = step.op
        deco = Decorations(grads=step.known, pending=True, edge_labels=dict(derivs))
        deco.node_styles[op.id] = {"fillcolor": HIGHLIGHT[0], "color": HIGHLIGHT[1],
                                   "penwidth": "2.5"}
        deco.emphasis[op.output.id] = HIGHLIGHT[1]
        deco.edge_styles[Edge(op.id, op.output.id)] = {"color": HIGHLIGHT[1], "penwidth": "2"}
        sends = []
        for i, (t, gi) in enumerate(zip(op.inputs, step.grad_inputs)):
            if gi is None:
                continue
            e = Edge(t.id, op.id, i)
            text = _sent(gi)
            label = deco.edge_labels.get(e)
            deco.edge_labels[e] = f"{label}\\n{text}" if label else text
            deco.edge_styles[e] = {"color": HIGHLIGHT[1], "penwidth": "2",
                                   "fontcolor": HIGHLIGHT[1]}
            sends.append(t.name)
        received = format_array(step.grad_out) or "(array)"
        deco.notes.append(
            f"backward step {step.index + 1} of {len(steps)}: '{op_label(op)}' receives "
            f"d{root_name}/d{op.output.name} = {received} and sends gradients to "
            f"{', '.join(sends) or 'no input'}")
        digraphs.append(build_digraph(graph, deco, show_values=show_values, rankdir=rankdir,
                                      max_nodes=max_nodes, cluster_modules=cluster_modules))
    fmt = format.lower()
    # Each frame is one renderer process: run several at once.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        written = list(pool.map(lambda job: render(job[0], job[1], fmt), zip(digraphs, files)))
        if gif:
            pngs = ([Path(f).read_bytes() for f in written] if fmt == "png"
                    else list(pool.map(lambda d: pipe(d, "png"), digraphs)))
    if gif:
        images = [Image.open(io.BytesIO(b)).convert("RGB") for b in pngs]
        width = max(im.width for im in images)
        height = max(im.height for im in images)
        canvas = []
        for im in images:
            frame = Image.new("RGB", (width, height), "white")
            frame.paste(im, ((width - im.width) // 2, (height - im.height) // 2))
            canvas.append(frame)
        canvas[0].save(gif_path, save_all=True, append_images=canvas[1:],
                       duration=duration_ms, loop=0)
        written.append(str(gif_path))
    return written
