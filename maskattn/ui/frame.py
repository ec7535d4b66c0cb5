"""The frame's plumbing: the pages/ guard, the transport fix, and turning bad input into a message."""

from __future__ import annotations

import copy
from dataclasses import dataclass
import functools
import gc
import socket

import streamlit as st

from ..errors import MaskAttnError
from ..pipeline import PlaygroundResult
from ..presets import PRESETS
from ..state import Inputs, View, to_query_params
from . import cache
from .cache import Look, look
from .keys import Key
from .render import md_escape
from .session import current_inputs, current_view, url_notices
from .sidebar import restore_example_button


def ensure_frame() -> None:
    """Rerun through the frame (``app.py``) if Streamlit ran this page script on its own.

    Call first in every page. With page files in a folder named ``pages/``, Streamlit starts in its
    legacy multipage mode: until some session has run ``st.navigation``, a deep link such as
    ``/lab?causal=1`` (the first browser session after a server start, and every AppTest run) runs
    the page file alone, with no sidebar and no URL state. The frame's ``st.navigation`` ends that
    mode for good; if it has not run yet, end it the same way and rerun, which goes through app.py.
    """
    from streamlit.runtime.pages_manager import PagesManager  # no public switch exists in 1.67
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


@functools.cache
def disable_nagle() -> int:
    """Turn on ``TCP_NODELAY`` for this server's TCP sockets, once per process; returns how many.

    Streamlit 1.67 binds its listening socket with ``proto=0``, and asyncio only sets
    ``TCP_NODELAY`` on accepted sockets whose ``proto`` is TCP (the bug of uvicorn issue
    #3149). With Nagle's algorithm on, the messages of a rerun after the first wait for the
    browser's delayed ACK: about 40 ms on every rerun on Linux (benchmarks/README.md). The
    connections already open are fixed here, and on Linux the connections accepted later
    inherit the option from the listening socket.
    """
    fixed = 0
    for obj in gc.get_objects():
        # type(), not isinstance(): isinstance asks the object for __class__, which a weak proxy whose
        # referent is gone answers with ReferenceError (and a deprecated module alias with a warning)
        if (issubclass(type(obj), socket.socket) and obj.fileno() != -1 and obj.type == socket.SOCK_STREAM
                and obj.family in (socket.AF_INET, socket.AF_INET6)):
            try:
                obj.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                fixed += 1
            except OSError:          # closed meanwhile, or not a TCP socket after all
                pass
    return fixed


def compute_or_stop(inputs: Inputs, *, quiet: tuple[str, ...] = ()) -> PlaygroundResult:
    """The result for ``inputs``; on bad input a friendly message and ``st.stop()``. Notices that start with one
    of ``quiet`` are left to the page (which says the same its own way)."""
    try:
        result = cache.result(inputs)
    except MaskAttnError as err:
        st.error(f"{err}", icon="✋")
        if "no tokens" in str(err):
            restore_example_button()
        st.stop()
    for notice in result.notices:
        if not notice.startswith(quiet):
            st.info(notice, icon="✂️")
    return result


@dataclass(frozen=True)
class Page:
    """What every page starts from: the inputs, the view, the look it is drawn at and the result."""

    inputs: Inputs
    view: View
    look: Look
    result: PlaygroundResult | None      # None for a page that asked for no result

    @property
    def big(self) -> bool:
        """Presentation mode: a slide at projector type."""
        return self.view.presentation


_ONCE: dict[str, list] = {}


def once(build) -> list:
    """``build()``'s list of ``st.Page`` objects, built on the first call in this process and copied on every call:
    ``st.navigation`` marks the page it runs on the page object itself, which concurrent sessions must not share.
    Keyed by the function's name, so a script that defines ``build`` anew on every run still builds only once."""
    key = f"{build.__module__}.{build.__qualname__}"
    if key not in _ONCE:
        _ONCE[key] = build()
    return [copy.copy(page) for page in _ONCE[key]]


def switch_if_asked(flag: str, page_path: str) -> None:
    """Open ``page_path`` with the current state in its URL if a callback set ``flag`` in the session
    (``st.switch_page`` cannot run inside a callback). Call before ``page``."""
    ensure_frame()                      # first: its rerun must not lose the flag
    if st.session_state.pop(flag, False):
        st.switch_page(page_path, query_params=to_query_params(current_inputs(), current_view()))


def page(title: str, intro: str = "", *, presenting: str = "nothing", compute: bool = True,
         quiet: tuple[str, ...] = ()) -> Page:
    """Open a page the one way every page opens: through the frame, with the sidebar's state,
    its title and intro, the URL's notices, and the result (or a friendly stop on bad input).

    ``presenting`` says what presentation mode keeps: ``"nothing"`` (a slide: no title, no
    intro), ``"title"`` or ``"all"``. ``compute=False`` for a page that builds its own numbers.
    """
    ensure_frame()
    inputs, view = current_inputs(), current_view()
    big = view.presentation
    if not big or presenting in ("title", "all"):
        st.title(title)
    if intro and (not big or presenting == "all"):
        st.markdown(intro)
    url_notices()
    result = compute_or_stop(inputs, quiet=quiet) if compute else None
    return Page(inputs, view, look(big), result)


def preset_story(inputs: Inputs, view: View, page_path: str = "") -> None:
    """The loaded classroom preset's context and question, in a box the user can hide, on the page the preset opens
    (``page_path``: "" the Playground, "model" the real model, "masks" the Masks page); a note once the settings
    have moved on."""
    story = next((p for p in PRESETS if p.slug == view.preset and p.page == page_path), None)
    if story is None:
        return
    with st.container(border=True):
        st.markdown(f"**{md_escape(story.title)}** — {md_escape(story.context)}  \n"
                    f"**Ask the class:** {md_escape(story.question)}"
                    + (f"  \n[Go to that section ↓](#{story.section})" if story.section else "")
                    + ("  \n*The settings have changed since the preset was loaded.*" if inputs != story.inputs
                       else ""))
        st.button("Hide this story", key=Key.HIDE_STORY, on_click=lambda: st.session_state.update({Key.PRESET: ""}))
