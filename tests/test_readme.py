"""The README's promises: its test command is what CI runs."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def readme_commands() -> dict[str, str]:
    """The shell blocks that follow the '<!-- command: NAME -->' markers in README.md."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return dict(re.findall(r"<!-- command: (\w+) -->\s*```(?:sh|bash)\n(.+?)\n```", text, re.DOTALL))


def test_readme_states_the_two_commands():
    assert set(readme_commands()) == {"demo", "test"}


def test_ci_runs_exactly_the_readme_test_command():
    test_command = readme_commands()["test"].strip()
    ci_lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci_lines


def test_demo_command_installs_and_runs_the_demo():
    demo = readme_commands()["demo"]
    assert "pip install -U pip" in demo
    assert demo.rstrip().endswith("newsarchive demo")


def test_the_sources_example_is_a_valid_sources_file(tmp_path):
    from schemas import load_sources

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = re.search(r"```toml\n(\[\[sources\]\]\nname = .+?)```", text, re.DOTALL).group(1)
    path = tmp_path / "sources.toml"
    path.write_text(example, encoding="utf-8")
    [source] = load_sources(path).sources
    assert source.name == "RT" and source.download_delay == 2.0 and source.is_wanted("https://www.rt.com/news/1234-x/")
