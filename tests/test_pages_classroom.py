"""The Classroom page and shared links through Streamlit's AppTest.

Presets load and render; every Inputs field survives URL → widgets; random, tampered
query strings never raise and each refused parameter is named in a visible notice.
"""

import string
from dataclasses import fields, replace

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from apptest_helpers import AppTest   # with Streamlit's Keras clean-up skipped (apptest_helpers)

from maskattn.pipeline import compute
from maskattn.presets import PRESETS, get_preset
from maskattn.ui import md_escape as ui_escape
from maskattn.state import (CONSTANT_PRESETS, URL_KEYS, Inputs, View, from_query_params, row_in_sequence,
                            sequence_in_batch, to_query_params)

from apptest_helpers import chart, decode, fresh

CLASSROOM = "pages/classroom.py"


def classroom(**query) -> AppTest:
    at = fresh(**query).run()
    assert not at.exception, at.exception
    at.switch_page(CLASSROOM).run()
    assert not at.exception, at.exception
    return at


def warnings_text(at) -> list[str]:
    return [w.value for w in at.warning]


# --- the page ------------------------------------------------------------------------------------

def test_classroom_renders_every_preset_the_link_and_the_downloads():
    at = classroom()
    assert at.title[0].value == "Classroom"
    buttons = {b.key for b in at.button}
    assert {f"load-{p.slug}" for p in PRESETS} <= buttons
    subheaders = [h.value for h in at.subheader]
    assert all(p.title in subheaders for p in PRESETS)
    downloads = at.get("download_button")
    assert len(downloads) == 7
    links = [c.value for c in at.code if c.value.startswith("http://localhost:8501/")]
    assert links == ["http://localhost:8501/"]                    # defaults: a bare link to the Playground


@pytest.mark.parametrize("preset", PRESETS, ids=[p.slug for p in PRESETS])
def test_load_button_applies_the_preset_and_opens_its_page(preset):
    at = classroom()
    at.button(key=f"load-{preset.slug}").click().run()
    assert not at.exception, at.exception
    assert at.title[0].value == {"model": "In a real model", "masks": "Masks"}.get(preset.page, "Playground")
    # the widgets hold the preset, and the Playground draws its numbers
    for f in fields(Inputs):
        if f.name in at.session_state:
            assert at.session_state[f.name] == getattr(preset.inputs, f.name), f.name
    if preset.page == "":                         # the real model's numbers: tests/test_pages_model.py
        weights = decode(chart(at, "softmax weights")["data"][0]["z"])
        expected = compute(preset.inputs).steps.weights
        np.testing.assert_array_equal(weights.astype(np.float64), expected.astype(np.float64))
    wanted = to_query_params(preset.inputs, View(preset=preset.slug))              # the link carries the preset
    assert {k: v[-1] if isinstance(v, list) else v for k, v in at.query_params.items()} == wanted
    # its story opens with it: the context and the question, until the user hides it
    story = next(m.value for m in at.markdown if m.value.startswith(f"**{ui_escape(preset.title)}**"))
    assert ui_escape(preset.question) in story
    at.button(key="hide_story").click().run()
    assert not any(m.value.startswith(f"**{ui_escape(preset.title)}**") for m in at.markdown)
    assert "preset" not in at.query_params


def test_loading_a_preset_keeps_presentation_mode_and_the_link_leaves_it_out():
    at = classroom(present="1")
    at.button(key="load-float16-nan").click().run()
    assert at.session_state["presentation"] is True and at.session_state["dtype"] == "float16"
    at.switch_page(CLASSROOM).run()
    link = next(c.value for c in at.code if c.value.startswith("http://localhost:8501/"))
    assert "dtype=float16" in link and "causal=1" in link and "present" not in link
    assert "float16 overflow" in " ".join(c.value for c in at.caption)  # names the loaded preset


def test_share_link_and_command_line_follow_the_state():
    at = classroom(causal="1", dtype="bfloat16", tokens="a b <c>\nd")
    link = next(c.value for c in at.code if c.value.startswith("http://localhost:8501/"))
    assert link == "http://localhost:8501/?tokens=a%20b%20%3Cc%3E%0Ad&causal=1&dtype=bfloat16"
    cli = next(c.value for c in at.code if c.value.startswith("python -m maskattn.export"))
    assert "--url 'tokens=a%20b%20%3Cc%3E%0Ad&causal=1&dtype=bfloat16'" in cli
    preset = classroom(**to_query_params(get_preset("wrong-polarity").inputs))
    cli = next(c.value for c in preset.code if c.value.startswith("python -m maskattn.export"))
    assert cli == "python -m maskattn.export --preset wrong-polarity --out figures/"


