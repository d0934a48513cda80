"""The README's Python examples run as written (so the README stays true to the code)."""

import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
BLOCKS = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_python_examples():
    assert len(BLOCKS) >= 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_readme_example_runs(index, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = BLOCKS[index]
    # The training-loop example runs one epoch here; the demo test covers the full run.
    code = code.replace("for epoch in range(30):", "for epoch in range(1):")
    namespace: dict = {}
    exec(compile(code, f"README.md[python block {index}]", "exec"), namespace)
    if "viz.render" in code:
        assert (tmp_path / "chain.svg").stat().st_size > 1000
    if "opt.step()" in code:
        assert namespace["loss"].item() < 2.3


def test_readme_links_and_pictures_point_to_files():
    text = README.read_text(encoding="utf-8")
    targets = re.findall(r"\]\(([^)#:]+)\)", text)
    assert "examples/figures/chain_rule.svg" in targets
    for target in targets:
        assert (README.parent / target).is_file(), target


def test_readme_commands_name_existing_example_modules():
    text = README.read_text(encoding="utf-8")
    for name in set(re.findall(r"python3 -m examples\.(\w+)", text)):
        assert (README.parent / "examples" / f"{name}.py").is_file(), name


def _code_without_comments(text: str) -> list[str]:
    blocks = re.findall(r"```(?:python|bash)\n(.*?)```", text, flags=re.S)
    stripped = []
    for block in blocks:
        lines = [re.sub(r"\s+#.*$", "", line).rstrip() for line in block.splitlines()]
        stripped.append("\n".join(line for line in lines if line and not line.startswith('"""')))
    return stripped


def test_chinese_readme_is_in_step_with_the_english_one():
    english = README.read_text(encoding="utf-8")
    chinese = (README.parent / "README.zh-CN.md").read_text(encoding="utf-8")
    assert "README.zh-CN.md" in english and "README.md" in chinese
    # Same sections, same commands and code (comments are translated), same pictures.
    assert len(re.findall(r"^## ", english, flags=re.M)) == len(
        re.findall(r"^## ", chinese, flags=re.M))
    assert _code_without_comments(english) == _code_without_comments(chinese)
    pictures = r"!\[[^\]]*\]\(([^)]+)\)"
    assert re.findall(pictures, english) == re.findall(pictures, chinese)
    assert re.findall(r"python3 -m examples\.\w+", english) == re.findall(
        r"python3 -m examples\.\w+", chinese)
