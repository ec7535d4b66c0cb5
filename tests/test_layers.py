"""The layers point one way: core (NumPy) <- figures (Plotly) <- ui (Streamlit) <- pages."""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "maskattn"
UI_PACKAGES = ("figures", "ui")
#: every core module, in packages too (maskattn/masks/...), but not the figure and UI layers
CORE = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in UI_PACKAGES]


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def top_level_imports(path: Path) -> list[str]:
    names = []
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            names.append(("." * node.level) + (node.module or ""))
    return names


def test_importing_the_core_imports_no_ui_library():
    code = ("import sys\n" + "".join(f"import {module_name(p)}\n" for p in CORE if p.stem != "__main__")
            + "bad = [m for m in ('streamlit', 'plotly', 'pandas') if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_no_core_module_imports_a_ui_library_or_layer_at_top_level():
    for path in CORE:
        for name in top_level_imports(path):
            assert name.lstrip(".").split(".")[0] not in ("streamlit", "plotly", "pandas"), (path.name, name)
            assert not name.lstrip(".").startswith(UI_PACKAGES), (path.name, name)


def test_figures_never_touch_streamlit():
    for path in (PACKAGE / "figures").rglob("*.py"):
        assert not [n for n in top_level_imports(path) if n.startswith("streamlit")], path.name
        assert "import streamlit" not in path.read_text(), path.name


def test_pages_never_compute_attention_themselves():
    for path in (PACKAGE.parent / "pages").glob("*.py"):
        source = path.read_text()
        assert "np.exp" not in source and "softmax(" not in source, path.name
