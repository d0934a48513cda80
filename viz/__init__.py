"""viz: pictures that teach the chain rule, and plots for training and experiments.

Table of contents:
- trace.py       walking the graph from a root Tensor: tensor and op nodes, edges, names
- chain_rule.py  the local derivative of every edge; backpropagation replayed step by step
- dot.py         `draw_graph`: the graph as a graphviz.Digraph (module clusters, collapsing)
- explain.py     `explain_gradient`, `draw_gradient_paths`: the gradient as a sum over paths
- frames.py      `backward_frames`: one picture per backward step (and an animated GIF)
- render.py      `render`, `pipe`: svg/png through the system `dot` or pip's graphviz-pure
- plots.py       matplotlib plots: training history, decision boundaries, first-layer weights,
                 per-layer statistics, optimizer trajectories (matplotlib imported lazily)
"""

from .chain_rule import BackwardStep, LocalDerivative, backward_steps, local_derivatives
from .dot import draw_graph
from .explain import GradientExplanation, GradientPath, draw_gradient_paths, explain_gradient
from .frames import backward_frames
from .plots import (
                    plot_decision_boundary,
                    plot_history,
                    plot_layer_stats,
                    plot_trajectories,
                    show_weights,
)
from .render import Digraph, RendererNotFound, find_renderer, pipe, render
from .trace import Graph, trace

__all__ = [
    "draw_graph", "explain_gradient", "draw_gradient_paths", "backward_frames",
    "GradientExplanation", "GradientPath", "LocalDerivative", "BackwardStep",
    "local_derivatives", "backward_steps", "trace", "Graph",
    "render", "pipe", "find_renderer", "RendererNotFound", "Digraph",
    "plot_history", "plot_decision_boundary", "show_weights", "plot_layer_stats",
    "plot_trajectories",
]
