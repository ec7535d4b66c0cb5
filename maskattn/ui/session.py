"""The session's state: widgets <-> ``Inputs`` / ``View`` <-> the URL.

The URL is read when a browser session starts and when Back or Forward leads to an address the
session did not write last (``load_url_state``), and rewritten after
every run from the current Inputs and View (defaults left out), so a copied address always
reopens the same state, on any page, and Back restores the state before the last change. A row click changes only the View: the Inputs, and
with them every cache key, stay the same.
"""

from __future__ import annotations

from dataclasses import fields, replace

import streamlit as st

from ..presets import PRESETS
from ..state import Inputs, View, from_query_params, row_in_sequence, sequence_in_batch, to_query_params
from .keys import Key


def history_navigation() -> bool:
    """This run was started by the browser's Back or Forward button.

    Streamlit 1.67 tells its script run context, not the page (no public API yet): the one place the
    app reads it. A page switch from the navigation sends no query string, so "the address is not the
    one this session wrote" alone cannot tell Back from a page switch.
    """
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx  # noqa: PLC0415
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False))


def load_url_state() -> None:
    """Seed the widgets from the URL when the session starts, and again when Back or Forward leads to
    an address this session did not write last: they restore the state they lead to, widgets and
    figures with the URL. Otherwise put back at its default any input whose widget
    state Streamlit dropped (a widget not drawn in the last run loses its key), so that the page never
    reads a missing key."""
    url = st.query_params.to_dict()
    back_or_forward = history_navigation() and url != st.session_state.get(Key.URL_WRITTEN)
    if st.session_state.get(Key.URL_LOADED) and not back_or_forward:
        defaults = Inputs()
        for f in fields(Inputs):
            if f.name not in st.session_state:
                st.session_state[f.name] = getattr(defaults, f.name)
        return
    inputs, view, notices = from_query_params(st.query_params.to_dict())
    inputs, more = sequence_in_batch(inputs)
    notices += more
    view, more = row_in_sequence(inputs, view)
    notices += more
    if view.preset and view.preset not in {p.slug for p in PRESETS}:
        notices.append(f"Ignored URL parameter preset={view.preset!r}: expected one of "
                       f"{', '.join(p.slug for p in PRESETS)}.")
        view = replace(view, preset="")
    apply_inputs(inputs)
    apply_view(view)
    st.session_state[Key.URL_NOTICES] = notices
    st.session_state[Key.URL_LOADED] = True
    st.session_state[Key.URL_WRITTEN] = url


def apply_inputs(inputs: Inputs) -> None:
    """Put ``inputs`` into the sidebar's widgets (from a callback, e.g. a preset button)."""
    for f in fields(Inputs):
        st.session_state[f.name] = getattr(inputs, f.name)
    st.session_state[Key.CUSTOM_CONSTANT_TEXT] = str(inputs.custom_constant)
    st.session_state[Key.GLOBAL_TEXT] = inputs.global_tokens
    st.session_state[Key.BIAS_TEXT] = bias_text(inputs.bias_matrix)


def bias_text(compact: str) -> str:
    """A typed bias as its text box shows it: one row per line, numbers split by spaces."""
    return "\n".join(row.replace(",", " ") for row in compact.split(";")) if compact else ""


def apply_view(view: View) -> None:
    for f in fields(View):
        st.session_state[f.name] = getattr(view, f.name)


def _current(cls):
    defaults = cls()
    values = {}
    for f in fields(cls):
        default = getattr(defaults, f.name)
        value = st.session_state.get(f.name, default)
        # a widget can hand back a stale label (str) for an index: never let a wrong type through
        values[f.name] = value if type(value) is type(default) or (
            isinstance(default, float) and type(value) is int) else default
    return replace(defaults, **values)


def current_inputs() -> Inputs:
    """The Inputs the widgets hold now (defaults for anything not drawn yet)."""
    return _current(Inputs)


def current_view() -> View:
    """The View the session holds now."""
    return _current(View)


def sync_url(inputs: Inputs, view: View) -> None:
    """Rewrite the URL's parameters to match the state (only when they differ)."""
    wanted = to_query_params(inputs, view)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)
    st.session_state[Key.URL_WRITTEN] = wanted          # an address other than this one came from outside


def keep_index_in_range(key: str, n: int) -> int:
    """Reset ``session_state[key]`` to 0 unless it is an index below ``n``; return the index.

    Call before drawing a selectbox over ``range(n)``: when its options change (new text), the
    browser may send back the old option's label (a str) or an index past the end.
    """
    current = st.session_state.get(key, 0)
    if isinstance(current, bool) or not isinstance(current, int) or not 0 <= current < n:
        st.session_state[key] = 0
    return st.session_state[key]


def url_notices() -> None:
    """Show, once, which URL parameters were refused."""
    for notice in st.session_state.pop(Key.URL_NOTICES, []):
        st.warning(notice, icon="⚠️")
