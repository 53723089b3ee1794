"""The routing catalogue in the database: TAK's model, its version history, and the snapshot source.

Tables follow TAK's model (service contracts, service components, logical addresses, endpoints,
routes, access rights). HSA-ids and namespaces are stored with their spelling and a normalised key
(trimmed, case-folded) that carries the unique constraint; URLs are stored byte-exact. The live
tables hold only active rows, so every natural key is unique outright; history lives in
``routing_version``: one row per change (who, when, what, counts) whose ``snapshot`` (our JSON
format, gzipped) is kept for the newest ``keep`` versions, so those can be rolled back to.

Every change replaces the live tables and writes its version row in one transaction
(``publish``). Processes never read routes per call: ``routing.provider.RefreshingProvider`` keeps an
in-memory snapshot and reloads it through ``StoreCatalogueSource`` when the newest version or the
newest directory import moved.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import structlog
from sqlalchemy import (
    JSON,
    Date,
    ForeignKey,
    LargeBinary,
    UniqueConstraint,
    delete,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, Session, aliased, mapped_column

from routing.catalogue import AccessRight, Catalogue, Route, normalise
from routing.content import CatalogueContent
from routing.formats import dump_json, parse_json
from routing.provider import LoadedSource, SourceUnavailable, Stamp
from store.base import Base, BigId
from store.directory_tables import CareGiverRow, DirectoryImportRow, UnitRow
from store.errors import StoreError
from store.session import UnitOfWork
from store.units import IntegratedUnitRow

log = structlog.get_logger("store.routing")


class ContractRow(Base):
    """A tjänstekontrakt, by its responder namespace."""

    __tablename__ = "routing_contract"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    namespace: Mapped[str]
    namespace_key: Mapped[str] = mapped_column(unique=True)


class ComponentRow(Base):
    """A tjänstekomponent: a system that produces (endpoints) or consumes (access rights)."""

    __tablename__ = "routing_component"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hsa_id: Mapped[str]
    hsa_key: Mapped[str] = mapped_column(unique=True)


class LogicalAddressRow(Base):
    """A logisk adress: usually a care unit's HSA-id, or ``SE`` or ``*``."""

    __tablename__ = "routing_logical_address"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    hsa_id: Mapped[str]
    hsa_key: Mapped[str] = mapped_column(unique=True)


