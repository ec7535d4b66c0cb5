"""Conventions: the same mask as every framework sees it, a polarity check, and code that reproduces it."""

import zlib

import pandas as pd
import streamlit as st

from maskattn import codegen, conventions as cv, figures, ui
from maskattn.errors import MaskAttnError
from maskattn.explain import fmt
from maskattn.masks import create_causal_mask, create_padding_mask, fully_masked_rows

ui.ensure_frame()
settings, view = ui.current_inputs(), ui.current_view()
big = view.presentation
fs = ui.look(big).font_size

st.title("Conventions")
if not big:
    st.markdown(
        "The tutorial's mask says **1 = blocked**. Keras, PyTorch's `scaled_dot_product_attention`, Hugging Face "
        "and JAX say **1 / True = attend**, and PyTorch's `nn.MultiheadAttention` says True = blocked again. "
        "Port a mask without flipping it and the model attends to exactly what you meant to hide. "
        "Here is the current mask in each convention, a check for the one you have, and code that reproduces "
        "the app's numbers in each framework."
    )
ui.url_notices()
result = ui.compute_or_stop(settings)
labels, mask, dtype = result.labels, result.mask, settings.dtype
T = len(labels)
B = result.batch.ids.shape[0]
tag = f"seq{result.sequence + 1}-{dtype}"

# 1. the same mask, eight ways -----------------------------------------------------------------
st.header("The same mask in every framework")
if not result.mask_active:
    st.info("No mask is on in the sidebar, so every framework's mask says “attend everywhere”. "
            "Turn on the padding or causal mask to see the polarities differ.", icon="💡")
TITLES = {
    "tf_tutorial": "TF tutorial · float · 1 = blocked",
    "keras": "Keras MultiHeadAttention · bool · True = attend",
    "pytorch_sdpa_bool": "PyTorch SDPA · bool · True = attend",
    "pytorch_sdpa_float": f"PyTorch SDPA · {dtype} · added",
    "pytorch_mha": "nn.MultiheadAttention · bool · True = BLOCKED",
    "hf_2d": "Hugging Face attention_mask · 1 = attend",
    "hf_4d": f"Hugging Face 4-D · {dtype} · 0 / finfo.min",
    "jax": "JAX / Flax · bool · True = attend",
}


def panel_title(key: str) -> str:
    """The API on one line, its dtype and polarity on the next: one line overflowed narrow panels."""
    return TITLES[key].replace(" · ", "<br>", 1)


padding_mask = create_padding_mask(result.batch.ids) if settings.padding else None     # (B, 1, 1, T)
sequences = [f"seq {i + 1}" for i in range(B)]
per_row = 3 if not big else 2             # four across at 1280 px squeezed True/False out of the cells
columns = []
for start in range(0, len(cv.CONVENTION_KEYS), per_row):
    columns += st.columns(per_row)                      # one row of panels at a time keeps them aligned
for key, column in zip(cv.CONVENTION_KEYS, columns):
    with column:
        if key == "hf_2d":
            blocked = (padding_mask[:, 0, 0, :] if padding_mask is not None
                       else result.batch.ids * 0).astype("float32")                      # (B, Tk)
            values = cv.to_convention(blocked, key)
            fig = figures.convention_mask_figure(values, blocked, [str(j) for j in range(T)], sequences,
                                                 title=panel_title(key), font_size=fs)
            fig.update_layout(yaxis_title_text="sequence", xaxis_title_text="position")
        else:
            values = cv.to_convention(mask, key, dtype)
            text = ([["min" if b else "0" for b in row] for row in mask == 1] if key == "hf_4d" else None)
            fig = figures.convention_mask_figure(values, mask, labels, labels, title=panel_title(key), cell_text=text,
                                                 font_size=fs)
        ui.chart(fig, key=f"conv-{key}", filename=f"mask-{key}-{tag}")
        objects = cv.mask_objects(key, B, T, T, padding=settings.padding, query_padding=settings.mask_queries,
                                  causal=settings.causal, dtype=dtype)
        c = cv.convention(key)
        st.caption("  \n".join([f"`{c.api}`"] + [f"`{o}`" for o in objects] + [f"combine: {c.combine}"]))
st.caption("Dark cells are blocked, white cells may be attended, in every panel: the colour is the meaning, the "
           "text is the literal value that framework receives. The Hugging Face `attention_mask` is per token "
           "for the whole batch; the others are drawn for the sequence on view.")

with st.expander("The conventions table, with sources"):
    st.dataframe(pd.DataFrame(cv.conventions_table()), hide_index=True, width="stretch")

# 2. the polarity check --------------------------------------------------------------------------
st.header("Polarity check")
st.markdown("Write or paste a mask in the convention you have, pick the API it is going to, and see whether it "
            "attends to what you meant.")
SOURCES = {k: TITLES[k].split(" · ")[0] + f" (1 = {p})" for k, p in cv.SOURCE_POLARITY.items()}
TARGETS = {k: cv.convention(k).api for k in cv.TARGET_READS}
left, right = st.columns(2)
with left:
    source = st.selectbox("My mask is written for", options=list(SOURCES), format_func=SOURCES.__getitem__,
                          index=list(SOURCES).index("pytorch_sdpa_bool"), key="conv_source")
