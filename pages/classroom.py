"""Classroom: the classic cases one click away, a link that reopens the state, and downloads."""

from dataclasses import replace
from urllib.parse import quote, urlencode

import streamlit as st

from maskattn import ui
from maskattn.presets import PRESETS
from maskattn.text import spell
from maskattn.state import CONSTANT_LABELS, loopback_host, to_query_params
from maskattn.ui import Key

PLAYGROUND = "pages/playground.py"
MODEL_PAGE = "pages/model.py"
MASKS_PAGE = "pages/masks.py"
#: where a preset opens (its ``page``): the switch key and the page's name in a button
OPENS = {"": (Key.OPEN_PLAYGROUND, "the Playground"), "model": (Key.OPEN_MODEL, "the real model"),
         "masks": (Key.OPEN_MASKS, "the Masks page")}
THIS_PAGE = "classroom"
#: shown when the browser's address is unknown (e.g. in tests)
FALLBACK_BASE = "http://localhost:8501"


def load_preset(preset) -> None:
    """Button callback: put the preset into the widgets (the view, presentation mode included, stays)."""
    ui.apply_inputs(preset.inputs)
    ui.apply_view(replace(ui.current_view(), row=0, preset=preset.slug))   # its page tells its story
    st.session_state[OPENS[preset.page][0]] = True


def app_base_url() -> str:
    """The app's address in the browser, without the page path (``st.context.url`` ends in this page)."""
    url = st.context.url
    if not url:
        return FALLBACK_BASE
    url = url.rstrip("/")
    return url[: -len(THIS_PAGE) - 1] if url.endswith("/" + THIS_PAGE) else url


def share_link(params: dict) -> str:
    """The Playground's address with ``params``: the app's root, since the default page lives there
    (``/playground`` would open it too, but with a "Page not found" notice in every later session)."""
    query = urlencode(params, quote_via=quote)
    return f"{app_base_url()}/" + (f"?{query}" if query else "")


def describe(s, view) -> str:
    masks = s.mask_names() or ["none"]
    constant = spell(s.custom_constant, digits=6) if s.constant == "custom" else CONSTANT_LABELS[s.constant]
    return (f"sequence {s.sequence + 1} · masks: {', '.join(masks)} · constant {constant} · "
            f"method {s.method} · {s.dtype} · d_model {s.d_model} · seed {s.seed} · query row {view.row}")


ui.switch_if_asked(Key.OPEN_PLAYGROUND, PLAYGROUND)     # a preset was loaded by the button's callback
ui.switch_if_asked(Key.OPEN_MODEL, MODEL_PAGE)
ui.switch_if_asked(Key.OPEN_MASKS, MASKS_PAGE)
page = ui.page("Classroom", "Load a classic case with one click, send the class a link that reopens exactly what you "
               "see, and download the numbers and figures for your slides.", presenting="title", compute=False)
inputs, view, big = page.inputs, page.view, page.big

current = next((p for p in PRESETS if p.inputs == inputs), None)
params = to_query_params(inputs, replace(view, presentation=False))   # students get the normal view


def share_section() -> None:
    st.header("Share this state")
    st.markdown("Copy this link (the button on the right of the box) and send it to the class: it opens the "
                "Playground with every control as it is now. Settings left at their defaults, and "
                "presentation mode, are left out.")
    link = share_link(params)
    st.code(link, language=None, wrap_lines=True)
    host = loopback_host(link)
    if host:
        st.warning(f"This link works only on this computer: the page is open on `{host}`, a loopback address. To "
                   "give the class a link, serve the app to the room (`streamlit run app.py --server.address "
                   "0.0.0.0 --logger.hideWelcomeMessage true`), open it through this computer's network address "
                   "(such as `http://192.168.1.20:8501`, from `hostname -I` or `ipconfig`) and copy the link from "
                   "there. The README's “Serve it to a "
                   "class” says what that exposes.", icon="🏫")
    st.caption(f"Now: {ui.md_escape(describe(inputs, view))}"
               + (f" — the preset “{ui.md_escape(current.title)}”." if current else "."))


def downloads_section() -> None:
    st.header("Download the numbers")
    result = ui.compute_or_stop(inputs)
    st.markdown("One CSV per matrix, with token labels on the rows (queries) and columns (keys). Numbers are "
                f"the exact {result.steps.dtype} values; NaN and ±inf are written as `NaN`, `inf`, `-inf`. "
                "The JSON holds the whole state and every intermediate result.")
    ui.matrix_downloads(result)
    st.markdown("Figures: the camera icon above each chart on the Playground saves a high-resolution PNG. "
                "For SVG, or for figures without a browser, use the command line:")
    source = (f"--preset {current.slug}" if current else
              f"--url '{urlencode(params, quote_via=quote)}'" if params else "")
    st.code(" ".join(f"python -m maskattn.export {source} --out figures/".split()), language="bash")


def presets_section() -> None:
    st.header("Presets")
    per_row = 2 if big else 3
    for start in range(0, len(PRESETS), per_row):
        columns = st.columns(per_row)
        for column, preset in zip(columns, PRESETS[start:start + per_row]):
            with column.container(border=True):
                st.subheader(preset.title, anchor=False)
                st.markdown(ui.md_escape(preset.context))
                st.markdown(f"**Ask the class:** {ui.md_escape(preset.question)}")
                loaded = current is not None and current.slug == preset.slug
                where = OPENS[preset.page][1]
                st.button(f"Loaded — open {where}" if loaded else "Load", key=f"load-{preset.slug}",
                          on_click=load_preset, args=(preset,), type="primary" if loaded else "secondary",
                          help=f"Preset {preset.slug}: set every control, then open {where}")


def tips_section() -> None:
    st.header("Tips for teachers")
    st.markdown(
        "- **Presentation mode** is the last switch in the sidebar: a slide — projector type, the verdict, the "
        "masked logits and the weights on one screen at 1280×720 (fold the sidebar away with its « button; a "
        "link with `?present=1` opens folded). The share link leaves it out, so students get the normal view.\n"
        "- **Ask before you show**: read the question on a preset, let the class guess, then load it.\n"
        "- **Change one thing at a time**: after loading a preset, flip one control (dtype, constant or "
        "method) and ask what will change before the page redraws.\n"
        "- **Hover or read the table**: every heatmap cell carries its exact value in the hover text, and "
        "the row check table lists row sums, NaN and leaked weight.\n"
        "- **Slides**: the camera icon saves a figure laid out at its own size, whatever your window; the CSVs "
        "and figures carry the same numbers as the screen, and the file names carry the whole state (tokens, "
        "masks, constant, method, dtype, model), so two cases never overwrite each other."
    )


# in front of the class the presets come first; at the desk, the link and the downloads
sections = ([presets_section, share_section, downloads_section] if big else
            [share_section, downloads_section, presets_section, tips_section])
for section in sections:
    section()
