"""Checking what a facilitator types before it reaches the database.

Everything here is pure (no database), so the CLI, the TUI and the CSV import share one set of
rules and one wording for problems. A problem names where it is (row, field) because a
facilitator fixing a 200-line spreadsheet needs to find the cell, not just learn that one is bad.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from coach.sessions.errors import InputError

# Deliberately a shape check, not RFC 5322: it catches typos ("ada@", "ada example.com") and
# leaves deliverability to the mail system. Domain labels must be non-empty ("a@b..c" fails).
EMAIL = re.compile(r"^[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
LIST_FIELDS = ("skills", "growth_areas", "goals")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can (row first, for sorting)."""

    row: int = 0
    """CSV line number (the header is row 1, as in a spreadsheet); 0 for the file as a whole."""
    field: str = ""
    message: str = ""

    def __str__(self) -> str:
        where = ", ".join(part for part in (self.row and f"row {self.row}", self.field) if part)
        return f"{where}: {self.message}" if where else self.message


def _error(message: str) -> PydanticCustomError:
    # A custom error keeps pydantic from prefixing "Value error, " to a message meant for people.
    return PydanticCustomError("coach_input", message)


class PersonIn(BaseModel):
    """A person as typed on the command line or read from a CSV row, checked and normalised."""

    model_config = ConfigDict(str_strip_whitespace=True, extra="forbid", frozen=True)

    name: str = Field(max_length=200)
    role: Literal["mentor", "mentee"]
    email: str | None = Field(None, max_length=320)
    department: str = Field("", max_length=200)
    manager: str = Field("", max_length=200)
    timezone: str = Field("", max_length=64)
    skills: list[str] = []
    growth_areas: list[str] = []
    goals: list[str] = []

    @field_validator("name", mode="before")
    @classmethod
    def _name_required(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _error("required")
        return value

    @field_validator("role", mode="before")
    @classmethod
    def _known_role(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            raise _error("required (mentor or mentee)")
        if not isinstance(value, str) or value.strip().lower() not in ("mentor", "mentee"):
            raise _error(f"{value!r} is not a role (use mentor or mentee)")
        return value.strip().lower()

    @field_validator("email", mode="before")
    @classmethod
    def _email_shape(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        email = normalise_email(value)
        if email is None:
            raise _error(f"{value!r} is not an email address")
        return email

    @field_validator(*LIST_FIELDS, mode="before")
    @classmethod
    def _list_of_words(cls, value: Any) -> Any:
        if value is None:
            return []
        if isinstance(value, str):
            # A CSV cell "python; public speaking;" -> two items: stray separators are common in
            # spreadsheets and carry no meaning, so empty pieces are dropped, not reported.
            items = [piece.strip() for piece in value.split(";")]
            return list(dict.fromkeys(item for item in items if item))
        if not isinstance(value, list | tuple):
            raise _error("expected a list of words or a ';'-separated text")
        cleaned = []
        for index, item in enumerate(value, start=1):
            if not isinstance(item, str) or not item.strip():
                raise _error(f"item {index} is empty")
            cleaned.append(item.strip())
        return list(dict.fromkeys(cleaned))

    @classmethod
    def from_input(cls, data: Mapping[str, Any], *, row: int = 0) -> PersonIn:
        """Validate ``data``; every problem becomes one line of an InputError naming its field."""
        person, problems = cls.check(data, row=row)
        if person is None:
            raise InputError("\n".join(str(p) for p in problems))
        return person

    @classmethod
    def check(
        cls, data: Mapping[str, Any], *, row: int = 0
    ) -> tuple[PersonIn | None, list[Problem]]:
        """The person, or None with every problem found (the CSV import collects them all)."""
        try:
            return cls.model_validate(dict(data)), []
        except ValidationError as exc:
            return None, problems_from(exc, row=row)


def normalise_email(value: object) -> str | None:
    """The address as stored (lower-case), or None when it is not shaped like one.

    Lower-case because people treat addresses case-insensitively, so duplicate checks must too.
    """
    if not isinstance(value, str) or not EMAIL.match(value.strip()):
        return None
    return value.strip().lower()


def problems_from(exc: ValidationError, *, row: int = 0) -> list[Problem]:
    """Turn pydantic's errors into Problems worded for a facilitator."""
    problems = []
    for err in exc.errors():
        loc = err["loc"]
        field = str(loc[0]) if loc else ""
        if len(loc) > 1 and isinstance(loc[1], int):
            field = f"{field} item {loc[1] + 1}"
        if err["type"] == "missing":
            message = "required"
        elif err["type"] == "extra_forbidden":
            message = "is not a known field"
        else:
            message = err["msg"][0].lower() + err["msg"][1:]
        problems.append(Problem(row, field, message))
    return problems


def parse_date(value: str | date | None, *, what: str = "date") -> date | None:
    """``YYYY-MM-DD`` to a date; anything else is an InputError that says what was expected.

    Only the ISO calendar form is accepted (not ``20260301`` or week dates, which
    ``date.fromisoformat`` would also take): a facilitator typing a due date should get back the
    date they meant or an error, never a surprise.
    """
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    if DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            pass
    raise InputError(f"{what} {value!r} is not a date (use YYYY-MM-DD)")
