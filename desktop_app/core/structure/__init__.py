"""How a database is built and how healthy it is: its own facts, integrity checks, space, query plans."""
