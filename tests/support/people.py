"""Photos of known faces through the real pipeline: a stand-in sidecar answers the faces
task (and OCR) of each photo with the faces the test gave it, the worker stores them and
runs the people task, as it would with the real sidecar."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import psycopg

from tests.support import pictures
from tests.support.identities import Face, Library, library
from tests.support.pipeline import database_of, run_worker
from tests.support.standin import StandinSidecar, analysis

IDENTITY_COLOURS = [
    (224, 172, 105),
    (141, 85, 36),
    (255, 219, 172),
    (198, 134, 66),
    (241, 194, 125),
]


def face_answer(faces: list[Face]) -> dict:
    """The faces result of a photo holding these faces, side by side in the middle of a
    640x480 picture."""
    return {
        "model": "standin",
        "faces": [
            {
                "box": [240.0 + 110 * n, 160.0, 320.0 + 110 * n, 260.0],
                "score": 0.9,
                "landmarks": [
                    [240.0 + 110 * n + x, 160.0 + y]
                    for x, y in ((25, 40), (55, 40), (40, 55), (28, 75), (52, 75))
                ],
                "embedding": [round(float(x), 6) for x in face.embedding],
            }
            for n, face in enumerate(faces)
        ],
    }


def standin_answer(
    photos: list[list[Face]], text: Callable[[int], str] | None = None
) -> Callable[[str, dict], tuple[int, dict]]:
    """The stand-in's answer for photo n (the file <n>.jpg): its faces, and `text(n)` as its
    OCR, in a 640x480 picture."""

    def answer(path: str, body: dict) -> tuple[int, dict]:
        n = int(body["path"].rsplit("/", 1)[1].split(".")[0])
        document = analysis(body["tasks"], text(n) if text else "")
        document["image"] = {"width": 640, "height": 480}
        if "faces" in body["tasks"]:
            document["results"]["faces"] = face_answer(photos[n])
        return 200, document

    return answer


def photos_with_faces(
    conn: psycopg.Connection,
    photos: list[list[Face]],
    text: Callable[[int], str] | None = None,
    folder: Path | None = None,
) -> list[str]:
    """Adds one asset per photo (taken in its first face's year), runs the worker until
    idle against a stand-in answering those faces (and `text(n)` as its OCR), and returns
    the asset ids in the order of `photos`. With a folder, each photo is also a picture
    there, an oval where each face is (coloured by identity), for pages to show."""
    root = folder or Path("/photos")
    if folder:
        for n, faces in enumerate(photos):
            answer_faces = face_answer(faces)["faces"]
            pictures.portrait(
                folder / f"{n}.jpg",
                [f["box"] for f in answer_faces],
                [IDENTITY_COLOURS[f.identity % len(IDENTITY_COLOURS)] for f in faces],
            )

    tasks = ["faces", "ocr"] if text else ["faces"]
    with StandinSidecar(standin_answer(photos, text)) as standin:
        conn.execute(
            "SELECT photo_ai.configure(sidecar_url => %s, tasks => %s)", [standin.url, tasks]
        )
        assets = [
            str(r[0])
            for r in conn.execute(
                "INSERT INTO photo_ai.asset (original_path, taken_at) "
                "SELECT %s || '/' || (n - 1) || '.jpg', "
                "       '2000-01-01'::timestamptz + make_interval(days => (y * 365)::int) "
                "FROM unnest(%s::float8[]) WITH ORDINALITY t(y, n) ORDER BY n RETURNING id",
                [str(root), [faces[0].year for faces in photos]],
            )
        ]
        run_worker(database_of(conn))
    return assets


def label_persons(conn: psycopg.Connection, lib: Library) -> np.ndarray:
    """The person of each face of lib (one photo per face, in order), as group numbers;
    -1 for a face with no person. Faces are matched by their embedding."""
    rows = conn.execute(
        "SELECT e.embedding::text, f.person_id::text "
        "FROM photo_ai.face f JOIN photo_ai.face_embedding e ON e.face_id = f.id"
    ).fetchall()
    stored = np.array([[float(x) for x in e.strip("[]").split(",")] for e, _ in rows])
    persons = [p for _, p in rows]
    numbers: dict[str, int] = {}
    labels = []
    for face in lib.faces:
        person = persons[int(np.argmax(stored @ face.embedding))]
        labels.append(numbers.setdefault(person, len(numbers)) if person else -1)
    return np.array(labels)


def family(conn: psycopg.Connection, folder: Path | None = None) -> tuple[list[str], Library]:
    """Three people with six or seven clear photos each, through the pipeline and grouped:
    the asset ids, in the order of the library's faces, and the library."""
    lib = library(seed=27, identities=3, sibling_pairs=0, children=0, strangers=0,
                  hard_share=0, median_faces=6)  # fmt: skip
    assets = photos_with_faces(conn, [[face] for face in lib.faces], folder=folder)
    conn.execute("SELECT photo_ai.recognize_faces()")
    return assets, lib
