"""The README's notebook example runs and prints what its comments say."""

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs_and_matches_its_comments():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks, "the README has a python example"
    for block in blocks:
        printed = io.StringIO()
        with contextlib.redirect_stdout(printed):
            exec(compile(block, "README.md", "exec"), {})
        lines = printed.getvalue().splitlines()
        expected = [c.split(":")[0].strip() for c in re.findall(r"print\(.*?\)\s*#\s*(.*)", block)]
        assert len(lines) == len(expected)
        for line, comment in zip(lines, expected):
            assert " ".join(line.split()) == " ".join(comment.split()), (line, comment)
