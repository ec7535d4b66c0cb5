"""maskattn: the frame. Page config, the shared sidebar, navigation over the pages."""

import streamlit as st

from maskattn import ui

st.set_page_config(page_title="maskattn — why −1e9 masks attention", page_icon="🎭", layout="wide")

PAGES = [
    st.Page("pages/playground.py", title="Playground", icon="🧮", url_path="playground", default=True),
]

navigation = st.navigation(PAGES)
ui.sidebar()
navigation.run()
