"""From typed text to Q, K, V: sequences, a vocabulary, token vectors, projections.

Text is split into sequences (one per non-blank line) and tokens (whitespace).
The pad token gets id 0, as the tutorial's ``create_padding_mask`` expects, and
shorter sequences are padded to the longest: on the right by default, on the left
for generation (``padding_side="left"``). Or the lines are packed into one row as
documents with segment ids (``packed=True``). Token vectors come from a stable hash
of the token's text (never Python's salted ``hash()``), so the same input gives the
same numbers on every machine and every run.

>>> batch = tokenize("the cat sat\\nhi")
>>> batch.tokens
(('the', 'cat', 'sat'), ('hi', '<pad>', '<pad>'))
>>> batch.ids.tolist()
[[1, 2, 3], [4, 0, 0]]
>>> tokenize("the cat sat\\nhi", padding_side="left").tokens[1]
('<pad>', '<pad>', 'hi')
>>> tokenize("the cat sat\\nhi", packed=True).segment_ids.tolist()
[[1, 1, 1, 2]]
"""

from __future__ import annotations

from dataclasses import dataclass, field
import hashlib

import numpy as np

from .errors import MaskAttnError
from .numerics import as_array

PAD_TOKEN = "<pad>"
#: caps that keep the page responsive; input beyond them is cut with a notice
MAX_SEQUENCES = 8
MAX_TOKENS_PER_SEQUENCE = 256
MAX_TEXT_CHARS = 50_000
#: longest pad token we accept
MAX_PAD_TOKEN_CHARS = 32
#: where padding goes: after the tokens (the tutorial, training) or before them (generation)
PADDING_SIDES: tuple[str, ...] = ("right", "left")
#: embedding widths offered by the app
D_MODEL_CHOICES: tuple[int, ...] = (4, 8, 16, 32, 64, 128)
QK_MODES: dict[str, str] = {
    "projected": "Q, K, V = seeded projections of the token vectors",
    "shared": "Q = K = the token vectors themselves (equal tokens score highest)",
}


@dataclass(frozen=True)
class TokenBatch:
    """A padded (or packed) batch of token sequences.

    tokens: ``B`` tuples of ``T`` strings; ids: ``(B, T)`` int64 with the pad token at 0;
    lengths: real (non-pad) tokens in each row; notices: what was cut and why.
    segment_ids: ``(B, T)`` int64, the document each token belongs to, numbered from 1 in
    each row, and 0 exactly where the token is padding (tensor2tensor's ``pack_examples``
    numbers packed documents the same way); a row that is not packed is document 1.
    padding_side: where pads were added; packed: whether the lines share one row.
    """

    tokens: tuple[tuple[str, ...], ...]
    ids: np.ndarray                  # (B, T)
    lengths: tuple[int, ...]
    pad_token: str
    vocabulary: dict[str, int] = field(compare=False)
    notices: tuple[str, ...] = ()
    segment_ids: np.ndarray | None = field(default=None, compare=False)   # (B, T)
    padding_side: str = "right"
    packed: bool = False

    @property
    def shape(self) -> tuple[int, int]:
        return tuple(self.ids.shape)


