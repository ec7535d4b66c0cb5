"""Conventions: what every framework's real layer returns, the mask in its convention, the newer masks in each
framework, a polarity check, code."""

import zlib

import pandas as pd
import streamlit as st

from maskattn import codegen, conventions as cv, figures, frameworks, ui
from maskattn.errors import MaskAttnError
from maskattn.masks import create_causal_mask, create_padding_mask, fully_masked_rows
from maskattn.numerics import DTYPE_NAMES
from maskattn.text import spell
from maskattn.ui import Key

#: small multiples: three across at 1280×720 with the sidebar open (one scale, explained once)
SMALL_PANEL = 256
page = ui.page(
    "Conventions",
    "The tutorial's mask says **1 = blocked**. Keras, PyTorch's `scaled_dot_product_attention`, Hugging Face "
    "and JAX say **1 / True = attend**, and PyTorch's `nn.MultiheadAttention` says True = blocked again. "
    "Port a mask without flipping it and the model attends to exactly what you meant to hide. "
    "Here is what each framework's real layer returns for the current logits and mask, the mask in each "
    "convention, a check for the one you have, and code that reproduces the numbers in each framework.",
    presenting="title")
settings, view, look, result, big = page.inputs, page.view, page.look, page.result, page.big
fs = look.font_size
small = SMALL_PANEL if not big else look.panel_width
labels, mask, dtype = result.labels, result.mask, settings.dtype
T = len(labels)
B = result.batch.ids.shape[0]
tag = f"seq{result.sequence + 1}-{dtype}"

logits = result.steps.logits                                                  # (T, T) scaled q·kᵀ in dtype
fws = frameworks.all_frameworks()


def two_lines(title: str) -> str:
    """The library on one line, the path on the next: one line overflowed narrow panels."""
    return title.replace(" · ", "<br>", 1)


# 1. what each real layer returns ------------------------------------------------------------------
st.header(f"What each framework's real layer returns, in {dtype}")
st.markdown("The same scaled logits and the same mask, handed to each library the way it wants them. Every panel "
            "is computed by `maskattn.frameworks`, whose arithmetic mirrors the library's code and is checked "
            "against the real library in CI. **Default** marks the path a user gets without asking for another.")
with st.container(horizontal=True, gap="small"):      # fixed-size panels, wrapping on narrow screens
    for panel in ui.cache.framework_panels(settings, look, small):
        with st.container(width=small):
            if panel.error:
                st.markdown(f"**{panel.title}**")
                st.error(panel.error, icon="💥")
                continue
            ui.chart(panel.figure, key=f"fw-{panel.key}", filename=f"weights-{panel.key}-{tag}")
            st.caption(panel.caption)
st.caption("Outlined cells are blocked keys; every cell keeps the colour of its weight (cividis, 0 dark → 1 yellow, "
           "spread near 0), a red corner flag marks weight on a blocked key, black is NaN. A panel that differs "
           "from its neighbours differs in the real library too: compare the fully masked rows and the NaN cells.")
with st.expander("Every framework in one table, with sources"):
    st.dataframe(pd.DataFrame(cv.conventions_table(dtype)), hide_index=True, width="stretch")

# 2. the same mask in each convention ---------------------------------------------------------------
st.header("The same mask in every convention")
if not result.mask_active:
    st.info("No mask is on in the sidebar, so every framework's mask says “attend everywhere”. "
            "Turn on the padding or causal mask to see the polarities differ.", icon="💡")
shared: dict[int, list] = {}
for fw in fws:                                      # frameworks that receive the same object share a panel
    shared.setdefault(id(fw.convention), []).append(fw)
with st.container(horizontal=True, gap="small"):
    for group in shared.values():
        convention = group[0].convention
        values = convention.to_library(mask, dtype)                              # (T, T)
        text = None
        if values.dtype.kind == "f" and convention.one_means == frameworks.ADDED:
            text = [[spell(x, digits=3) for x in row] for row in values.astype(float)]
        names = ", ".join(fw.key for fw in group)
        with st.container(width=look.panel_width):          # wide enough for "False" in every cell
            fig = figures.convention_mask_figure(values, mask, labels, labels, title=two_lines(
                f"{convention.dtype} · 1 = {convention.one_means}"), cell_text=text, font_size=fs,
                width=look.panel_width)
            ui.chart(fig, key=f"conv-{group[0].key}", filename=f"mask-{group[0].key}-{tag}")
            st.caption(f"{names}  \n{convention.shape}")
