"""Constant lab: sweep the mask constant over 38 decades in four number types and see when masking works."""

from dataclasses import replace
import math

import numpy as np
import pandas as pd
import streamlit as st

from maskattn import DTYPE_NAMES, MaskAttnError, figures, lab, ui
from maskattn.state import CONSTANT_PRESETS
from maskattn.text import spell, spell_signed, spell_weight
from maskattn.ui import Key, cache

EXAMPLE_TEXT = ", ".join(spell(x, digits=6) for x in lab.EXAMPLE_LOGITS)
#: the constant slider: 0, then -1 ... -1e38 one decade at a time, then -inf
SLIDER_CONSTANTS = [0.0] + [-(10.0 ** d) for d in range(lab.SWEEP_DECADES[0], lab.SWEEP_DECADES[1] + 1)] + [-math.inf]
ZOOM_DECADE = 5
SOURCES = {"playground": "a query row from the Playground", "typed": "type your own scores"}
#: the methods heatmap's width in pixels (the page is at least this wide at 1280 px with the sidebar open)
METHODS_WIDTH = 760

page = ui.page(
    "Constant lab: why −1e9?",
    "Softmax gives a key weight `exp(z − max) / Σ`; the mask pushes `z` down by the constant until `exp` "
    "**underflows to exactly 0**. Move the constant and watch the weight left on masked keys (the *leaked mass*) "
    "in all four number types at once, then see where each method and each dtype breaks.",
    presenting="all", compute=False)
inputs, view, fs = page.inputs, page.view, page.look.font_size
dtype = inputs.dtype


def constant_moved() -> None:
    """The lab's slider drives the sidebar's constant, so every page agrees on it."""
    value = st.session_state[Key.LAB_CONSTANT]
    preset = next((name for name, v in CONSTANT_PRESETS.items() if v is not None and v == value), None)
    ui.apply_inputs(replace(ui.current_inputs(), constant=preset or "custom", custom_constant=value))


def row_moved() -> None:
    st.session_state[Key.ROW] = st.session_state[Key.LAB_ROW]


def literal_table(records: list[dict], index) -> None:
    """st.table renders Markdown in cells: escape every cell so the text shows as written."""
    st.table(pd.DataFrame(records).map(lambda v: ui.md_escape(str(v))).set_index(index))


def constant_label(c: float) -> str:
    return "0" if c == 0 else spell_signed(c, digits=6)


# inputs --------------------------------------------------------------------------------------
left, right = st.columns([3, 2])
with left:
    source = st.radio("Scores to study", list(SOURCES), key=Key.LAB_SOURCE, horizontal=True,
                      persist_state="session", format_func=SOURCES.__getitem__)
    if source == "playground":
        result = ui.compute_or_stop(inputs)
        T = len(result.labels)
        st.session_state[Key.LAB_ROW] = view.row if 0 <= view.row < T else 0
        row = st.selectbox("Query row (the Playground's inspector row)", options=range(T), key=Key.LAB_ROW,
                           format_func=lambda i: result.labels[i], on_change=row_moved)
        logits = result.steps.logits[row].astype(float)                       # (Tk,)
        mask = result.mask[row]                                                # (Tk,)
        key_labels = result.labels
        st.caption(f"Raw logits q·kᵀ/√d of this row as the Playground computed them in {dtype}; the mask is the "
                   "Playground's (change tokens and masks in the sidebar).")
    else:
        text = st.text_input("Scores (logits), separated by commas", value=EXAMPLE_TEXT, key=Key.LAB_SCORES_TEXT,
                             persist_state="session",
                             help="Finite numbers within the dtype's range; very negative real logits are allowed.")
        try:
            logits = lab.parse_logits(text, dtype)
            st.session_state[Key.LAB_SCORES_OK] = text
        except MaskAttnError as err:
            previous = st.session_state.get(Key.LAB_SCORES_OK, EXAMPLE_TEXT)
            st.error(ui.md_escape(f"{err}. Kept the previous scores: {previous}"), icon="✋")
            try:
                logits = lab.parse_logits(previous, dtype)
            except MaskAttnError:
                logits = lab.parse_logits(EXAMPLE_TEXT, dtype)
        n = logits.size
        key_labels = [f"{j}" for j in range(n)]
        default = [j for j in lab.EXAMPLE_MASKED if j < n] if n > 1 else []
        masked = st.multiselect("Masked keys (positions from 0)", options=list(range(n)), default=default,
                                key=f"{Key.LAB_MASKED}_{n}", persist_state="session")
        mask = lab.row_mask(n, masked)
