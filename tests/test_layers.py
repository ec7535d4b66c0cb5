"""The core stays pure: importing it pulls in neither Streamlit, Plotly nor pandas."""

import ast
import subprocess
import sys
from pathlib import Path

CORE = [p for p in (Path(__file__).parents[1] / "maskattn").glob("*.py") if p.stem not in ("figures", "ui")]


def test_importing_the_core_imports_no_ui_library():
    code = ("import sys, maskattn, maskattn.pipeline, maskattn.explain, maskattn.state\n"
            + "".join(f"import maskattn.{p.stem}\n" for p in CORE if p.stem not in ("__init__", "__main__"))
            + "bad = [m for m in ('streamlit', 'plotly', 'pandas') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_no_core_module_imports_a_ui_library_at_top_level():
    for path in CORE:
        tree = ast.parse(path.read_text())
        for node in tree.body:
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] not in ("streamlit", "plotly", "pandas"), (path.name, name)


def test_figures_never_touch_streamlit():
    source = (Path(__file__).parents[1] / "maskattn" / "figures.py").read_text()
    assert "streamlit" not in source