def tokenize(text: str, pad_token: str = PAD_TOKEN, *, padding_side: str = "right", packed: bool = False,
             length: int | None = None, max_sequences: int = MAX_SEQUENCES,
             max_tokens: int = MAX_TOKENS_PER_SEQUENCE, max_chars: int = MAX_TEXT_CHARS) -> TokenBatch:
    """Split ``text`` into a padded batch; cut at the caps and say so in ``notices``.

    A token equal to ``pad_token`` is padding wherever it appears, so a line of
    only ``<pad>`` is an all-pad sequence (its rows are fully masked).

    padding_side: ``"right"`` pads after the tokens, ``"left"`` before them (as a
    tokenizer does for generation; with a causal mask the first rows then have no key).
    packed: put every line into one row, one document per line, told apart by
    ``segment_ids`` (the caps are the same: at most ``max_tokens`` in the row).
    length: pad (or cut, with a notice) every row to this many tokens, like Hugging Face's
    ``padding="max_length"``; None pads to the longest row.

    >>> tokenize("a b\\n\\n  c  ").lengths
    (2, 1)
    >>> tokenize("a b\\nc", packed=True, length=5).tokens
    (('a', 'b', 'c', '<pad>', '<pad>'),)
    >>> tokenize("   ")
    Traceback (most recent call last):
    ...
    maskattn.errors.MaskAttnError: no tokens: type at least one word (sequences are lines, tokens are separated by spaces)
    """
    if not isinstance(text, str):
        raise MaskAttnError(f"text must be a string, got {type(text).__name__}")
    pad_token = validate_pad_token(pad_token)
    if not isinstance(padding_side, str) or padding_side not in PADDING_SIDES:
        raise MaskAttnError(f"padding_side must be one of {', '.join(PADDING_SIDES)}, got {padding_side!r}")
    if not isinstance(packed, (bool, np.bool_)):
        raise MaskAttnError(f"packed must be True or False, got {packed!r}")
    if length is not None and (isinstance(length, bool) or not isinstance(length, (int, np.integer))
                               or not 1 <= length <= max_tokens):
        raise MaskAttnError(f"length must be None or an integer from 1 to {max_tokens}, got {length!r}")
    notices = []
    if len(text) > max_chars:
        notices.append(f"The text was {len(text):,} characters long; only the first {max_chars:,} are used.")
        text = text[:max_chars]
    lines = [line.split() for line in text.splitlines()]
    sequences = [tokens for tokens in lines if tokens]
    if not sequences:
        raise MaskAttnError("no tokens: type at least one word "
                            "(sequences are lines, tokens are separated by spaces)")
    if len(sequences) > max_sequences:
        notices.append(f"{len(sequences)} sequences were typed; only the first {max_sequences} are used "
                       f"(the cap is {max_sequences}).")
        sequences = sequences[:max_sequences]
    if packed:
        documents = [d for d, seq in enumerate(sequences, start=1) for _ in seq]
        sequences, documents = [[tok for seq in sequences for tok in seq]], [documents]
        if len(sequences[0]) > max_tokens:
            notices.append(f"The packed row had {len(sequences[0]):,} tokens; it is cut to the first "
                           f"{max_tokens} (the cap is {max_tokens} per sequence).")
    else:
        documents = [[1] * len(seq) for seq in sequences]
        longest = max(len(s) for s in sequences)
        if longest > max_tokens:
            notices.append(f"A sequence had {longest:,} tokens; each is cut to the first {max_tokens} "
                           f"(the cap is {max_tokens} per sequence).")
    cut = min(max_tokens, length or max_tokens)
    if length is not None and max(len(s) for s in sequences) > length:
        notices.append(f"A row had {max(len(s) for s in sequences):,} tokens; every row is cut to the "
                       f"chosen length of {length}.")
    sequences = [s[:cut] for s in sequences]
    documents = [d[:cut] for d in documents]

    vocabulary = {pad_token: 0}
    for seq in sequences:
        for tok in seq:
            vocabulary.setdefault(tok, len(vocabulary))
    width = length or max(len(s) for s in sequences)

    def pad(row, filler):
        fill = [filler] * (width - len(row))
        return tuple(fill + list(row)) if padding_side == "left" else tuple(list(row) + fill)

    padded = tuple(pad(s, pad_token) for s in sequences)
    ids = np.array([[vocabulary[t] for t in seq] for seq in padded], dtype=np.int64)   # (B, T)
    segment_ids = np.array([pad(d, 0) for d in documents], dtype=np.int64)             # (B, T)
    segment_ids[ids == 0] = 0                                   # a typed pad is padding too
    lengths = tuple(int(n) for n in (ids != 0).sum(axis=1))
    return TokenBatch(padded, ids, lengths, pad_token, vocabulary, tuple(notices), segment_ids,
                      padding_side, bool(packed))


def validate_pad_token(pad_token) -> str:
    """The pad token, checked: one non-empty word without spaces.

    >>> validate_pad_token("[PAD]")
    '[PAD]'
    """
    if not isinstance(pad_token, str) or not pad_token or pad_token.split() != [pad_token]:
        raise MaskAttnError(f"the pad token must be one word without spaces, got {pad_token!r}")
    if len(pad_token) > MAX_PAD_TOKEN_CHARS:
        raise MaskAttnError(f"the pad token must be at most {MAX_PAD_TOKEN_CHARS} characters, "
                            f"got {len(pad_token)}")
    return pad_token


def position_labels(tokens) -> list[str]:
    """Unique axis labels: the position, a dot, the token (repeated tokens stay apart).

    >>> position_labels(["the", "cat", "the"])
    ['0·the', '1·cat', '2·the']
    """
    return [f"{i}·{tok}" for i, tok in enumerate(tokens)]


def _stable_seed(*parts) -> int:
    """A 64-bit seed from text, identical on every machine and run."""
    data = "\x1f".join(str(p) for p in parts).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(data, digest_size=8).digest(), "little")


