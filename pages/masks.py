"""Masks: draw your own, see how masks broadcast over a batch and heads, and where the newer masks go wrong."""

from dataclasses import replace

import streamlit as st

from maskattn import MaskAttnError, explain, shape_table, ui
from maskattn.bias import BIAS_HEADS
from maskattn.broadcast import HEAD_CHOICES
from maskattn.masks import cross_document_weight
from maskattn.text import spell, spell_signed
from maskattn.ui import Key, cache

ui.switch_if_asked(Key.MASKS_OPEN_PLAYGROUND, "pages/playground.py")   # "Open in the Playground" was clicked
page = ui.page("Masks", "A mask is a 0/1 matrix (1 = blocked) that must broadcast to the logits' shape (B, H, Tq, Tk). "
               "Draw your own — the Playground applies it too —, see how the padding mask (B, 1, 1, Tk) and the "
               "look-ahead mask (Tq, Tk) reach every head, and where left padding, packing and sliding windows go "
               "wrong.", presenting="all", quiet=("The drawn mask is",))   # the editor says it, with a fix
inputs, view, look, result = page.inputs, page.view, page.look, page.result
ui.preset_story(inputs, view, "masks")   # a classroom preset: its context and question stay with it

st.header("Draw your own mask")
ui.drawn_mask_editor(inputs, result, look)

st.header("How masks broadcast")
st.markdown("The padding mask is not a square with ones scattered in it: it is one row (1, 1, Tk) per sequence, "
            "shape (B, 1, 1, Tk). NumPy and TensorFlow line shapes up from the right and copy every axis of length "
            "1, so that row is copied down every query and across every head; its maximum with the look-ahead mask "
            "(Tq, Tk) is (B, 1, Tq, Tk), and adding it to the logits (B, H, Tq, Tk) copies it across the heads: the "
            "same outline on every head, each head with its own logits.")
heads = st.segmented_control("Heads: the Playground's Q and K split as the tutorial's split_heads does",
                             options=HEAD_CHOICES, default=HEAD_CHOICES[0], required=True, key=Key.HEADS,
                             persist_state="session")
spread = cache.mask_broadcast(inputs, heads)
st.code(shape_table(spread), language=None)
parts, grid = cache.broadcast_panels(inputs, heads, look)
if parts:
    st.markdown("**The parts**, each in the shape it is built in:")
    with st.container(horizontal=True, gap="small"):
        for name, fig in zip(spread.parts, parts):
            ui.chart(fig, key=f"part-{name}", filename=f"mask-part-{name}")
for notice in spread.notices:
    if notice not in result.notices:             # the page's own notices are shown once, at the top
        st.info(notice, icon="📐")
if grid:
    B = spread.batch.ids.shape[0]
    st.markdown(f"**Each sequence, each head**: the sequence's mask, then the masked logits of its {heads} heads"
                + (f" (the first {len(grid)} of {B} sequences; the others broadcast the same way)." if B > len(grid)
                   else "."))
    for b, row in enumerate(grid):
        with st.container(horizontal=True, gap="small"):
            for h, fig in enumerate(row):
                ui.chart(fig, key=f"grid-{b}-{h}", filename=f"broadcast-seq{b + 1}-panel{h}")


def open_in_playground(changed) -> None:
    """Button callback: load ``changed`` into the sidebar and go to the Playground on the next run."""
    ui.apply_inputs(changed)
    ui.apply_view(replace(ui.current_view(), row=0))
    st.session_state[Key.MASKS_OPEN_PLAYGROUND] = True


def case(slug: str, title: str, states: dict, sentence, otherwise: str) -> None:
    """One way a mask goes wrong: the weights of each state (by panel title), the verdict for the first, and a
    way to the Playground."""
    st.subheader(title, anchor=False)
    first_state = next(iter(states.values()))
    try:
        first = cache.result(first_state)
    except MaskAttnError as err:
        st.info(f"{err}")
        return
    said = sentence(first)
    with st.container(horizontal=True, gap="small", vertical_alignment="top"):
        for i, (panel, state) in enumerate(states.items()):
            ui.chart(cache.weights_figure(state, look, panel), key=f"{slug}-{i}", filename=f"{slug}-{i}")
    st.markdown(ui.md_escape(said) if said else otherwise)
    st.button("Open this in the Playground", key=f"open-{slug}", on_click=open_in_playground, args=(first_state,))


st.header("Where these masks go wrong")
st.markdown("The sentences and settings of the sidebar with one thing changed; every number below is computed.")
lines = [tokens for tokens in (line.split() for line in inputs.text.splitlines()) if tokens]
plain = replace(inputs, packed=False, drawn="", window=0, prefix_length=0)
shortest = min(range(len(lines)), key=lambda i: len(lines[i])) if lines else 0
longest = max(range(len(lines)), key=lambda i: len(lines[i])) if lines else 0

