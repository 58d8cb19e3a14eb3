"""biaslens: find, measure and reduce bias in generative face models and classifiers.

The library is the product; the CLI (``biaslens``) and the Streamlit app are thin
layers over the same functions.
"""

from biaslens.errors import BiasLensError, DataError
from biaslens.names import CELEBA_ATTRIBUTES, resolve_attribute

__version__ = "0.1.0"

__all__ = ["BiasLensError", "DataError", "CELEBA_ATTRIBUTES", "resolve_attribute", "__version__"]
