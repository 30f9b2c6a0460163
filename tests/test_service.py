"""The people/pairs/sessions service: CRUD, validation, the all-or-nothing CSV import, deletion."""

from __future__ import annotations

import codecs
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from coach.sessions.errors import InputError, NotFound
from coach.sessions.models import Base, Experiment, Pair, Person
from coach.sessions.service import (
    PersonIn,
    add_pair,
    add_person,
    delete_pair,
    import_people_csv,
    list_pairs,
    list_people,
    list_sessions,
    pair_detail,
    parse_date,
    session_detail,
    set_agreement,
)
from tests.programme_data import pair_with_history

HEADER = "name,role,email,department,manager,timezone,skills,growth_areas,goals"


def people_count(db) -> int:
    with db.transaction() as orm:
        return orm.scalar(select(func.count()).select_from(Person))


def write(tmp_path: Path, content: str | bytes, name: str = "people.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# PersonIn ----------------------------------------------------------------------------------------


def test_person_in_normalises_what_people_type() -> None:
    person = PersonIn.from_input(
        {
            "name": "  Ada Lovelace ",
            "role": " Mentor",
            "email": " Ada.Lovelace@Example.ORG ",
            "skills": "python; ;prompting;python;",
            "growth_areas": ["  strategy "],
        }
    )
    assert person.name == "Ada Lovelace"
    assert person.role == "mentor"
    assert person.email == "ada.lovelace@example.org"
    assert person.skills == ["python", "prompting"]
    assert person.growth_areas == ["strategy"]
    assert person.goals == [] and person.department == ""
    assert PersonIn.from_input({"name": "Bo", "role": "mentee", "email": "  "}).email is None


def test_person_in_reports_every_field_at_once() -> None:
    with pytest.raises(InputError) as caught:
        PersonIn.from_input(
            {"name": " ", "role": "boss", "email": "ada@", "skills": ["ok", " "], "age": 3}
        )
    lines = str(caught.value).splitlines()
    assert lines == [
        "name: required",
        "role: 'boss' is not a role (use mentor or mentee)",
        "email: 'ada@' is not an email address",
        "skills: item 2 is empty",
        "age: is not a known field",
    ]


@pytest.mark.parametrize(
    "email", ["ada", "ada@example", "ada @example.org", "a@b@example.org", "ada@example..org"]
)
def test_person_in_rejects_malformed_emails(email: str) -> None:
    with pytest.raises(InputError, match=r"^email: .* is not an email address$"):
        PersonIn.from_input({"name": "Ada", "role": "mentor", "email": email})


def test_person_in_requires_name_and_role() -> None:
    with pytest.raises(InputError) as caught:
        PersonIn.from_input({})
    assert str(caught.value).splitlines() == ["name: required", "role: required"]


# People ------------------------------------------------------------------------------------------


def test_add_and_list_people(db) -> None:
    ada = add_person(db, PersonIn(name="Ada", role="mentor", skills=["python"]))
    grace = add_person(db, {"name": "Grace", "role": "mentee", "email": "grace@example.org"})
    bo = add_person(db, {"name": "Bo", "role": "mentor", "timezone": "Europe/Oslo"})
    people = list_people(db)
    assert [p.id for p in people] == [ada, grace, bo]
    assert people[0].skills == ["python"] and people[1].email == "grace@example.org"
    assert people[2].timezone == "Europe/Oslo"
    assert [p.name for p in list_people(db, "mentor")] == ["Ada", "Bo"]
    assert [p.name for p in list_people(db, "mentee")] == ["Grace"]
    with pytest.raises(InputError, match="'boss' is not a role"):
        list_people(db, "boss")


def test_add_person_refuses_an_email_in_use_whatever_its_case(db) -> None:
    first = add_person(db, {"name": "Ada", "role": "mentor", "email": "ada@example.org"})
    with pytest.raises(InputError) as caught:
        add_person(db, {"name": "Ada 2", "role": "mentee", "email": "ADA@Example.org"})
    assert str(caught.value) == f"email: 'ada@example.org' already belongs to person {first} (Ada)"
    assert people_count(db) == 1


def test_add_person_validates_a_mapping(db) -> None:
    with pytest.raises(InputError, match=r"^role: 'boss'"):
        add_person(db, {"name": "Ada", "role": "boss"})
    assert people_count(db) == 0


# CSV import: the happy path ----------------------------------------------------------------------


def test_import_people_csv_adds_everyone_with_every_column(db, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeff"  # Excel's "CSV UTF-8" starts with a byte-order mark
        "Name,Role,Email,Department,Manager,Time-Zone,Skills,Growth Areas,Goals\r\n"
        'Ada Lovelace,mentor,ada@example.org,Data,Bea,Europe/London,"python; prompting",,\r\n'
        'Zoë Ångström,MENTEE,,Board,,,"","ai tools;social media","post weekly; delegate"\r\n'
        "\r\n"
        ",,,,,,,,\r\n",
    )
    ids = import_people_csv(db, path)
    people = list_people(db)
    assert [p.id for p in people] == ids and len(ids) == 2
    ada, zoe = people
    assert (ada.name, ada.role, ada.email, ada.department, ada.manager, ada.timezone) == (
        "Ada Lovelace",
        "mentor",
        "ada@example.org",
        "Data",
        "Bea",
        "Europe/London",
    )
    assert ada.skills == ["python", "prompting"] and ada.goals == []
    assert (zoe.name, zoe.role, zoe.email) == ("Zoë Ångström", "mentee", None)
    assert zoe.growth_areas == ["ai tools", "social media"]
    assert zoe.goals == ["post weekly", "delegate"]


def test_import_needs_only_name_and_role_columns(db, tmp_path: Path) -> None:
    ids = import_people_csv(db, write(tmp_path, "role,name\nmentee,Grace\nmentor,Ada\n"))
    assert [(p.id, p.name, p.role) for p in list_people(db)] == [
        (ids[0], "Grace", "mentee"),
        (ids[1], "Ada", "mentor"),
    ]


def test_import_reads_utf16_with_a_byte_order_mark(db, tmp_path: Path) -> None:
    content = codecs.BOM_UTF16_LE + "name,role\nZoë,mentee\n".encode("utf-16-le")
    import_people_csv(db, write(tmp_path, content))
    assert [p.name for p in list_people(db)] == ["Zoë"]


def test_import_keeps_quoted_newlines_inside_a_field(db, tmp_path: Path) -> None:
    path = write(tmp_path, 'name,role,goals\nAda,mentor,"one;\ntwo"\nBad,boss,\n')
    with pytest.raises(InputError) as caught:
        import_people_csv(db, path)
    # Ada's row spans lines 2-3, so the bad row starts on line 4.
    assert "row 4, role: 'boss' is not a role" in str(caught.value)


# CSV import: every kind of bad input -------------------------------------------------------------


BAD_FILES = {
    "missing name": (
        f"{HEADER}\nAda,mentor,,,,,,,\n,mentee,,,,,,,\n",
        ["row 3, name: required"],
    ),
    "unknown role": (
        f"{HEADER}\nAda,boss,,,,,,,\n",
        ["row 2, role: 'boss' is not a role (use mentor or mentee)"],
    ),
    "empty role": (f"{HEADER}\nAda,,,,,,,,\n", ["row 2, role: required (mentor or mentee)"]),
    "bad email": (
        f"{HEADER}\nAda,mentor,ada@,,,,,,\n",
        ["row 2, email: 'ada@' is not an email address"],
    ),
    "duplicate email in the file": (
        f"{HEADER}\nAda,mentor,a@example.org,,,,,,\nBo,mentee,,,,,,,\nCy,mentee,A@Example.org,,,,,,\n",
        ["row 4, email: 'a@example.org' is also on row 2"],
    ),
    "duplicate email in the database": (
        f"{HEADER}\nAda,mentor,taken@example.org,,,,,,\n",
        ["row 2, email: 'taken@example.org' already belongs to person 1 (Existing)"],
    ),
    "too many fields": (
        f"{HEADER}\nAda,mentor,,,,,,,,extra\n",
        ["row 2: 10 fields, but the header has 9 columns"],
    ),
    "too few fields": ("name,role,email\nAda,mentor\n", ["row 2: 2 fields, but the header has 3"]),
    "stray quote": ('name,role\n"Ada" Lovelace,mentor\nBo,mentee\n', ["row 2: malformed CSV"]),
    "unclosed quote": (
        'name,role\nBo,mentee\n"Ada,mentor\nCy,mentee\n',
        ["row 3: a quoted field starting on this row is never closed"],
    ),
    "undecodable bytes": (
        b"name,role,department\nAda,mentor,R\xe9seaux\n",
        ["row 2, department: not UTF-8 text"],
    ),
    "NUL byte": ("name,role\nA\x00da,mentor\n", ["row 2, name: contains a NUL byte"]),
    "unknown columns": (
        "name,role,nickname,Age\nAda,mentor,ada,30\n",
        ["row 1: unknown column(s) 'nickname', 'Age'"],
    ),
    "unnamed column": ("name,role,,email\nAda,mentor,,\n", ["row 1: column(s) 3 have no name"]),
    "repeated column": ("name,role,email,Email\nAda,mentor,,\n", ["row 1: column(s) email"]),
    "no header": (
        "Ada,mentor\nGrace,mentee\n",
        ["row 1: unknown column(s) 'Ada', 'mentor'", "must name the column(s) name, role"],
    ),
    "header without role": ("name,email\nAda,a@example.org\n", ["column(s) role (row 1"]),
    "semicolons": ("name;role\nAda;mentor\n", ["row 1: the columns are separated by ';'"]),
    "empty file": ("", ["the file is empty; expected a header: name, role, email"]),
    "header only": (f"{HEADER}\n\n", ["the file has a header but no people"]),
    "binary file": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xd8", ["row 1: not UTF-8 text"]),
    "broken UTF-16": (codecs.BOM_UTF16_LE + b"n\x00a\x00\x00\xd8", ["not valid UTF-16"]),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_import_reports_bad_input_and_writes_nothing(db, tmp_path: Path, case: str) -> None:
    existing = add_person(db, {"name": "Existing", "role": "mentor", "email": "taken@example.org"})
    content, expected = BAD_FILES[case]
    with pytest.raises(InputError) as caught:
        import_people_csv(db, write(tmp_path, content))
    message = str(caught.value)
    assert message.startswith("people.csv: nothing was imported;")
    for fragment in expected:
        assert fragment in message, message
    assert "Traceback" not in message
    assert [(p.id, p.name) for p in list_people(db)] == [(existing, "Existing")]


def test_import_lists_every_problem_in_row_order_and_keeps_good_rows_out(
    db, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "Good One,mentor,one@example.org,,,,,,\n"  # row 2: fine
        ",boss,not-an-email,,,,,,\n"  # row 3: three problems
        "Good Two,mentee,,,,,,,\n"  # row 4: fine
        "Dup,mentee,ONE@example.org,,,,,,\n"  # row 5: duplicate of row 2
        "Short,mentor\n"  # row 6: wrong field count
        "Good Three,mentee,,,,,,;;,\n",  # row 7: fine (empty list pieces are dropped)
    )
    with pytest.raises(InputError) as caught:
        import_people_csv(db, path)
    assert str(caught.value).splitlines() == [
        "people.csv: nothing was imported; 5 problem(s) to fix:",
        "  row 3, name: required",
        "  row 3, role: 'boss' is not a role (use mentor or mentee)",
        "  row 3, email: 'not-an-email' is not an email address",
        "  row 5, email: 'one@example.org' is also on row 2",
        "  row 6: 2 fields, but the header has 9 columns",
    ]
    assert people_count(db) == 0


def test_a_row_with_other_problems_still_gets_its_email_checked(db, tmp_path: Path) -> None:
    add_person(db, {"name": "Existing", "role": "mentor", "email": "taken@example.org"})
    path = write(tmp_path, "name,role,email\n,boss,taken@example.org\n")
    with pytest.raises(InputError) as caught:
        import_people_csv(db, path)
    message = str(caught.value)
    assert "row 2, name: required" in message
    assert "row 2, email: 'taken@example.org' already belongs to person 1" in message


def test_import_caps_the_listed_problems(db, tmp_path: Path) -> None:
    rows = "".join(f"Person {i},boss\n" for i in range(80))
    with pytest.raises(InputError) as caught:
        import_people_csv(db, write(tmp_path, "name,role\n" + rows))
    lines = str(caught.value).splitlines()
    assert lines[0] == "people.csv: nothing was imported; 80 problem(s) to fix:"
    assert len(lines) == 1 + 50 + 1
    assert lines[1].startswith("  row 2, role:") and lines[50].startswith("  row 51, role:")
    assert lines[-1] == "  ... and 30 more"


def test_import_of_a_missing_file_says_so(db, tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"cannot read .*nowhere\.csv"):
        import_people_csv(db, tmp_path / "nowhere.csv")
    with pytest.raises(InputError, match="cannot read"):
        import_people_csv(db, tmp_path)


def test_a_failed_import_rolls_back_rows_already_inserted(db, tmp_path: Path) -> None:
    """Inserts and checks share one transaction: a failure on the third row leaves nothing."""
    with db.engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse_c() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                " IF NEW.name = 'C' THEN RAISE EXCEPTION 'simulated failure'"
                " USING ERRCODE = 'integrity_constraint_violation'; END IF; RETURN NEW; END $$"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_c BEFORE INSERT ON people"
                " FOR EACH ROW EXECUTE FUNCTION refuse_c()"
            )
        else:
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse_c BEFORE INSERT ON people WHEN NEW.name = 'C'"
                " BEGIN SELECT RAISE(ABORT, 'simulated failure'); END"
            )
    path = write(tmp_path, "name,role\nA,mentor\nB,mentee\nC,mentee\n")
    with pytest.raises(IntegrityError, match="simulated failure"):
        import_people_csv(db, path)
    assert people_count(db) == 0