def token_vector(token: str, d_model: int, seed: int = 0) -> np.ndarray:
    """A deterministic standard-normal vector ``(d_model,)`` for ``token``.

    >>> bool(np.all(token_vector("cat", 8) == token_vector("cat", 8)))
    True
    >>> token_vector("cat", 4).round(3).tolist()
    [-1.317, 0.689, -0.365, 0.32]
    """
    rng = np.random.default_rng(_stable_seed("token", seed, token))
    return rng.standard_normal(d_model)


def positional_encoding(length: int, d_model: int) -> np.ndarray:
    """The tutorial's sinusoidal encoding, shape ``(length, d_model)``.

    angle(pos, i) = pos / 10000^(2·(i//2) / d_model); sin on even columns, cos on odd.

    >>> positional_encoding(2, 4).round(4).tolist()
    [[0.0, 1.0, 0.0, 1.0], [0.8415, 0.5403, 0.01, 1.0]]
    """
    pos = np.arange(length)[:, np.newaxis]                             # (T, 1)
    i = np.arange(d_model)[np.newaxis, :]                              # (1, d)
    angles = pos / np.power(10000, (2 * (i // 2)) / np.float64(d_model))  # (T, d)
    angles[:, 0::2] = np.sin(angles[:, 0::2])
    angles[:, 1::2] = np.cos(angles[:, 1::2])
    return angles


def embed(tokens, d_model: int, seed: int = 0, positional: bool = True) -> np.ndarray:
    """Token vectors for a padded batch, ``(B, T) -> (B, T, d_model)`` float64.

    >>> embed([["a", "b"], ["b", "a"]], 4, positional=False)[0, 0].tolist() == token_vector("a", 4).tolist()
    True
    """
    check_d_model(d_model)
    if isinstance(tokens, str) or not all(isinstance(seq, (list, tuple)) for seq in tokens):
        raise MaskAttnError(f"tokens must be a batch of token sequences (B, T), got {tokens!r:.60}")
    tokens = [list(seq) for seq in tokens]
    lengths = {len(seq) for seq in tokens}
    if len(lengths) != 1 or lengths == {0}:
        raise MaskAttnError(f"tokens must be B >= 1 padded sequences of one length T >= 1, got lengths "
                            f"{sorted(lengths)}")
    if not all(isinstance(t, str) for seq in tokens for t in seq):
        raise MaskAttnError("tokens must be strings")
    vectors = {t: token_vector(t, d_model, seed) for seq in tokens for t in seq}  # one per distinct token
    x = np.array([[vectors[t] for t in seq] for seq in tokens], dtype=np.float64)
    x = x.reshape(len(tokens), -1, d_model)                                # (B, T, d)
    if positional:
        x = x + positional_encoding(x.shape[1], d_model)[np.newaxis]     # (B, T, d)
    return x


def check_d_model(d_model) -> int:
    if isinstance(d_model, bool) or not isinstance(d_model, (int, np.integer)) or not 1 <= d_model <= 1024:
        raise MaskAttnError(f"d_model must be an integer from 1 to 1024, got {d_model!r}")
    return int(d_model)


def project_qkv(x, seed: int = 0, mode: str = "projected"):
    """Q, K, V from token vectors ``x (..., T, d)``, each ``(..., T, d)``.

    ``projected``: three seeded ``(d, d)`` matrices with N(0, 1/d) entries, so
    scaled logits are of order 1. ``shared``: Q = K = x (a token scores highest
    with itself and its copies), V = a seeded projection of x.

    >>> x = embed([["a", "b", "a"]], 8, positional=False)
    >>> q, k, v = project_qkv(x, mode="shared")
    >>> logits = q[0] @ k[0].T
    >>> int(np.argmax(logits[2]) in (0, 2))
    1
    """
    if mode not in QK_MODES:
        raise MaskAttnError(f"mode must be one of {', '.join(QK_MODES)}, got {mode!r}")
    x = as_array(x, "x").astype(np.float64)
    if x.ndim < 2 or x.shape[-1] == 0:
        raise MaskAttnError(f"x must have shape (..., T, d) with d >= 1, got shape {x.shape}")
    d = x.shape[-1]
    rng = np.random.default_rng(_stable_seed("projections", seed, d))
    w_q, w_k, w_v = rng.standard_normal((3, d, d)) / np.sqrt(d)      # (3, d, d)
    if mode == "shared":
        return x, x, x @ w_v
    return x @ w_q, x @ w_k, x @ w_v
