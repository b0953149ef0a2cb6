"""The one error the official-data layer raises for problems a user can fix."""

from __future__ import annotations


class OfficialDataError(ValueError):
    """A file or option the importer cannot accept.

    The message reads `<file>:<line>: <what is wrong>; <how to fix>` for a bad row, and
    `<file>: <what is wrong>; <how to fix>` for a problem with the whole file or an option.
    """

    def __init__(self, what: str, fix: str, *, file: str = "", line: int | None = None) -> None:
        where = file
        if file and line is not None:
            where = f"{file}:{line}"
        text = f"{what}; {fix}"
        super().__init__(f"{where}: {text}" if where else text)
        self.file = file
        self.line = line
        self.what = what
        self.fix = fix