# Pairs -------------------------------------------------------------------------------------------


@pytest.fixture
def people(db) -> dict[str, int]:
    return {
        "ada": add_person(db, {"name": "Ada", "role": "mentor"}),
        "bo": add_person(db, {"name": "Bo", "role": "mentor"}),
        "grace": add_person(db, {"name": "Grace", "role": "mentee"}),
        "hal": add_person(db, {"name": "Hal", "role": "mentee"}),
    }


def test_add_pair_and_list_pairs(db, people) -> None:
    first = add_pair(db, people["ada"], people["grace"])
    second = add_pair(db, people["ada"], people["hal"], cadence_days=14, planned_sessions=3)
    pairs = list_pairs(db)
    assert [p.id for p in pairs] == [first, second]
    assert (pairs[0].cadence_days, pairs[0].planned_sessions, pairs[0].active) == (28, 6, True)
    assert (pairs[1].cadence_days, pairs[1].planned_sessions) == (14, 3)
    # Relations are loaded: usable after the transaction closed.
    assert (pairs[1].mentor.name, pairs[1].mentee.name, pairs[1].sessions) == ("Ada", "Hal", [])


def test_add_pair_checks_people_and_roles(db, people) -> None:
    with pytest.raises(NotFound, match=r"^person 99 does not exist$"):
        add_pair(db, 99, people["grace"])
    with pytest.raises(NotFound, match=r"^person 98 does not exist$"):
        add_pair(db, people["ada"], 98)
    with pytest.raises(InputError, match=r"^person \d+ \(Grace\) is a mentee, not a mentor$"):
        add_pair(db, people["grace"], people["hal"])
    with pytest.raises(InputError, match=r"^person \d+ \(Bo\) is a mentor, not a mentee$"):
        add_pair(db, people["ada"], people["bo"])
    with pytest.raises(InputError, match="cadence_days must be at least 1"):
        add_pair(db, people["ada"], people["grace"], cadence_days=0)
    with pytest.raises(InputError, match="planned_sessions must be at least 1"):
        add_pair(db, people["ada"], people["grace"], planned_sessions=0)
    assert list_pairs(db) == []


