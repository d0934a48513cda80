"""Turning DOT source into svg/png files: find a Graphviz renderer and run it.

Two renderers are accepted, in this order:

1. the system Graphviz `dot` executable on PATH (run through the `graphviz` package);
2. the `graphviz-pure` executable from the pip package of that name (a dot-compatible renderer
   that needs no system install: `pip install "chainrule[render]"`), looked up on PATH and next
   to the running Python interpreter (a virtual environment that was not activated).

Building a drawing never needs either: `viz.draw_graph` returns a `Digraph` whose `.source` is
plain DOT text. Only turning it into a picture does, and when neither renderer exists the error
says what to install.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

import graphviz

INSTALL_HINT = ('install a Graphviz renderer: `pip install "chainrule[render]"` (the graphviz-pure '
                'package, no system install needed) or the system Graphviz package (e.g. '
                '`apt install graphviz`, `brew install graphviz`, `conda install graphviz`)')

#: Formats the graphviz-pure renderer writes (the system `dot` writes these and more, e.g. pdf).
PURE_FORMATS = ("svg", "png", "jpg", "jpeg", "dot", "gv", "json", "plain", "xdot")


class RendererNotFound(RuntimeError):
    """No Graphviz renderer (`dot` or `graphviz-pure`) could be found."""


def _scripts_dir() -> str | None:
    """The running interpreter's scripts folder, where pip put `graphviz-pure`."""
    return sysconfig.get_path("scripts")


def find_renderer() -> tuple[str, str]:
    """The renderer to use, as (kind, executable): ("dot", path) or ("graphviz-pure", path).

    Raises RendererNotFound, naming what to install, when there is neither.
    """
    dot = shutil.which("dot")
    if dot is not None:
        return "dot", dot
    pure = shutil.which("graphviz-pure")
    if pure is None:
        scripts = _scripts_dir()
        if scripts:
            pure = shutil.which("graphviz-pure", path=scripts)
    if pure is not None:
        return "graphviz-pure", pure
    raise RendererNotFound(
        "cannot render the graph: no Graphviz `dot` executable on PATH and no `graphviz-pure` "
        f"executable found; {INSTALL_HINT}. The DOT source is available without a renderer "
        "(digraph.source).")


def _source(graph: Any) -> str:
    if isinstance(graph, graphviz.Source | graphviz.Digraph | graphviz.Graph):
        return graph.source
    if isinstance(graph, str):
        return graph
    raise TypeError(f"expected a graphviz graph or DOT source text, got {type(graph).__name__}")


def pipe(graph: Any, format: str = "svg") -> bytes:
    """Render `graph` (a graphviz graph or DOT text) to bytes in `format` ('svg', 'png', ...)."""
    format = format.lower()
    kind, exe = find_renderer()
    source = _source(graph)
    if kind == "dot":
        return graphviz.Source(source).pipe(format=format)
    if format not in PURE_FORMATS:
        raise ValueError(
            f"the graphviz-pure renderer cannot write '{format}' (it writes "
            f"{', '.join(PURE_FORMATS)}); install the system Graphviz package for {format}, or "
            "render to svg or png")
    proc = subprocess.run([exe, f"-T{format}"], input=source.encode("utf-8"),
                          capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"graphviz-pure failed (exit status {proc.returncode}): "
                           f"{proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.stdout


def render(graph: Any, path: str | os.PathLike, format: str | None = None) -> str:
    """Write `graph` to `path` as a picture and return the path.

    The format is `format`, or else the file's extension ('.svg', '.png'), or else svg (then
    '.svg' is appended). Parent folders are created.
    """
    p = Path(path)
    if format is None:
        format = p.suffix[1:].lower() if p.suffix else "svg"
        if not p.suffix:
            p = p.with_name(p.name + ".svg")
    data = pipe(graph, format)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return str(p)


class Digraph(graphviz.Digraph):
    """A `graphviz.Digraph` whose `pipe()` (and so Jupyter's inline display) and `render()`
    also work with the pip-installed graphviz-pure renderer when the system `dot` is absent."""

    def pipe(self, format: str | None = None, renderer: str | None = None,
             formatter: str | None = None, neato_no_op: Any = None, quiet: bool = False, *,
             engine: str | None = None, encoding: str | None = None) -> Any:
        if shutil.which("dot") is not None:
            return super().pipe(format, renderer, formatter, neato_no_op, quiet, engine=engine,
                                encoding=encoding)
        data = pipe(self, format or self.format)
        return data.decode(encoding) if encoding is not None else data

    def render(self, filename: Any = None, directory: Any = None, view: bool = False,
               cleanup: bool = False, format: str | None = None, renderer: str | None = None,
               formatter: str | None = None, neato_no_op: Any = None, quiet: bool = False,
               quiet_view: bool = False, *, outfile: Any = None, engine: str | None = None,
               raise_if_result_exists: bool = False, overwrite_source: bool = False) -> str:
        if shutil.which("dot") is not None:
            return super().render(filename, directory, view, cleanup, format, renderer,
                                  formatter, neato_no_op, quiet, quiet_view, outfile=outfile,
                                  engine=engine, raise_if_result_exists=raise_if_result_exists,
                                  overwrite_source=overwrite_source)
        if outfile is not None:
            out = Path(outfile)
            fmt = format or (out.suffix[1:] if out.suffix else self.format)
        else:
            source_path = Path(self.save(filename, directory=directory))
            fmt = format or self.format
            out = source_path.with_name(f"{source_path.name}.{fmt}")
        result = render(self, out, fmt)
        if cleanup and outfile is None:
            Path(self.filepath).unlink(missing_ok=True)
        return result
