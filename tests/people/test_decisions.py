"""What a person does with people (name, merge, move a face, hide, a birth date, a new
person), and what the grouping then never undoes; persons that follow their photos."""

from __future__ import annotations

import psycopg
import pytest

from tests.support.people import family as grouped_family
from tests.support.pipeline import database_of, run_worker
from tests.support.standin import StandinSidecar

Q = "SELECT person_id FROM photo_ai.face WHERE asset_id = %s"


@pytest.fixture
def family(conn):
    """Three people, six or more clear photos each, grouped: (assets, identity per asset)."""
    conn.execute("SET client_min_messages = warning")
    assets, lib = grouped_family(conn)
    return assets, [face.identity for face in lib.faces], lib


def person_of(conn, asset: str):
    return conn.execute(Q, [asset]).fetchone()[0]


def persons(conn) -> dict:
    return {
        r[0]: r[1:]
        for r in conn.execute(
            "SELECT person_id, name, faces, hidden FROM photo_ai.persons(include_hidden => true)"
        )
    }


def test_the_family_is_three_persons(conn, family):
    assets, identities, _ = family
    by_identity = {
        i: {person_of(conn, a) for a, j in zip(assets, identities, strict=True) if j == i}
        for i in set(identities)
    }
    assert all(len(p) == 1 and None not in p for p in by_identity.values())
    assert len(persons(conn)) == 3


def test_merging_keeps_one_person_with_every_face_and_the_name(conn, family):
    assets, identities, _ = family
    keep, merge = (
        person_of(conn, assets[identities.index(0)]),
        person_of(conn, assets[identities.index(1)]),
    )
    conn.execute("SELECT photo_ai.name_person(%s, '')", [keep])
    conn.execute("SELECT photo_ai.name_person(%s, '小明')", [merge])
    faces = persons(conn)[keep][1] + persons(conn)[merge][1]

    conn.execute("SELECT photo_ai.merge_persons(%s, %s)", [keep, merge])

    after = persons(conn)
    assert merge not in after
    assert after[keep][:2] == ("小明", faces)
    conn.execute("SELECT photo_ai.recognize_faces()")
    assert persons(conn)[keep][1] == faces


def test_a_face_moved_by_hand_stays_where_it_was_put(conn, family):
    assets, identities, _ = family
    mum, dad = (person_of(conn, assets[identities.index(i)]) for i in (0, 1))
    to_dad, to_nobody = [a for a, i in zip(assets, identities, strict=True) if i == 0][:2]
    conn.execute(
        "SELECT photo_ai.move_face(id, %s) FROM photo_ai.face WHERE asset_id = %s", [dad, to_dad]
    )
    conn.execute(
        "SELECT photo_ai.move_face(id, NULL) FROM photo_ai.face WHERE asset_id = %s", [to_nobody]
    )

    conn.execute("SELECT photo_ai.recognize_faces()")
    # analysed again: the face is found where it was, and keeps what a person decided
    reanalyse(conn, [to_dad, to_nobody])

    assert person_of(conn, to_dad) == dad
    assert person_of(conn, to_nobody) is None
    faces = persons(conn)
    assert faces[mum][1] == identities.count(0) - 2 and faces[dad][1] == identities.count(1) + 1


def test_a_birth_date_sends_older_faces_away_for_good(conn, family):
    assets, identities, _ = family
    child = person_of(conn, assets[identities.index(2)])
    own = [a for a, i in zip(assets, identities, strict=True) if i == 2]
    born = conn.execute(  # the day after the third oldest of its photos
        "SELECT (taken_at + interval '1 day')::date FROM photo_ai.asset WHERE id = ANY(%s) "
        "ORDER BY taken_at OFFSET 2 LIMIT 1",
        [own],
    ).fetchone()[0]

    conn.execute("SELECT photo_ai.set_birth_date(%s, %s)", [child, born])
    conn.execute("SELECT photo_ai.recognize_faces()")

    older = conn.execute(
        "SELECT f.id, f.person_id FROM photo_ai.face f JOIN photo_ai.asset a ON a.id = f.asset_id "
        "WHERE a.taken_at < %s AND f.id IN (SELECT id FROM photo_ai.face WHERE asset_id = ANY(%s))",
        [born, own],
    ).fetchall()
    assert len(older) == 3 and all(p != child for _, p in older)
    with pytest.raises(psycopg.errors.RaiseException, match="before .* birth date"):
        conn.execute("SELECT photo_ai.move_face(%s, %s)", [older[0][0], child])


