"""Helpers for tests and benchmarks: tiny models in the real formats (see tiny_models)."""

__all__ = ["draw_tiny_face", "make_tiny_clip_checkpoint", "make_tiny_face_pack"]


def __getattr__(name: str):
    # Imported on first use, so `python -m inference_sidecar.testing.tiny_models` does not load
    # the module twice and importing this package stays cheap.
    if name in __all__:
        from inference_sidecar.testing import tiny_models

        return getattr(tiny_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
