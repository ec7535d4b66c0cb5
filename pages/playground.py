"""The Playground: type tokens, toggle masks, watch logits → masked logits → softmax weights."""

import streamlit as st

from maskattn import attention_steps, figures, ui

ui.ensure_frame()                        # deep links in Streamlit's legacy pages/ mode
settings = ui.current_settings()
big = settings.presentation
fs = ui.font_size(settings)

st.title("Playground")
if not big:
    st.markdown(
        "The TensorFlow tutorial hides masked keys with one line, `scaled_attention_logits += (mask * -1e9)`. "
        "Change the tokens, masks, constant and number type in the sidebar and watch each stage: "
        "raw logits, the logits softmax sees, and the weights it gives back."
    )
ui.url_notices()
result = ui.compute_or_stop(settings)
steps, labels = result.steps, result.labels
tag = f"seq{result.sequence + 1}-{steps.dtype}-{steps.method}"
figs = ui.playground_figures(settings)

# the mask and what it does ---------------------------------------------------------------
left, right = st.columns([1, 2]) if not big else (st.container(), st.container())
with left:
    ui.chart(figs["mask"], key="mask", filename=f"mask-{tag}")
with right:
    st.markdown(ui.verdicts_markdown(settings))

# the three stages side by side ---------------------------------------------------------
row_of_label = {figures.safe_label(label): i for i, label in enumerate(labels)}   # as the figures show them


def select_clicked_row(chart_key: str) -> None:
    """on_select callback: a click on any cell of a stage heatmap picks that cell's query row."""
    state = st.session_state.get(chart_key)
    points = state["selection"]["points"] if state else []
    if points and points[0].get("y") in row_of_label:
        st.session_state["row"] = row_of_label[points[0]["y"]]


stages = ("logits", "masked-logits", "weights")
columns = st.columns(3) if not big else [st.container() for _ in stages]
for column, name in zip(columns, stages):
    with column:
        ui.chart(figs[name], key=name, filename=f"{name}-{tag}", on_select=lambda name=name: select_clicked_row(name),
                 selection_mode="points")
st.caption("Grey cells are masked keys; black cells are NaN, purple −∞, brown +∞. Each panel has its own "
           "colour range, taken from its unmasked finite cells. Hover a cell for its exact value in "
           f"{steps.dtype}; click it to inspect its row below.")

# the row inspector ----------------------------------------------------------------------------
st.subheader("Row inspector: one query's softmax, step by step")
T = len(labels)
ui.keep_index_in_range("row", T)
pick, spacing_toggle = st.columns([2, 3]) if not big else (st.container(), st.container())
with pick:
    row = st.selectbox("Query row (or click a cell above)", options=range(T), key="row",
                       format_func=lambda i: labels[i], persist_state="session")
with spacing_toggle:
    show_spacing = st.toggle(f"Show the spacing of {steps.dtype} numbers at each masked logit", key="show_spacing",
                             help="The gap to the next representable number: why -1e9 + 3.7 is -1e9 in float32.")
st.dataframe(ui.inspector_table(settings, row, show_spacing), hide_index=True, width="stretch")
st.caption(f"Every value is exactly what {steps.dtype} holds after that step, printed in its shortest exact form.")
st.markdown(ui.inspector_formula(settings, row))
ui.chart(ui.row_weights_figure(settings, row), key="row-bars", filename=f"row{row}-weights-{tag}")

# per-row sanity and the output -------------------------------------------------------------
left, right = st.columns([3, 2]) if not big else (st.container(), st.container())
with left:
    st.subheader("Row check")
    st.dataframe(ui.row_check_table(settings), hide_index=True, width="stretch",
                 column_config={"row sum": st.column_config.NumberColumn(format="%.7f"),
                                "leaked mass": st.column_config.NumberColumn(format="%.3g")})
with right:
    ui.chart(figs["output"], key="output", filename=f"output-{tag}")

# built only while open: at 256 tokens the tables are 2.6 MB, and every element costs each rerun
downloads = st.expander("Every matrix as a table, and downloads (CSV per matrix, JSON of everything)",
                        key="open_downloads", on_change="rerun")
if downloads.open:
    with downloads:
        ui.matrix_downloads(result, per_row=3 if big else 6)
        if st.toggle("Show the tables (screen readers, copying)", key="show_tables", persist_state="session"):
            ui.matrix_tables(result)

if not big:
    library = st.expander("The library function behind this page", key="open_library", on_change="rerun")
    if library.open:
        with library:
            st.markdown("Every number above comes from `maskattn.attention_steps` — the same function you can "
                        "import in a notebook. Its contract matches the tutorial's `scaled_dot_product_attention`.")
            st.code(ui.source_of(attention_steps), language="python")