def test_hidden_persons_leave_the_list_but_not_their_faces(conn, family):
    assets, identities, _ = family
    person = person_of(conn, assets[0])
    conn.execute("SELECT photo_ai.hide_person(%s)", [person])
    listed = [r[0] for r in conn.execute("SELECT person_id FROM photo_ai.persons()")]
    assert person not in listed and len(listed) == 2
    assert persons(conn)[person][2] is True


def test_who_is_this_names_the_person_a_new_face_looks_like(conn, family):
    assets, identities, _ = family
    for i, name in enumerate(("Mum", "Dad", "Ann")):
        conn.execute(
            "SELECT photo_ai.name_person(%s, %s)",
            [person_of(conn, assets[identities.index(i)]), name],
        )
    face = conn.execute(
        "SELECT id FROM photo_ai.face WHERE asset_id = %s", [assets[identities.index(1)]]
    ).fetchone()[0]
    names = [r[0] for r in conn.execute("SELECT name FROM photo_ai.who_is_this(%s)", [face])]
    assert names[0] == "Dad" and len(names) == 3


def test_a_new_person_from_one_face(conn, family):
    assets, _, _ = family
    face = conn.execute("SELECT id FROM photo_ai.face WHERE asset_id = %s", [assets[0]]).fetchone()[
        0
    ]
    person = conn.execute("SELECT photo_ai.new_person(%s, '王芳')", [face]).fetchone()[0]
    assert persons(conn)[person][:2] == ("王芳", 1)
    assert person_of(conn, assets[0]) == person


def test_deleting_photos_leaves_no_empty_person_behind(conn, family):
    assets, identities, _ = family
    person = person_of(conn, assets[identities.index(0)])
    own = [a for a, i in zip(assets, identities, strict=True) if i == 0]
    conn.execute("DELETE FROM photo_ai.asset WHERE id = ANY(%s)", [own[1:]])
    assert persons(conn)[person][1] == 1
    conn.execute("DELETE FROM photo_ai.asset WHERE id = %s", [own[0]])
    assert person not in persons(conn)
    assert (
        conn.execute(
            "SELECT count(*) FROM photo_ai.person WHERE face_count <> "
            "(SELECT count(*) FROM photo_ai.face f WHERE f.person_id = person.id)"
        ).fetchone()[0]
        == 0
    )


def test_a_reader_lists_people_and_an_admin_names_them(conn, family, test_roles):
    assets, _, _ = family
    person = person_of(conn, assets[0])
    conn.execute(f"SET ROLE {test_roles['reader']}")
    assert len(conn.execute("SELECT * FROM photo_ai.persons()").fetchall()) == 3
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute("SELECT photo_ai.name_person(%s, 'x')", [person])
    conn.rollback() if not conn.autocommit else None
    conn.execute("RESET ROLE")
    conn.execute(f"SET ROLE {test_roles['admin']}")
    conn.execute("SELECT photo_ai.name_person(%s, 'x')", [person])
    conn.execute("RESET ROLE")


def reanalyse(conn, assets: list[str]) -> None:
    """The faces task of these photos run again, the sidecar finding the same faces."""
    stored = {
        a: conn.execute(
            "SELECT jsonb_build_object('model', 'standin', 'faces', jsonb_agg(jsonb_build_object("
            "'box', to_jsonb(box), 'score', score, 'landmarks', '[]'::jsonb, "
            "'embedding', embedding::text::jsonb)))"
            " FROM photo_ai.face JOIN photo_ai.face_embedding ON face_id = id WHERE asset_id = %s",
            [a],
        ).fetchone()[0]
        for a in assets
    }
    paths = dict(
        conn.execute(
            "SELECT original_path, id::text FROM photo_ai.asset WHERE id = ANY(%s)", [assets]
        )
    )

    def answer(path, body):
        return 200, {
            "image": {"width": 640, "height": 480},
            "results": {"faces": stored[paths[body["path"]]]},
            "errors": {},
        }

    with StandinSidecar(answer) as standin:
        conn.execute("SELECT photo_ai.configure(sidecar_url => %s)", [standin.url])
        for asset in assets:
            conn.execute("SELECT ai_reprocess(%s, '{faces}')", [asset])
        run_worker(database_of(conn))
    assert conn.execute(
        "SELECT count(*) FROM photo_ai.face WHERE asset_id = ANY(%s)", [assets]
    ).fetchone()[0] == len(assets)
