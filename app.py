"""maskattn: the frame. Page config, the shared sidebar, navigation over the pages."""

import streamlit as st

from maskattn import ui

ui.disable_nagle()                       # once per process: ~40 ms off every rerun (see its docstring)
ui.load_url_state()                      # a shared link decides the state, presentation mode included
presenting = st.session_state.get(ui.Key.PRESENTATION, False)
st.set_page_config(page_title="maskattn — why −1e9 masks attention", page_icon="🎭", layout="wide",
                   initial_sidebar_state="collapsed" if presenting else "auto")
ui.figure_style()                        # a chart drawn narrower than designed (a phone) hides its cell numbers
if presenting:
    ui.presentation_style()


def page_list() -> list:
    """The pages. ``ui.once`` builds them once per process: each ``st.Page`` resolves its file's real path (about
    a tenth of a rerun under classroom load, benchmarks/README.md)."""
    PAGES = [
        st.Page("pages/playground.py", title="Playground", icon="🧮", default=True),   # at the root: /
        st.Page("pages/masks.py", title="Masks", icon="🧩", url_path="masks"),
        st.Page("pages/proof.py", title="Proof: masked keys are ignored", icon="🔬", url_path="proof"),
        st.Page("pages/lab.py", title="Constant lab", icon="🧪", url_path="lab"),
        st.Page("pages/model.py", title="In a real model", icon="🧠", url_path="model"),
        st.Page("pages/classroom.py", title="Classroom", icon="🎓", url_path="classroom"),
        st.Page("pages/conventions.py", title="Conventions", icon="🔁", url_path="conventions"),
    ]
    return PAGES


navigation = st.navigation(ui.once(page_list))
ui.sidebar()
navigation.run()