def test_a_link_straight_to_the_classroom_loads_its_state_and_names_a_refused_parameter():
    at = fresh(dtype="float8", causal="1")
    at.switch_page(CLASSROOM).run()                    # the first run of the session is this page
    assert not at.exception
    assert at.title[0].value == "Classroom" and at.sidebar.toggle(key="causal").value is True
    assert any("dtype='float8'" in w for w in warnings_text(at))
    assert at.session_state["causal"] is True


def test_bad_tokens_stop_the_downloads_with_a_message_not_a_traceback():
    at = fresh().run()
    at.session_state["text"] = "   "        # (AppTest drops typed widget values on a page switch)
    at.switch_page(CLASSROOM).run()
    assert not at.exception
    assert any("no tokens" in e.value for e in at.error)
    assert len(at.get("download_button")) == 0


# --- URL → widgets, every field ----------------------------------------------------------------------

#: a non-default value for every Inputs field (what the URL carries, what the widget must show)
NON_DEFAULT = {
    "text": ("hello there\nbye", "hello there\nbye"),
    "pad_token": ("[PAD]", "[PAD]"),
    "sequence": ("1", 1),
    "padding": ("0", False),
    "mask_queries": ("1", True),
    "causal": ("true", True),
    "constant": ("-1e4", "-1e4"),
    "custom_constant": ("-3e4", -30000.0),
    "method": ("fill", "fill"),
    "dtype": ("bfloat16", "bfloat16"),
    "scale": ("0", False),
    "d_model": ("64", 64),
    "seed": ("42", 42),
    "positional": ("off", False),
    "qk_mode": ("shared", "shared"),
    "padding_side": ("left", "left"),
    "window": ("3", 3),
    "window_rule": ("distance", "distance"),
    "prefix_length": ("2", 2),
    "packed": ("1", True),
    "document_mask": ("0", False),
    "drawn": ("01-00", "01-00"),
    "window_right": ("2", 2),
    "chunk": ("4", 4),
    "global_tokens": ("5, 0", "0,5"),
    "shared_prefix": ("3", 3),
    "completions": ("3", 3),
    "bias": ("t5_causal", "t5_causal"),
    "bias_head": ("4", 4),
    "bias_matrix": ("0 -1; -inf 0", "0,-1;-inf,0"),
    "row": ("2", 2),
    "presentation": ("1", True),
    "preset": ("wrong-polarity", "wrong-polarity"),
    "layer": ("2", 2),
    "head": ("7", 7),
}


def test_every_state_field_has_a_round_trip_case():
    assert set(NON_DEFAULT) == {f.name for f in fields(Inputs)} | {f.name for f in fields(View)}
    for name, (_, value) in NON_DEFAULT.items():
        assert value != getattr(Inputs(), name, getattr(View(), name, None)), name


def widget_value(at, name):
    if name == "custom_constant":                 # a text box, shown when the constant is "custom"
        return float(at.text_input(key="custom_constant_text").value)
    if name == "sequence":                        # a selectbox of labels, renewed when the labels change
        (box,) = [w for w in at.sidebar.selectbox if w.label == "Sequence to view"]
        assert box.value.startswith(f"{at.session_state['sequence'] + 1}: ")
        return at.session_state["sequence"]
    if name == "global_tokens":                   # a text box, checked and made canonical into the field
        return at.text_input(key="global_text").value
    if name == "bias_matrix":                     # a text area (rows on lines) shown for bias=typed, made compact
        try:
            return ";".join(",".join(row.split()) for row in at.text_area(key="bias_text").value.splitlines())
        except KeyError:                          # another bias is chosen: the matrix waits in the state
            return at.session_state[name]
    if name in ("drawn", "preset", "layer", "head"):   # set on another page, not a sidebar widget
        return at.session_state[name]
    for kind in ("text_area", "text_input", "selectbox", "toggle", "select_slider", "slider", "number_input", "radio",
                 "segmented_control"):
        try:
            return getattr(at, kind)(key=name).value
        except KeyError:
            continue
    raise AssertionError(f"no widget with key {name!r}")


