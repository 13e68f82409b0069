"""Embeddings as JSON: each float32 written with the fewest digits that read back exactly."""

import numpy as np


def float_list(vector: np.ndarray) -> list[float]:
    # str() of a float32 is its shortest round-trip form ("0.0123"); float() of that prints
    # the same, where float(np.float32) would print 17 digits of binary noise.
    return [float(str(value)) for value in np.asarray(vector, dtype=np.float32).ravel()]


def json_array_string(vector: np.ndarray) -> str:
    """Immich's wire form for an embedding: a JSON array inside a string."""
    values = np.asarray(vector, dtype=np.float32).ravel()
    return "[" + ",".join(str(value) for value in values) + "]"