case("left-padding", "Left padding + causal: the first queries see no key",
     {"weights, left padding + causal": replace(plain, padding=True, padding_side="left", causal=True,
                                                sequence=shortest)},
     explain.left_padding_line, "Every line has the same length, so nothing is padded: type a shorter line to see it.")

leaky = replace(plain, packed=True, document_mask=False, sequence=0)
case("packed-leak", "Packed without a document mask: weight crosses documents",
     {"weights, packed, no document mask": leaky,
      "weights, packed + document mask": replace(leaky, document_mask=True)},
     explain.packing_line, "Packing needs two lines or more: type another line.")
if len(lines) > 1:
    packed = cache.result(leaky)
    crossing = cross_document_weight(packed.steps.weights, packed.batch.segment_ids[0])      # (T,)
    st.caption("Weight each query puts on other documents' keys without the document mask: "
               + ", ".join(f"{ui.md_escape(label)} {spell(weight, digits=3)}"
                           for label, weight in zip(packed.labels, crossing) if weight > 0)
               + ". With the document mask every one of them is exactly 0.")

size = inputs.window or 3
window = replace(plain, window=size, sequence=longest)
case("window", f"A sliding window of {size}: the off-by-one between libraries",
     {f"weights, q − kv < {size} (Hugging Face)": replace(window, window_rule="keys"),
      f"weights, q − kv ≤ {size} (FlashAttention, JAX)": replace(window, window_rule="distance")},
     explain.window_line, "")

st.header("A mask is a bias of −∞", anchor="bias")   # the "mask-is-bias" preset links here
st.markdown("ALiBi and T5 add a finite number to each score before softmax: a *bias*. The tutorial's mask adds "
            "−1e9, and a bias of −inf is a mask exactly. Move one key's bias from a tilt to a mask and watch the "
            "weight it leaves, in every number type. The row is the Playground's query row (or, when that row sees "
            "fewer than two keys, the row that sees the most), the key its heaviest visible key; the Playground's "
            "masked keys stay out (−inf), and no position bias is added but this one.")
sweep = cache.bias_sweep(inputs, view.row)
if len(result.labels) == 1:
    st.info("With one token a row has one key: softmax gives it weight 1 whatever its bias, and a bias of −inf makes "
            "it NaN (every score is −inf). Type two tokens or more to watch a bias become a mask.", icon="☝️")
step = st.select_slider("Bias on that key", options=list(sweep.limit.steps), value=-10.0, key=Key.BIAS_STEP,
                        format_func=spell_signed, persist_state="session")
st.markdown(sweep.verdict)
ui.chart(cache.bias_figure(inputs, look, view.row, step), key="bias-row", filename="bias-of-one-key")
st.markdown(f"The weight key {ui.md_escape(result.labels[sweep.limit.key])} keeps, for each bias and number type:")
st.dataframe(sweep.table, hide_index=True, width="content")
st.caption("float16 holds −1e9 as −inf, so there the tutorial's constant is a mask of −inf too; a bias too small "
           "for the number type (−10 in float32) leaves the key a real weight.")

st.subheader("ALiBi: a soft window per head", anchor=False)
heads, form, shown = cache.alibi_heads(inputs, look)
st.markdown(("ALiBi (BLOOM, MPT) adds −m·(i − j): the further back a key, the lower its score, with one slope m "
             "per head." if form == "alibi" else
             "The mask is not causal, so ALiBi's symmetric form −m·|i − j| is used (the encoder variant).")
            + f" Heads {', '.join(map(str, cache.ALIBI_HEADS_SHOWN[:-1]))} and {cache.ALIBI_HEADS_SHOWN[-1]} of "
              f"{BIAS_HEADS} below are the Playground's attention with that head's bias ({ui.md_escape(inputs.dtype)},"
              " the sidebar's mask): a steep slope is a narrow soft window, a gentle one sees almost evenly. "
              "Masked cells are outlined and stay at weight 0 on every head."
            + (f" The first {shown} of {len(result.labels)} tokens are drawn." if shown < len(result.labels) else ""))
with st.container(horizontal=True, gap="small"):
    for h, fig in enumerate(heads):
        ui.chart(fig, key=f"alibi-head-{h}", filename=f"alibi-head-{h + 1}")
st.caption("Colour: the weight, from 0 (dark blue) to 1 (yellow), the same scale on every head; hover a cell for "
           "its exact value.")