with right:
    current = inputs.mask_value
    options = sorted(set(SLIDER_CONSTANTS) | ({current} if current <= 0 else set()), key=lambda c: -c)
    if current <= 0:
        st.session_state[Key.LAB_CONSTANT] = current
    st.select_slider("Mask constant (the sidebar's, shared by every page)", options=options, key=Key.LAB_CONSTANT,
                     format_func=constant_label, on_change=constant_moved)
    if current > 0:
        st.warning(f"The sidebar's constant {spell(current, digits=6)} is positive: it boosts masked keys instead of hiding "
                   "them, and has no place on the log axis below. Move the slider to pick a negative one.")
    st.caption(f"Method **{inputs.method}**, comparisons in **{dtype}** (both in the sidebar). "
               "The sweep below always shows all four dtypes.")

if not (mask == 1).any():
    # nothing to sweep on this row: show the classic example instead of an empty page
    st.info(f"No key of this row is masked, so nothing can leak. Below: the example scores {EXAMPLE_TEXT} with "
            "keys 2 and 3 masked. Turn on a mask in the sidebar (the padding mask blocks `<pad>` keys), pick a "
            "row with masked keys, or type your own scores.", icon="ℹ️")
    logits = lab.parse_logits(EXAMPLE_TEXT, dtype)
    mask = lab.row_mask(logits.size, lab.EXAMPLE_MASKED)
    key_labels = [f"{j}" for j in range(logits.size)]

# the sweep -------------------------------------------------------------------------------------
sweep = cache.lab_sweep(tuple(logits.tolist()), tuple(mask.tolist()), inputs.method)
at_current = lab.sweep_constants(logits, mask, method=inputs.method, constants=[current]) if current <= 0 else None

if at_current is not None:
    st.markdown(f"## Leaked mass at your constant {ui.md_escape(constant_label(current))}")
    for column, name in zip(st.columns(4), DTYPE_NAMES):
        leaked = float(at_current.at(name).leaked[0])
        column.metric(name, spell_weight(leaked),
                      help=f"The constant is {spell(at_current.at(name).cast_constant[0], digits=6)} in {name}.")

# the good view by default: from −1 to where exp underflows, or on to the constant in use if it lies further
zoom_decade = (min(max(ZOOM_DECADE, math.ceil(math.log10(-current))), lab.SWEEP_DECADES[1])   # within the sweep
               if 0 > current > -math.inf else ZOOM_DECADE)
zoom = st.toggle(f"Zoom in on −1 … −1e{zoom_decade} (where exp underflows; off: every decade to −1e38 and −inf)",
                 value=math.isfinite(current), key=Key.LAB_ZOOM)
fig = figures.leaked_mass_figure(
    lab.constant_grid(), {name: sweep.at(name).leaked for name in DTYPE_NAMES},
    current=current if current <= 0 else None,
    current_leaked={name: at_current.at(name).leaked[0] for name in DTYPE_NAMES} if at_current else None,
    underflow={name: lab.underflow_constant(logits, mask, name) for name in DTYPE_NAMES},
    overflow={name: lab.overflow_constant(name) for name in DTYPE_NAMES},
    title=f"Leaked mass vs the constant ({inputs.method})",
    max_decade=zoom_decade if zoom else None, font_size=fs)
ui.chart(fig, key="lab-leaked", filename=f"leaked-mass-{inputs.method}")
st.caption("The middle band is the leaked mass on a log axis. A leak of exactly 0 is not a number on that axis, "
           "so it has its own strip below (one row per dtype), and NaN its own strip above: a dtype that jumps "
           "from one strip to the other has no line between them. Dotted lines: about where each dtype's exp "
           "underflows for this row; dashed: where the constant no longer fits the dtype and becomes −inf "
           "(hover a line for its value).")
if at_current is not None:
    st.markdown("\n".join(f"- {ui.md_escape(line)}" for line in lab.lab_summary(sweep, at_current, logits, mask)))

