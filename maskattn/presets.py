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
maskattn.errors.MaskAttnError: unknown preset 'nope'; choose one of tutorial, padding-batch, decoder-mask, constant-minus-1, constant-minus-10, float16-nan, float16-fill, float16-1e4, fully-masked-nan, fully-masked-uniform, fully-masked-zeros, wrong-polarity, negative-logits, left-padding, packed-documents, packed-leak, sliding-window, prefix-lm, longformer-global, llama4-chunks, shared-prefix, alibi, mask-is-bias, model-padded-batch, model-no-mask, model-float16, drawn-seed
"""

from __future__ import annotations

from dataclasses import dataclass, replace
import re
from urllib.parse import quote, urlencode

from .errors import MaskAttnError
from .state import Inputs, View, to_query_params

#: the tutorial's create_padding_mask example batch; with the pad token "0" it is exactly that batch
TUTORIAL_BATCH = "7 6 0 0 1\n1 2 3 0 0\n0 0 0 4 5"
#: a batch of three sentences of different lengths; the second is padded with four <pad>
BATCH = "the cat sat on the mat\nhello world\nbirds sing at dawn"
#: the real model's batch (the issue's own example, and a third sentence): two of them padded with [PAD]
MODEL_TEXT = "the cat sat on the mat\nhello world\nbirds sing at dawn in the garden"
#: a Hugging Face attention_mask (1 = attend) typed as tokens
HF_ATTENTION_MASK = "1 1 1 0 0"
#: seed whose first query, with no √d scaling and d_model 128, scores its only visible key at about -44
NEGATIVE_LOGITS_SEED = 158
#: twelve tokens for the sliding window; a prompt and an answer for the prefix LM (its first 5 tokens)
TWELVE_TOKENS = "one two three four five six seven eight nine ten eleven twelve"
PREFIX_TEXT, PREFIX_LENGTH = "translate English to French : le chat dort", 5
#: Longformer: a [CLS] token (made global) and eleven words; Llama 4's chunks and ALiBi on twelve words
LONGFORMER_TEXT = "[CLS] one two three four five six seven eight nine ten eleven"
#: one prompt (5 tokens) and two completions of 3 tokens in one row
SHARED_PREFIX_TEXT, SHARED_PREFIX_LENGTH = "the capital of France is Paris , surely Lyon , perhaps", 5
#: the seed question's own mask, [0 0 1; 1 0 0; 0 1 0], in the compact form a link carries
SEED_MASK = "001-100-010"

_SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Preset:
    """One classroom scenario."""

    slug: str            # short, URL- and file-safe name ("float16-nan")
    title: str           # what the gallery shows
    context: str         # one or two sentences: what is set up and what to look at
    question: str        # what to ask the class
    inputs: Inputs       # the whole state that reproduces the case (what changes the numbers)
    page: str = ""       # the page it opens on: "" the Playground, else a URL path ("model")
    section: str = ""    # the anchor of the section it is about, when that is not the top of its page

    @property
    def link(self) -> str:
        """The path and query that open it, relative to the app's root: its page, its inputs and its story.

        >>> get_preset("model-no-mask").link.split("?")[0]
        'model'
        """
        return f"{self.page}?" + urlencode(to_query_params(self.inputs, View(preset=self.slug)), quote_via=quote)


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
    Preset(
        "left-padding", "Left padding + causal: NaN in the first rows",
        "For generation a tokenizer pads on the left, so the four <pad> of \"hello world\" come first. The causal "
        "mask lets each of them see only itself and the pads before it, all blocked by the padding mask: rows 0–3 "
        "have no key at all. In float16 −1e9 is −inf, and filled with −inf those rows are NaN; the rows of the "
        "real words are fine.",
        "The real rows are fine in this layer. What happens in the next one, where the pads' NaN outputs are "
        "values that the real words multiply by a weight of 0?",
        _inputs(text=BATCH, sequence=1, padding_side="left", causal=True, dtype="float16", method="fill"),
    ),
    Preset(
        "packed-documents", "Packed documents with a document mask",
        "The three sentences are packed into one row of 12 tokens, told apart by segment ids 1, 2, 3. The document "
        "mask blocks every key of another document, the causal mask every later key: each token sees only the "
        "earlier tokens of its own sentence, as if each sentence had its own row.",
        "Why does \"hello\", the first token of the second document, put all its weight on itself, just like "
        "\"the\" at the start of the row?",
        _inputs(text=BATCH, packed=True, causal=True),
    ),
    Preset(
        "packed-leak", "Packed without a document mask",
        "The same packed row with the document mask off: the causal mask alone lets \"hello world\" and \"birds "
        "sing at dawn\" attend to the sentences packed before them. The first sentence is unchanged; every later "
        "token puts weight on text it should never see.",
        "A model trained this way learns from its neighbours in the row. Which tokens are not affected, and why?",
        _inputs(text=BATCH, packed=True, causal=True, document_mask=False),
    ),
    Preset(
        "sliding-window", "A sliding window of 3 over 12 tokens",
        "Mistral and Gemma let each query see only the last few keys. With a window of 3, counted as Hugging Face "
        "counts it (q − kv < 3), each query sees itself and the 2 keys before it; the rest of the past is blocked "
        "like the future.",
        "FlashAttention's window_size=(3, 0) counts q − kv ≤ 3. Does it see the same keys? Flip \"Window counted "
        "as\" in the sidebar and look at query twelve.",
        _inputs(text=TWELVE_TOKENS, window=3),
    ),
    Preset(
        "prefix-lm", "A prefix LM: the prompt looks both ways",
        "T5-style prefix LMs and PaliGemma let the prompt attend in both directions and keep the answer causal. "
        "Here the prefix is the first 5 tokens, \"translate English to French :\": they see each other, and the "
        "answer tokens see the whole prefix and the answer so far.",
        "Why may \"translate\" look at tokens after it, but \"chat\" may not look at \"dort\"?",
        _inputs(text=PREFIX_TEXT, prefix_length=PREFIX_LENGTH),
    ),
    Preset(
        "longformer-global", "Longformer: a window both ways and a global token",
        "Longformer's local attention: each word sees 2 keys back and 2 ahead (JAX local_window_size=(2, 2)). "
        "Token 0, [CLS], is global: it sees every key and every query may attend to it, past the window.",
        "\"eleven\" is 11 positions from [CLS] and far outside its window. How does it still give [CLS] about "
        "half its weight, and what would still block it?",
        _inputs(text=LONGFORMER_TEXT, padding=False, window=2, window_rule="distance", window_right=2,
                global_tokens="0"),
    ),
    Preset(
        "llama4-chunks", "Llama 4's chunked attention: chunks of 4",
        "Llama 4's local layers cut the row into chunks of 4 and attend causally inside a chunk only. "
        "\"five\" opens the second chunk: it sees itself and nothing before it, though \"four\" is its "
        "neighbour.",
        "If \"five\" can never see \"four\" in these layers, how does the model connect the chunks? (Llama 4 "
        "puts a layer that sees everything between them.)",
        _inputs(text=TWELVE_TOKENS, padding=False, chunk=4),
    ),
    Preset(
        "shared-prefix", "A shared prefix: two completions of one prompt",
        "One prompt, \"the capital of France is\", and two completions packed in one row, as beam search and "
        "tree decoding do. Each completion sees the prompt and itself, causally, never its sibling.",
        "Which keys does \"perhaps\" see? What would the second completion learn if it could see \"Paris\"?",
        _inputs(text=SHARED_PREFIX_TEXT, padding=False, shared_prefix=SHARED_PREFIX_LENGTH, completions=2),
    ),
    Preset(
        "alibi", "ALiBi: a bias instead of a mask",
        "ALiBi adds −m·(i − j) to each score: the further back a key, the lower its score. Here head 1 of 8 "
        "(m = 0.5) on a causal decoder: query \"twelve\" loses 5.5 on key \"one\". The causal mask still "
        "blocks the future: a finite bias only tilts, the mask adds −1e9.",
        "\"one\" is still visible to \"twelve\", only down-weighted. How large would the bias on it have to be "
        "to act like the mask? Try the slider on the Masks page.",
        _inputs(text=TWELVE_TOKENS, padding=False, causal=True, bias="alibi", bias_head=1),
    ),
    Preset(
        "mask-is-bias", "A mask is a bias of −∞",
        "On the Masks page, one key's bias slides from 0 through −1, −10 and −1e9 to −inf, in every number type. "
        "A finite bias only shrinks the key's weight; once exp of its score underflows, the weight is exactly 0 "
        "and the bias has become a mask.",
        "At what bias does the key's weight become exactly 0 in float32, and in float16? Why is −1e9 a mask but "
        "−10 not?",
        _inputs(text=TWELVE_TOKENS, padding=False, causal=True), page="masks", section="bias",
    ),
    Preset(
        "model-padded-batch", "A real model: padding in a batch",
        "all-MiniLM-L6-v2, a real 6-layer sentence encoder, runs the three sentences as one batch: the short ones "
        "are padded with [PAD] to the longest, and every layer adds mask × −1e9, the tutorial's line. Each sentence "
        "comes out as it does alone: the [PAD] keys get weight exactly 0.",
        "The hidden states match the sentence alone to about 1e-6, not bit for bit. Where does that last "
        "difference come from, if the [PAD] keys get exactly 0?",
        _inputs(text=MODEL_TEXT), page="model",
    ),
    Preset(
        "model-no-mask", "A real model without the padding mask",
        "The same batch through all-MiniLM-L6-v2 with the padding mask off, as a model called without "
        "attention_mask: every real word now attends to the [PAD] tokens too, in all 6 layers.",
        "\"hello world\" is the same two words. Why does its sentence embedding stop matching itself, and would a "
        "search engine notice?",
        _inputs(text=MODEL_TEXT, padding=False), page="model",
    ),
    Preset(
        "model-float16", "A real model in float16 with −1e9",
        "all-MiniLM-L6-v2 in float16 with the tutorial's constant: −1e9 does not fit in float16 and becomes −inf, "
        "and 0 × −inf is NaN in every unmasked cell of the mask term. Switch the constant to finfo.min "
        "(−65504, what Hugging Face uses) and the run is clean.",
        "One NaN in layer 1: how many of the six layers, and how many sentences, does it reach?",
        _inputs(text=MODEL_TEXT, dtype="float16"), page="model",
    ),
    Preset(
        "drawn-seed", "The seed's own mask: [0 0 1; 1 0 0; 0 1 0]",
        "The question that started this app pictured a padding mask as a square with ones scattered in it. Here "
        "is that matrix as a mask (1 = blocked) on \"the cat sat\": each query loses one key, a different one "
        "per row. It is not a padding mask, which blocks whole key columns: one row (1, 1, Tk) copied down every "
        "query.",
        "What would a real padding mask look like if \"sat\" were a pad? Draw it on the Masks page.",
        _inputs(text="the cat sat", padding=False, drawn=SEED_MASK),
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
