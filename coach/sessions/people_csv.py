"""Reading a people spreadsheet (CSV) into checked ``PersonIn`` rows, without touching the database.

The import is all-or-nothing, so this reader must find *every* problem in one pass: a facilitator
fixes the whole list at once instead of re-running the import once per typo. Rows are numbered
as a spreadsheet shows them (the header is row 1), which is also the CSV line where a row starts.

Text must be UTF-8 (a byte-order mark is fine) or UTF-16 with a byte-order mark. Unlike the
knowledge loaders we do not fall back to Windows-1252: a guessed encoding silently misspells
people's names, so undecodable bytes are reported at their row and field instead.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from coach.sessions.validation import LIST_FIELDS, PersonIn, Problem, normalise_email

COLUMNS = ("name", "role", "email", "department", "manager", "timezone", *LIST_FIELDS)
REQUIRED = ("name", "role")


@dataclass
class PeopleFile:
    """What a CSV file holds: valid people with their row numbers, and every problem found."""

    people: list[tuple[int, PersonIn]] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    emails: list[tuple[int, str]] = field(default_factory=list)
    """(row, email) of every row with a well-formed email, valid or not: a row with a bad name
    can still clash with another row's email, and the facilitator should learn both at once."""
    extras: dict[int, dict[str, str]] = field(default_factory=dict)
    """Row -> the ``extra_columns`` a caller asked for (matching reads ``interests``)."""
    columns: list[str] = field(default_factory=list)
    """The header's column names, normalised (empty when the header could not be read)."""


def read_people_csv(path: Path, *, extra_columns: tuple[str, ...] = ()) -> PeopleFile:
    """``extra_columns`` are optional columns a caller understands beyond a person's fields."""
    result = PeopleFile()
    try:
        data = path.read_bytes()
    except OSError as exc:
        result.problems.append(Problem(message=f"cannot read {path}: {exc.strerror or exc}"))
        return result
    text = _decode(data, result.problems)
    if text is not None:
        _parse(text, result, extra_columns)
    return result


def _decode(data: bytes, problems: list[Problem]) -> str | None:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            problems.append(Problem(message="the file starts like UTF-16 but is not valid UTF-16"))
            return None
    # surrogateescape keeps bad bytes as lone surrogates, so they can be reported per field.
    return data.decode("utf-8-sig", errors="surrogateescape")


def _undecodable(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


ALIASES = {"time_zone": "timezone"}


def _normalise_column(name: str) -> str:
    """Spreadsheet headers as people write them: "Growth Areas", "Time-Zone", "EMAIL"."""
    column = name.strip().lower().replace(" ", "_").replace("-", "_")
    return ALIASES.get(column, column)


def _parse(text: str, result: PeopleFile, extra_columns: tuple[str, ...] = ()) -> None:
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    header = _read_header(reader, result.problems, (*COLUMNS, *extra_columns))
    if header is None:
        return
    result.columns = list(header)
    while True:
        row = reader.line_num + 1
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            result.problems.append(Problem(row, "", _csv_message(exc)))
            continue
        if all(not cell.strip() for cell in cells):
            continue  # blank lines and ",,,," rows that spreadsheets leave at the end
        if len(cells) != len(header):
            result.problems.append(
                Problem(row, "", f"{len(cells)} fields, but the header has {len(header)} columns")
            )
            continue
        _check_row(row, dict(zip(header, cells, strict=True)), result, extra_columns)
    if not result.people and not result.problems:
        result.problems.append(Problem(message="the file has a header but no people"))


def _csv_message(exc: csv.Error) -> str:
    text = str(exc)
    if "unexpected end of data" in text:
        return "a quoted field starting on this row is never closed (a missing '\"')"
    return f"malformed CSV: {text}"


def _read_header(
    reader: Iterator[list[str]], problems: list[Problem], known: tuple[str, ...] = COLUMNS
) -> list[str] | None:
    try:
        cells = next(reader)
    except StopIteration:
        problems.append(
            Problem(message=f"the file is empty; expected a header: {', '.join(known)}")
        )
        return None
    except csv.Error as exc:
        problems.append(Problem(1, "", _csv_message(exc)))
        return None
    if any(_undecodable(cell) or "\x00" in cell for cell in cells):
        problems.append(
            Problem(1, "", "not UTF-8 text: save the file as 'CSV UTF-8' and import it again")
        )
        return None
    header = [_normalise_column(cell) for cell in cells]
    found = len(problems)
    if len(header) == 1 and ";" in header[0]:
        problems.append(Problem(1, "", "the columns are separated by ';': Coach reads commas"))
        return None
    unnamed = [str(i) for i, name in enumerate(header, start=1) if not name]
    if unnamed:
        problems.append(Problem(1, "", f"column(s) {', '.join(unnamed)} have no name"))
    unknown = [cells[i].strip() for i, name in enumerate(header) if name and name not in known]
    if unknown:
        problems.append(
            Problem(
                1,
                "",
                f"unknown column(s) {', '.join(repr(c) for c in unknown)}"
                f" (known: {', '.join(known)})",
            )
        )
    repeated = sorted({name for name in header if name and header.count(name) > 1})
    if repeated:
        problems.append(Problem(1, "", f"column(s) {', '.join(repeated)} appear more than once"))
    missing = [name for name in REQUIRED if name not in header]
    if missing:
        problems.append(
            Problem(
                1,
                "",
                f"the header must name the column(s) {', '.join(missing)} (row 1 is the header)",
            )
        )
    return None if len(problems) > found else header


def _check_row(
    row: int, values: dict[str, str], result: PeopleFile, extra_columns: tuple[str, ...] = ()
) -> None:
    text_problems = [
        Problem(row, column, "not UTF-8 text: save the file as 'CSV UTF-8' and import it again")
        for column, value in values.items()
        if _undecodable(value)
    ]
    text_problems += [
        Problem(row, column, "contains a NUL byte")
        for column, value in values.items()
        if "\x00" in value
    ]
    result.extras[row] = {c: values.pop(c) for c in extra_columns if c in values}
    if email := normalise_email(values.get("email")):
        result.emails.append((row, email))
    person, problems = PersonIn.check(values, row=row)
    result.problems.extend(text_problems)
    bad_text = {problem.field for problem in text_problems}
    result.problems.extend(problem for problem in problems if problem.field not in bad_text)
    if person is not None and not text_problems:
        result.people.append((row, person))


def duplicate_emails(emails: list[tuple[int, str]]) -> list[Problem]:
    """Rows whose email an earlier row of the same file already uses."""
    first_row: dict[str, int] = {}
    problems = []
    for row, email in emails:
        if email in first_row:
            problems.append(Problem(row, "email", f"{email!r} is also on row {first_row[email]}"))
        else:
            first_row[email] = row
    return problems


MAX_LISTED_PROBLEMS = 50
"""A wrong file (say, a binary one) can have thousands of problems; the first 50 locate it."""


def problem_report(path: Path, problems: list[Problem], *, nothing: str) -> str:
    """``people.csv: nothing was <nothing>; N problem(s) to fix:`` and the problems by row.

    Within a row they stay in column order (the order the checks ran), without repeats.
    """
    problems = sorted(dict.fromkeys(problems), key=lambda problem: problem.row)
    lines = [f"{path.name}: nothing was {nothing}; {len(problems)} problem(s) to fix:"]
    lines += [f"  {problem}" for problem in problems[:MAX_LISTED_PROBLEMS]]
    if len(problems) > MAX_LISTED_PROBLEMS:
        lines.append(f"  ... and {len(problems) - MAX_LISTED_PROBLEMS} more")
    return "\n".join(lines)
