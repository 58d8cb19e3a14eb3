"""The biaslens Streamlit app: ``biaslens app`` (or ``streamlit run`` this file).

A thin layer over the library: the sidebar picks models and data (shipped defaults
with zero configuration), each page calls the same audit functions as the CLI and shows
their figures and tables. Every error reaches the user as a message, never a traceback.
"""

from __future__ import annotations

import streamlit as st
import torch

from biaslens.app import (
    page_counterfactual,
    page_dataset,
    page_fairness,
    page_population,
    page_steering,
)
from biaslens.app.context import sidebar
from biaslens.errors import BiasLensError

#: Page title -> render function, in sidebar order.
PAGES = {
    "Steering": page_steering.render,
    "Dataset": page_dataset.render,
    "Population": page_population.render,
    "Counterfactual": page_counterfactual.render,
    "Fairness": page_fairness.render,
}


def main() -> None:
    """Draw the sidebar and the chosen page."""
    st.set_page_config(page_title="biaslens", layout="wide")
    torch.set_num_threads(min(4, torch.get_num_threads()))
    st.sidebar.title("biaslens")
    page = st.sidebar.radio("page", list(PAGES), key="page")
    ctx = sidebar()
    try:
        PAGES[page](ctx)
    except BiasLensError as exc:
        st.error(str(exc))
    except Exception as exc:  # a bug or an unreadable input: say so, without a traceback
        st.error(f"unexpected error ({type(exc).__name__}): {exc}")


main()
