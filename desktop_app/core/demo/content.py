"""The demo database's tables apart from the big `events` table: one function per showcase."""

from __future__ import annotations

import gzip
import io
import random
import sqlite3
import zipfile
from collections.abc import Callable

from desktop_app.core.demo.images import demo_images

SEED = 20240601


def execute_script(conn: sqlite3.Connection, script: str) -> None:
    """Run `script` statement by statement inside the current transaction (`executescript` commits first)."""
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement: {statement!r}")


# --- shop: related tables, foreign keys, a view, triggers -------------------------------------------

_FIRST_NAMES = tuple(
    [
        "Ada",
        "Grace",
        "Linus",
        "Margaret",
        "Alan",
        "Edsger",
        "Barbara",
        "Dennis",
        "Frances",
        "Ken",
        "Radia",
        "Tim",
        "Hedy",
        "Donald",
        "Sophie",
        "Zoë",
        "José",
        "Søren",
        "Łukasz",
        "Øyvind",
        "Chloé",
        "Mía",
        "Noémie",
        "Ümit",
        "Håkon",
        "Ming",
        "Yuki",
        "Aarav",
        "Olu",
        "Fatima",
    ]
)
_LAST_NAMES = tuple(
    [
        "Lovelace",
        "Hopper",
        "Torvalds",
        "Hamilton",
        "Turing",
        "Dijkstra",
        "Liskov",
        "Ritchie",
        "Allen",
        "Thompson",
        "Perlman",
        "Berners-Lee",
        "Lamarr",
        "Knuth",
        "Wilson",
        "Müller",
        "García",
        "Østergaard",
        "Kowalski",
        "Nakamura",
        "Dubois",
        "O'Brien",
        "Smith-Jones",
        "Ng",
    ]
)
_COUNTRIES = ("Germany", "France", "Japan", "Brazil", "Canada", "Norway", "Côte d'Ivoire", "日本", "México")
_PRODUCTS = (
    ("Espresso beans", "coffee", 12.5),
    ("Filter coffee", "coffee", 9.0),
    ("Green tea", "tea", 6.75),
    ("Earl Grey", "tea", 5.5),
    ("Ceramic mug", "kitchen", 14.0),
    ("Milk frother", "kitchen", 39.99),
    ("Pour-over kettle", "kitchen", 49.0),
    ("Croissant", "bakery", 2.2),
    ("Pain au chocolat", "bakery", 2.6),
    ("Crème brûlée", "bakery", 4.8),
    ("Gift card", None, 25.0),
    ("Mystery box", "", 0.0),
)
_STATUSES = ("new", "paid", "shipped", "delivered", "cancelled")


