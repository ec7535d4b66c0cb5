"""Shared Streamlit helpers: the sidebar, state <-> URL, cached compute, safe text.

The sidebar's widgets live in the entrypoint (``app.py``), so their values hold
on every page. The URL is read once per browser session (``load_url_state``)
and rewritten after every run from the current ``Settings`` (defaults left out),
so a copied address always reopens the same state, on any page.
"""

from __future__ import annotations

from dataclasses import fields, replace
import functools
import gc
import inspect
import re
import socket

import pyarrow as pa
import streamlit as st

from . import export, figures, lab
from .attention import METHODS
from .explain import row_table, verdicts
from .errors import MaskAttnError
from .numerics import DTYPE_NAMES
from .pipeline import PlaygroundResult, compute
from .state import (CONSTANT_LABELS, CONSTANT_PRESETS, DEFAULT_TEXT, MAX_SEED, Settings,
                    from_query_params, parse_constant, to_query_params)
from .tokens import D_MODEL_CHOICES, QK_MODES, tokenize

#: session_state keys of the sidebar widgets are the Settings field names, except these
_CUSTOM_TEXT = "custom_constant_text"
_URL_NOTICES = "_url_notices"
_LOADED = "_url_loaded"

METHOD_LABELS = {
    "add": "add: logits + mask × constant (TF tutorial)",
    "fill": "fill: where(mask, constant, logits) (masked_fill)",
    "safe": "safe: fill, fully masked rows → 0 (PyTorch SDPA)",
    "multiply_weights": "mistake: multiply weights by mask after softmax",
    "zero_logits": "mistake: set masked logits to 0",
}
assert set(METHOD_LABELS) == set(METHODS)

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|>~<$&:])")


def md_escape(text: str) -> str:
    """User text made literal for ``st.markdown``: markdown, HTML and LaTeX characters escaped.

    >>> md_escape("<b>*hi*</b> $x$")
    '\\\\<b\\\\>\\\\*hi\\\\*\\\\</b\\\\> \\\\$x\\\\$'
    """
    return _MD_SPECIAL.sub(r"\\\1", text)