with right:
    target = st.selectbox("It goes to", options=list(TARGETS), format_func=TARGETS.__getitem__,
                          index=list(TARGETS).index("pytorch_mha"), key="conv_target")
example = mask if result.mask_active else create_causal_mask(T, T)                     # (T, T) 1 = blocked
written = cv.to_attend_bool(example) if cv.SOURCE_POLARITY[source] == cv.ATTEND else example == 1
default_text = cv.format_mask_text(written)
text_key = f"conv_text_{source}_{zlib.crc32(default_text.encode())}"
pasted = st.text_area(f"The mask ({T} rows of {T} values: 0/1 or True/False; NumPy and PyTorch printouts paste "
                      "fine). Prefilled with the current mask written for your convention.",
                      value=default_text, key=text_key, height=min(60 + 22 * T, 320))
try:
    check = cv.check_polarity(cv.parse_mask_text(pasted, (T, T)), source, target)
except MaskAttnError as err:
    st.error(str(err), icon="✋")
    check = None
if check is not None:
    (st.success if check.ok else st.error)(check.message, icon="✅" if check.ok else "🔁")
    right_w, wrong_w = cv.polarity_weights(check, result.q, result.k, result.v, dtype=dtype, scale=settings.scale)
    left, right = st.columns(2) if not big else (st.container(), st.container())
    style = dict(zrange=(0.0, 1.0), kind="weights", mask=check.meant, font_size=fs)
    with left:
        fig = figures.heatmap(right_w, labels, labels, title="what you meant (mask converted correctly)", **style)
        ui.chart(fig, key="polarity-right", filename=f"polarity-right-{tag}")
    with right:
        title = "what the API computes (mask as written)" if not check.ok else "what the API computes (the same)"
        fig = figures.heatmap(wrong_w, labels, labels, title=title, **style)
        ui.chart(fig, key="polarity-wrong", filename=f"polarity-wrong-{tag}")
    st.caption("Grey cells are the keys you meant to block. Both panels use the target API's own masking "
               f"({cv.api_behaviour(check.target if check.target != 'pytorch_sdpa_float' else 'pytorch_sdpa_bool', dtype).method}"
               f" with its constant) in {dtype}; the right-hand one gets your mask exactly as written.")

# 3. fully masked rows ---------------------------------------------------------------------------
st.header("Fully masked rows: every framework has its own answer")
full = fully_masked_rows(mask) & result.mask_active
if full.any():
    row = int(full.argmax())
    demo_mask = mask
    st.markdown(f"Row **{ui.md_escape(labels[row])}** of the current mask has every key blocked. "
                "Here is what each framework computes for it, with the current Q and K:")
else:
    row = T - 1
    demo_mask = cv.with_fully_masked_row(mask, row)
    st.markdown(f"No row of the current mask is fully masked, so the table blocks every key of the last row "
                f"(**{ui.md_escape(labels[row])}**) and computes it with the current Q and K. Turn on "
                "“…also mask padded queries” in the sidebar to get such rows from padding.")
outcomes = cv.fully_masked_outcomes(result.q, result.k, result.v, demo_mask, row, dtype=dtype,
                                    scale=settings.scale)
records = [{"who": o.case.label, "dtype": o.dtype, "method · constant": f"{o.case.method} · {o.case.constant}",
            "comes out": o.kind, "weights of the row": "  ".join(fmt(w, 3) for w in o.weights[:12])
            + (" …" if len(o.weights) > 12 else ""), "source": o.case.source} for o in outcomes]
st.dataframe(pd.DataFrame(records), hide_index=True, width="stretch",
             column_config={"who": st.column_config.TextColumn(width="large"),
                            "comes out": st.column_config.TextColumn(width="small"),
                            "source": st.column_config.TextColumn(width="medium")})
st.caption("Every row of this table is computed by maskattn.attention_steps with the method and constant named; "
           "the framework behaviour it stands for is documented in the source named (see NUMERICS.md).")

# 4. causal masks when Tq != Tk --------------------------------------------------------------------
st.header("Causal masks when there are fewer queries than keys")
st.markdown("With a KV cache the newest queries attend to every earlier key. Which corner the causal triangle "
            "starts from decides whether that works: PyTorch `is_causal`, JAX and Keras align it **top-left**; "
            "FlashAttention ≥ 2.1 and KV-cache decoding align it **bottom-right**.")
real = [i for i, tok in enumerate(result.tokens) if tok != result.batch.pad_token]
L = real[-1] + 1 if real else T                  # the sequence without its trailing padding
if L < 2:
    st.info("Type at least two tokens in this sequence to compare the alignments.")
