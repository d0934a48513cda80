"""viz.render: real rendering to SVG and PNG with the installed renderer (graphviz-pure from the
dev extra, or the system dot), and the error when there is none."""

import importlib
import shutil
import sysconfig

import pytest

import autograd as ag
import viz

# viz.render is also the name of the function the package exports; this is the module.
render_module = importlib.import_module("viz.render")

PNG = b"\x89PNG\r\n\x1a\n"


def drawing():
    a = ag.tensor(2.0, requires_grad=True)
    b = ag.tensor(3.0, requires_grad=True)
    out = ag.tanh(a * b + a)
    out.backward()
    return viz.draw_graph(out, names={a: "a", b: "b"}, show_derivatives=True)


def test_find_renderer_finds_one():
    kind, exe = viz.find_renderer()
    assert kind in ("dot", "graphviz-pure") and shutil.which(exe) is not None


def test_render_svg_and_png(tmp_path):
    g = drawing()
    svg = viz.render(g, tmp_path / "graph.svg")
    png = viz.render(g, tmp_path / "graph.png")
    assert svg.endswith("graph.svg") and png.endswith("graph.png")
    svg_text = open(svg, encoding="utf-8").read()
    assert svg_text.lstrip().startswith("<?xml") and "<svg" in svg_text
    assert svg_text.count("<g id=\"node") == 8           # 5 tensors and 3 ops
    assert svg_text.count("<g id=\"edge") == 8
    assert ">tanh<" in svg_text and ">a<" in svg_text
    data = open(png, "rb").read()
    assert data[:8] == PNG and len(data) > 5000
    assert len(svg_text) > 5000


def test_render_path_without_suffix_and_explicit_format(tmp_path):
    g = drawing()
    out = viz.render(g, tmp_path / "sub" / "graph")       # folders created, '.svg' added
    assert out.endswith("graph.svg") and open(out, "rb").read(5) == b"<?xml"
    out = viz.render(g, tmp_path / "picture.bin", format="png")
    assert open(out, "rb").read(8) == PNG


def test_pipe_and_digraph_methods(tmp_path):
    g = drawing()
    assert viz.pipe(g, "png")[:8] == PNG
    assert viz.pipe(g.source, "svg").lstrip().startswith(b"<?xml")
    assert g.pipe(format="svg", encoding="utf-8").lstrip().startswith("<?xml")
    assert g._repr_mimebundle_()["image/svg+xml"].lstrip().startswith("<?xml")  # Jupyter
    path = g.render(tmp_path / "rendered", format="png")
    assert path.endswith("rendered.png") and open(path, "rb").read(8) == PNG
    with pytest.raises(TypeError, match="expected a graphviz graph or DOT source text"):
        viz.pipe(42, "svg")


def test_graphviz_pure_cannot_write_pdf(monkeypatch):
    exe = shutil.which("graphviz-pure") or shutil.which("graphviz-pure",
                                                        path=sysconfig.get_path("scripts"))
    assert exe is not None, "the dev extra installs graphviz-pure"
    monkeypatch.setattr(render_module, "find_renderer", lambda: ("graphviz-pure", exe))
    with pytest.raises(ValueError, match="graphviz-pure renderer cannot write 'pdf'"):
        viz.pipe(drawing(), "pdf")
    assert viz.pipe(drawing(), "svg").lstrip().startswith(b"<?xml")


def test_clear_error_without_any_renderer(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", "")
    monkeypatch.setattr(render_module, "_scripts_dir", lambda: str(tmp_path))
    g = drawing()                                         # building needs no renderer
    assert g.source.startswith("digraph chainrule {") and "tanh" in g.source
    with pytest.raises(viz.RendererNotFound,
                       match=r'no Graphviz `dot` executable on PATH and no `graphviz-pure` '
                             r'executable found; install a Graphviz renderer: `pip install '
                             r'"chainrule\[render\]"`.*system Graphviz package'):
        viz.render(g, tmp_path / "graph.svg")
    with pytest.raises(RuntimeError, match=r"chainrule\[render\]"):
        g.pipe(format="svg")
    assert not (tmp_path / "graph.svg").exists()


def test_renderer_failure_is_reported(monkeypatch):
    exe = shutil.which("graphviz-pure") or shutil.which("graphviz-pure",
                                                        path=sysconfig.get_path("scripts"))
    monkeypatch.setattr(render_module, "find_renderer", lambda: ("graphviz-pure", exe))
    with pytest.raises(RuntimeError, match=r"graphviz-pure failed \(exit status"):
        viz.pipe("digraph { a -> }", "svg")
