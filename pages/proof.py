"""Proof that masked keys are ignored: delete the columns, exact vs float, the leak test, the backward pass."""

import numpy as np
import streamlit as st

from maskattn import MaskAttnError, export, proof, ui
from maskattn.text import spell
from maskattn.ui import Key, cache

#: the noise sizes on the slider; the box next to it takes any size up to proof.MAX_PERTURBATION
AMOUNTS = tuple(10.0 ** d for d in range(0, 7))
DEFAULT_AMOUNT = 1e6
TARGETS = {"padding": "the padding", "future": "a future token (causal)"}
VERDICT_BOX = {"identical": (st.success, "✅"), "moved": (st.error, "❌"), "unprotected": (st.warning, "⚠️")}
#: presentation mode: the leak test's controls and verdict in a column beside two narrower panels
SLIDE_COLUMN = 360
SLIDE_LEAK_LOOK = ui.Look(font_size=ui.PRESENTATION.font_size, panel_width=360, subtitle=False)

page = ui.page(
    "Proof: masked keys are ignored",
    "The Playground shows masked keys getting weight 0. Four stronger tests, computed now for the sidebar's "
    "tokens, masks, constant, method and number type: are the weights **exactly** those of the unmasked keys "
    "alone? Is a masked key's e^(z − m) exactly 0? Can anything written in a masked position move the output? "
    "Does training see it? Switch the constant to −10 or the number type to float16 and watch the answers change.")
inputs, view, look, result, big = page.inputs, page.view, page.look, page.result, page.big
labels, T = result.labels, len(result.labels)
tag = export.file_tag(result)


def chart(panel: cache.ProofPanel, name: str) -> None:
    ui.chart(panel.figures[name], key=f"proof-{name}", filename=f"{name}--{tag}")


def panels_and_takeaway(panel: cache.ProofPanel, *, align: str) -> None:
    """A proof's panels side by side (wrapping on narrow screens), its takeaway in the room left beside them."""
    with st.container(horizontal=True, gap="small", vertical_alignment=align):
        for name in panel.figures:
            chart(panel, name)
        with st.container(width="stretch"):
            st.markdown(f"**{panel.takeaway}**")


# the leak test's controls: a slider and a box for the noise size, a button for a new seed ----------
st.session_state.setdefault(Key.PROOF_AMOUNT, DEFAULT_AMOUNT)
st.session_state.setdefault(Key.PROOF_AMOUNT_TEXT, spell(DEFAULT_AMOUNT))
st.session_state.setdefault(Key.PROOF_SEED, 0)


def amount_slid() -> None:
    st.session_state[Key.PROOF_AMOUNT_TEXT] = spell(st.session_state[Key.PROOF_AMOUNT])
    st.session_state.pop(Key.PROOF_AMOUNT_ERROR, None)


def amount_typed() -> None:
    """A typed size replaces the slider's, unless it is NaN, ±inf or beyond 1e30: then the previous one stays."""
    raw = st.session_state[Key.PROOF_AMOUNT_TEXT]
    try:
        st.session_state[Key.PROOF_AMOUNT] = proof.check_perturbation(raw.strip().replace("−", "-"))
        st.session_state.pop(Key.PROOF_AMOUNT_ERROR, None)
    except MaskAttnError as err:
        st.session_state[Key.PROOF_AMOUNT_ERROR] = (
            f"{err}. Kept the previous size {spell(st.session_state[Key.PROOF_AMOUNT])}.")


def shake() -> None:
    """A new seed: new noise of the same size."""
    st.session_state[Key.PROOF_SEED] = int(np.random.default_rng().integers(1, 2**31))


def future_token_default() -> int:
    """The last real token: every query before it must come out unchanged under a causal mask."""
    real = [i for i, token in enumerate(result.tokens) if token != inputs.pad_token]
    return real[-1] if real else T - 1


# the four proofs -------------------------------------------------------------------------------------
def delete_the_columns() -> None:
    st.header("1 · Delete the columns")
    if not big:
        st.markdown("If masking ignores a key, the masked softmax must be the softmax of the unmasked keys alone, "
                    "as if the masked columns were deleted from the matrix. Both, and their difference in float64:")
    panels_and_takeaway(cache.deleted_panel(inputs, look), align="center")


def exact_vs_float() -> None:
    st.header("2 · Exact vs float: e^(z − m) of a masked key")
    if not big:
        st.markdown("Softmax subtracts the row max m, so a masked key enters the sum as e^(z − m), with z − m about "
                    "the constant. In exact arithmetic that is never 0; the number type rounds it to exactly 0 once "
                    "z − m is below its underflow point, and only then do the masked keys add nothing at all.")
    # set it again: after a page switch the new selectbox would otherwise start at 0, not at the shared row
    st.session_state[Key.ROW] = ui.keep_index_in_range(Key.ROW, T)
    row = st.selectbox("Query row", options=range(T), key=Key.ROW, format_func=lambda i: labels[i], width=320,
                       persist_state="session")
    panel = cache.exact_panel(inputs, row)
    st.markdown(f"**{panel.takeaway}**")
    if panel.table is not None:
        st.dataframe(panel.table, hide_index=True, width="stretch")
    st.caption(panel.note)