def test_the_same_two_cannot_be_actively_paired_twice(db, people) -> None:
    first = add_pair(db, people["ada"], people["grace"])
    with pytest.raises(InputError, match=f"^Ada and Grace are already paired \\(pair {first}\\)$"):
        add_pair(db, people["ada"], people["grace"])
    with db.transaction() as orm:
        orm.get(Pair, first).active = False
    again = add_pair(db, people["ada"], people["grace"])  # a finished pair may start over
    assert [p.id for p in list_pairs(db, active=True)] == [again]
    assert [p.id for p in list_pairs(db, active=False)] == [first]


def test_pair_detail_summarises_people_agreement_sessions_and_experiments(db) -> None:
    history = pair_with_history(db, "x", sessions=3)
    detail = pair_detail(db, history.pair_id)
    json.dumps(detail)  # JSON-ready as it is
    assert detail["mentor"]["name"] == "Mentor x" and detail["mentee"]["role"] == "mentee"
    assert (detail["cadence_days"], detail["planned_sessions"]) == (14, 4)
    assert detail["agreement"]["agreed"] is False
    sessions = detail["sessions"]
    assert {k: sessions[k] for k in ("total", "completed", "upcoming", "remaining")} == {
        "total": 3,
        "completed": 2,
        "upcoming": 1,
        "remaining": 2,
    }
    assert sessions["last_held_at"] == "2026-03-16T10:00:00+00:00"
    assert sessions["next_scheduled_at"] == "2026-03-30T09:00:00+00:00"
    assert [item["number"] for item in sessions["items"]] == [1, 2, 3]
    assert [e["title"] for e in detail["open_experiments"]] == [
        "try prompts x 1",
        "try prompts x 2",
    ]
    assert detail["open_experiments"][0]["due_date"] == "2026-04-01"
    assert "notes" not in json.dumps(detail) and "private worry" not in json.dumps(detail)
    with pytest.raises(NotFound, match=r"^pair 999 does not exist$"):
        pair_detail(db, 999)