def _create_shop(conn: sqlite3.Connection) -> None:
    execute_script(
        conn,
        """
        CREATE TABLE customers (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            email TEXT UNIQUE,
            country TEXT,
            created_at TEXT NOT NULL,
            notes TEXT  -- NULL (unknown) and '' (known to be empty) both occur
        );
        CREATE TABLE products (
            id INTEGER PRIMARY KEY,
            sku TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            category TEXT,
            price REAL NOT NULL CHECK (price >= 0),
            price_with_vat REAL GENERATED ALWAYS AS (round(price * 1.2, 2)) VIRTUAL,
            image_id INTEGER REFERENCES images(id)
        );
        CREATE TABLE orders (
            id INTEGER PRIMARY KEY,
            customer_id INTEGER NOT NULL REFERENCES customers(id),
            ordered_at TEXT NOT NULL,
            status TEXT NOT NULL DEFAULT 'new'
                CHECK (status IN ('new', 'paid', 'shipped', 'delivered', 'cancelled')),
            total REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX orders_customer ON orders(customer_id);
        CREATE TABLE order_items (
            order_id INTEGER NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
            product_id INTEGER NOT NULL REFERENCES products(id),
            quantity INTEGER NOT NULL CHECK (quantity > 0),
            unit_price REAL NOT NULL,
            PRIMARY KEY (order_id, product_id)
        ) WITHOUT ROWID;
        CREATE TABLE order_status_log (
            id INTEGER PRIMARY KEY,
            order_id INTEGER NOT NULL REFERENCES orders(id),
            old_status TEXT,
            new_status TEXT NOT NULL,
            changed_at TEXT NOT NULL
        );
        CREATE TRIGGER order_items_update_total AFTER INSERT ON order_items
        BEGIN
            UPDATE orders SET total = round(total + NEW.quantity * NEW.unit_price, 2) WHERE id = NEW.order_id;
        END;
        CREATE TRIGGER orders_log_status AFTER UPDATE OF status ON orders
        WHEN OLD.status IS NOT NEW.status
        BEGIN
            INSERT INTO order_status_log (order_id, old_status, new_status, changed_at)
            VALUES (NEW.id, OLD.status, NEW.status, '2024-06-30 12:00:00');
        END;
        CREATE VIEW order_summary AS
            SELECT o.id AS order_id, c.name AS customer, c.country, o.ordered_at, o.status,
                   count(i.product_id) AS items, o.total
            FROM orders AS o
            JOIN customers AS c ON c.id = o.customer_id
            LEFT JOIN order_items AS i ON i.order_id = o.id
            GROUP BY o.id;
        CREATE VIEW best_customers AS
            SELECT customer, country, count(*) AS orders, round(sum(total), 2) AS spent
            FROM order_summary WHERE status <> 'cancelled'
            GROUP BY customer ORDER BY spent DESC LIMIT 20;
        """,
    )
    rng = random.Random(SEED)
    customers = []
    for cid in range(1, 501):
        name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"
        email = None if cid % 23 == 0 else f"customer{cid}@example.com"
        notes = (None, "", "VIP", "Prefers e-mail\nand invoices on paper")[cid % 4]
        created = f"2023-{1 + cid % 12:02d}-{1 + cid % 28:02d}"
        customers.append((cid, name, email, rng.choice(_COUNTRIES), created, notes))
    conn.executemany("INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?)", customers)
    conn.executemany(
        "INSERT INTO products (id, sku, name, category, price, image_id) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (pid, f"SKU-{pid:04d}", *item, None if item[1] is None else pid)
            for pid, item in enumerate(_PRODUCTS, start=1)
        ],
    )
    orders, items = [], []
    for oid in range(1, 2001):
        orders.append(
            (oid, rng.randint(1, 500), f"2024-{1 + oid % 6:02d}-{1 + oid % 28:02d} {oid % 24:02d}:00:00")
        )
        for pid in rng.sample(range(1, len(_PRODUCTS) + 1), rng.randint(1, 4)):
            items.append((oid, pid, rng.randint(1, 5), _PRODUCTS[pid - 1][2]))
    conn.executemany("INSERT INTO orders (id, customer_id, ordered_at) VALUES (?, ?, ?)", orders)
    conn.executemany("INSERT INTO order_items VALUES (?, ?, ?, ?)", items)
    conn.executemany(
        "UPDATE orders SET status = ? WHERE id = ?", [(_STATUSES[oid % 5], oid) for oid in range(1, 2001)]
    )


# --- articles: full-text search ----------------------------------------------------------------------

_SENTENCES = (
    "SQLite stores the whole database in a single ordinary file.",
    "A snapshot copies every page into memory, so the original file is never touched.",
    "Foreign keys link orders to customers and order items to products.",
    "The query planner uses an index when the WHERE clause matches its leading columns.",
    "Write-ahead logging lets readers continue while a writer appends to the log.",
    "Full-text search tokenises each document and ranks matches with BM25.",
    "Blobs hold images, compressed archives or any other binary payload.",
    "A WITHOUT ROWID table is clustered on its primary key.",
    "Triggers run SQL automatically when rows are inserted, updated or deleted.",
    "Views are stored queries that behave like read-only tables.",
    "Migrations record which schema changes have already been applied.",
    "Unicode text such as naïve café, Zürich, 東京 and emoji 🎉 must survive every round trip.",
)


