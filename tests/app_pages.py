"""The app's pages as ``app.py`` lists them in ``PAGES``, read without running Streamlit.

Tests that must cover every page (hostile input, fuzzing, the real-browser suite)
iterate over ``app_pages()``, so a page added to ``PAGES`` is covered automatically.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class AppPage:
    path: str          # "pages/lab.py", relative to the repository root
    title: str
    url_path: str      # "" for the default page
    default: bool


def app_pages(app_file: Path = ROOT / "app.py") -> list[AppPage]:
    """Every ``st.Page(...)`` in the ``PAGES = [...]`` assignment of ``app_file``, in order."""
    tree = ast.parse(app_file.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "PAGES" for t in node.targets):
            pages = []
            for call in node.value.elts:
                kwargs = {k.arg: ast.literal_eval(k.value) for k in call.keywords}
                path = ast.literal_eval(call.args[0]) if call.args else kwargs["page"]
                pages.append(AppPage(path, kwargs.get("title", Path(path).stem),
                                     kwargs.get("url_path", Path(path).stem), bool(kwargs.get("default", False))))
            return pages
    raise AssertionError(f"no PAGES = [...] list in {app_file}")