st.caption("Dark cells are blocked, white cells may be attended, in every panel: the colour is the meaning, the "
           "text is the literal value that framework receives.")

#: the newer masks' table is cut into tables of this many mask columns, so it fits the page at 1280 px
NEWER_COLUMNS = 4

# 3. the newer masks, framework by framework ------------------------------------------------------------
st.header("The newer masks in each framework")
state = codegen.state_from_result(result)
spec = result.spec
newer = cv.newer_parts(spec)
if newer:
    st.markdown(f"This state's mask: **{ui.md_escape(spec.describe())}**. ✓ marks an argument or mask function of "
                "the library's own; the others take the part as a mask you build in their convention. Where a "
                "library counts a window differently from the app, its value here already has the off-by-one.")
else:
    st.info("None of the newer masks (a sliding window, two-sided or not, chunks, global tokens, a shared prefix, a "
            "prefix LM, packing, a drawn mask) is on, so the table lists them all; switch one on in the sidebar (or "
            "draw a mask on the Masks page) to get its code for this state.", icon="💡")
newer_table = pd.DataFrame(cv.newer_masks_table(spec)).set_index("framework")
for start in range(0, newer_table.shape[1], NEWER_COLUMNS):   # a table never wider than the page (no scrolling)
    st.table(newer_table.iloc[:, start:start + NEWER_COLUMNS], border="horizontal")
with st.expander("Every call in full"):
    for part, calls in cv.newer_masks_calls(spec).items():
        st.markdown(f"**{part}**  \n" + "  \n".join(f"{keys}: `{call}`" for keys, call in calls))
keys = frameworks.keys()
mask_key = st.selectbox("Build this state's whole mask in", options=keys, format_func=lambda k: frameworks.get(k).title,
                        index=keys.index("torch_flex"), key=Key.CONV_MASK_FRAMEWORK)
try:
    mask_source = codegen.mask_code(state, mask_key)
except MaskAttnError as err:
    st.info(f"{err}", icon="✂️")
else:
    st.code(mask_source, language="python", line_numbers=False, wrap_lines=True)   # no inner scroll region
    st.caption(f"The script leaves {frameworks.get(mask_key).name}'s own mask object in `mask`. CI runs it on the "
               "real library for every kind of mask and checks that the object blocks exactly the cells outlined "
               "above.")

# 4. the polarity check ------------------------------------------------------------------------------
st.header("Polarity check")
st.markdown("Write or paste a mask in the convention you have, pick the framework it is going to, and see whether "
            "it attends to what you meant.")
sources = cv.polarity_sources()
left, right = st.columns(2)
with left:
    source = st.selectbox("My mask is written for", options=list(sources), index=sources.index("torch_sdpa"),
                          format_func=lambda k: f"{frameworks.get(k).title} (1 = "
                                                f"{frameworks.get(k).convention.one_means})", key=Key.CONV_SOURCE)
with right:
    target = st.selectbox("It goes to", options=list(frameworks.keys()), index=frameworks.keys().index("torch_mha"),
                          format_func=lambda k: frameworks.get(k).title, key=Key.CONV_TARGET)
example = mask if result.mask_active else create_causal_mask(T, T)                     # (T, T) 1 = blocked
attend_source = frameworks.get(source).convention.one_means == frameworks.ATTEND
written = cv.to_attend_bool(example) if attend_source else example == 1
default_text = cv.format_mask_text(written)
text_key = f"{Key.CONV_TEXT}_{source}_{zlib.crc32(default_text.encode())}"
pasted = st.text_area(f"The mask ({T} rows of {T} values: 0/1 or True/False; NumPy and PyTorch printouts paste "
                      "fine). Prefilled with the current mask written for your convention.",
                      value=default_text, key=text_key, height=min(60 + 22 * T, 320))
try:
    check = cv.check_polarity(cv.parse_mask_text(pasted, (T, T)), source, target)
    right_w, wrong_w = cv.polarity_weights(check, result.q, result.k, result.v, dtype=dtype, scale=settings.scale)
except MaskAttnError as err:
    st.error(str(err), icon="✋")
    check = None