class EndpointRow(Base):
    """An anropsadress: producer, RIV-TA profile and URL (byte-exact)."""

    __tablename__ = "routing_endpoint"
    __table_args__ = (UniqueConstraint("producer_id", "profile", "url"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    producer_id: Mapped[int | None] = mapped_column(ForeignKey("routing_component.id"))
    profile: Mapped[str]
    url: Mapped[str]


class RouteRow(Base):
    """A vägval, with validity dates (inclusive) and optional timeout overrides in seconds."""

    __tablename__ = "routing_route"
    __table_args__ = (UniqueConstraint("contract_id", "logical_address_id", "endpoint_id", "valid_from",
                                       "valid_to"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    contract_id: Mapped[int] = mapped_column(ForeignKey("routing_contract.id"))
    logical_address_id: Mapped[int] = mapped_column(ForeignKey("routing_logical_address.id"))
    endpoint_id: Mapped[int] = mapped_column(ForeignKey("routing_endpoint.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)
    connect_timeout_s: Mapped[float | None]
    read_timeout_s: Mapped[float | None]


class AccessRightRow(Base):
    """An anropsbehörighet, with validity dates (inclusive)."""

    __tablename__ = "routing_access_right"
    __table_args__ = (UniqueConstraint("consumer_id", "contract_id", "logical_address_id", "valid_from",
                                       "valid_to"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    consumer_id: Mapped[int] = mapped_column(ForeignKey("routing_component.id"))
    contract_id: Mapped[int] = mapped_column(ForeignKey("routing_contract.id"))
    logical_address_id: Mapped[int] = mapped_column(ForeignKey("routing_logical_address.id"))
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)


class VersionRow(Base):
    """One catalogue change; ``id`` is the version number. ``snapshot`` is NULL once pruned."""

    __tablename__ = "routing_version"
    __table_args__ = ({"sqlite_autoincrement": True},)  # a version number is never reused

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    created_at: Mapped[datetime]
    created_by: Mapped[str]
    action: Mapped[str]
    comment: Mapped[str | None]
    routes: Mapped[int]
    rights: Mapped[int]
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    snapshot: Mapped[bytes | None] = mapped_column(LargeBinary)


@dataclass(frozen=True, slots=True)
class CatalogueVersion:
    """A version as the log shows it."""

    version: int
    created_at: datetime
    created_by: str
    action: str
    comment: str | None
    routes: int
    rights: int
    changes: dict[str, Any]
    kept: bool


class VersionNotKept(StoreError):
    """Raised by ``content_of`` for a version that does not exist or whose snapshot was pruned."""

    def __init__(self, version: int) -> None:
        super().__init__(f"catalogue version {version} is not kept")
        self.version = version


# -- reading ------------------------------------------------------------------------------------------

def current_version(session: Session) -> int:
    """The newest catalogue version, 0 before the first change."""
    return session.scalar(select(func.max(VersionRow.id))) or 0


def load_content(session: Session) -> CatalogueContent:
    """The live catalogue as plain records."""
    producer = aliased(ComponentRow)
    routes = session.execute(
        select(ContractRow.namespace, LogicalAddressRow.hsa_id, EndpointRow.url, producer.hsa_id,
               EndpointRow.profile, RouteRow.valid_from, RouteRow.valid_to, RouteRow.connect_timeout_s,
               RouteRow.read_timeout_s)
        .join(ContractRow, ContractRow.id == RouteRow.contract_id)
        .join(LogicalAddressRow, LogicalAddressRow.id == RouteRow.logical_address_id)
        .join(EndpointRow, EndpointRow.id == RouteRow.endpoint_id)
        .outerjoin(producer, producer.id == EndpointRow.producer_id)
    ).all()
    rights = session.execute(
        select(ComponentRow.hsa_id, ContractRow.namespace, LogicalAddressRow.hsa_id, AccessRightRow.valid_from,
               AccessRightRow.valid_to)
        .join(ComponentRow, ComponentRow.id == AccessRightRow.consumer_id)
        .join(ContractRow, ContractRow.id == AccessRightRow.contract_id)
        .join(LogicalAddressRow, LogicalAddressRow.id == AccessRightRow.logical_address_id)
    ).all()
    contracts = session.scalars(select(ContractRow.namespace).order_by(ContractRow.id)).all()
    return CatalogueContent(tuple(Route(*row) for row in routes), tuple(AccessRight(*row) for row in rights),
                            tuple(contracts))


def hsa_parents(session: Session) -> dict[str, str]:
    """The HSA tree for climbing: unit key -> parent unit, or its care giver when it has none.

    Care givers have no entry: their parent is the root ``SE``, which ``Catalogue`` supplies.
    """
    parent = aliased(UnitRow)
    rows = session.execute(
        select(UnitRow.hsa_key, parent.hsa_id, CareGiverRow.hsa_id)
        .join(CareGiverRow, CareGiverRow.hsa_key == UnitRow.care_giver_key)
        .outerjoin(parent, parent.hsa_key == UnitRow.parent_key)
    ).all()
    return {key: parent_id or care_giver_id for key, parent_id, care_giver_id in rows}


def load_catalogue(session: Session) -> Catalogue:
    """The current catalogue with the directory's HSA tree, built as a gateway process builds it."""
    content = load_content(session)
    return Catalogue(content.routes, content.rights, hsa_parents(session), version=current_version(session),
                     contracts=content.contracts)


def versions(session: Session, limit: int = 20) -> list[CatalogueVersion]:
    """The newest ``limit`` versions, newest first."""
    rows = session.execute(
        select(VersionRow.id, VersionRow.created_at, VersionRow.created_by, VersionRow.action, VersionRow.comment,
               VersionRow.routes, VersionRow.rights, VersionRow.changes, VersionRow.snapshot.is_not(None))
        .order_by(VersionRow.id.desc()).limit(limit)
    ).all()
    return [CatalogueVersion(*row) for row in rows]


def content_of(session: Session, version: int) -> CatalogueContent:
    """The catalogue as it was at ``version``; raises ``VersionNotKept`` when pruned or unknown."""
    blob = session.scalar(select(VersionRow.snapshot).where(VersionRow.id == version))
    if blob is None:
        raise VersionNotKept(version)
    return parse_json(json.loads(gzip.decompress(blob))).content


# -- writing ------------------------------------------------------------------------------------------

def lock_catalogue(session: Session) -> None:
    """Serialise catalogue changes: the read-compare-replace of two importers must not interleave.

    PostgreSQL: an exclusive table lock on ``routing_version`` until the transaction ends (readers of
    the version number are not blocked). SQLite allows one writer at a time anyway.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("LOCK TABLE routing_version IN EXCLUSIVE MODE"))


def publish(session: Session, content: CatalogueContent, *, by: str, action: str, now: datetime,
            keep: int, changes: dict[str, Any], comment: str | None = None) -> int:
    """Replace the live catalogue with ``content`` and record the new version; returns its number.

    The caller's transaction commits it, with nothing else, so every process sees either the old or
    the new catalogue whole. Snapshots older than the newest ``keep`` versions are pruned (their log
    rows stay).
    """
    for table in (RouteRow, AccessRightRow, EndpointRow, ContractRow, ComponentRow, LogicalAddressRow):
        session.execute(delete(table))
    _insert_content(session, content)
    blob = gzip.compress(json.dumps(dump_json(content), separators=(",", ":")).encode("utf-8"))
    version = session.execute(
        insert(VersionRow).values(created_at=now, created_by=by, action=action, comment=comment,
                                  routes=len(content.routes), rights=len(content.rights), changes=changes,
                                  snapshot=blob).returning(VersionRow.id)
    ).scalar_one()
    session.execute(update(VersionRow).where(VersionRow.id <= version - keep).where(VersionRow.snapshot.is_not(None))
                    .values(snapshot=None))
    return version


class _Ids:
    """Assigns ids to distinct normalised values and remembers the first spelling of each."""

    def __init__(self) -> None:
        self.ids: dict[Any, int] = {}
        self.rows: list[dict[str, Any]] = []

    def get(self, key: Any, **row: Any) -> int:
        found = self.ids.get(key)
        if found is None:
            found = self.ids[key] = len(self.ids) + 1
            self.rows.append({"id": found, **row})
        return found


def _insert_content(session: Session, content: CatalogueContent) -> None:
    contracts, components, addresses, endpoints = _Ids(), _Ids(), _Ids(), _Ids()

    def contract(namespace: str) -> int:
        return contracts.get(normalise(namespace), namespace=namespace.strip(), namespace_key=normalise(namespace))

    def component(hsa_id: str) -> int:
        return components.get(normalise(hsa_id), hsa_id=hsa_id.strip(), hsa_key=normalise(hsa_id))

    def address(hsa_id: str) -> int:
        return addresses.get(normalise(hsa_id), hsa_id=hsa_id.strip(), hsa_key=normalise(hsa_id))

    for namespace in content.all_contracts():
        contract(namespace)
    routes: list[dict[str, Any]] = []
    for r in content.routes:
        producer = component(r.producer) if r.producer else None
        endpoint = endpoints.get((producer, r.profile, r.url), producer_id=producer, profile=r.profile, url=r.url)
        routes.append({"id": len(routes) + 1, "contract_id": contract(r.contract),
                       "logical_address_id": address(r.logical_address), "endpoint_id": endpoint,
                       "valid_from": r.valid_from, "valid_to": r.valid_to,
                       "connect_timeout_s": r.connect_timeout_s, "read_timeout_s": r.read_timeout_s})
    rights = [{"id": i, "consumer_id": component(a.consumer), "contract_id": contract(a.contract),
               "logical_address_id": address(a.logical_address), "valid_from": a.valid_from, "valid_to": a.valid_to}
              for i, a in enumerate(content.rights, start=1)]
    for table, rows in ((ContractRow, contracts.rows), (ComponentRow, components.rows),
                        (LogicalAddressRow, addresses.rows), (EndpointRow, endpoints.rows),
                        (RouteRow, routes), (AccessRightRow, rights)):
        if rows:
            session.execute(insert(table), rows)


# -- the catalogue as the processes' snapshot source -----------------------------------------------

class StoreCatalogueSource:
    """``routing.provider.CatalogueSource`` over the database: what ``RefreshingProvider`` reloads from.

    Database failures become ``SourceUnavailable`` (naming only the failure's kind), so the provider
    keeps serving its last good snapshot.
    """

    def __init__(self, uow: UnitOfWork) -> None:
        self._uow = uow

    def stamp(self) -> Stamp:
        try:
            with self._uow() as session:
                return _stamp(session)
        except (StoreError, SQLAlchemyError) as error:
            raise SourceUnavailable(type(error).__name__) from error

    def load(self) -> LoadedSource | None:
        try:
            with self._uow() as session:
                stamp = _stamp(session)
                content = load_content(session)
                parents = hsa_parents(session)
                published_at = session.scalar(select(VersionRow.created_at).where(VersionRow.id == stamp[0]))
                if _stamp(session) != stamp:  # a change committed while we read: take it next time
                    return None
        except (StoreError, SQLAlchemyError) as error:
            raise SourceUnavailable(type(error).__name__) from error
        return LoadedSource(stamp, content, parents, published_at)


def _stamp(session: Session) -> Stamp:
    """The newest catalogue version and directory import, in one statement over two primary keys."""
    row = session.execute(select(select(func.max(VersionRow.id)).scalar_subquery(),
                                 select(func.max(DirectoryImportRow.id)).scalar_subquery())).one()
    return row[0] or 0, row[1] or 0


def integrated_units(session: Session) -> Iterable[tuple[str, str, datetime]]:
    """(unit HSA-id, care giver HSA-id, first seen) of every integrated unit, for ``routing check``."""
    return session.execute(select(IntegratedUnitRow.unit_hsa_id, IntegratedUnitRow.care_giver_hsa_id,
                                  IntegratedUnitRow.first_seen).order_by(IntegratedUnitRow.unit_key)).tuples().all()