def _create_articles(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE VIRTUAL TABLE articles USING fts5(title, author, body, tokenize='porter unicode61')")
    rng = random.Random(SEED + 1)
    rows = []
    for number in range(1, 301):
        body = " ".join(rng.choice(_SENTENCES) for _ in range(rng.randint(3, 12)))
        rows.append((f"Note {number}: {rng.choice(_SENTENCES)[:40].rstrip()}", rng.choice(_LAST_NAMES), body))
    conn.executemany("INSERT INTO articles (title, author, body) VALUES (?, ?, ?)", rows)


# --- images -----------------------------------------------------------------------------------------


def _create_images(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE images (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            mime_type TEXT NOT NULL DEFAULT 'image/png',
            data BLOB NOT NULL
        )"""
    )
    conn.executemany(
        "INSERT INTO images (name, width, height, data) VALUES (?, ?, ?, ?)",
        [(image.name, image.width, image.height, image.data) for image in demo_images()],
    )


# --- attachments: other binary blobs -----------------------------------------------------------------


def _tiny_pdf() -> bytes:
    body = b"BT /F1 24 Tf 72 720 Td (Hello from the demo database) Tj ET"
    return (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
        b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >> endobj\n"
        b"4 0 obj << /Length " + str(len(body)).encode() + b" >> stream\n" + body + b"\nendstream endobj\n"
        b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


def _tiny_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            zipfile.ZipInfo("readme.txt", (2024, 1, 1, 0, 0, 0)), "A zip archive inside a blob.\n"
        )
    return buffer.getvalue()


def _tiny_sqlite() -> bytes:
    inner = sqlite3.connect(":memory:")
    inner.execute("CREATE TABLE nested (note TEXT)")
    inner.execute("INSERT INTO nested VALUES ('a database inside a database')")
    inner.commit()
    data = inner.serialize()
    inner.close()
    return data


def _create_attachments(conn: sqlite3.Connection) -> None:
    conn.execute(
        """CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            file_name TEXT NOT NULL,
            description TEXT,
            data BLOB
        )"""
    )
    rng = random.Random(SEED + 2)
    text = "\n".join(_SENTENCES).encode()
    png = demo_images()[0].data
    blobs = [
        ("notes.txt.gz", "gzip-compressed text", gzip.compress(text * 20, mtime=0)),
        ("invoice.pdf", "a minimal one-page PDF", _tiny_pdf()),
        ("random.bin", "4 KiB of random bytes", rng.randbytes(4096)),
        ("large.bin", "1.5 MiB of random bytes (hex view paging)", rng.randbytes(1_572_864)),
        ("archive.zip", "a zip archive", _tiny_zip()),
        ("nested.sqlite", "a SQLite database stored as a blob", _tiny_sqlite()),
        ("data.json", "UTF-8 JSON stored as a blob", b'{"name": "caf\xc3\xa9", "tags": ["demo", "json"]}'),
        ("broken.png", "a PNG cut off after 40 bytes", png[:40]),
        ("empty.bin", "a zero-length blob (not NULL)", b""),
        ("missing.bin", "NULL: no data at all", None),
    ]
    conn.executemany("INSERT INTO attachments (file_name, description, data) VALUES (?, ?, ?)", blobs)


# --- awkward names -----------------------------------------------------------------------------------


def _create_awkward_names(conn: sqlite3.Connection) -> None:
    execute_script(
        conn,
        """
        CREATE TABLE "Order Details" (
            "Order ID" INTEGER NOT NULL REFERENCES orders(id),
            "Product ID" INTEGER NOT NULL REFERENCES products(id),
            "Unit Price" REAL NOT NULL,
            "Quantity" INTEGER NOT NULL,
            "Discount" REAL NOT NULL DEFAULT 0,
            PRIMARY KEY ("Order ID", "Product ID")
        );
        INSERT INTO "Order Details" ("Order ID", "Product ID", "Unit Price", "Quantity", "Discount")
            SELECT order_id, product_id, unit_price, quantity, (order_id % 4) * 0.05
            FROM order_items WHERE order_id <= 300;
        CREATE TABLE "it's" (id INTEGER PRIMARY KEY, "it's value" TEXT, "don't" TEXT);
        INSERT INTO "it's" VALUES (1, 'it''s fine', 'won''t'), (2, '''quoted''', NULL);
        CREATE TABLE "q""t" (id INTEGER PRIMARY KEY, "say ""hi"" here" TEXT);
        INSERT INTO "q""t" VALUES (1, 'double "quotes" inside'), (2, '');
        CREATE TABLE "select" ("from" TEXT, "where" INTEGER, "group" REAL, "order" TEXT);
        INSERT INTO "select" VALUES ('reserved', 1, 1.5, 'words'), ('as names', 2, NULL, '');
        CREATE TABLE "table]name" ("[bracket]" TEXT, "`backtick`" TEXT);
        INSERT INTO "table]name" VALUES ('square', 'tick');
        CREATE TABLE "🎉 party" ("🔑" INTEGER PRIMARY KEY, "名前" TEXT, "naïve café" TEXT, " padded " TEXT);
        INSERT INTO "🎉 party" VALUES (1, '山田', 'crème', ' spaces '), (2, 'Σωκράτης', NULL, '');
        CREATE TABLE "compound/keys" (
            "pk 1" TEXT NOT NULL,
            "pk/2" INTEGER NOT NULL,
            value TEXT,
            PRIMARY KEY ("pk 1", "pk/2")
        ) WITHOUT ROWID;
        INSERT INTO "compound/keys" VALUES ('a/b', 1, 'slash'), ('a b', 2, 'space'), ('', 3, 'empty key'),
            ('ü', 1, 'unicode'), ('a/b', 2, 'same first part');
        CREATE TABLE "2024 report.v2" (id INTEGER PRIMARY KEY, "%" REAL, "a.b" TEXT);
        INSERT INTO "2024 report.v2" VALUES (1, 12.5, 'dot'), (2, NULL, NULL);
        CREATE TABLE "" (id INTEGER PRIMARY KEY, note TEXT);
        INSERT INTO "" VALUES (1, 'this table''s name is the empty string');
        """,
    )


# --- text and type edge cases ------------------------------------------------------------------------


def _create_edge_cases(conn: sqlite3.Connection) -> None:
    conn.execute("CREATE TABLE text_cases (id INTEGER PRIMARY KEY, label TEXT NOT NULL, value TEXT)")
    texts = [
        ("NULL", None),
        ("empty string", ""),
        ("single space", " "),
        ("the word NULL", "NULL"),
        ("multi-line", "first line\nsecond line\r\nthird line"),
        ("tab separated", "a\tb\tc"),
        ("right-to-left", "مرحبا بالعالم"),
        ("combining accent", "e\u0301 vs é"),
        ("emoji with joiner", "👩‍💻 🇳🇴 🎉"),
        ("zero-width space", "in\u200bvisible"),
        ("leading zeros", "007"),
        ("long text (100 000 characters)", "lorem ipsum " * 8333 + "end"),
        ("looks like SQL", "'; DROP TABLE customers; --"),
        ("HTML", "<b>bold</b> &amp; <script>alert(1)</script>"),
    ]
    conn.executemany("INSERT INTO text_cases (label, value) VALUES (?, ?)", texts)
    # Invalid UTF-8 stored in a TEXT column, as other programs sometimes write it.
    conn.execute(
        "INSERT INTO text_cases (label, value) VALUES "
        "('invalid UTF-8', CAST(X'48656C6C6F20FFFE20776F726C64' AS TEXT)),"
        "('truncated UTF-8 sequence', CAST(X'636166C3' AS TEXT)),"
        "('Latin-1 bytes', CAST(X'4DFC6C6C6572' AS TEXT))"
    )
    conn.execute("CREATE TABLE mixed_types (id INTEGER PRIMARY KEY, label TEXT NOT NULL, value)")
    conn.executemany(
        "INSERT INTO mixed_types (label, value) VALUES (?, ?)",
        [
            ("integer", 42),
            ("negative integer", -7),
            ("largest integer", 2**63 - 1),
            ("smallest integer", -(2**63)),
            ("real", 3.14159),
            ("negative zero", -0.0),
            ("tiny real", 5e-324),
            ("huge real", 1.7976931348623157e308),
            ("text", "forty-two"),
            ("number as text", "42"),
            ("blob", b"\x00\x01\x02\xff"),
            ("NULL", None),
            ("empty string", ""),
        ],
    )
    conn.execute("INSERT INTO mixed_types (label, value) VALUES ('+infinity', 9e999), ('-infinity', -9e999)")


# --- migration history -------------------------------------------------------------------------------

_DJANGO_MIGRATIONS = (
    ("contenttypes", "0001_initial", "2024-01-10 09:00:00.000000"),
    ("auth", "0001_initial", "2024-01-10 09:00:01.000000"),
    ("contenttypes", "0002_remove_content_type_name", "2024-01-10 09:00:02.000000"),
    ("shop", "0001_initial", "2024-01-12 14:30:00.000000"),
    ("shop", "0002_order_status", "2024-03-02 10:15:00.000000"),
    ("shop", "0003_order_items_without_rowid", "2024-05-20 16:45:00.000000"),
)


def _create_migrations(conn: sqlite3.Connection) -> None:
    execute_script(
        conn,
        """
        CREATE TABLE alembic_version (
            version_num VARCHAR(32) NOT NULL,
            CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
        );
        INSERT INTO alembic_version VALUES ('4b9e2f1c7a3d');
        CREATE TABLE django_migrations (
            id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT,
            app VARCHAR(255) NOT NULL,
            name VARCHAR(255) NOT NULL,
            applied DATETIME NOT NULL
        );
        """,
    )
    conn.executemany(
        "INSERT INTO django_migrations (app, name, applied) VALUES (?, ?, ?)", _DJANGO_MIGRATIONS
    )


#: (progress label, builder) for every showcase, in an order that satisfies the foreign keys.
CONTENT_STEPS: tuple[tuple[str, Callable[[sqlite3.Connection], None]], ...] = (
    ("Drawing images", _create_images),
    ("Creating the shop tables", _create_shop),
    ("Creating the articles search index", _create_articles),
    ("Creating binary attachments", _create_attachments),
    ("Creating tables with awkward names", _create_awkward_names),
    ("Creating text and type edge cases", _create_edge_cases),
    ("Recording a migration history", _create_migrations),
)