def test_set_agreement_records_it(db, people) -> None:
    pair_id = add_pair(db, people["ada"], people["grace"])
    when = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    set_agreement(
        db,
        pair_id,
        cadence=" every 4 weeks, 60 min ",
        confidentiality="what we say stays here",
        boundaries="",
        feedback_style="direct",
        no_blame_exit=True,
        agreed_at=when,
    )
    agreement = pair_detail(db, pair_id)["agreement"]
    assert agreement == {
        "agreed": True,
        "agreed_at": when.isoformat(),
        "cadence": "every 4 weeks, 60 min",
        "confidentiality": "what we say stays here",
        "boundaries": "",
        "feedback_style": "direct",
        "no_blame_exit": True,
    }
    fields = {"boundaries": "", "feedback_style": "", "no_blame_exit": False}
    with pytest.raises(InputError, match=r"^agreement confidentiality: required$"):
        set_agreement(db, pair_id, cadence="monthly", confidentiality=" ", **fields)
    with pytest.raises(NotFound, match="pair 77 does not exist"):
        set_agreement(db, 77, cadence="monthly", confidentiality="yes", **fields)
    assert pair_detail(db, pair_id)["agreement"]["cadence"] == "every 4 weeks, 60 min"


# Deleting a pair ---------------------------------------------------------------------------------


