"""Flat values of nested frozen dataclasses, both ways, from one declaration per value.

A stored row and a JSON snapshot are both flat: named values, each a string, number, boolean, time,
wire code or JSON document. A domain value is nested (a certificate holds a patient, who holds a
person id). A table of ``Column`` entries says, once per flat value, which attribute it holds and
how it is converted; the functions here turn that table into the mapping for both directions, so no
mapping is written by hand. ``domain.certificates.CERTIFICATE_COLUMNS`` is such a table.

The functions are built once, when the table is loaded. They are on the path of every request that
reads or writes a certificate, so each direction reads all unconverted values of an object in a
single ``operator.attrgetter``/``itemgetter`` call and calls a conversion only where one is declared.
Nested dataclasses are built positionally from their fields in declaration order, which is why every
field must be in the table: ``readers`` refuses a table that leaves one out, so a new field cannot be
forgotten silently.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from enum import StrEnum
from operator import attrgetter, itemgetter
from typing import Any, Protocol, get_type_hints

from domain.values import HsaId


class FlatValues(Protocol):
    """Flat values by name: a dict, or the mapping of a database row (which also takes column objects)."""

    def __getitem__(self, name: str, /) -> Any: ...


Convert = Callable[[Any], Any]
Reader = Callable[[FlatValues], Any]
ToDict = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True, slots=True)
class Codec:
    """How an attribute's value becomes its flat value and back, and how that becomes JSON-safe and back.

    Flat values are what the store binds and reads: strings, numbers, booleans, JSON-safe lists and
    dicts, aware datetimes and ``StrEnum`` members (the store's column types map the last two). The
    JSON step turns times and codes into strings for a snapshot. A step left ``None`` passes the
    value unchanged and costs no call. ``flat_attribute`` says that the flat value is that attribute
    of the value (an HSA-id's ``value``): it is then read with the unconverted values, in the same
    call, instead of by a ``to_flat`` call of its own.
    """

    to_flat: Convert | None = None
    from_flat: Convert | None = None
    to_json: Convert | None = None
    from_json: Convert | None = None
    flat_attribute: str | None = None


def optional(convert: Convert) -> Convert:
    """``convert`` for a value that may be None (None stays None)."""
    return lambda value: None if value is None else convert(value)


def _optional_hsa_value(hsa_id: HsaId | None) -> str | None:
    return None if hsa_id is None else hsa_id.value


def _optional_hsa_id(value: str | None) -> HsaId | None:
    # An empty string is no HSA-id (HsaId refuses one); no writer stores it, but None is the safe
    # reading of a hand-edited row.
    return HsaId(value) if value else None


def _texts(value: list[str] | None) -> tuple[str, ...]:
    # A key missing from an older JSON document reads as an empty tuple.
    return tuple(value) if value else ()


def code(enum: type[StrEnum]) -> Codec:
    """A wire code: the ``StrEnum`` member as the flat value, its value in JSON."""
    return Codec(to_json=attrgetter("value"), from_json=enum)


PLAIN = Codec()
TIME = Codec(to_json=datetime.isoformat, from_json=datetime.fromisoformat)
OPTIONAL_TIME = Codec(to_json=optional(datetime.isoformat), from_json=optional(datetime.fromisoformat))
HSA_ID = Codec(flat_attribute="value", from_flat=HsaId)
OPTIONAL_HSA_ID = Codec(to_flat=_optional_hsa_value, from_flat=_optional_hsa_id)
TEXTS = Codec(to_flat=list, from_flat=_texts)


@dataclass(frozen=True, slots=True)
class Column:
    """One flat value: its name, the attribute it holds, and how it is converted.

    ``path`` is the attribute as a dotted path from the outer value (``patient.person_id.digits``).
    ``key`` puts the value under that key of a JSON object shared by the entries of the same ``name``
    instead of a value of its own; such a value must be JSON-safe as its flat value. ``shares`` names
    attributes that always hold the same value as ``path``: reading fills them all, and writing
    refuses a value where they differ. ``lifecycle`` marks the values that change after the value is
    first stored.
    """

    name: str
    path: str
    codec: Codec = PLAIN
    key: str | None = None
    shares: tuple[str, ...] = ()
    lifecycle: bool = False


def names(columns: Iterable[Column]) -> tuple[str, ...]:
    """The flat names in table order, each once."""
    return tuple(dict.fromkeys(column.name for column in columns))


def _tuple_getter(getter: Callable[..., Any], keys: Sequence[Any]) -> Callable[[Any], tuple[Any, ...]]:
    """One C-level call giving the values at ``keys`` as a tuple, whatever their number.

    ``attrgetter``/``itemgetter`` of one key give the value itself, and of none cannot be made.
    """
    if len(keys) > 1:
        return getter(*keys)  # type: ignore[no-any-return]
    if len(keys) == 1:
        get = getter(keys[0])
        return lambda source: (get(source),)
    return lambda source: ()


def writer(columns: Iterable[Column]) -> ToDict:
    """The function that gives a value's flat values for ``columns``, as a dict by name.

    Raises:
        ValueError (from the function): attributes declared in ``shares`` differ from their ``path``.
    """
    columns = tuple(columns)
    own = [c for c in columns if c.key is None]
    plain = [c for c in own if c.codec.to_flat is None]
    plain_names = tuple(c.name for c in plain)
    read_plain = _tuple_getter(attrgetter, [_flat_path(c) for c in plain])
    converted = tuple((c.name, attrgetter(c.path), c.codec.to_flat) for c in own if c.codec.to_flat is not None)
    objects: dict[str, list[Column]] = {}
    for column in columns:
        if column.key is not None:
            objects.setdefault(column.name, []).append(replace(column, name=column.key, key=None, shares=()))
    documents = tuple((name, writer(entries)) for name, entries in objects.items())
    shared = tuple((c.path, other, attrgetter(c.path), attrgetter(other)) for c in own for other in c.shares)

    def write(value: Any) -> dict[str, Any]:
        for path, other, read, read_other in shared:
            if read(value) != read_other(value):
                raise ValueError(f"{other} differs from {path}; the flat form keeps one value for both")
        values = dict(zip(plain_names, read_plain(value), strict=True))
        for name, read, convert in converted:
            values[name] = convert(read(value))
        for name, write_document in documents:
            values[name] = write_document(value)
        return values

    return write


def _flat_path(column: Column) -> str:
    attribute = column.codec.flat_attribute
    return column.path if attribute is None else f"{column.path}.{attribute}"


def _leaf_reader(column: Column) -> tuple[str | None, Reader | None]:
    """(flat name, None) for a value read as it is, or (None, reader) for one that needs a step."""
    name, key, convert = column.name, column.key, column.codec.from_flat
    if key is not None:
        if convert is None:
            return None, lambda values: values[name].get(key)
        return None, lambda values: convert(values[name].get(key))
    if convert is None:
        return name, None
    return None, lambda values: convert(values[name])


def readers(cls: type, columns: Iterable[Column], shared: Collection[str] = ()) -> dict[str, Reader]:
    """A reader for every attribute path of ``cls`` and of the dataclasses in it ("" reads the whole).

    Each dataclass is built positionally: the values read as they are come from one ``itemgetter``
    call, the others from their readers, and one more ``itemgetter`` puts both in field order.

    The dataclasses at the paths ``shared`` are built once per distinct flat values and the same
    value is handed out again (``_shared``): a patient's 200 certificates at one unit then hold one
    patient and one unit between them, which is fewer objects to build on a read, to keep in a
    cache and to free again. Their columns must be flat values that hash (no entries of a JSON object).

    Raises:
        TypeError: a field is in no column, a column names an attribute that does not exist, or a
            path ``shared`` is no dataclass of ``cls`` or has a column inside a JSON object.
    """
    columns = tuple(columns)
    leaves = {path: _leaf_reader(column) for column in columns for path in (column.path, *column.shares)}
    found: dict[str, Reader] = {}
    sharing: set[str] = set()

    def build(owner: type, prefix: str) -> Reader:
        hints = get_type_hints(owner)
        plain: list[str] = []  # flat names of the fields read as they are
        steps: list[Reader] = []  # readers of the other fields
        order: list[tuple[bool, int]] = []  # per field in declaration order: (plain?, index)
        for field in fields(owner):
            path = prefix + field.name
            if path in leaves:
                name, step = leaves[path]
            elif is_dataclass(hints[field.name]):
                name, step = None, build(hints[field.name], path + ".")
                if path in shared:
                    step = _shared(step, _columns_under(columns, path))
                    sharing.add(path)
            else:
                raise TypeError(f"{owner.__name__}.{field.name} ({path}) is in no column of the table")
            if step is None:
                assert name is not None
                found[path] = itemgetter(name)
                order.append((True, len(plain)))
                plain.append(name)
            else:
                found[path] = step
                order.append((False, len(steps)))
                steps.append(step)
        take = _tuple_getter(itemgetter, plain)
        arrange = _tuple_getter(itemgetter, [i if is_plain else len(plain) + i for is_plain, i in order])
        other = tuple(steps)
        return lambda values: owner(*arrange(take(values) + tuple([step(values) for step in other])))

    found[""] = build(cls, "")
    unknown = leaves.keys() - found.keys()
    if unknown:
        raise TypeError(f"the table names attributes {cls.__name__} does not have: {sorted(unknown)}")
    if sharing != set(shared):
        raise TypeError(f"no dataclass of {cls.__name__} to share at {sorted(set(shared) - sharing)}")
    return found


#: How many distinct values a shared reader remembers before it starts again (``_shared``).
SHARED_VALUES = 1024


def _columns_under(columns: Sequence[Column], path: str) -> list[str]:
    """The flat names of the columns that hold ``path`` or anything inside it, each once."""
    inside = [column for column in columns
              if any(p == path or p.startswith(path + ".") for p in (column.path, *column.shares))]
    if any(column.key is not None for column in inside):
        raise TypeError(f"{path} has a column inside a JSON object: its values cannot be shared")
    return list(dict.fromkeys(column.name for column in inside))


def _shared(read: Reader, names: Sequence[str]) -> Reader:
    """``read``, giving the value it built before for the same flat values of ``names``.

    At most ``SHARED_VALUES`` are remembered; then they are forgotten at once and built anew as they
    come (values are immutable, so sharing one is never seen, and forgetting one costs a rebuild).
    Threads may build the same value twice; either is right.
    """
    key_of = _tuple_getter(itemgetter, names)
    built: dict[Any, Any] = {}

    def read_shared(values: FlatValues) -> Any:
        key = key_of(values)
        value = built.get(key)
        if value is None:
            if len(built) >= SHARED_VALUES:
                built.clear()
            value = built[key] = read(values)
        return value

    return read_shared


def json_converters(columns: Iterable[Column]) -> tuple[ToDict, ToDict]:
    """Functions from flat values to JSON-safe values by name, and back.

    Raises:
        TypeError: an entry inside a JSON object declares a JSON step (it must be JSON-safe already).
    """
    to_json: dict[str, Convert | None] = {}
    from_json: dict[str, Convert | None] = {}
    for column in columns:
        if column.key is not None and (column.codec.to_json or column.codec.from_json):
            raise TypeError(f"{column.name}[{column.key!r}] is inside a JSON object: it must be JSON-safe as it is")
        to_json.setdefault(column.name, column.codec.to_json)
        from_json.setdefault(column.name, column.codec.from_json)
    encode, decode = tuple(to_json.items()), tuple(from_json.items())

    def flat_to_json(values: Any) -> dict[str, Any]:
        return {name: values[name] if convert is None else convert(values[name]) for name, convert in encode}

    def json_to_flat(data: Any) -> dict[str, Any]:
        return {name: data[name] if convert is None else convert(data[name]) for name, convert in decode}

    return flat_to_json, json_to_flat


def nested_json_writer(columns: Iterable[Column]) -> ToDict:
    """A function from flat values to JSON-safe values nested as the attributes are.

    ``{"id": ..., "patient": {"person_id": {"kind": ..., "digits": ...}, ...}, ...}``: the shape a
    reader of the domain value expects (an API answer), built from the same table, so it shows a
    new field as soon as the table has it. Shared attributes each get the value.
    """
    columns = tuple(columns)
    flat_to_json, _ = json_converters(columns)
    places = tuple(
        (column.name, column.key, path.split(".")) for column in columns for path in (column.path, *column.shares)
    )

    def write(values: Any) -> dict[str, Any]:
        data = flat_to_json(values)
        nested: dict[str, Any] = {}
        for name, key, steps in places:
            target = nested
            for step in steps[:-1]:
                target = target.setdefault(step, {})
            target[steps[-1]] = data[name] if key is None else data[name][key]
        return nested

    return write


def columns_under(columns: Iterable[Column], paths: Iterable[str]) -> tuple[str, ...]:
    """The flat names a reader of these attribute paths reads (the columns a narrow query selects)."""
    paths = tuple(paths)
    return names(
        column
        for column in columns
        if any(p == column.path or column.path.startswith(p + ".") or p in column.shares for p in paths)
    )
