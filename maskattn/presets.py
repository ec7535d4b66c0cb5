"""Classroom presets: the classic masking cases, each one click away.

A preset is data: a slug (used in links and on the command line), a title, a
sentence of context, the question to ask the class, and the ``Inputs`` that
reproduce the case. Pages and the command-line export only read this list; no
preset has code of its own. ``tests/test_presets.py`` checks each one shows what
its text claims.

>>> get_preset("float16-nan").inputs.dtype
'float16'
>>> [p.slug for p in PRESETS][:3]
['tutorial', 'padding-batch', 'decoder-mask']
>>> get_preset("nope")
Traceback (most recent call last):
...
maskattn.errors.MaskAttnError: unknown preset 'nope'; choose one of tutorial, padding-batch, decoder-mask, constant-minus-1, constant-minus-10, float16-nan, float16-fill, float16-1e4, fully-masked-nan, fully-masked-uniform, fully-masked-zeros, wrong-polarity, negative-logits
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import re

from .errors import MaskAttnError
from .state import Inputs

#: the tutorial's create_padding_mask example batch; with the pad token "0" it is exactly that batch
TUTORIAL_BATCH = "7 6 0 0 1\n1 2 3 0 0\n0 0 0 4 5"
#: a batch of three sentences of different lengths; the second is padded with four <pad>
BATCH = "the cat sat on the mat\nhello world\nbirds sing at dawn"
#: a Hugging Face attention_mask (1 = attend) typed as tokens
HF_ATTENTION_MASK = "1 1 1 0 0"
#: seed whose first query, with no √d scaling and d_model 128, scores its only visible key at about -44
NEGATIVE_LOGITS_SEED = 158

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Preset:
    """One classroom scenario."""

    slug: str            # short, URL- and file-safe name ("float16-nan")
    title: str           # what the gallery shows
    context: str         # one or two sentences: what is set up and what to look at
    question: str        # what to ask the class
    inputs: Inputs       # the whole state that reproduces the case (what changes the numbers)


def _inputs(**changes) -> Inputs:
    return replace(Inputs(), **changes)


PRESETS: tuple[Preset, ...] = (
    Preset(
        "tutorial", "The tutorial's own example",
        "The batch from the tutorial's create_padding_mask example, [[7, 6, 0, 0, 1], [1, 2, 3, 0, 0], "
        "[0, 0, 0, 4, 5]], where id 0 is padding, masked the tutorial's way: add mask × −1e9 in float32. "
        "The two 0 keys of the first sequence get weight exactly 0.",
        "Why is the weight on a masked key exactly 0 and not just tiny? What does exp(−1e9 − max) "
        "come out as in float32?",
        _inputs(text=TUTORIAL_BATCH, pad_token="0"),
    ),
    Preset(
        "padding-batch", "Padding in a batch",
        "Three sentences of different lengths are padded to the longest; \"hello world\" gets four <pad> "
        "tokens. The padding mask blocks the pad keys (columns), so the real queries ignore them.",
        "The padded query rows still have weights on the real words: is that a bug? Who throws those "
        "rows away later?",
        _inputs(text=BATCH, sequence=1),
    ),
    Preset(
        "decoder-mask", "Look-ahead + padding (the decoder's tf.maximum)",
        "The tutorial's decoder combines the look-ahead mask with the padding mask by an element-wise "
        "maximum, tf.maximum(dec_target_padding_mask, look_ahead_mask). A cell blocked by either mask "
        "is blocked.",
        "Which cells are blocked by both masks, and why is a maximum (an OR) the right way to combine "
        "1 = blocked masks, not a sum?",
        _inputs(text=BATCH, sequence=1, causal=True),
    ),
    Preset(
        "constant-minus-1", "A constant far too small: −1",
        "The padding mask adds −1 instead of −1e9. A masked key's score drops by only 1, so softmax "
        "still gives it a large share: most of each row's weight lands on the <pad> keys.",
        "How negative must the constant be before the masked weight is exactly 0 in float32? "
        "Try −10, then −1e4.",
        _inputs(text=BATCH, sequence=1, constant="-1"),
    ),
    Preset(
        "constant-minus-10", "A constant too small: −10",
        "With −10 the leak is small but not zero: each <pad> key keeps about exp(−10) of the weight it "
        "would have had, and every row puts about 0.05 % to 0.13 % of its weight on padding. Training "
        "would still see the padding.",
        "The heatmap looks right: where do you see the leak? (Check the row check table.)",
        _inputs(text=BATCH, sequence=1, constant="-10"),
    ),
    Preset(
        "float16-nan", "float16 overflow: −1e9 → every weight NaN",
        "In float16 the largest number is 65504, so −1e9 becomes −inf, and the tutorial's "
        "mask × constant computes 0 × −inf = NaN in every unmasked cell. Every weight of every row is "
        "NaN, even rows with nothing masked.",
        "Only the future keys are masked: why is the first row, which attends to itself alone, NaN too?",
        _inputs(text=BATCH, causal=True, dtype="float16"),
    ),
    Preset(
        "float16-fill", "float16 fixed: fill instead of add",
        "The same float16 case with the mask applied by a where (masked_fill): blocked scores are "
        "replaced by −inf and nothing is multiplied by it, so no NaN appears and masked weights are "
        "exactly 0.",
        "Fill keeps −1e9 (now −inf). Why does a where not create NaN when a multiply does?",
        _inputs(text=BATCH, causal=True, dtype="float16", method="fill"),
    ),
    Preset(
        "float16-1e4", "float16 fixed: a constant that fits (−1e4)",
        "The same float16 case keeping the tutorial's add, with −1e4, which float16 can represent: "
        "0 × −1e4 = 0, and exp(−1e4 − max) underflows to exactly 0.",
        "Is the dtype's finfo.min (−65504) also safe here? What is min + min in float16?",
        _inputs(text=BATCH, causal=True, dtype="float16", constant="-1e4"),
    ),
    Preset(
        "fully-masked-nan", "A fully padded row → NaN (−inf)",
        "Masking padded queries as well as keys (Keras, Flax) leaves the <pad> rows with no key to "
        "attend to. Filled with −inf, such a row's max is −inf and −inf − (−inf) = NaN, as in plain "
        "softmax in TensorFlow or PyTorch's nn.MultiheadAttention.",
        "The real rows are fine. Does a NaN in a padded row matter if the loss ignores that row? "
        "(Think of the backward pass.)",
        _inputs(text=BATCH, sequence=1, mask_queries=True, method="fill", constant="-inf"),
    ),
    Preset(
        "fully-masked-uniform", "A fully padded row → uniform (−1e9)",
        "The same fully masked <pad> rows with the tutorial's −1e9: every score becomes −1e9, so all "
        "tie and softmax spreads the weight evenly, like masked_fill in the Annotated Transformer and "
        "Hugging Face's finfo.min.",
        "Uniform weights average the values of every key, pads included. Is that better or worse "
        "than NaN?",
        _inputs(text=BATCH, sequence=1, mask_queries=True, method="fill"),
    ),
    Preset(
        "fully-masked-zeros", "A fully padded row → zeros (safe softmax)",
        "The same fully masked <pad> rows with PyTorch's safe softmax (scaled_dot_product_attention, "
        "Keras 3 Softmax(mask=)): a row with nothing to attend to gets weight 0 everywhere, so its "
        "output is 0.",
        "These rows no longer sum to 1. Which of NaN, uniform and zeros would you want, and why do "
        "frameworks disagree?",
        _inputs(text=BATCH, sequence=1, mask_queries=True, method="safe", constant="-inf"),
    ),
    Preset(
        "wrong-polarity", "A mask with the wrong polarity",
        "The tokens are a Hugging Face attention_mask, 1 1 1 0 0: three real tokens then two pads, "
        "1 meaning attend. Passed straight to the tutorial's function, where 1 means blocked (the pad "
        "token is set to 1 to build exactly that mask), it hides the three real tokens: every query "
        "attends only to the two padding positions.",
        "Nothing is NaN and every row sums to 1. How would you notice this bug in a model that trains?",
        _inputs(text=HF_ATTENTION_MASK, pad_token="1"),
    ),
    Preset(
        "negative-logits", "Real logits below the constant",
        "A constant hides a key only if it is far below every real score. Here the raw scores (no √d "
        "scaling, d_model 128) go down to about −52, and the fill constant −30 sits above the first query's only "
        "visible score (−43.7): its five hidden future keys win, and the first token attends to the "
        "future. The float16-safe −1e4 fails the same way when unscaled scores reach −1e4.",
        "Which constant would be safe here, and is any fixed constant safe for every input?",
        _inputs(text="the cat sat on the mat", padding=False, causal=True, scale=False, d_model=128,
                  seed=NEGATIVE_LOGITS_SEED, method="fill", constant="custom", custom_constant=-30.0),
    ),
)

_BY_SLUG = {p.slug: p for p in PRESETS}
assert len(_BY_SLUG) == len(PRESETS), "preset slugs must be unique"
assert all(_SLUG.match(p.slug) for p in PRESETS), "preset slugs are lower-case words joined by '-'"


def preset_names() -> list[str]:
    """The slugs of every preset, in gallery order.

    >>> "float16-fill" in preset_names()
    True
    """
    return [p.slug for p in PRESETS]


def get_preset(slug: str) -> Preset:
    """The preset named ``slug``; an unknown name raises ``MaskAttnError`` listing the names."""
    try:
        return _BY_SLUG[slug]
    except (KeyError, TypeError):
        raise MaskAttnError(f"unknown preset {slug!r}; choose one of {', '.join(_BY_SLUG)}") from None
