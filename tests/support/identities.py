"""Synthetic face identities, ArcFace-like, for the people tests and bench/people.py.

An identity is a centre on the 512-d sphere. A face is the centre pulled towards a random
direction: its cosine to the centre is its quality (ArcFace's own same-person similarity,
about 0.65 for two clear faces, 0.3-0.45 when one is a profile or blurred; two strangers
about 0 +- 0.05). What makes grouping hard is built in, each seeded:
  - hard faces (profiles, blur, dark): a share of every identity's faces, far from its centre;
  - siblings: pairs of identities whose centres are close (cosine 0.55-0.7);
  - children: a centre that drifts over the years (its first and last look at cosine 0.25);
  - strangers seen once: identities with a single face.
Scores are BCubed (precision, recall, F1 per face, averaged); a face with no person is a
group of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

DIM = 512


@dataclass
class Face:
    identity: int
    embedding: np.ndarray  # float32, unit length
    year: float  # when the photo was taken, years after the library's start
    hard: bool = False


@dataclass
class Library:
    faces: list[Face] = field(default_factory=list)

    @property
    def labels(self) -> np.ndarray:
        return np.array([f.identity for f in self.faces])

    @property
    def embeddings(self) -> np.ndarray:
        return np.stack([f.embedding for f in self.faces])


def unit(v: np.ndarray) -> np.ndarray:
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def towards(rng: np.random.Generator, centre: np.ndarray, cosine: float) -> np.ndarray:
    """A unit vector at the given cosine to centre, in a random direction."""
    noise = rng.standard_normal(DIM)
    noise -= noise @ centre * centre
    return unit(cosine * centre + np.sqrt(1 - cosine**2) * unit(noise)).astype(np.float32)


def _faces_of(rng, identity, centre_at, count, hard_share, years=(0.0, 20.0)) -> list[Face]:
    faces = []
    for _ in range(count):
        year = float(rng.uniform(*years))
        hard = bool(rng.random() < hard_share)
        quality = rng.uniform(0.45, 0.62) if hard else rng.uniform(0.68, 0.88)
        faces.append(Face(identity, towards(rng, centre_at(year), quality), year, hard))
    return faces


def library(
    seed: int = 1,
    identities: int = 60,
    sibling_pairs: int = 6,
    children: int = 3,
    strangers: int = 40,
    hard_share: float = 0.25,
    median_faces: int = 12,
) -> Library:
    """A library of faces in a random order of arrival."""
    rng = np.random.default_rng(seed)
    faces: list[Face] = []
    identity = 0

    def counts() -> int:
        return int(np.clip(rng.lognormal(np.log(median_faces), 0.8), 3, 20 * median_faces))

    for _ in range(identities):
        centre = unit(rng.standard_normal(DIM))
        faces += _faces_of(rng, identity, lambda _y, c=centre: c, counts(), hard_share)
        identity += 1
    for _ in range(sibling_pairs):
        first = unit(rng.standard_normal(DIM))
        second = towards(rng, first, rng.uniform(0.6, 0.75))
        for centre in (first, second):
            faces += _faces_of(rng, identity, lambda _y, c=centre: c, counts(), hard_share)
            identity += 1
    for _ in range(children):
        young = unit(rng.standard_normal(DIM))
        grown = towards(rng, young, 0.25)

        def look(year: float, a=young, b=grown) -> np.ndarray:
            t = year / 18.0
            return unit((1 - t) * a + t * b)

        faces += _faces_of(rng, identity, look, 3 * median_faces, hard_share, years=(0.0, 18.0))
        identity += 1
    for _ in range(strangers):
        centre = unit(rng.standard_normal(DIM))
        faces += _faces_of(rng, identity, lambda _y, c=centre: c, 1, 0.0)
        identity += 1
    order = rng.permutation(len(faces))
    return Library([faces[i] for i in order])


def bcubed(truth: np.ndarray, found: np.ndarray) -> tuple[float, float, float]:
    """BCubed precision, recall and F1. found: a group per face; -1 is a group of its own."""
    found = found.copy()
    alone = found < 0
    found[alone] = found.max(initial=0) + 1 + np.arange(alone.sum())
    same_truth = truth[:, None] == truth[None, :]
    same_found = found[:, None] == found[None, :]
    both = (same_truth & same_found).sum(axis=1)
    precision = float(np.mean(both / same_found.sum(axis=1)))
    recall = float(np.mean(both / same_truth.sum(axis=1)))
    return precision, recall, 2 * precision * recall / (precision + recall)


def immich_rule(
    embeddings: np.ndarray, max_distance: float = 0.5, min_faces: int = 3
) -> np.ndarray:
    """Immich's facial recognition as its documentation and job describe it, in order of
    arrival: a face with at least min_faces faces (itself among them) within max_distance
    is a core face; it joins the person of one of those matches, else of the nearest face
    with a person within max_distance, else founds a person. Other faces wait for a
    deferred pass, where they join the nearest face with a person within max_distance."""
    similarity = embeddings @ embeddings.T
    person = np.full(len(embeddings), -1)
    founded = 0
    deferred = []
    for face in range(len(embeddings)):
        near = np.flatnonzero(1 - similarity[face] <= max_distance)
        near = near[np.argsort(-similarity[face, near])]
        if len(near) < min_faces:
            deferred.append(face)
            continue
        founded = _join_or_found(face, near, person, founded, min_faces, found_new=True)
    for face in deferred:
        near = np.flatnonzero(1 - similarity[face] <= max_distance)
        near = near[np.argsort(-similarity[face, near])]
        _join_or_found(face, near, person, founded, min_faces, found_new=False)
    return person


def _join_or_found(face, near, person, founded, min_faces, found_new) -> int:
    top = [n for n in near[:min_faces] if person[n] >= 0]  # the matches Immich's search returns
    with_person = [n for n in near if person[n] >= 0 and n != face]
    if top:
        person[face] = person[top[0]]
    elif with_person:
        person[face] = person[with_person[0]]
    elif found_new:
        person[face] = founded
        founded += 1
    return founded