def leak_controls(target: str) -> tuple[float, int]:
    """The noise size (slider, or typed) and the button that draws a new seed; returns (size, seed)."""
    amount = st.session_state[Key.PROOF_AMOUNT]
    st.select_slider("Noise size", options=sorted(set(AMOUNTS) | {amount}), key=Key.PROOF_AMOUNT,
                     format_func=lambda x: spell(x, digits=3), on_change=amount_slid, width=300,
                     persist_state="session")
    with st.container(horizontal=True, gap="small", vertical_alignment="bottom"):
        st.text_input(f"…or type one (up to {spell(proof.MAX_PERTURBATION)})", key=Key.PROOF_AMOUNT_TEXT,
                      on_change=amount_typed, width=220, persist_state="session")
        st.button("🎲 Shake the padding" if target == "padding" else "🎲 Change it again", on_click=shake,
                  type="primary")
    if st.session_state.get(Key.PROOF_AMOUNT_ERROR):
        st.error(ui.md_escape(st.session_state[Key.PROOF_AMOUNT_ERROR]), icon="✋")
    return amount, st.session_state[Key.PROOF_SEED]


def leak_test() -> None:
    if big:                              # the slide's heading names the page (no title on a slide)
        st.markdown("## Proof: the leak test, shake the padding")
    else:
        st.header("3 · The leak test: shake the padding")
        st.markdown("Write anything into the masked positions — here noise of any size added to the pad tokens' "
                    "embeddings, so their keys, values and queries all change — and compare the outputs of the "
                    "real tokens before and after, bit for bit. With a causal mask, change a future token instead.")
    target = st.session_state.get(Key.PROOF_TARGET, "padding")
    if not big:
        target = st.radio("What to change", options=list(TARGETS), key=Key.PROOF_TARGET, horizontal=True,
                          format_func=TARGETS.__getitem__, persist_state="session")
    token = None
    if target == "future":
        if not 0 <= st.session_state.get(Key.PROOF_TOKEN, -1) < T:
            st.session_state[Key.PROOF_TOKEN] = future_token_default()
        token = st.selectbox("Future token to change", options=range(T), key=Key.PROOF_TOKEN,
                             format_func=lambda i: labels[i], width=320, persist_state="session")
        if not inputs.causal:
            st.info("The causal mask is off (sidebar), so every query may see this token: nothing protects them.",
                    icon="ℹ️")
    if big:
        # a slide: the controls and the verdict beside the before/after, all on one 1280×720 screen
        with st.container(horizontal=True, gap="small", vertical_alignment="top"):
            with st.container(width=SLIDE_COLUMN):
                amount, seed = leak_controls(target)
                panel = cache.leak_panel(inputs, SLIDE_LEAK_LOOK, token, amount, seed)
                verdict(panel)
            for name in panel.figures:
                chart(panel, name)
        st.markdown(panel.takeaway)
    else:
        with st.container(horizontal=True, gap="medium", vertical_alignment="bottom"):
            amount, seed = leak_controls(target)
        panel = cache.leak_panel(inputs, look, token, amount, seed)
        verdict(panel, panel.takeaway)
        with st.container(horizontal=True, gap="small"):
            for name in panel.figures:
                chart(panel, name)
    if target == "padding" and not panel.shaken:
        st.info("This sequence has no pad token to shake: pick a shorter one under “Sequence to view” in the "
                "sidebar, or change a future token instead.", icon="ℹ️")
    st.dataframe(panel.table, hide_index=True, width="stretch")
    st.caption(f"Noise: {spell(amount, digits=3)} × a standard normal draw (seed {seed}) added to the embedding of "
               f"{panel.shaken}, then the whole forward pass again (embedding → Q, K, V → attention) in "
               f"{result.steps.dtype}. Bit-for-bit: every bit of the output, not a tolerance.")


def verdict(panel: cache.LeakPanel, takeaway: str = "") -> None:
    """The leak test's verdict: green when every protected output kept its bits, red with the number when not."""
    box, icon = VERDICT_BOX[panel.verdict]
    box(f"**{panel.headline}.** {takeaway}".strip(), icon=icon)


def backward_pass() -> None:
    st.header("4 · The backward pass: what training sees")
    if not big:
        st.markdown("Take L = the sum of every output (d_output = ones) and differentiate through the same forward "
                    "pass, in the same number type: softmax's gradient is w ⊙ (g − Σ w g), so a weight of exactly "
                    "0 passes back exactly 0.")
    panels_and_takeaway(cache.gradient_panel(inputs, look), align="top")
    st.caption("With d_output = ones, each value dimension of key j gets Σᵢ wᵢⱼ, the weight all queries give it. "
               "Outlined: the masked cells of ∂L/∂logits (the gradient with respect to the scaled logits q·kᵀ/√d, "
               "before the mask) and, in ∂L/∂V, the keys that no query may see. −0 is a negative zero: "
               "exactly 0 (0 times a negative number). Black cells are NaN.")


if big:
    # a slide: the leak test's verdict and its before/after first; the other proofs one scroll away
    leak_test()
    delete_the_columns()
    exact_vs_float()
else:
    delete_the_columns()
    exact_vs_float()
    leak_test()
backward_pass()