else:
    num_queries = st.slider(f"Queries: the last Tq of the {L} tokens (keys: all {L})", min_value=1, max_value=L,
                            value=(L + 1) // 2, key=f"conv_num_queries_{L}")
    key_mask = padding_mask[result.sequence, 0, 0, :L] if padding_mask is not None else None   # (Tk,)
    options = dict(mask_value=settings.mask_value, dtype=dtype, method=settings.method, scale=settings.scale)
    k_labels = labels[:L]
    columns = st.columns(2) if not big else (st.container(), st.container())
    for column, align, who in zip(columns, ("top_left", "bottom_right"),
                                  ("PyTorch is_causal, JAX, Keras", "FlashAttention ≥ 2.1, KV cache")):
        cross = cv.kv_cache_attention(result.q[:L], result.k[:L], result.v[:L], num_queries, align=align,
                                      key_mask=key_mask, **options)
        q_labels = [labels[p] for p in cross.query_positions]
        name = align.replace("_", "-")
        with column:
            fig = figures.heatmap(cross.mask, k_labels, q_labels, title=f"{name}: {who}", kind="mask", mask=cross.mask, font_size=fs)
            ui.chart(fig, key=f"causal-{align}", filename=f"causal-{align}-{tag}")
            fig = figures.heatmap(cross.steps.weights, k_labels, q_labels, title=f"weights, {name}",
                                  mask=cross.mask, zrange=(0.0, 1.0), kind="weights", font_size=fs)
            ui.chart(fig, key=f"causal-weights-{align}", filename=f"causal-weights-{align}-{tag}")
    newest = ui.md_escape(labels[L - 1])
    st.caption(f"Tq = {num_queries}, Tk = {L}. Bottom-right: the newest query {newest} sees every key, exactly as "
               "in full causal attention (the same weights as the last rows of the Playground with the causal "
               "mask). Top-left: it sees only the first keys, as if it stood at the start of the sequence — a "
               "silent bug when decoding with a cache.")

# 5. copy as code ----------------------------------------------------------------------------------
st.header("Copy as code")
st.markdown("Each snippet embeds this sequence's Q, K and V (rounded to the dtype), builds the mask in that "
            "framework's convention, calls the framework's own attention and prints the weights. The copy button "
            "is at the top right of the code.")
framework = st.radio("Framework", options=list(codegen.FRAMEWORKS), format_func=codegen.FRAMEWORKS.__getitem__,
                     horizontal=True, key="conv_framework")
form = "bool"
if framework == "pytorch_sdpa":
    form = st.radio("SDPA mask", options=list(codegen.SDPA_MASK_FORMS), horizontal=True, key="conv_sdpa_form",
                    format_func={"bool": "bool (True = attend)",
                                 "additive": "additive float (the tutorial's mask × constant)"}.__getitem__)
state = codegen.state_from_result(result)
spec = result.spec
not_in_code = [name for name, on in (("the sliding window", spec.window), ("the prefix LM", spec.prefix_length),
                                     ("the document mask", spec.segments), ("the drawn mask", spec.drawn)) if on]
if not_in_code:     # the code generator builds the tutorial's masks; the newer ones come with the framework registry
    st.info(f"This code builds the padding, query padding and causal masks only: {', '.join(not_in_code)} "
            "is not in it yet, so its weights differ from the Playground's.", icon="🚧")
try:
    source = codegen.generate(state, framework, mask_form=form)
except MaskAttnError as err:
    st.info(f"{err}", icon="✂️")
else:
    expected = codegen.expected_steps(state, framework, form)
    differ = codegen.rows_that_differ(expected.weights, result.steps.weights)
    b = codegen.behaviour(state, framework, form)
    if not differ:
        st.success("This code prints the same weights as the Playground shows.", icon="✅")
    else:
        names = ", ".join(ui.md_escape(labels[r]) for r in differ[:6]) + (" …" if len(differ) > 6 else "")
        st.warning(f"This code masks the {codegen.FRAMEWORKS[framework]} way ({b.method} with "
                   f"{fmt(b.mask_value)}), so rows {names} differ from the Playground's "
                   f"({settings.method} with {fmt(settings.mask_value)}). The heatmap shows what it prints.",
                   icon="⚖️")
    left, right = st.columns([3, 2]) if not big else (st.container(), st.container())
    with left:
        st.code(source, language="python", line_numbers=False, height=520)
    with right:
        fig = figures.heatmap(expected.weights, labels, labels, title=f"what the {framework} code prints",
                              mask=mask, zrange=(0.0, 1.0), kind="weights", font_size=fs)
        ui.chart(fig, key="code-weights", filename=f"code-weights-{framework}-{tag}")
        if framework in ("pytorch_sdpa", "pytorch_mha"):
            st.caption("Checked in CI against real PyTorch 2.13 (CPU): float32 within 1e-7, "
                       "bfloat16 within one bfloat16 step.")
        elif framework == "jax":
            st.caption("JAX computes the softmax in float32 whatever the dtype, so float64 agrees to ~1e-7.")
        elif framework == "tensorflow":
            st.caption("TensorFlow is not installed in CI: the snippet is checked for syntax and run against a "
                       "NumPy stand-in of the tf functions it calls.")
