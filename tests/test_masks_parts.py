"""The table of mask parts: each part's "may attend" rule is its NumPy builder, and the table drives MaskSpec."""

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from maskattn.masks import MASK_PARTS, NEWER_PARTS, PARTS, MaskSpec, parts_on
from maskattn.masks.parts import PART, PLACEHOLDERS, Batch, completion_lengths
from maskattn.masks.patterns import left_padding, shared_prefix_ids


def numpy_names(ids, segments, drawn, spec=None) -> dict:
    """The placeholders as NumPy arrays that broadcast to (B, 1, Tq, Tk) (a shared prefix's parts as documents)."""
    T = ids.shape[1]
    if spec is not None and spec.shared_prefix is not None:
        segments = np.broadcast_to(shared_prefix_ids(spec.shared_prefix, completion_lengths(spec, T)), ids.shape)
    return {"q": np.arange(T)[:, None], "kv": np.arange(T)[None, :],
            "id_q": ids[:, None, :, None], "id_k": ids[:, None, None, :],
            "doc_q": segments[:, None, :, None], "doc_k": segments[:, None, None, :],
            "drawn": np.asarray(drawn if drawn is not None else np.zeros((T, T)))}


def evaluate(rule: str, names: dict, spec: MaskSpec) -> np.ndarray:
    code = rule.format(**{name: f"_{name}" for name in PLACEHOLDERS})
    scope = {f"_{name}": value for name, value in names.items()}
    scope |= {"WINDOW": spec.window, "PREFIX": spec.prefix_length, "WINDOW_RIGHT": spec.window_right,
              "CHUNK": spec.chunk, "LEFT_PADDING": left_padding(names["id_q"][:, 0, :, 0])[:, None, None, None]}
    return np.asarray(eval(code, {}, scope))                          # noqa: S307 (the table's own rules)


@st.composite
def specs(draw):
    T = draw(st.integers(1, 7))
    B = draw(st.integers(1, 3))
    ids = np.array(draw(st.lists(st.lists(st.integers(0, 3), min_size=T, max_size=T), min_size=B, max_size=B)))
    segments = np.array(draw(st.lists(st.lists(st.integers(0, 2), min_size=T, max_size=T), min_size=B,
                                      max_size=B)))
    drawn = draw(st.none() | st.lists(st.lists(st.integers(0, 1), min_size=T, max_size=T), min_size=T, max_size=T))
    causal, window = draw(st.booleans()), draw(st.none() | st.integers(1, 8))
    prefix, chunk, segmented = draw(st.none() | st.integers(0, T)), draw(st.none() | st.integers(1, 8)), draw(st.booleans())
    completions = draw(st.integers(1, T))
    shared = None if segmented else draw(st.none() | st.integers(0, T - completions))
    two_sided = window is not None and not (causal or prefix is not None or chunk is not None or shared is not None)
    right = draw(st.none() | st.integers(0, 8)) if two_sided else None
    lifted = window is not None or chunk is not None
    globals_ = tuple(draw(st.lists(st.integers(0, T - 1), max_size=3))) if lifted else ()
    spec = MaskSpec(padding=draw(st.booleans()), query_padding=draw(st.booleans()), causal=causal,
                    window=window, window_rule=draw(st.sampled_from(["keys", "distance"])),
                    prefix_length=prefix, segments=segmented, drawn=None if drawn is None else tuple(map(tuple, drawn)),
                    window_right=right, chunk=chunk, global_tokens=globals_, shared_prefix=shared,
                    completions=completions)
    return spec, ids, segments


@settings(max_examples=300, deadline=None)
@given(specs())
def test_every_rule_is_its_builder(case):
    spec, ids, segments = case
    B, T = ids.shape
    names = numpy_names(ids, segments, spec.drawn, spec)
    for part in parts_on(spec):
        built = np.broadcast_to(part.build(spec, Batch(ids, 0, segments)) == 1, (B, 1, T, T))
        attend = np.broadcast_to(evaluate(part.rule("attend", spec.window_rule, spec), names, spec), (B, 1, T, T))
        blocked = np.broadcast_to(evaluate(part.rule("blocked", spec.window_rule, spec), names, spec), (B, 1, T, T))
        if part.opens:                                   # global tokens: the cells they open are where they "attend"
            assert np.array_equal(attend, built) and np.array_equal(~blocked, built), part.name
            continue
        assert np.array_equal(~attend, built), part.name
        assert np.array_equal(blocked, built), part.name


@settings(max_examples=200, deadline=None)
@given(specs())
def test_the_spec_is_the_and_of_its_rules(case):
    spec, ids, segments = case
    B, T = ids.shape
    names = numpy_names(ids, segments, spec.drawn, spec)
    attend = np.ones((B, 1, T, T), bool)
    lift = (evaluate(PART["global_tokens"].rule("attend", spec=spec), names, spec) if spec.global_tokens
            else np.zeros((T, T), bool))
    for part in parts_on(spec):
        if part.opens:                                   # said inside the parts it lifts, as every dialect writes it
            continue
        rule = evaluate(part.rule("attend", spec.window_rule, spec), names, spec)
        attend &= rule | lift if part.lifted else rule
    mask = spec.build(ids, segment_ids=segments)
    if mask is None:
        assert not parts_on(spec) and attend.all()
    else:
        assert np.array_equal(mask == 1, ~attend)


def test_the_table_names_every_part_once():
    assert [p.name for p in PARTS] == list(MASK_PARTS) and len(set(MASK_PARTS)) == len(PARTS)
    assert list(NEWER_PARTS) == ["prefix", "window", "window_right", "chunk", "global_tokens", "shared_prefix",
                                 "document", "drawn"]
    for part in PARTS:                                           # every rule uses known placeholders only
        for rule in (part.attend, part.blocked):
            rule.replace("{lt}", "").replace("{ge}", "").format(**{name: "x" for name in PLACEHOLDERS})


@pytest.mark.parametrize("spec, names", [
    (MaskSpec(), []),
    (MaskSpec(padding=True, causal=True), ["padding", "look_ahead"]),
    (MaskSpec(window=2), ["look_ahead", "window"]),
    (MaskSpec(prefix_length=2, window=2), ["prefix", "window"]),        # a prefix LM replaces the look-ahead
    (MaskSpec(segments=True, drawn=((0,),)), ["document", "drawn"]),
])
def test_which_parts_are_on(spec, names):
    assert [p.name for p in parts_on(spec)] == names