@pytest.mark.parametrize("name", list(NON_DEFAULT))
def test_url_parameter_sets_its_widget(name):
    raw, value = NON_DEFAULT[name]
    query = {URL_KEYS[name]: raw}
    if name == "custom_constant":
        query[URL_KEYS["constant"]] = "custom"
    if name in ("sequence",):
        query[URL_KEYS["text"]] = "a b c\nd e"   # a second sequence to select
    if name == "window_rule":                     # shown only with a window
        query[URL_KEYS["window"]] = "3"
    if name == "document_mask":                   # shown only when packed
        query[URL_KEYS["packed"]] = "1"
    if name in ("window_right", "global_tokens"):  # shown only with a window
        query[URL_KEYS["window"]] = "3"
    if name == "completions":                     # shown only with a shared prefix
        query[URL_KEYS["shared_prefix"]] = "2"
    if name == "bias_head":                       # shown only with a bias
        query[URL_KEYS["bias"]] = "alibi"
    if name == "bias_matrix":                     # shown only with a typed bias
        query[URL_KEYS["bias"]] = "typed"
    at = fresh(**query).run()
    assert not at.exception, at.exception
    assert not at.warning, [w.value for w in at.warning]
    assert widget_value(at, name) == value
    # and the URL written back is the same parameter, in its canonical form
    written = {k: v for k, v in at.query_params.items()}
    flat = {k: (v[-1] if isinstance(v, list) else v) for k, v in written.items()}
    state = ((replace(Inputs(), **{name: value}), View()) if hasattr(Inputs(), name)
             else (Inputs(), replace(View(), **{name: value})))
    assert flat[URL_KEYS[name]] == to_query_params(*state)[URL_KEYS[name]]


#: packing makes one row, so "sequence 2" cannot be kept alongside it (each is checked alone above)
TOGETHER = {name: value for name, value in NON_DEFAULT.items() if name not in ("packed", "document_mask")}


def test_all_fields_at_once_survive_a_page_switch():
    query = {URL_KEYS[name]: raw for name, (raw, _) in TOGETHER.items() if name != "constant"}
    query[URL_KEYS["constant"]] = "custom"
    query[URL_KEYS["text"]] = "a b c\nd e"
    at = fresh(**query).run()
    assert not at.exception and not at.warning
    at.switch_page(CLASSROOM).run()
    assert not at.exception
    for name, (_, value) in TOGETHER.items():
        if name in ("constant", "text", "row"):
            continue
        assert widget_value(at, name) == value, name
    assert at.session_state["row"] == 2
    link = next(c.value for c in at.code if c.value.startswith("http://localhost:8501/"))
    for name, (raw, value) in TOGETHER.items():
        if name not in ("constant", "text", "presentation"):   # the share link leaves presentation out
            assert f"{URL_KEYS[name]}=" in link, name


def test_a_link_straight_to_the_playground_loads_its_state():
    at = fresh(causal="1", dtype="float16")
    at.switch_page("pages/playground.py").run()
    assert not at.exception
    assert at.sidebar.toggle(key="causal").value is True
    assert at.sidebar.selectbox(key="dtype").value == "float16"


# --- tampered links: a few hundred random query strings ----------------------------------------------------

BOOL_KEYS = ["padding", "qpad", "causal", "scale", "pe", "present"]
CHOICES = {"dtype": ["float16", "bfloat16", "float32", "float64"], "method": ["add", "fill", "safe"],
           "const": list(CONSTANT_PRESETS), "qk": ["projected", "shared"],
           "d": ["4", "8", "16", "32", "64"]}
