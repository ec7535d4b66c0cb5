"""The Playground: type tokens, toggle masks, watch logits + mask term → masked logits → softmax weights."""

import streamlit as st

from maskattn import attention_steps, figures, ui
from maskattn.ui import Key, cache

#: the verdict beside the mask at 1280 px with the sidebar open; below it on narrower screens
VERDICT_WIDTH = 470

page = ui.page(
    "Playground",
    "The TensorFlow tutorial hides masked keys with `scaled_attention_logits += (mask * -1e9)`: below, the masked "
    "logits z that softmax sees and the weights it gives. Change the mask, constant and number type in the sidebar.")
inputs, view, look, result, big = page.inputs, page.view, page.look, page.result, page.big
ui.preset_story(inputs, view)            # a classroom preset: its context and question stay with it
labels, T = result.labels, len(result.labels)
row = ui.keep_index_in_range(Key.ROW, T)
# one cached call for everything drawn below (the spacing switch is drawn further down; its value is known now)
shown = cache.playground_view(inputs, look, row, bool(st.session_state.get(Key.SHOW_SPACING, False)), not big)
figs, tag = shown.figures, shown.tag

# a click on any cell of a stage panel picks that cell's query row (the figures show escaped labels)
row_of_label = {figures.safe_label(label): i for i, label in enumerate(labels)}


def select_clicked_row(chart_key: str) -> None:
    """on_select callback: the clicked cell's query row becomes the inspector's row (view state only)."""
    state = st.session_state.get(chart_key)
    points = state["selection"]["points"] if state else []
    if points and points[0].get("y") in row_of_label:
        st.session_state[Key.ROW] = row_of_label[points[0]["y"]]


def stage(name: str) -> None:
    """One stage panel, clickable, the inspector's row outlined — but not on a slide (presentation mode), whose
    camera PNG goes into a lecture as it is."""
    key = ui.chart_key(name)
    name_tag = tag if name != "logits" else shown.raw_tag          # the raw logits: no mask
    ui.chart(figs[name], key=key, filename=f"{name}--{name_tag}",
             on_select=lambda: select_clicked_row(key), selection_mode="points")


def verdict() -> None:
    heading = "## What happened" if not big else "## Playground: what happened"     # headings one level at a time
    st.markdown(heading + "\n" + "\n".join(f"- {line}" for line in shown.verdict))
    if not big:                          # the slide has no room for it
        st.page_link("pages/proof.py", label="Prove it: delete the masked columns, shake the padding", icon="🔬")


if big:
    # a slide: the verdict, then the masked logits and the weights side by side; the rest one scroll away
    verdict()
    with st.container(horizontal=True, gap="small"):
        stage("masked-logits")
        stage("weights")
    st.caption("Outlined cells are masked keys; each cell keeps the colour of its value. Grey: off the colour "
               "scale (its value is printed). Click a cell to inspect its row below.")
    with st.container(horizontal=True, gap="small"):
        stage("logits")
        stage("mask-term")
else:
    # the answer first: what softmax sees and what it gives, on the first screen at 1280×720
    with st.container(horizontal=True, gap="small"):
        stage("masked-logits")
        stage("weights")
    st.caption("Outlined cells are masked keys; every cell keeps the colour of its value, so weight left on a "
               "masked key shows. Grey cells are off the colour scale (like −1e9: the value is printed on them), "
               f"black NaN, purple −inf. Hover a cell for its exact value in {result.steps.dtype}; click it to "
               "inspect its row below (outlined in pink).")
    with st.container(horizontal=True, gap="small", vertical_alignment="top"):
        ui.chart(figs["mask"], key=ui.chart_key("mask"), filename=f"mask--{tag}")
        with st.container(width=VERDICT_WIDTH):       # a fixed width: below the mask on a narrow screen
            verdict()
    st.markdown("## Where z comes from, stage by stage: x + mask × c = z → softmax")
    with st.container(horizontal=True, gap="small"):
        stage("logits")
        stage("mask-term")
    if note := shown.negative_zero:
        st.caption(note)                                # numbers only, no user text

# the row inspector ----------------------------------------------------------------------------
st.subheader("Row inspector: one query's softmax, step by step")
with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
    st.selectbox("Query row (or click a cell above)", options=range(T), key=Key.ROW,
                 format_func=lambda i: labels[i], width=320, persist_state="session")
    st.toggle(f"Show the spacing of {result.steps.dtype} numbers at each logit",
                             key=Key.SHOW_SPACING, persist_state="session",
                             help="The gap to the next representable number: why -1e9 + 3.7 is -1e9 in float32.")
table = shown.inspector
bar = dict(min_value=0.0, max_value=1.0, format="%.3g")
if big:
    st.table(table.to_pandas().set_index("key"))      # HTML, so the projector's type size applies
else:
    # every column fits at 1280 px with the sidebar open: the bars and the yes/no column are narrow
    st.dataframe(table, hide_index=True, width="stretch", column_config={
        "masked": st.column_config.TextColumn(width=60),
        cache.WITH_MASK: st.column_config.ProgressColumn(help="This row's weights, as computed: the bars of the "
                                                         "masked keys should be empty", width=110, **bar),
        cache.WITHOUT_MASK: st.column_config.ProgressColumn(help="The same row with no mask at all (no mask "
                                                            "term): where the masked keys' weight went", width=110,
                                                            **bar)})
st.caption(f"Every value is exactly what {result.steps.dtype} holds after that step of the tutorial's arithmetic, in "
           "its shortest exact form (a library's own kernels may sum in another order: masked weights are exactly 0 "
           "in every one, the others may differ in the last bits); the last two columns draw the weight with the "
           "mask and without any mask.")
st.markdown(shown.formula, unsafe_allow_html=True)   # MathML built from numbers only

# per-row sanity and the output -------------------------------------------------------------
st.subheader("Row check")
st.dataframe(shown.row_check, hide_index=True, width="stretch",
             column_config={"row sum": st.column_config.NumberColumn(format="%.7f"),
                            "leaked mass": st.column_config.NumberColumn(format="%.3g")})
# built only while open, like the tables below: a figure that is not looked at costs every click
output = st.expander("The output: weights @ v, one row per query", key=Key.OPEN_OUTPUT, on_change="rerun")
if output.open:
    with output:
        ui.chart(figs["output"], key=ui.chart_key("output"), filename=f"output--{tag}")

# built only while open: at 256 tokens the tables are 2.6 MB, and every element costs each rerun
downloads = st.expander("Every matrix as a table, and downloads (CSV per matrix, JSON of everything)",
                        key=Key.OPEN_DOWNLOADS, on_change="rerun")
if downloads.open:
    with downloads:
        ui.matrix_downloads(result)
        if st.toggle("Show the tables (screen readers, copying)", key=Key.SHOW_TABLES, persist_state="session"):
            ui.matrix_tables(result)

if not big:
    library = st.expander("The library function behind this page", key=Key.OPEN_LIBRARY, on_change="rerun")
    if library.open:
        with library:
            st.markdown("Every number above comes from `maskattn.attention_steps` — the same function you can "
                        "import in a notebook. Its contract matches the tutorial's `scaled_dot_product_attention`.")
            st.code(cache.source_of(attention_steps), language="python")
