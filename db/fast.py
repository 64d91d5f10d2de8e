"""Core statements compiled once and run on the DB-API cursor: a turn's hot path without
SQLAlchemy's per-execution work (cache keys, parameter building, result objects, events).

The statement's own bind and result processors still convert every value (timestamps, JSON,
booleans), and a driver's error is raised as SQLAlchemy raises it (an IntegrityError, an
OperationalError, a lost connection invalidated). Running one costs a few microseconds against
SQLAlchemy's 25 to 40 (bench/conversations.py, README Speed).
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

Processor = Callable[[Any], Any]
# Where a session keeps the connection of its transaction for these statements: asking the
# session for it each time costs more than running one.
FAST_CONNECTION = "jobline_fast_connection"


def connection_of(session: Session) -> Connection:
    """The connection of the session's transaction (begun if none is)."""
    connection: Connection | None = session.info.get(FAST_CONNECTION)
    if connection is None or connection.closed or connection.invalidated:
        connection = session.connection()
        session.info[FAST_CONNECTION] = connection
    return connection


class Ran:
    """What a statement gave back: its rows (named tuples) and how many rows it changed."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def first(self) -> Any:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        """The only row."""
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None

    def scalars(self) -> list[Any]:
        """The first column of every row."""
        return [row[0] for row in self.rows]


class _Compiled:
    """One statement compiled for one dialect (and, for an INSERT, one set of columns)."""

    def __init__(self, statement: ClauseElement, dialect: Dialect, keys: Iterable[str] | None):
        compiled = statement.compile(dialect=dialect, column_keys=list(keys or ()) or None)
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("statements with expanding or literal parameters are not fast")
        self.sql = compiled.string
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        processors = compiled._bind_processors
        # Each parameter: its name, its value when the caller gives none, its processor.
        self.names: tuple[str, ...]
        if compiled.positional:
            assert compiled.positiontup is not None
            self.names = tuple(compiled.positiontup)
        else:
            self.names = tuple(dict.fromkeys(binds))
        self.defaults = {
            name: binds[name].effective_value for name in self.names if not binds[name].required
        }
        self.bind_processors: tuple[tuple[str, Processor], ...] = tuple(
            (name, processor)
            for name, processor in processors.items()
            if name in self.names and callable(processor)
        )
        self.escaped = dict(compiled.escaped_bind_names)
        self.positional = compiled.positional
        # The positional parameters in order, taken by one C call (a generator cost 1-2 us).
        self._in_order: Callable[[Mapping[str, Any]], tuple[Any, ...]] = _taker(self.names)
        columns = compiled._result_columns or []
        self.types = [column.type for column in columns]
        self.row: Any = None
        if columns:
            self.row = namedtuple("Row", [column.keyname for column in columns])  # type: ignore[misc]
        self.result_processors: list[tuple[int, Processor]] | None = None
        # Whether it gives rows: known from a Core statement's columns, else from its first run.
        self.returns_rows: bool | None = True if columns else None
        self.dialect = dialect

    def parameters(self, given: Mapping[str, Any]) -> Any:
        """The driver's parameters: the given values, the statement's own, each processed."""
        values = {**self.defaults, **given}
        for name, processor in self.bind_processors:
            values[name] = processor(values[name])
        return self._ordered(values)

    def many_parameters(self, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
        """`parameters` of each row; a value the row before had too is processed once."""
        last: dict[str, tuple[Any, Any]] = {}
        found = []
        for given in rows:
            values = {**self.defaults, **given}
            for name, processor in self.bind_processors:
                value = values[name]
                seen = last.get(name)
                if seen is None or seen[0] is not value:
                    seen = last[name] = (value, processor(value))
                values[name] = seen[1]
            found.append(self._ordered(values))
        return found

    def _ordered(self, values: dict[str, Any]) -> Any:
        if self.positional:
            return self._in_order(values)
        if self.escaped:
            return {self.escaped.get(name, name): values[name] for name in self.names}
        return {name: values[name] for name in self.names}

    def processors(self, cursor: Any) -> list[tuple[int, Processor]]:
        """The result processors, by column (from the first execution's description)."""
        if self.result_processors is None:
            description = cursor.description
            found: list[tuple[int, Processor]] = []
            for index, type_ in enumerate(self.types):
                code = description[index][1] if description is not None else None
                processor = type_._cached_result_processor(self.dialect, code)
                if processor is not None:
                    found.append((index, processor))
            self.result_processors = found
            return found
        return self.result_processors


def _taker(names: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """A function giving these keys' values of a mapping as a tuple, in this order."""
    if len(names) > 1:
        return itemgetter(*names)
    if names:
        only = names[0]
        return lambda values: (values[only],)
    return lambda values: ()


class Fast:
    """A Core statement run on the DB-API cursor of a Connection (compiled once per dialect)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[tuple[str, frozenset[str] | None], _Compiled] = {}
        # An INSERT or UPDATE without fixed values takes its columns from the parameters.
        self._by_keys = getattr(statement, "_values", None) is None and getattr(
            statement, "is_dml", False
        )

    def compiled(self, dialect: Dialect, given: Mapping[str, Any]) -> _Compiled:
        """The statement compiled for this dialect (and these columns, for a bare INSERT)."""
        keys = frozenset(given) if self._by_keys else None
        found = self._compiled.get((dialect.name, keys))
        if found is None:
            found = _Compiled(self.statement, dialect, sorted(keys) if keys else None)
            self._compiled[(dialect.name, keys)] = found
        return found

    def run(self, where: Connection | Session, given: Mapping[str, Any]) -> Ran:
        """Execute with these parameters in the connection's (or session's) transaction."""
        connection = connection_of(where) if isinstance(where, Session) else where
        dialect = connection.dialect
        compiled = self.compiled(dialect, given)
        parameters = compiled.parameters(given)
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        cursor = None
        try:
            cursor = dbapi.cursor()
            cursor.execute(compiled.sql, parameters)
            rows: list[Any] = []
            make = compiled.row
            if make is None and compiled.returns_rows is not False:
                # Asked once: psycopg builds the description anew each time it is read.
                description = cursor.description
                compiled.returns_rows = description is not None
                if description is not None:  # a text() statement: the driver's column names
                    make = compiled.row = namedtuple("Row", [d[0] for d in description])
            if make is not None:
                fetched = cursor.fetchall()
                processors = compiled.processors(cursor)
                for raw in fetched:
                    if processors:
                        raw = list(raw)
                        for index, processor in processors:
                            raw[index] = processor(raw[index])
                    rows.append(make(*raw))
            ran = Ran(rows, cursor.rowcount)
            cursor.close()
            return ran
        except dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)

    def run_many(self, where: Connection | Session, rows: Sequence[Mapping[str, Any]]) -> int:
        """Execute once per parameter set (the driver's executemany); how many rows changed."""
        if not rows:
            return 0
        connection = connection_of(where) if isinstance(where, Session) else where
        dialect = connection.dialect
        compiled = self.compiled(dialect, rows[0])
        parameters = compiled.many_parameters(rows)
        dbapi = connection.connection.dbapi_connection
        assert dbapi is not None
        cursor = None
        try:
            cursor = dbapi.cursor()
            cursor.executemany(compiled.sql, parameters)
            changed = int(cursor.rowcount)
            cursor.close()
            return changed
        except dialect.loaded_dbapi.Error as error:
            connection._handle_dbapi_exception(error, compiled.sql, parameters, cursor, None)