# facts per dtype -----------------------------------------------------------------------------------
st.subheader(f"What the constant {constant_label(current)} becomes in each dtype")
facts = lab.constant_facts(current, logits)
st.dataframe(pd.DataFrame([{
    "dtype": r["dtype"],
    "constant in dtype": spell(r["constant in dtype"]),
    "0 × constant": spell(r["0 × constant"]),
    "exp(d) = 0 for d below": f"{r['exp underflows below']:.2f}",
    "spacing at the constant": spell(r["spacing at constant"]),
    "largest change in a logit difference": spell(r["largest change in a difference"], digits=4),
    "row's logits survive x + constant": "yes" if r["logits survive"] else "no",
} for r in facts]), hide_index=True, width="stretch")
st.caption("All computed now, by casting and adding in each dtype. “Survive” means that after adding the constant "
           "the differences between this row's logits are still there — which only matters when every key is "
           "masked (see below): softmax sees nothing but those differences.")

# methods -------------------------------------------------------------------------------------------
st.subheader(f"{len(lab.LAB_METHODS)} ways to apply a mask, on this row, in {dtype}")
outcomes = lab.compare_methods(logits, mask, mask_value=current, dtype=dtype)
method_labels = [o.label for o in outcomes]
weights = np.stack([o.weights for o in outcomes])                                       # (methods, Tk)
heat = figures.heatmap(weights, key_labels, method_labels, title="weights per method", kind="weights",
                       mask=np.broadcast_to(mask, weights.shape), zrange=(0.0, 1.0), y_title="method",
                       dtype=dtype, font_size=fs, width=METHODS_WIDTH)
ui.chart(heat, key="lab-methods", filename=f"methods-{dtype}")
literal_table([{"method": o.label, "constant used": spell(o.constant),
                "row sum": spell(o.row_sum), "leaked mass": spell(o.leaked, digits=4),
                "verdict": o.verdict} for o in outcomes], "method")

# fully masked rows ----------------------------------------------------------------------------------
st.subheader("If every key of this row were masked")
st.markdown("A padded query under a query-and-key padding mask has nothing to attend to. There is no right answer, "
            f"and libraries disagree. This row with **all** keys masked, constant {ui.md_escape(constant_label(current))}:")
full = cache.lab_fully_masked(tuple(logits.tolist()), current)
pivot = pd.DataFrame(full).pivot(index="method", columns="dtype", values="result")
st.dataframe(pivot.reindex(index=list(lab.LAB_METHODS), columns=list(DTYPE_NAMES)), width="stretch")
st.markdown(f"**Why, in {dtype}** (the sidebar's dtype)")
literal_table([{"method": r["method"], "result": r["result"], "reason": r["reason"]}
               for r in full if r["dtype"] == dtype], "method")
with st.expander("Why, for every dtype"):
    literal_table([{"method": r["method"], "dtype": r["dtype"], "result": r["result"], "reason": r["reason"]}
                   for r in full], ["method", "dtype"])
st.caption("PyTorch's F.scaled_dot_product_attention gives zeros here (its safe softmax): that is method safe.")

# naive vs stable --------------------------------------------------------------------------------
st.subheader("Why softmax subtracts the row max first")
if st.toggle("Compare with the naive softmax exp(z) / Σ exp(z)", key=Key.LAB_NAIVE):
    steps = lab.row_steps(logits, mask, mask_value=current, dtype=dtype, method=inputs.method)
    for title, z, names in (
            (f"The textbook example {list(lab.NAIVE_EXAMPLE)} in {dtype}", lab.NAIVE_EXAMPLE,
             [str(j) for j in range(len(lab.NAIVE_EXAMPLE))]),
            (f"This row's masked logits in {dtype}", steps.masked_logits[0].astype(float), key_labels)):
        rows = lab.naive_vs_stable(z, dtype)
        st.markdown(f"**{ui.md_escape(title)}**")
        st.dataframe(pd.DataFrame([{"key": k} | {c: spell(v, dtype) for c, v in r.items()}
                                   for k, r in zip(names, rows)]), hide_index=True, width="stretch")
    st.caption(f"exp overflows {dtype} above about {lab.exp_overflow_point(dtype):.2f}: "
               "inf / inf = NaN. Subtracting the max first makes the largest exponent 0, so nothing overflows, "
               "and a masked key's exponent is as negative as the constant.")