def table_counts(db) -> dict[str, int]:
    """Rows in every table of the schema, read with plain SQL (no ORM identity map)."""
    with db.engine.connect() as connection:
        return {
            table.name: connection.execute(text(f"SELECT count(*) FROM {table.name}")).scalar()
            for table in Base.metadata.sorted_tables
        }


def rows_of_pair(db, pair_id: int) -> dict[str, int]:
    sessions = f"(SELECT id FROM sessions WHERE pair_id = {pair_id})"
    queries = {
        "pairs": f"SELECT count(*) FROM pairs WHERE id = {pair_id}",
        "sessions": f"SELECT count(*) FROM sessions WHERE pair_id = {pair_id}",
        "experiments": f"SELECT count(*) FROM experiments WHERE pair_id = {pair_id}",
        **{
            table: f"SELECT count(*) FROM {table} WHERE session_id IN {sessions}"
            for table in ("session_phases", "notes", "feedback", "confidence")
        },
    }
    with db.engine.connect() as connection:
        return {name: connection.execute(text(sql)).scalar() for name, sql in queries.items()}


def test_delete_pair_removes_all_its_data_and_nothing_else(db) -> None:
    doomed = pair_with_history(db, "doomed", sessions=3)
    kept = pair_with_history(db, "kept", sessions=2)
    before = table_counts(db)
    doomed_rows = rows_of_pair(db, doomed.pair_id)
    kept_rows = rows_of_pair(db, kept.pair_id)
    assert all(doomed_rows.values()), doomed_rows  # every kind of row exists, or this proves little
    assert set(before) == {"people", *doomed_rows}, "a new table: count it here too"

    removed = delete_pair(db, doomed.pair_id)

    assert removed == doomed_rows
    after = table_counts(db)
    assert after == {name: count - doomed_rows.get(name, 0) for name, count in before.items()}, (
        "exactly the pair's rows went"
    )
    assert all(count == 0 for count in rows_of_pair(db, doomed.pair_id).values())
    assert rows_of_pair(db, kept.pair_id) == kept_rows
    assert after["people"] == before["people"] == 4  # people stay, to be paired again
    with pytest.raises(NotFound, match=f"pair {doomed.pair_id} does not exist"):
        delete_pair(db, doomed.pair_id)
    for session_id in doomed.session_ids:
        with pytest.raises(NotFound):
            session_detail(db, session_id)


