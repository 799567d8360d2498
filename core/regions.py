"""The organisation as a tree: company → region (امور) → office, with the utilities each serves."""

import enum

from sqlalchemy import ForeignKey, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.db import Base, CreatedAt
from core.utilities import Utility


class RegionKind(enum.StrEnum):
    COMPANY = "company"
    REGION = "region"
    OFFICE = "office"


REGION_KIND_NAMES_FA = {
    RegionKind.COMPANY: "شرکت",
    RegionKind.REGION: "امور",
    RegionKind.OFFICE: "دفتر",
}


class Region(CreatedAt, Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True)
    # Materialised path of ids ("/1/4/9/"): a region and all below it share its prefix, which makes
    # "this region and its descendants" one indexed LIKE on every backend.
    path: Mapped[str] = mapped_column(String(400), index=True, default="")

    parent: Mapped["Region | None"] = relationship(remote_side=[id])
    utility_rows: Mapped[list["RegionUtility"]] = relationship(
        cascade="all, delete-orphan", order_by="RegionUtility.utility"
    )

    @property
    def utilities(self) -> list[Utility]:
        return [Utility(row.utility) for row in self.utility_rows]

    @property
    def depth(self) -> int:
        return self.path.count("/") - 2

    def contains(self, other: "Region") -> bool:
        return other.path.startswith(self.path)


class RegionUtility(Base):
    __tablename__ = "region_utilities"
    __table_args__ = (UniqueConstraint("region_id", "utility"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id", ondelete="CASCADE"), index=True)
    utility: Mapped[str] = mapped_column(String(16))


def add_region(session, code, name, kind, parent=None, utilities=(), name_en="") -> Region:
    region = Region(code=code, name=name, name_en=name_en, kind=RegionKind(kind), parent=parent)
    region.utility_rows = [RegionUtility(utility=Utility(u)) for u in utilities]
    session.add(region)
    session.flush()  # the id is part of the path
    region.path = (parent.path if parent else "/") + f"{region.id}/"
    session.flush()
    return region


def region_tree(session) -> list[Region]:
    """Every region, parents before children, siblings by name: the order a tree is drawn in."""
    regions = session.scalars(select(Region)).all()
    by_parent: dict[int | None, list[Region]] = {}
    for region in regions:
        by_parent.setdefault(region.parent_id, []).append(region)
    ordered: list[Region] = []

    def walk(parent_id):
        for child in sorted(by_parent.get(parent_id, []), key=lambda r: r.name):
            ordered.append(child)
            walk(child.id)

    walk(None)
    return ordered
