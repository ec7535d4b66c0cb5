"""The Streamlit layer: the only part of maskattn that imports Streamlit.

- ``keys``: every session-state key, in one typed namespace (``Key``).
- ``session``: widgets <-> ``Inputs`` / ``View`` <-> the URL.
- ``sidebar``: the shared sidebar (drawn by the frame).
- ``cache``: results, figures, tables and sentences, cached per ``Inputs`` (never per view).
- ``render``: safe markdown, formulas, charts, tables, downloads, presentation type.
- ``frame``: ``page(...)``, how every page opens; the pages/ guard, the transport fix, bad input as a message.
- ``drawing``: the drawn-mask editor (click, type, or row by row).
"""

from .cache import PRESENTATION, SCREEN, Look, look
from .drawing import drawn_mask_editor
from .frame import Page, compute_or_stop, disable_nagle, ensure_frame, once, page, preset_story, switch_if_asked
from .keys import Key, chart_key
from .render import (chart, figure_style, formula_markdown, matrix_downloads, matrix_tables, md_escape,
                     presentation_style)
from .session import (apply_inputs, apply_view, current_inputs, current_view, keep_index_in_range,
                      load_url_state, sync_url, url_notices)
from .sidebar import METHOD_LABELS, restore_example_button, sidebar
from . import cache

__all__ = [
    "Key", "Look", "PRESENTATION", "Page", "page", "SCREEN", "METHOD_LABELS", "apply_inputs", "apply_view", "cache", "chart",
    "chart_key", "compute_or_stop", "current_inputs", "current_view", "disable_nagle", "drawn_mask_editor",
    "ensure_frame", "once", "preset_story", "figure_style", "formula_markdown", "keep_index_in_range", "load_url_state", "look", "matrix_downloads",
    "matrix_tables", "md_escape", "presentation_style", "restore_example_button", "sidebar", "switch_if_asked", "sync_url",
    "url_notices",
]