def ensure_frame() -> None:
    """Rerun through the frame (``app.py``) if Streamlit ran this page script on its own.

    Call first in every page. With page files in a folder named ``pages/``, Streamlit starts in its
    legacy multipage mode: until some session has run ``st.navigation``, a deep link such as
    ``/lab?causal=1`` (the first browser session after a server start, and every AppTest run) runs
    the page file alone, with no sidebar and no URL state. The frame's ``st.navigation`` ends that
    mode for good; if it has not run yet, end it the same way and rerun, which goes through app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager  # no public switch exists in 1.67
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@functools.cache
def disable_nagle() -> int:
    """Turn on ``TCP_NODELAY`` for this server's TCP sockets, once per process; returns how many.

    Streamlit 1.67 binds its listening socket with ``proto=0``, and asyncio only sets
    ``TCP_NODELAY`` on accepted sockets whose ``proto`` is TCP (the bug of uvicorn issue
    #3149). With Nagle's algorithm on, the messages of a rerun after the first wait for the
    browser's delayed ACK: about 40 ms on every rerun on Linux (benchmarks/README.md). The
    connections already open are fixed here, and on Linux the connections accepted later
    inherit the option from the listening socket.
    """
    fixed = 0
    for obj in gc.get_objects():
        if (isinstance(obj, socket.socket) and obj.fileno() != -1 and obj.type == socket.SOCK_STREAM
                and obj.family in (socket.AF_INET, socket.AF_INET6)):
            try:
                obj.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                fixed += 1
            except OSError:          # closed meanwhile, or not a TCP socket after all
                pass
    return fixed


def load_url_state() -> None:
    """Seed the widgets from the URL, once per browser session."""
    if st.session_state.get(_LOADED):
        return
    settings, notices = from_query_params(st.query_params.to_dict())
    for f in fields(Settings):
        st.session_state[f.name] = getattr(settings, f.name)
    st.session_state[_CUSTOM_TEXT] = str(settings.custom_constant)
    st.session_state[_URL_NOTICES] = notices
    st.session_state[_LOADED] = True


def apply_settings(settings: Settings) -> None:
    """Put ``settings`` into the widgets (use from a callback, e.g. a preset button)."""
    for f in fields(Settings):
        st.session_state[f.name] = getattr(settings, f.name)
    st.session_state[_CUSTOM_TEXT] = str(settings.custom_constant)


def current_settings() -> Settings:
    """The Settings the widgets hold now (defaults for anything not drawn yet)."""
    defaults = Settings()
    values = {}
    for f in fields(Settings):
        default = getattr(defaults, f.name)
        value = st.session_state.get(f.name, default)
        # a widget can hand back a stale label (str) for an index: never let a wrong type through
        values[f.name] = value if type(value) is type(default) or (
            isinstance(default, float) and type(value) is int) else default
    return replace(defaults, **values)


def sync_url(settings: Settings) -> None:
    """Rewrite the URL's parameters to match ``settings`` (only when they differ)."""
    wanted = to_query_params(settings)
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def keep_index_in_range(key: str, n: int) -> int:
    """Reset ``session_state[key]`` to 0 unless it is an index below ``n``; return the index.

    Call before drawing a selectbox over ``range(n)``: when its options change (new text), the
    browser may send back the old option's label (a str) or an index past the end.
    """
    current = st.session_state.get(key, 0)
    if isinstance(current, bool) or not isinstance(current, int) or not 0 <= current < n:
        st.session_state[key] = 0
    return st.session_state[key]


def _restore_example() -> None:
    st.session_state["text"] = DEFAULT_TEXT
    st.session_state["sequence"] = 0
    st.session_state["row"] = 0


def restore_example_button() -> None:
    st.button("Restore the example sentences", on_click=_restore_example, type="primary")


def _sequence_choices(text: str, pad_token: str) -> list[str]:
    try:
        batch = tokenize(text, pad_token)
    except MaskAttnError:
        return ["1"]
    return [f"{i + 1}: {' '.join(seq[:6])}{' …' if len(seq) > 6 else ''}" for i, seq in enumerate(batch.tokens)]


def _custom_constant_changed() -> None:
    raw = st.session_state[_CUSTOM_TEXT]
    try:
        st.session_state["custom_constant"] = parse_constant(raw)
        st.session_state.pop("_custom_error", None)
    except MaskAttnError as err:
        st.session_state["_custom_error"] = f"{err}. Kept the previous value {st.session_state['custom_constant']}."


def sidebar() -> Settings:
    """Draw the shared sidebar and return the current Settings."""
    load_url_state()
    sb = st.sidebar
    sb.text_area("Token sequences — one per line, tokens split on spaces", key="text", height=130,
                 help="Shorter lines are right-padded with the pad token to the longest line.")
    sb.text_input("Pad token (gets id 0)", key="pad_token", max_chars=32)
    choices = _sequence_choices(st.session_state["text"], st.session_state["pad_token"])
    keep_index_in_range("sequence", len(choices))
    sb.selectbox("Sequence to view", options=range(len(choices)), key="sequence",
                 format_func=lambda i: choices[i] if i < len(choices) else str(i + 1))

    sb.markdown("**Masks** (1 = blocked, as in the tutorial)")
    sb.toggle("Padding mask — block `<pad>` keys", key="padding")
    sb.toggle("…also mask padded queries (Keras / Flax)", key="mask_queries",
              help="Blocks whole rows of padded queries: this is how fully masked rows arise.")
    sb.toggle("Causal (look-ahead) mask", key="causal")

    sb.markdown("**How the mask is applied**")
    sb.selectbox("Mask constant", options=list(CONSTANT_PRESETS), key="constant",
                 format_func=CONSTANT_LABELS.__getitem__)
    if st.session_state["constant"] == "custom":
        sb.text_input("Custom constant", key=_CUSTOM_TEXT, on_change=_custom_constant_changed,
                      help="Any number, e.g. -1e4, -3.4e38 or -inf. Positive numbers boost masked keys.")
        if st.session_state.get("_custom_error"):
            sb.error(st.session_state["_custom_error"])
    sb.selectbox("Method", options=list(METHODS), key="method", format_func=METHOD_LABELS.__getitem__)
    sb.selectbox("Number type (dtype)", options=list(DTYPE_NAMES), key="dtype",
                 help="Every step is computed and rounded in this type, as a framework would.")

    with sb.expander("Model: embeddings and projections"):
        st.toggle("Scale logits by 1/√d", key="scale")
        st.select_slider("d_model", options=list(D_MODEL_CHOICES), key="d_model")
        st.number_input("Seed", min_value=0, max_value=MAX_SEED, step=1, key="seed")
        st.toggle("Add positional encoding", key="positional")
        st.radio("Queries and keys", options=list(QK_MODES), key="qk_mode",
                 format_func=lambda m: {"projected": "Q, K, V = seeded projections",
                                        "shared": "Q = K = token vectors"}[m])
    sb.toggle("Presentation mode (big type)", key="presentation")

    settings = current_settings()
    sync_url(settings)
    return settings


def formula_markdown(lines: list[tuple[str, str]]) -> str:
    """``(latex, note)`` pairs as one markdown element: display math, each note small and grey below it.

    One element instead of one per line: every element costs each rerun (benchmarks/README.md).

    >>> print(formula_markdown([("x = 1", ""), ("e^{-9} = 0", "it underflows")]))
    $$
    x = 1
    $$
    <BLANKLINE>
    $$
    e^{-9} = 0
    $$
    <BLANKLINE>
    :gray[:small[↳ it underflows]]
    """
    parts = []
    for latex, note in lines:
        parts.append(f"$$\n{latex}\n$$")
        if note:
            parts.append(f":gray[:small[↳ {md_escape(note)}]]")
    return "\n\n".join(parts)


def url_notices() -> None:
    """Show, once, which URL parameters were refused."""
    for notice in st.session_state.pop(_URL_NOTICES, []):
        st.warning(notice, icon="⚠️")


@st.cache_resource(max_entries=128, show_spinner=False)
def _cached_compute(settings: Settings) -> PlaygroundResult:
    return compute(settings)


@st.cache_resource(max_entries=64, show_spinner=False)
def playground_figures(settings: Settings) -> dict[str, figures.FrozenFigure]:
    """The Playground's figures for ``settings``, built once per state and shared."""
    return {name: figures.FrozenFigure(fig) for name, fig in figures.playground_figures(_cached_compute(settings)).items()}


@st.cache_resource(max_entries=256, show_spinner=False)
def row_weights_figure(settings: Settings, row: int) -> figures.FrozenFigure:
    """The inspector's bar chart of one query row's weights, without and with the mask."""
    result = _cached_compute(settings)
    label = figures.safe_label(result.labels[row])
    return figures.FrozenFigure(figures.weights_bar_figure(
        result.labels, result.unmasked.weights[row], result.steps.weights[row],
        title=f"weights of query {label}: without and with the mask", font_size=font_size(settings)))


#: the inspector's step columns, in the order of the computation
INSPECTOR_COLUMNS = ("key", "raw logit", "mask term", "masked logit", "minus row max", "exp", "weight")
SPACING_COLUMN = "spacing at masked logit"


def _arrow(records: list[dict]) -> pa.Table:
    """Records as an Arrow table: ``st.dataframe`` sends it without a pandas conversion (~1 ms each)."""
    return pa.Table.from_pylist(records)


@st.cache_resource(max_entries=256, show_spinner=False)
def inspector_table(settings: Settings, row: int, show_spacing: bool) -> pa.Table:
    """One query row step by step, every value printed exactly as the compute dtype holds it."""
    result = _cached_compute(settings)
    steps = result.steps
    columns = INSPECTOR_COLUMNS + ((SPACING_COLUMN,) if show_spacing else ())
    records = []
    for r in lab.inspector_rows(steps, row, result.labels):
        record = {c: r[c] if c == "key" else lab.number_text(r[c], "float64" if c == SPACING_COLUMN else steps.dtype)
                  for c in columns}
        records.append(record | {"masked": "yes" if r["masked"] else ""})
    return _arrow(records)


@st.cache_resource(max_entries=128, show_spinner=False)
def row_check_table(settings: Settings) -> pa.Table:
    """Per query row: its sum, its leaked mass and a verdict (``explain.row_table``)."""
    return _arrow(row_table(_cached_compute(settings)))


@st.cache_resource(max_entries=256, show_spinner=False)
def inspector_formula(settings: Settings, row: int) -> str:
    """The softmax formula for one query row with its real numbers, as one markdown element."""
    return formula_markdown(lab.inspector_latex(_cached_compute(settings).steps, row))


@st.cache_resource(max_entries=128, show_spinner=False)
def verdicts_markdown(settings: Settings) -> str:
    """"What happened": the verdict sentences for ``settings``, user text escaped."""
    lines = verdicts(_cached_compute(settings))
    return "### What happened\n" + "\n".join(f"- {md_escape(line)}" for line in lines)


@functools.cache
def source_of(function) -> str:
    """``inspect.getsource``, read once (it tokenizes the whole module: ~4 ms a call)."""
    return inspect.getsource(function)


def compute_or_stop(settings: Settings) -> PlaygroundResult:
    """The result for ``settings``; on bad input a friendly message and ``st.stop()``."""
    try:
        result = _cached_compute(settings)
    except MaskAttnError as err:
        st.error(f"{err}", icon="✋")
        if "no tokens" in str(err):
            restore_example_button()
        st.stop()
    for notice in result.notices:
        st.info(notice, icon="✂️")
    return result


#: larger type for projectors (static CSS, no user text in it)
_PRESENTATION_CSS = """<style>
[data-testid="stMainBlockContainer"] { font-size: 1.35rem; }
[data-testid="stMainBlockContainer"] h1 { font-size: 3rem; }
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] li { font-size: 1.35rem; }
</style>"""


def presentation_style() -> None:
    """Bigger type for the back row of a classroom."""
    st.html(_PRESENTATION_CSS)


def font_size(settings: Settings) -> int:
    return figures.PRESENTATION_FONT if settings.presentation else figures.BASE_FONT


MATRIX_TITLES = {"mask": "mask", "logits": "raw logits", "masked-logits": "masked logits",
                 "weights": "weights", "output": "output"}


def matrix_tables(result: PlaygroundResult) -> None:
    """Every matrix as a table with token labels: for screen readers, copying, and no hover needed."""
    import pandas as pd

    for name, title in MATRIX_TITLES.items():
        columns, rows = export.matrix_labels(result, name)
        values = export.matrix_values(result, name).astype(float)         # exact: every dtype fits float64
        st.markdown(f"**{title}**{' (1 = blocked)' if name == 'mask' else ''} — rows are queries, columns are "
                    f"{'value dimensions' if name == 'output' else 'keys'}")
        st.dataframe(pd.DataFrame(values, index=rows, columns=columns), width="stretch")


def matrix_downloads(result: PlaygroundResult, per_row: int = 6) -> None:
    """A CSV download button per matrix and one for the JSON of the state and results."""
    tag = export.file_tag(result)
    items = [(f"{title} (CSV)", lambda n=name: export.matrix_csv(result, n), f"{name}-{tag}.csv", "text/csv",
              f"csv-{name}") for name, title in MATRIX_TITLES.items()]
    items.append(("state + results (JSON)", lambda: export.to_json(result), f"maskattn-{tag}.json",
                  "application/json", "json"))
    columns = [column for _ in range(0, len(items), per_row) for column in st.columns(per_row)]
    for column, (label, data, file_name, mime, key) in zip(columns, items):
        with column:    # the file is made only when the button is clicked
            st.download_button(label, data=data, file_name=file_name, mime=mime, key=key,
                               on_click="ignore", icon="⬇️", width="stretch")


def chart(fig, key: str, filename: str, **kwargs):
    """``st.plotly_chart`` with a unique key and a PNG camera that names the file."""
    return st.plotly_chart(fig, key=key, config=figures.export_config(filename), theme=None, **kwargs)