if check is not None:
    (st.success if check.ok else st.error)(check.message, icon="✅" if check.ok else "🔁")
    style = dict(zrange=(0.0, 1.0), kind="weights", mask=check.meant, dtype=dtype, font_size=fs,
                 width=look.panel_width)
    with st.container(horizontal=True, gap="small"):
        fig = figures.heatmap(right_w, labels, labels, title="what you meant (mask converted correctly)", **style)
        ui.chart(fig, key="polarity-right", filename=f"polarity-right-{tag}")
        title = ("what the framework computes (mask as written)" if not check.ok
                 else "what the framework computes (the same)")
        fig = figures.heatmap(wrong_w, labels, labels, title=title, **style)
        ui.chart(fig, key="polarity-wrong", filename=f"polarity-wrong-{tag}")
    target_fw = frameworks.get(target)
    st.caption(f"Outlined cells are the keys you meant to block (a red flag: weight landed on one). Both panels are what {target_fw.title} returns in "
               f"{dtype} ({target_fw.applies}, blocked scores {target_fw.constant_text(dtype)}); the right-hand "
               "one gets your mask exactly as written.")

# 5. fully masked rows ----------------------------------------------------------------------------------
st.header("Fully masked rows: every framework has its own answer")
full = fully_masked_rows(mask) & result.mask_active
row = int(full.argmax()) if full.any() else T - 1
if full.any():
    st.markdown(f"Row **{ui.md_escape(labels[row])}** of the current mask has every key blocked. Here is what each "
                "framework returns for it, in every dtype, from the current logits:")
else:
    st.markdown(f"No row of the current mask is fully masked, so the table blocks every key of the last row "
                f"(**{ui.md_escape(labels[row])}**) and computes it from the current logits. Turn on "
                "“…also mask padded queries” in the sidebar to get such rows from padding.")
outcomes = cv.fully_masked_outcomes(logits.astype("float64"), row)
kinds: dict[str, dict[str, str]] = {}
shown: dict[str, str] = {}
for o in outcomes:
    kinds.setdefault(o.framework, {})[o.dtype] = o.kind
    if o.dtype == dtype:
        shown[o.framework] = (o.reason if o.weights is None else
                              "  ".join(spell(x, digits=3) for x in o.weights[:10]) + (" …" if len(o.weights) > 10 else ""))
records = [{"framework": fw.title, "default": "yes" if fw.default else "",
            **{d: kinds[fw.key].get(d, "—") for d in DTYPE_NAMES}, f"the row in {dtype}": shown.get(fw.key, "—")}
           for fw in fws]
before_5 = {o.dtype: o for o in cv.attend_all_outcomes(logits.astype("float64"), row)}   # a fix the others do not have
records.append({"framework": cv.ATTEND_ALL_TITLE, "default": "",
                **{d: before_5[d].kind for d in DTYPE_NAMES},
                f"the row in {dtype}": "  ".join(spell(x, digits=3) for x in before_5[dtype].weights[:10])
                + (" …" if len(before_5[dtype].weights) > 10 else "")})
st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch",
             column_config={"framework": st.column_config.TextColumn(width="medium"),
                            f"the row in {dtype}": st.column_config.TextColumn(width="large")})
st.caption("Computed by each framework's registry entry (maskattn.frameworks) from the row's own logits: "
           "“uniform”, “near one-hot” and “unmasked softmax” depend on those logits, NaN, zeros and raises do not. "
           "The last row is transformers before 5 on its SDPA path, which gave a row that sees no key every key back "
           "(the method “attend all” in the sidebar); transformers 5 dropped it.")

# 6. causal masks when Tq != Tk --------------------------------------------------------------------
st.header("Causal masks when there are fewer queries than keys")
st.markdown("With a KV cache the newest queries attend to every earlier key. Which corner the causal triangle "
            "starts from decides whether that works: PyTorch `is_causal`, JAX and Keras align it **top-left**; "
            "FlashAttention ≥ 2.1 and KV-cache decoding align it **bottom-right**.")
padding_mask = create_padding_mask(result.batch.ids) if settings.padding else None     # (B, 1, 1, T)
real = [i for i, tok in enumerate(result.tokens) if tok != result.batch.pad_token]
L = real[-1] + 1 if real else T                  # the sequence without its trailing padding
if L < 2:
    st.info("Type at least two tokens in this sequence to compare the alignments.")