TRUTHY = {"1", "0", "true", "false", "yes", "no", "on", "off"}
NASTY = ["", " ", "NaN", "nan", "-inf", "inf", "-1", "-0", "1e999", "9" * 40, "<script>alert(1)</script>",
         "<b>x</b>", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢", "日本語", "\u202e", "%00", "'\"", "1.5", "0x10", "¹", "٣"]
junk_text = st.one_of(st.sampled_from(NASTY), st.text(max_size=30))


@st.composite
def tampered_query(draw):
    """(query dict, set of keys that must be refused)."""
    query, refused = {}, set()
    for key in draw(st.sets(st.sampled_from(BOOL_KEYS + list(CHOICES) + ["seq", "row", "seed", "value",
                                                                          "tokens", "pad"]), max_size=8)):
        bad = draw(st.booleans())
        if key in BOOL_KEYS:
            value = draw(junk_text.filter(lambda s: s.strip().lower() not in TRUTHY)) if bad else \
                draw(st.sampled_from(sorted(TRUTHY)))
        elif key in CHOICES:
            value = draw(junk_text.filter(lambda s: s not in CHOICES[key] and s not in ("128", "zero_logits",
                                                                                          "multiply_weights", "0")))\
                if bad else draw(st.sampled_from(CHOICES[key]))
        elif key in ("seq", "row", "seed"):
            value = draw(st.one_of(st.integers(-10**30, -1).map(str), st.just(str(10**30)),
                                   junk_text.filter(lambda s: not s.strip().isdigit()))) if bad else \
                str(draw(st.integers(0, 3)))
        elif key == "value":
            value = draw(st.sampled_from(["nan", "NaN", "", "abc", "<b>", "1e", "--1", "日本"])) if bad else \
                draw(st.sampled_from(["-1e9", "-inf", "-3.5", "7", "−1e4"]))
        elif key == "tokens":
            value = draw(st.sampled_from(["", "  ", "\n\n", "\t"])) if bad else \
                draw(st.one_of(st.sampled_from(["<b>bold</b> <script>x</script>", "日本 語 𝔘",
                                                "a " * 300, "x" * 5000, "$x$ **y** [z](http://e)"]),
                               st.text(alphabet=string.ascii_letters + " \n<>&", min_size=1, max_size=40)
                               .filter(lambda s: s.strip())))
        else:  # pad
            value = draw(st.sampled_from(["", "two words", "x" * 40, " "])) if bad else \
                draw(st.sampled_from(["<pad>", "[PAD]", "0", "日本", "<b>"]))
        query[key] = value
        if bad:
            refused.add(key)
    if "seq" in query and "seq" not in refused and sequence_in_batch(from_query_params(query)[0])[1]:
        refused.add("seq")                                # a whole number, but past the typed batch
    inputs, view, _ = from_query_params(query)
    if "row" in query and "row" not in refused and row_in_sequence(sequence_in_batch(inputs)[0], view)[1]:
        refused.add("row")                                # a whole number, but past the sequence on view
    for junk_key in draw(st.lists(st.text(min_size=1, max_size=8).filter(lambda k: k not in URL_KEYS.values()
                                                                         and k != "embed"), max_size=2)):
        query[junk_key] = draw(junk_text)
    return query, refused


def check_tampered_link(case, page=None):
    query, refused = case
    at = fresh(**query)
    if page:
        at.switch_page(page)                              # the link points straight at this page
    at.run()
    assert not at.exception, (query, at.exception)
    shown = warnings_text(at)
    for key in refused:
        assert any(f"Ignored URL parameter {key}=" in w for w in shown), (key, query, shown)
    named = {w.split("Ignored URL parameter ", 1)[1].split("=", 1)[0] for w in shown
             if w.startswith("Ignored URL parameter ")}
    assert named == refused, (query, shown)
    return at


# The Playground is where shared links land; the Classroom page is cheaper to render, so it takes
# most of the few hundred examples. Both stay bounded (about a minute together on an idle 2-core machine).
SLOW_CHECKS = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])


@given(case=tampered_query())
@hsettings(max_examples=50, **SLOW_CHECKS)
def test_random_links_to_the_playground_never_raise_and_name_each_refused_parameter(case):
    at = check_tampered_link(case)
    heading = at.title[0].value if at.title else at.markdown[0].value     # presentation mode: a slide, no title
    assert heading == "Playground" or heading.startswith("## Playground: what happened")
    assert at.get("plotly_chart") or at.error              # the figures, or a friendly message


@given(case=tampered_query())
@hsettings(max_examples=150, **SLOW_CHECKS)
def test_random_links_to_the_classroom_never_raise_and_name_each_refused_parameter(case):
    at = check_tampered_link(case, CLASSROOM)
    assert at.title[0].value == "Classroom"
    assert at.get("download_button") or at.error


@pytest.mark.parametrize("raw", ["nope", "<script>alert(1)</script>"])
def test_an_unknown_or_hostile_preset_in_a_link_is_refused_by_name(raw):
    at = fresh(preset=raw).run()
    assert not at.exception
    assert any("preset=" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.session_state["preset"] == "" and "preset" not in at.query_params


def test_a_row_past_the_sequence_is_refused_by_name_and_leaves_the_url():
    at = fresh(row="99").run()
    assert not at.exception
    assert any("row=99" in w.value and "6 tokens" in w.value for w in at.warning), [w.value for w in at.warning]
    assert at.session_state["row"] == 0 and "row" not in at.query_params
