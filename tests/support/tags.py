"""Photos whose CLIP embeddings mean something by construction, for the tags task: a
stand-in sidecar embeds each photo near the concepts the test gave it, and each label
prompt ("一张柯基的照片。") near the concept its label names, so which labels a photo gets
is known in advance. Labels of no concept get a random direction of their own (as
unrelated texts are, in a real CLIP space: nearly orthogonal to everything)."""

from __future__ import annotations

import re
from collections.abc import Callable

import numpy as np

from tests.support.standin import DIM, analysis, text_embeddings

# a concept is an axis; a label names a concept by its Chinese name
CONCEPTS = {"柯基": 1, "狗": 2, "海滩": 3, "猫": 4, "日落": 5}
# the built-in labels' Chinese synonyms mean the same (a prompt with one is embedded alike)
SYNONYMS = {"小狗": "狗", "狗狗": "狗", "沙滩": "海滩", "海边": "海滩", "小猫": "猫", "猫咪": "猫",
            "夕阳": "日落", "落日": "日落"}  # fmt: skip
# the label inside the default prompt templates (setting label_templates)
PROMPT = re.compile(r"^(?:一张)?(.+?)的(?:照片|图片)。$|^这是(.+)。$")


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v)


def concept_vector(concepts: dict[str, float]) -> np.ndarray:
    """A photo of these concepts, each with its weight."""
    v = np.zeros(DIM)
    for name, weight in concepts.items():
        v[CONCEPTS[name]] = weight
    return unit(v)


def text_vector(text: str) -> np.ndarray:
    """A prompt's embedding: its label's concept, or a direction of the text's own."""
    match = PROMPT.match(text)
    name = (match.group(1) or match.group(2)) if match else text
    name = SYNONYMS.get(name, name)
    if name in CONCEPTS:
        return concept_vector({name: 1.0})
    return np.array(text_embeddings([text])["embeddings"][0])


def as_list(v: np.ndarray) -> list[float]:
    return [round(float(x), 6) for x in v]


def tags_answer(
    photos: dict[str, dict[str, float]], texts: dict[str, str] | None = None
) -> Callable[[str, dict], tuple[int, dict]]:
    """The stand-in's answers: /v1/analyze embeds the photo of that file name near its
    concepts (and reads `texts[name]` as its OCR); /v1/clip/text embeds each prompt."""

    def answer(path: str, body: dict) -> tuple[int, dict]:
        if path == "/v1/clip/text":
            embeddings = [as_list(text_vector(t)) for t in body["texts"]]
            return 200, text_embeddings([]) | {"embeddings": embeddings}
        name = body["path"].rsplit("/", 1)[1]
        document = analysis(body["tasks"], (texts or {}).get(name, ""))
        if "clip" in body["tasks"]:
            document["results"]["clip"]["embedding"] = as_list(concept_vector(photos[name]))
        return 200, document

    return answer