else:
    num_queries = st.slider(f"Queries: the last Tq of the {L} tokens (keys: all {L})", min_value=1, max_value=L,
                            value=(L + 1) // 2, key=f"{Key.CONV_NUM_QUERIES}_{L}")
    key_mask = padding_mask[result.sequence, 0, 0, :L] if padding_mask is not None else None   # (Tk,)
    options = dict(mask_value=settings.mask_value, dtype=dtype, method=settings.method, scale=settings.scale)
    k_labels = labels[:L]
    columns = st.container(horizontal=True, gap="small")
    for align, who in zip(("top_left", "bottom_right"), ("PyTorch is_causal, JAX, Keras", "FlashAttention ≥ 2.1, KV cache")):
        cross = cv.kv_cache_attention(result.q[:L], result.k[:L], result.v[:L], num_queries, align=align,
                                      key_mask=key_mask, **options)
        q_labels = [labels[p] for p in cross.query_positions]
        name = align.replace("_", "-")
        with columns.container(width=look.panel_width):
            fig = figures.heatmap(cross.mask, k_labels, q_labels, title=f"{name}: {who}", kind="mask",
                                  mask=cross.mask, font_size=fs, width=look.panel_width)
            ui.chart(fig, key=f"causal-{align}", filename=f"causal-{align}-{tag}")
            fig = figures.heatmap(cross.steps.weights, k_labels, q_labels, title=f"weights, {name}",
                                  mask=cross.mask, zrange=(0.0, 1.0), kind="weights", dtype=dtype, font_size=fs,
                                  width=look.panel_width)
            ui.chart(fig, key=f"causal-weights-{align}", filename=f"causal-weights-{align}-{tag}")
    newest = ui.md_escape(labels[L - 1])
    st.caption(f"Tq = {num_queries}, Tk = {L}. Bottom-right: the newest query {newest} sees every key, exactly as "
               "in full causal attention (the same weights as the last rows of the Playground with the causal "
               "mask). Top-left: it sees only the first keys, as if it stood at the start of the sequence — a "
               "silent bug when decoding with a cache.")

# 7. copy as code ----------------------------------------------------------------------------------
st.header("Copy as code")
st.markdown("Each snippet embeds this sequence's Q, K and V (rounded to the dtype), builds the whole mask — every "
            "part switched on — in that framework's convention, calls the framework's own attention and prints the "
            "weights. The copy button is at the top right of the code.")
framework = st.radio("Framework", options=list(codegen.FRAMEWORKS), format_func=codegen.FRAMEWORKS.__getitem__,
                     horizontal=True, key=Key.CONV_FRAMEWORK)
try:
    source = codegen.generate(state, framework)
except MaskAttnError as err:
    st.info(f"{err}", icon="✂️")
else:
    expected = codegen.expected_weights(state, framework)
    cpu_cells = codegen.cpu_dependent(state, framework)
    diff = codegen.compare_rows(expected, result.steps.weights, dtype, cpu_cells)

    def rows(indices: list[int]) -> str:
        return ", ".join(ui.md_escape(labels[r]) for r in indices[:6]) + (" …" if len(indices) > 6 else "")

    if diff.masking:
        st.warning(f"{codegen.FRAMEWORKS[framework]} masks its own way, so rows {rows(diff.masking)} differ from "
                   f"the Playground's ({settings.method} with {spell(settings.mask_value, digits=6)} in {dtype}). "
                   "The heatmap shows what it prints.", icon="⚖️")
    if diff.rounding:
        st.info(f"Rows {rows(diff.rounding)} differ from the Playground's only by rounding (at most "
                f"{codegen.ROUNDING_STEPS} steps of {dtype}): the library sums its softmax in its own order. The "
                "mask is the same: the same keys get exactly 0.", icon="🔢")
    if diff.cpu:
        st.info(f"Rows {rows(diff.cpu)}: {frameworks.cpu_note(int(cpu_cells.sum()))}", icon="🖥️")
    if not (diff.masking or diff.rounding or diff.cpu):
        st.success("This code prints the same weights as the Playground shows.", icon="✅")
    with st.container(horizontal=True, gap="small"):
        st.code(source, language="python", line_numbers=False, wrap_lines=True, width=560)   # no inner scroll
        with st.container(width=look.panel_width):
            fig = figures.heatmap(expected, labels, labels, title=f"what the {framework} code prints",
                                  mask=mask, zrange=(0.0, 1.0), kind="weights", dtype=dtype, font_size=fs,
                                  width=look.panel_width)
            ui.chart(fig, key="code-weights", filename=f"code-weights-{framework}-{tag}")
            if framework in frameworks.REGISTRY:                     # a library, not NumPy
                st.caption(f"CI runs this code on real {frameworks.get(framework).library.split(' (')[0]} and "
                           "checks it prints these weights (within two steps of the dtype).")
