"""Named limits with their defaults, in one table (documented in the README)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    """Every tunable bound of the program. Change one here, not at the place it is used."""

    #: Pages copied per step of the backup; ~50 progress ticks for 200 MB.
    backup_pages_per_step: int = 1024
    #: memdb's size cap, set on each snapshot (SQLITE_FCNTL_SIZE_LIMIT). Just under 2 GiB: memdb grows its
    #: buffer by doubling up to this cap, and SQLite refuses any one allocation of 0x7fffff00 bytes or more
    #: (a higher cap made every file past 1 GiB fail at its next doubling). Larger files open direct.
    memdb_max_bytes: int = 0x7FFF0000
    #: Largest database unpacked from a packed file (.gz, .zip, .apkg…) or decrypted (SQLCipher): it is
    #: held in memory whole, so a larger one is refused (an archive bomb stops here, part way).
    packed_max_bytes: int = 0x7FFF0000
    #: Times a snapshot starts over because another program changed the source under it, before it gives up.
    snapshot_restarts_max: int = 20
    #: Largest private copy (database + its `-wal`, and room to fold one into the other) a WAL database
    #: nobody has open may take in the temporary folder; the folder's free space bounds it too.
    private_copy_max_bytes: int = 32 << 30
    #: The Recovered pane scans in a child process (its own GIL) when the memory available holds this many
    #: copies of the snapshot: one shared with the child, one the child may need, room for the records.
    #: Otherwise it scans in the window's process, as the CLI does.
    recovery_child_copies: float = 2.5
    #: Share of available RAM a snapshot may take before we open in direct read-only mode.
    snapshot_ram_share: float = 0.5
    #: Databases at least this large are shown at once from a direct read-only view while they are copied
    #: into memory (a smaller one is copied in well under a tenth of a second: one switch less).
    progressive_open_min_bytes: int = 32 << 20
    #: Readers in the connection pool.
    pool_size: int = 4
    #: Rows per page when streaming any result.
    page_rows: int = 1000
    #: Rows per page in the browse grid's windowed model.
    grid_page_rows: int = 256
    #: Most rows a grid shows Qt at once: a window slid over the real rows (Qt keeps row positions in C ints
    #: of pixels, and past ~110M rows its header loops forever). Row numbers and our scroll bar stay real.
    grid_window_rows: int = 1_000_000
    #: Pages kept by the grid's cache before far pages are evicted.
    grid_cached_pages: int = 64
    #: The browse grid's sparse position index keeps the key of every this-many-th row.
    grid_index_step: int = 1024
    #: Longer grid cells are held only in part (head + size); the cell viewer loads the whole value.
    grid_cell_max_chars: int = 4096
    #: Largest cut value (text or blob) the value inspector reads whole; larger ones show their head only.
    value_inspector_max_bytes: int = 16 << 20
    #: Most rows one copy from the grid may put on the clipboard.
    grid_copy_max_rows: int = 100_000
    #: Result cache budget (approximate bytes of cached rows).
    result_cache_bytes: int = 64 << 20
    #: A single result larger than this is not cached.
    result_cache_max_rows: int = 10_000
    #: Busy timeout for a source file locked by a writer (seconds).
    busy_timeout_s: float = 5.0
    #: Progress-handler period in SQLite VM instructions (interrupt checks, time limits).
    progress_handler_ops: int = 10_000
    #: Default time limit for headless queries in seconds (0 = none).
    cli_time_limit_s: float = 0.0
    #: Most problems one integrity or quick check reports (SQLite's own default: 100).
    integrity_check_max_errors: int = 100
    #: Columns an ER diagram box lists before "… N more columns".
    diagram_max_columns: int = 30
    #: Rows (estimated) from which a full scan in a query plan is flagged as a big one.
    plan_big_scan_rows: int = 10_000
    #: Most pixels of an ER diagram saved as PNG (about 128 MB while drawn); a bigger one is scaled down.
    diagram_png_max_pixels: int = 32_000_000
    #: Search hits per table before we stop collecting for that table.
    search_hits_per_table: int = 1000
    #: Search hits in all before a search stops.
    search_hits_total: int = 10_000
    #: Characters of context in a search hit's snippet.
    search_snippet_chars: int = 120
    #: Longest a found search hit waits before its batch is handed over (seconds).
    search_batch_s: float = 0.1
    #: Memory budget of one compiled regular expression (RE2's max_mem: its program and matching caches);
    #: a larger pattern is refused.
    regex_max_mem_bytes: int = 8 << 20
    #: Longest regular expression accepted (characters).
    regex_pattern_max_chars: int = 10_000
    #: Compiled regular expressions the `regexp()` SQL function keeps (each up to regex_max_mem_bytes).
    regex_cached_patterns: int = 16
    #: Databases at most this large get the instant search index built automatically (≈1 µs a character
    #: of text to build: 8 MB is a few seconds in the background; larger ones build on request).
    auto_index_max_bytes: int = 8 << 20
    #: Share of available RAM the search index may take in memory (its estimated size); a larger one is
    #: built in a private temporary file instead.
    search_index_ram_share: float = 0.25
    #: Largest search index (estimated, and enforced while building) in a private temporary file; the
    #: temporary folder's free space bounds it too. Beyond it searches scan, with a message.
    search_index_max_bytes: int = 16 << 30
    #: Up to this database size the index estimate counts each table's rows (a count walks the table:
    #: ~0.15 s a GB in memory); a larger one estimates them from its rowid sample.
    search_estimate_count_max_bytes: int = 1 << 30
    #: Bytes read per chunk in incremental blob I/O.
    blob_chunk_bytes: int = 1 << 20
    #: Bytes of a blob shown by the hex view at a time.
    hex_window_bytes: int = 64 << 10
    #: Hex-view windows kept in the Blobs pane's cache (least recently used dropped first).
    hex_cached_windows: int = 8
    #: Leading bytes of a value the Blobs pane's text view shows.
    blob_text_preview_bytes: int = 64 << 10
    #: Largest value the Blobs pane reads whole to preview it as an image.
    blob_image_preview_max_bytes: int = 64 << 20
    #: Leading bytes of a value read to sniff its type for grids and the Blobs pane.
    blob_sniff_bytes: int = 512
    #: Longest exported file name in UTF-8 bytes (filesystems allow 255; room is left for " (n)").
    blob_file_name_max_bytes: int = 200
    #: Entries kept by the cache of the built-in `normalize()` SQL function.
    function_cache_entries: int = 4096
    #: Queries kept in the SQL pane's history (newest first).
    sql_history_entries: int = 200
    #: Shortest time between two progress reports of a streaming job (export), in seconds.
    progress_interval_s: float = 0.1
    #: Rows an Excel sheet holds (header included); an `.xlsx` export continues on a new sheet past it.
    xlsx_sheet_rows: int = 1_048_576
    #: Largest `.sql` file the SQL editor opens, and largest text of a tab kept per database (bytes).
    sql_file_max_bytes: int = 16 << 20
    #: Files attached beside the main snapshot (File → Attach, `--attach`); SQLite allows at most 10.
    attached_databases_max: int = 8
    #: Files a migrations-folder walk looks at before giving up (a user may point at their home folder).
    migration_files_walked: int = 50_000
    #: Largest migration file read (bytes); a larger one is listed as skipped and the result incomplete.
    migration_file_max_bytes: int = 8 << 20
    #: Rows of a table's start whose figures a profile shows first (as estimates), before it scans them all.
    profile_sample_rows: int = 50_000
    #: Most frequent values a column profile lists.
    profile_top_values: int = 10
    #: Bins of a column profile's histogram (integers spanning fewer values get one bin per value).
    profile_histogram_bins: int = 20
    #: Non-NULL values read to guess whether a column holds timestamps, and in which encoding.
    profile_time_sample_rows: int = 200
    #: Column profiles kept per process (complete ones, keyed by snapshot generation, table and column).
    profile_cached_columns: int = 512
    #: Longest filter text "Filter on this value" writes (a blob's hex is twice its bytes).
    filter_value_max_chars: int = 20_000
    #: Matches Find (Ctrl+F) in a result grid collects before it stops looking.
    find_max_matches: int = 100_000
    #: Memory the earlier generations of a window's database may keep for the Changes pane (their snapshots'
    #: sizes); the oldest are let go first.
    diff_history_bytes: int = 512 << 20
    #: Changed rows the Changes pane holds per comparison (the counts stay exact past it).
    diff_rows_kept: int = 200_000
    #: Two memory snapshots up to this size each are compared page by page before their rows (both images
    #: copied once for it): only tables whose pages differ are compared. Larger ones compare every table.
    diff_page_compare_bytes: int = 512 << 20
    #: Watch mode waits this long after the last change on disk before it takes a snapshot (seconds).
    watch_debounce_s: float = 0.3
    #: Points kept on the watch timeline (the oldest drop off; their snapshots go with the history).
    watch_timeline_entries: int = 200
    #: Rows per page when a chart reads its columns (numbers convert a page at a time).
    chart_page_rows: int = 10_000
    #: A chart whose rows take longer to read is drawn with the rows read so far after this many seconds
    #: (then after twice as long each time).
    chart_partial_draw_s: float = 1.0
    #: Series a chart draws when a column splits the rows into groups; rows of further groups are left out.
    chart_series_max: int = 20
    #: Distinct X values a category axis places; rows with further values are left out.
    chart_categories_max: int = 10_000
    #: Most bars a bar chart draws row by row; a bar chart of more rows (of a query that can be nested) is
    #: grouped in SQLite instead (each X value's total), else refused.
    chart_bars_max: int = 10_000
    #: Bars a bar chart grouped in SQLite draws: the X values of largest total; the rest sum into "other".
    chart_bar_categories: int = 40
    #: Points a scatter chart draws as markers; past it, a picture of the pixels its points fall in.
    chart_scatter_direct_points: int = 50_000
    #: A line chart of more rows than this (of a query that can be nested) is summarised in SQLite: per
    #: pixel column of X, its lowest and highest Y, not read into Python row by row; a histogram (without
    #: a series column) is binned in SQLite.
    chart_summary_rows: int = 200_000
    #: Columns of X a summarised line is cut into for its first picture (wider than any screen).
    chart_summary_buckets: int = 4_000
    #: Rows of Y a summarised line's column extremes are placed in (4 per pixel of a 600-pixel plot).
    chart_summary_levels: int = 2_400
    #: A zoomed range of a summarised line holding at most this many rows is read point by point.
    chart_summary_exact_rows: int = 20_000
    #: Largest database file, and largest `-wal`, the WAL history reads into memory (each read once, whole).
    wal_history_max_bytes: int = 0x7FFF0000
    #: Deepest nesting of arrays and objects the app's own JSONB decoder accepts (SQLite's JSON limit).
    jsonb_max_depth: int = 1000
    #: Largest blob the app's own JSONB decoder reads (pure Python, on the GUI thread: ~4 MB/s, so a
    #: quarter of a second at most); a larger JSONB blob is shown as a blob, and said to be one.
    jsonb_decode_max_bytes: int = 1 << 20


LIMITS = Limits()
