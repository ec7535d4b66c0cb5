"""The drawn-mask editor: click cells, type a matrix, or edit row by row; the mask is an ``Inputs`` field.

The drawn mask lives in ``st.session_state[Key.DRAWN]`` as ``masks.compact_mask`` text, like any
other input, so the Playground applies it and the URL carries it. Each edit makes a new mask,
and a new mask gets a new chart key, so a second click on the same cell toggles it back (a
chart's own selection would stay on the first click).
"""

from __future__ import annotations

import functools
import zlib

import numpy as np
import streamlit as st

from .. import figures
from ..errors import MaskAttnError
from ..masks import (EXAMPLE_MASK_TEXT, MAX_COMPACT_SIZE, classify_mask, compact_mask, describe_mask,
                     explain_mask_rows, format_mask, parse_mask)
from . import cache
from .keys import Key
from .render import chart, md_escape


def set_drawn(mask) -> None:
    """Make ``mask`` the drawn mask (the Playground applies it) and show it in the text box."""
    st.session_state[Key.DRAWN] = compact_mask(mask)
    st.session_state[Key.DRAWN_TEXT] = format_mask(mask)
    st.session_state.pop(Key.DRAWN_ERROR, None)


def remove_drawn() -> None:
    st.session_state[Key.DRAWN] = ""
    st.session_state[Key.DRAWN_TEXT] = ""
    st.session_state.pop(Key.DRAWN_ERROR, None)


def _apply_typed() -> None:
    """Form callback: the typed matrix becomes the drawn mask, or its error is shown."""
    try:
        mask = parse_mask(st.session_state[Key.DRAWN_TEXT])
        if len(mask) > MAX_COMPACT_SIZE:
            raise MaskAttnError(f"a drawn mask has at most {MAX_COMPACT_SIZE} rows (it travels in the link), "
                                f"got {len(mask)}")
    except MaskAttnError as err:
        st.session_state[Key.DRAWN_ERROR] = str(err)
    else:
        set_drawn(mask)


def _toggle_clicked_cell(chart_key: str, matrix, index_of: dict[str, int]) -> None:
    """on_select callback: flip the clicked cell (1 = blocked <-> 0 = may attend)."""
    state = st.session_state.get(chart_key)
    points = state["selection"]["points"] if state else []
    if points and points[0].get("y") in index_of and points[0].get("x") in index_of:
        cells = np.array(matrix)                                   # (T, T)
        i, j = index_of[points[0]["y"]], index_of[points[0]["x"]]
        cells[i, j] = 1 - cells[i, j]
        set_drawn(cells)


def _set_row(matrix, i: int, key: str) -> None:
    """Multiselect callback: row ``i`` blocks exactly the keys chosen in widget ``key``."""
    cells = np.array(matrix)                                       # (T, T)
    cells[i] = 0
    cells[i, st.session_state[key]] = 1
    set_drawn(cells)


def drawn_mask_editor(inputs, result, look) -> None:
    """The mask to click on with what it means row by row, the typed matrix, and the row-by-row editor."""
    matrix, axis = cache.drawn_matrix(inputs)            # the drawn mask (or an open T×T one) and its labels
    n, T = len(matrix), len(result.labels)
    chart_key = f"{Key.DRAWN_CHART}-{zlib.crc32((inputs.drawn + '|' + ' '.join(axis)).encode())}"
    index_of = {figures.safe_label(label): i for i, label in enumerate(axis)}
    kind = classify_mask(matrix)
    title = "your mask (1 = blocked)" + (": click a cell to toggle it" if n <= figures.MAX_CLICKABLE else "")
    subtitle = f"pattern: {kind} (explained beside)" if inputs.drawn else "nothing drawn yet: every key is open"

    with st.container(horizontal=True, gap="medium", vertical_alignment="top"):
        chart(cache.drawn_figure(inputs, look, title, subtitle), key=chart_key, filename=f"drawn-mask-{n}x{n}",
              on_select=functools.partial(_toggle_clicked_cell, chart_key, matrix, index_of), selection_mode="points")
        with st.container(width="stretch"):
            if not inputs.drawn:
                st.info("Nothing is drawn yet: click a cell to block it, or type a matrix below.", icon="✏️")
            elif n != T:
                st.warning(f"This mask is {n}×{n} but the sequence on view has {T} tokens, so the Playground leaves "
                           "it out. Its rows are explained by position.", icon="📐")
                resized = np.pad(np.array(matrix), (0, max(T - n, 0)))[:T, :T]      # (T, T) new cells open
                st.button(f"Make it {T}×{T} (cut, or widened with open cells)", on_click=set_drawn, args=(resized,))
            else:
                st.success("Applied in the Playground, combined with the sidebar's masks by the element-wise "
                           "maximum (the tutorial's tf.maximum).", icon="✅")
            st.markdown(f"**What it is:** {md_escape(describe_mask(matrix))}")
            rows = explain_mask_rows(matrix, list(result.tokens) if n == T else None)
            # a few rows in full; many in a box that scrolls beside the mask
            with st.container(height="content" if len(rows) <= 8 else 360, border=False):
                st.markdown("\n".join(f"- {md_escape(line)}" for line in rows))

    if Key.DRAWN_TEXT not in st.session_state:
        st.session_state[Key.DRAWN_TEXT] = format_mask(matrix) if inputs.drawn else ""
    with st.form("drawn-form", border=False):
        st.text_area(f"…or type a 0/1 matrix, one row per query (1 = blocked), such as {EXAMPLE_MASK_TEXT}",
                     key=Key.DRAWN_TEXT, height=110, placeholder=EXAMPLE_MASK_TEXT)
        with st.container(horizontal=True, gap="small"):
            st.form_submit_button("Use this mask", on_click=_apply_typed, type="primary")
            st.form_submit_button("Start from the Playground's mask", on_click=set_drawn,
                                  args=(result.mask.astype(int),), help="The mask the sidebar's switches make now.")
            st.form_submit_button("Remove the drawn mask", on_click=remove_drawn, disabled=not inputs.drawn)
    if st.session_state.get(Key.DRAWN_ERROR):
        st.error(st.session_state[Key.DRAWN_ERROR], icon="✋")

    # built only while open: one widget per query row
    editor = st.expander("Edit row by row (keyboard): the keys each query may not see", key=Key.OPEN_DRAWN_ROWS,
                         on_change="rerun")
    if editor.open:
        with editor:
            if n > figures.MAX_CLICKABLE:
                st.info(f"Row by row editing goes up to {figures.MAX_CLICKABLE} tokens; type the matrix above.")
                return
            for i in range(n):
                key = f"{Key.DRAWN_ROW}-{chart_key}-{i}"
                st.multiselect(f"Query {axis[i]} may not see", options=range(n), format_func=axis.__getitem__,
                               default=[j for j in range(n) if matrix[i][j]], key=key, on_change=_set_row,
                               args=(matrix, i, key), placeholder="no key blocked: it sees every key")
