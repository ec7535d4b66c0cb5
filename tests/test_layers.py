"""The layers point one way: core (NumPy) <- figures (Plotly) <- export, ui (Streamlit) <- pages.

Every import counts, at the top of a module or inside a function: a lazy import is still a
dependency. And the core has no import cycle, lazy or not.
"""

import ast
import subprocess
import sys
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "maskattn"
#: the layers above the core: figures (Plotly), export (files, the CLI) and ui (Streamlit)
UPPER = ("figures", "export", "ui")
#: every core module, in packages too (maskattn/masks/...), but not the upper layers
CORE = [p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).with_suffix("").parts[0] not in UPPER]
UI_LIBRARIES = ("streamlit", "plotly", "pandas", "kaleido")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> list[str]:
    """Every module ``path`` imports, anywhere in it, as an absolute dotted name (``from . import x``
    counts as ``package.x``)."""
    package = module_name(path) if path.name == "__init__.py" else module_name(path).rpartition(".")[0]
    names = []
    for node in _nodes(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names += [f"{base}.{a.name}" for a in node.names] if not node.module else [base]
    return names


def _nodes(tree):
    """Every node, but those under ``if TYPE_CHECKING:`` (imports for annotations only never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            continue
        yield node
        yield from _nodes(node)


def layer(name: str) -> str | None:
    """``figures``, ``export`` or ``ui`` for a module of those layers, ``core`` for another maskattn module."""
    parts = name.split(".")
    if parts[0] != "maskattn":
        return None
    return parts[1] if len(parts) > 1 and parts[1] in UPPER else "core"


def test_the_import_reader_sees_lazy_and_relative_imports(tmp_path):
    probe = PACKAGE / "masks" / "basic.py"
    assert "maskattn.numerics" in imports(PACKAGE / "attention.py") or "maskattn" in imports(probe)
    assert any(n.startswith("maskattn.figures") for n in imports(PACKAGE / "export.py"))   # a function-level import
    assert "kaleido" in imports(PACKAGE / "export.py")


def test_importing_the_core_imports_no_ui_library():
    code = ("import sys\n" + "".join(f"import {module_name(p)}\n" for p in CORE if p.stem != "__main__")
            + f"bad = [m for m in {UI_LIBRARIES!r} if m in sys.modules]\n"
            "print(','.join(bad))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_no_core_module_imports_a_ui_library_or_an_upper_layer_anywhere():
    for path in CORE:
        for name in imports(path):
            assert name.split(".")[0] not in UI_LIBRARIES, (path.name, name)
            assert layer(name) in (None, "core"), (path.name, name)


def test_figures_import_only_the_core_and_never_streamlit():
    for path in (PACKAGE / "figures").rglob("*.py"):
        for name in imports(path):
            assert not name.startswith("streamlit") and layer(name) in (None, "core", "figures"), (path.name, name)


def test_export_never_imports_streamlit_or_the_ui():
    for name in imports(PACKAGE / "export.py"):
        assert not name.startswith("streamlit") and layer(name) != "ui", name


def test_the_core_has_no_import_cycle():
    """Module-level dependency graph of the core (every import, lazy ones too): no cycles."""
    graph = {}
    for path in CORE:
        me = module_name(path)
        deps = set()
        for name in imports(path):
            # "maskattn.x.y" may name a module or a thing in one: keep the longest module prefix
            parts = name.split(".")
            while parts and ".".join(parts) not in {module_name(p) for p in CORE}:
                parts.pop()
            dep = ".".join(parts)
            if dep and dep != me and not (path.name == "__init__.py" and dep.startswith(me + ".")):
                deps.add(dep)
        graph[me] = deps - {"maskattn"}          # the package's own __init__ re-exports: not a dependency
    state: dict[str, int] = {}

    def visit(node, trail):
        state[node] = 1
        for dep in sorted(graph.get(node, ())):
            if state.get(dep) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail + [node, dep]))
            if not state.get(dep):
                visit(dep, trail + [node])
        state[node] = 2

    for node in sorted(graph):
        if not state.get(node):
            visit(node, [])


def test_pages_never_compute_attention_themselves():
    for path in (PACKAGE.parent / "pages").glob("*.py"):
        source = path.read_text()
        assert "np.exp" not in source and "softmax(" not in source, path.name