# Sessions ----------------------------------------------------------------------------------------


def test_list_sessions_by_pair(db) -> None:
    one = pair_with_history(db, "one", sessions=2)
    two = pair_with_history(db, "two", sessions=1)
    assert [s.id for s in list_sessions(db)] == one.session_ids + two.session_ids
    assert [(s.pair_id, s.number) for s in list_sessions(db, two.pair_id)] == [(two.pair_id, 1)]
    with pytest.raises(NotFound, match=r"^pair 404 does not exist$"):
        list_sessions(db, 404)


def test_session_detail_leaves_private_notes_out_unless_asked(db) -> None:
    history = pair_with_history(db, "p", sessions=2)
    session_id = history.session_ids[0]
    detail = session_detail(db, session_id)
    dumped = json.dumps(detail)
    assert history.private_note not in dumped
    assert [note["text"] for note in detail["notes"]] == [history.public_note]
    assert all(note["private"] is False for note in detail["notes"])
    assert [phase["phase_id"] for phase in detail["phases"]] == ["checkin", "teach"]
    assert [f["side"] for f in detail["feedback"]] == ["mentor", "mentee"]
    assert detail["confidence"] == [{"topic_id": "ai-tools", "before": 2, "after": 4}]
    assert [e["status"] for e in detail["experiments"]] == ["open", "done"]
    assert detail["mentor"] == {"id": history.mentor_id, "name": "Mentor p"}

    own_view = session_detail(db, session_id, include_private=True)
    assert [note["text"] for note in own_view["notes"]] == [
        history.public_note,
        history.private_note,
    ]
    with pytest.raises(NotFound, match=r"^session 12345 does not exist$"):
        session_detail(db, 12345)


def test_experiments_of_a_session_only(db) -> None:
    history = pair_with_history(db, "e", sessions=3)
    with db.transaction() as orm:
        titles = orm.scalars(select(Experiment.title).where(Experiment.pair_id == history.pair_id))
        assert len(list(titles)) == 4
    detail = session_detail(db, history.session_ids[1])
    assert {e["title"] for e in detail["experiments"]} == {"try prompts e 2", "post once e 2"}


# Dates -------------------------------------------------------------------------------------------


def test_parse_date() -> None:
    assert parse_date("2026-03-01") == date(2026, 3, 1)
    assert parse_date(" 2026-03-01 ") == date(2026, 3, 1)
    assert parse_date(date(2026, 1, 2)) == date(2026, 1, 2)
    assert parse_date(None) is None and parse_date("") is None
    with pytest.raises(InputError) as caught:
        parse_date("2026-13-01", what="due date")
    assert str(caught.value) == "due date '2026-13-01' is not a date (use YYYY-MM-DD)"
    for bad in ("2026-02-30", "20260301", "2026-W01-1", "01/03/2026", "soon"):
        with pytest.raises(InputError, match="is not a date"):
            parse_date(bad)
