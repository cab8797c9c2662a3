"""What program created a database, told from its table names and its header's application_id (data)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class AppFingerprint:
    """A program recognised when every one of `tables` exists (tables or views, any letter case)."""

    name: str
    tables: frozenset[str]

    def matches(self, names: frozenset[str]) -> bool:
        """True when every table of the fingerprint is among `names` (lower case)."""
        return self.tables <= names


def _fp(name: str, *tables: str) -> AppFingerprint:
    return AppFingerprint(name, frozenset(t.lower() for t in tables))


#: Schema fingerprints, the more specific first. A table set common to several programs names them all.
FINGERPRINTS: tuple[AppFingerprint, ...] = (
    _fp("Firefox history and bookmarks (places.sqlite)", "moz_places", "moz_historyvisits"),
    _fp("Firefox cookies (cookies.sqlite)", "moz_cookies"),
    _fp("Firefox form history (formhistory.sqlite)", "moz_formhistory"),
    _fp("Chrome / Chromium history (History)", "urls", "visits", "keyword_search_terms"),
    _fp("Safari history (History.db)", "history_items", "history_visits"),
    _fp("Android messages (mmssms.db)", "sms", "threads"),
    _fp("Android contacts (contacts2.db)", "raw_contacts", "data"),
    _fp("iOS / macOS Messages (sms.db)", "message", "handle", "chat"),
    _fp("iOS / macOS AddressBook", "ABPerson", "ABMultiValue"),
    _fp("Apple Core Data store", "Z_METADATA", "Z_PRIMARYKEY"),
    _fp("Anki flashcards collection", "col", "notes", "cards", "revlog"),
    _fp("Calibre library (metadata.db)", "books", "authors", "books_authors_link"),
    _fp("Zotero library (zotero.sqlite)", "items", "itemData", "itemDataValues"),
    _fp("Adobe Lightroom catalog", "Adobe_images", "AgLibraryFile"),
    _fp("Home Assistant recorder", "states", "events", "recorder_runs"),
    _fp("GeoPackage", "gpkg_contents", "gpkg_spatial_ref_sys"),
    _fp("MBTiles tileset", "metadata", "tiles"),
    _fp("Django application", "django_migrations"),
    _fp("Ruby on Rails application (Active Record)", "schema_migrations", "ar_internal_metadata"),
    _fp("Alembic-migrated application (SQLAlchemy)", "alembic_version"),
    _fp("Flyway-migrated application", "flyway_schema_history"),
    _fp("Liquibase-migrated application", "DATABASECHANGELOG"),
    _fp("Knex-migrated application", "knex_migrations"),
    _fp("Prisma-migrated application", "_prisma_migrations"),
    _fp("Sequelize-migrated application", "SequelizeMeta"),
)

#: A table set several tools share: named only when no fingerprint above matched the same table.
GENERIC_FINGERPRINTS: tuple[AppFingerprint, ...] = (
    _fp("an application migrated with schema_migrations (Rails before 5.0, dbmate, golang-migrate, Ecto…)",
        "schema_migrations"),
)  # fmt: skip

#: Registered `application_id` values: SQLite's magic.txt, and GeoPackage 1.1's 'GP11' (its spec).
APPLICATION_IDS: dict[int, str] = {
    0x0F055111: "Fossil repository",
    0x0F055112: "Fossil checkout",
    0x0F055113: "Fossil global configuration",
    0x42654462: "Bentley BeSQLite database ('BeDb')",
    0x42654C6E: "Bentley localization file ('BeLn')",
    0x47504B47: "GeoPackage ('GPKG')",
    0x47503130: "GeoPackage 1.0 ('GP10')",
    0x47503131: "GeoPackage 1.1 ('GP11')",
    0x45737269: "Esri spatially-enabled database ('Esri')",
    0x4D504258: "MBTiles tileset ('MPBX')",
    0x6A035744: "TeXnicard card database",
}


def application_id_name(application_id: int) -> str | None:
    """The registered name of `application_id` (signed or unsigned), or None (0, or not registered)."""
    return APPLICATION_IDS.get(application_id & 0xFFFFFFFF)


def recognise(table_names: Iterable[str]) -> list[str]:
    """Programs whose fingerprint the schema's tables and views match, in `FINGERPRINTS` order."""
    names = frozenset(name.lower() for name in table_names)
    found = [fp for fp in FINGERPRINTS if fp.matches(names)]
    claimed = frozenset().union(*(fp.tables for fp in found)) if found else frozenset()
    found += [fp for fp in GENERIC_FINGERPRINTS if fp.matches(names) and not fp.tables <= claimed]
    return [fp.name for fp in found]
