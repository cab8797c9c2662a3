"""The database a window shows: open, reload and close a snapshot as jobs, and watch the source file."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer, Signal

from desktop_app.core.browse.result_cache import ResultCache
from desktop_app.core.database import Database
from desktop_app.core.diff.history import close_all
from desktop_app.core.errors import Cancelled, UserError
from desktop_app.core.limits import LIMITS
from desktop_app.core.schema.catalog import Catalog, TableKind, count_rows, read_catalog
from desktop_app.core.snapshot.attached import attach_file
from desktop_app.core.snapshot.encrypted import CipherKey
from desktop_app.core.snapshot.snapshot import QUICK_VIEW_REASON, Snapshot, open_snapshot
from desktop_app.core.sqlite.connection import ConnectionHook
from desktop_app.core.wal.as_of import open_as_of_commit
from desktop_app.core.wal.history import WalHistory
from desktop_app.ui.context import AppContext
from desktop_app.ui.job_center import Job
from desktop_app.ui.latest import LatestRequest

#: Seconds a row count may take before it is estimated first and refined in the background.
COUNT_BUDGET_S = 0.05


async def _as_of(job: Job, path: Path, number: int, generation: int, history: WalHistory | None) -> Snapshot:
    """The snapshot as of WAL commit `number`, built off the event loop's thread."""
    return await asyncio.to_thread(
        open_as_of_commit,
        path,
        number,
        generation=generation,
        history=history,
        progress=job.progress_callback(),
        cancel=job.cancel_token,
    )


class DatabaseSession(QObject):
    """Owns the current `Snapshot` and `Database` of one window."""

    opened = Signal()  #: a database (or a new generation of it) is shown
    #: The quick view is about to be replaced by the memory snapshot of the same generation (save places).
    switching = Signal()
    #: What is still loading changed (`loading`, `copy_stopped`): the status bar says so.
    loading_changed = Signal()
    open_failed = Signal(object)  #: UserError
    closed = Signal()
    source_changed = Signal(str)  #: a message: the file changed, was deleted or replaced on disk
    row_count = Signal(str, object)  #: table name, RowCount
    #: A database was attached or detached (`attached_catalogs` says what is attached now).
    attached_changed = Signal()

    def __init__(self, context: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self.snapshot: Snapshot | None = None
        self.cache = ResultCache(LIMITS.result_cache_bytes)
        self._opening = LatestRequest()
        #: What is still loading while a quick view is shown ("Copying into memory"), else None.
        self.loading: str | None = None
        #: Why the copy into memory ended early while the quick view stays shown ("" when it did not).
        self.copy_stopped = ""
        #: True when the shown snapshot came from Reload (the status bar says "reloaded HH:MM").
        self.reloaded = False
        self._counting = LatestRequest()
        #: The key that opened the shown encrypted database (memory only: Reload needs it), else None.
        self._key: CipherKey | None = None
        self._pending_key: CipherKey | None = None
        #: The catalog of each attached database, by schema name (in the order attached).
        self.attached_catalogs: dict[str, Catalog] = {}
        self._change_reported = False
        self._disposing: set[asyncio.Future[None]] = set()
        self.context.history.close_dropped = self._close_later
        self._shutting_down: asyncio.Future[None] | None = None
        self._watcher = QFileSystemWatcher(self)
        self._watcher.fileChanged.connect(lambda _p: self._check_source())
        self._watcher.directoryChanged.connect(lambda _p: self._check_source())
        self._poll = QTimer(self)
        self._poll.setInterval(2000)
        self._poll.timeout.connect(self._check_source)

    @property
    def path(self) -> Path | None:
        """The file shown, if any."""
        return self.snapshot.path if self.snapshot else None

    @property
    def busy(self) -> bool:
        """True while a snapshot is being taken."""
        return self._opening.running

    def open(self, path: str | Path, *, member: str | None = None, key: CipherKey | None = None) -> Job:
        """Snapshot `path` as a job; the current database stays shown until the new one is ready.

        `member` names the database inside a packed file, `key` opens an encrypted one (kept in this
        window's memory only, so Reload can decrypt again; never written anywhere).
        """
        self._pending_key = key
        label = f"Opening {member or Path(path).name}"
        return self._start(Path(path), generation=None, label=label, member=member, key=key)

    def reload(self) -> Job | None:
        """Take a new snapshot (a new generation) of the current file."""
        if self.snapshot is None:
            return None
        return self._start(
            self.snapshot.path,
            self._next_generation(),
            f"Reloading {self.snapshot.path.name}",
            member=self.snapshot.member,
            key=self._key,
        )

    def _start(
        self,
        path: Path,
        generation: int | None,
        label: str,
        member: str | None = None,
        key: CipherKey | None = None,
    ) -> Job:
        # A first open shows a quick direct view while the copy runs; a reload keeps the previous
        # generation (already in memory) on screen until the new one is ready.
        progressive = generation is None

        async def work(job: Job) -> tuple[Snapshot, Database, Catalog] | None:
            loop = asyncio.get_running_loop()
            quick_ready: asyncio.Future[Snapshot] = loop.create_future()

            def on_readable(quick: Snapshot) -> None:  # on the worker thread, before the copy starts
                loop.call_soon_threadsafe(quick_ready.set_result, quick)

            opening = asyncio.ensure_future(
                asyncio.to_thread(
                    open_snapshot,
                    path,
                    generation=generation,
                    progress=job.progress_callback(),
                    cancel=job.cancel_token,
                    on_readable=on_readable if progressive else None,
                    member=member,
                    key=key,
                )
            )
            shown_quick = False
            try:
                await asyncio.wait({quick_ready, opening}, return_when=asyncio.FIRST_COMPLETED)
                if quick_ready.done():
                    shown_quick = await self._show_quick_view(job, quick_ready.result())
                snapshot = await opening
            except UserError as exc:
                if shown_quick and self.context.database is not None:
                    # Stopped (or the copy failed): the quick view stays, and says so.
                    self.loading = None
                    self.copy_stopped = (
                        "the copy into memory was stopped" if isinstance(exc, Cancelled) else exc.message
                    )
                    self.loading_changed.emit()
                    return None
                raise
            finally:
                if not opening.done():  # this task was cancelled: the thread stops at the next step
                    job.cancel_token.cancel()
                if quick_ready.done() and not shown_quick:
                    quick_ready.result().close()
            return await self._with_catalog(job, snapshot)

        # A newer open (or a reload) replaces this one: its late answers are ignored.
        return self._opening.start(self.context.jobs, label, work, on_done=self._adopt, on_error=self._failed)

    async def _with_catalog(self, job: Job, snapshot: Snapshot) -> tuple[Snapshot, Database, Catalog]:
        """The database over `snapshot` and its catalog (both freed when reading it fails or is stopped)."""
        database = Database(snapshot, self._hooks(), self.cache)
        try:
            catalog = await database.run_sync(read_catalog, cancel=job.cancel_token)
            job.cancel_token.raise_if_cancelled()  # stopped while reading: free it, never adopt it
        except BaseException:
            await database.close()
            snapshot.close()
            raise
        return snapshot, database, catalog

    # ----- WAL history -------------------------------------------------------------------------------

    def _next_generation(self) -> int:
        """A generation no snapshot of this window has (the current one and those kept for comparison)."""
        taken = [s.generation for s in self.context.history.snapshots]
        if self.snapshot is not None:
            taken.append(self.snapshot.generation)
        return max(taken, default=0) + 1

    def open_as_of_commit(self, number: int, history: WalHistory | None = None) -> Job | None:
        """Show the database as of commit `number` of its `-wal` (a new, read-only generation; the one shown
        now stays for the Changes pane). `history` is the listing already read, if any."""
        if self.snapshot is None:
            return None
        path, generation = self.snapshot.path, self._next_generation()

        async def work(job: Job) -> tuple[Snapshot, Database, Catalog]:
            snapshot = await _as_of(job, path, number, generation, history)
            return await self._with_catalog(job, snapshot)

        label = f"Opening {path.name} as of WAL commit {number}"
        return self._opening.start(self.context.jobs, label, work, on_done=self._adopt, on_error=self._failed)

    def keep_as_of_commit(
        self,
        number: int,
        history: WalHistory | None,
        on_kept: Callable[[int], None],
        on_error: Callable[[UserError], None],
    ) -> Job | None:
        """Build the database as of commit `number` and keep it among the generations the Changes pane
        compares; `on_kept(generation)` once it is there."""
        if self.snapshot is None:
            return None
        path, generation = self.snapshot.path, self._next_generation()

        async def work(job: Job) -> int:
            snapshot = await _as_of(job, path, number, generation, history)
            if not self.context.history.keep(snapshot):
                snapshot.close()
                raise UserError(
                    f"The database as of WAL commit {number} is larger than the memory the earlier "
                    "generations may keep (Changes pane): raise that limit to compare it."
                )
            return generation

        label = f"Reading {path.name} as of WAL commit {number}"
        return self.context.jobs.start(label, work, on_done=on_kept, on_error=on_error)

    async def _show_quick_view(self, job: Job, quick: Snapshot) -> bool:
        """Show `quick` (direct, same generation) while the copy runs; False when it could not be read."""
        # Its own cache: closing it drops its generation's entries, which the memory snapshot shares.
        database = Database(quick, self._hooks(), ResultCache(LIMITS.result_cache_bytes))
        try:
            catalog = await database.run_sync(read_catalog, cancel=job.cancel_token)
        except UserError:
            await database.close()
            quick.close()
            return False
        if job.cancel_token.cancelled:
            await database.close()
            quick.close()
            return False
        self.loading = "Copying into memory"
        self.copy_stopped = ""
        job.label = self.loading
        self._adopt((quick, database, catalog))
        return True

    def _hooks(self) -> list[ConnectionHook]:
        return self.context.connection_hooks()

    # ----- attached databases ------------------------------------------------------------------------

    def attach(
        self,
        schema: str,
        path: str | Path,
        on_error: Callable[[UserError], None] | None = None,
        *,
        member: str | None = None,
        key: CipherKey | None = None,
    ) -> Job | None:
        """Snapshot another database and attach it as `schema` on every connection (a job); `member` and
        `key` open a packed or encrypted one (into memory only)."""
        database = self.context.database
        if database is None:
            return None
        attachments = self.context.attachments

        async def work(job: Job) -> str:
            attached = await asyncio.to_thread(
                attach_file,
                attachments,
                schema,
                path,
                progress=job.progress_callback(),
                cancel=job.cancel_token,
                member=member,
                key=key,
            )
            try:
                await database.set_hooks(self._hooks())  # pooled connections are renewed with it attached
                self.attached_catalogs[schema] = await database.run_sync(read_catalog, schema)
            except BaseException:
                attachments.remove(attached.schema)
                await database.set_hooks(self._hooks())
                raise
            return schema

        def done(_schema: str) -> None:
            self.attached_changed.emit()

        label = f"Attaching {Path(path).name} as {schema}"
        return self.context.jobs.start(label, work, on_done=done, on_error=on_error)

    async def detach(self, schema: str) -> None:
        """Forget the database attached as `schema` (its snapshot is freed)."""
        self.context.attachments.remove(schema)
        self.attached_catalogs.pop(schema, None)
        database = self.context.database
        if database is not None and not database.closed:
            await database.set_hooks(self._hooks())
        self.attached_changed.emit()

    def _forget_attachments(self) -> None:
        self.context.attachments.close()
        if self.attached_catalogs:
            self.attached_catalogs.clear()
            self.attached_changed.emit()

    def _failed(self, error: UserError) -> None:
        self.open_failed.emit(error)

    def _adopt(self, result: tuple[Snapshot, Database, Catalog] | None) -> None:
        if result is None:  # the copy stopped: the quick view already shown stays
            return
        snapshot, database, catalog = result
        old_database, old_snapshot = self.context.database, self.snapshot
        if old_snapshot is not None and old_snapshot.generation == snapshot.generation:
            self.switching.emit()  # the quick view → the memory snapshot: panes keep their place
        if snapshot.mode_reason != QUICK_VIEW_REASON:
            self.loading = None
        kept = False
        if old_snapshot is None or old_snapshot.path != snapshot.path:
            self.reloaded = False
            self.context.history.clear()
        elif old_snapshot.generation != snapshot.generation:
            self.reloaded = True
            # The earlier generation stays for the Changes pane while the memory budget allows.
            kept = old_database is not None and self.context.history.keep(old_snapshot)
        self.snapshot = snapshot
        if old_snapshot is None or old_snapshot.path != snapshot.path or not snapshot.encrypted:
            self._key = self._pending_key if snapshot.encrypted else None
        self._change_reported = False
        self.context.set_database(database, catalog)
        self._watch(snapshot)
        self.opened.emit()
        if old_database is not None:
            self._dispose_later(old_database, None if kept else old_snapshot)
        # A quick view gives way in moments: exact counts would scan the file while it is being copied.
        self._count_rows(database, catalog, exact=self.loading is None)

    def _dispose_later(self, database: Database, snapshot: Snapshot | None) -> None:
        task = asyncio.ensure_future(self._dispose(database, snapshot))
        self._disposing.add(task)
        task.add_done_callback(self._disposing.discard)

    async def _dispose(self, database: Database, snapshot: Snapshot | None) -> None:
        await database.close()
        if snapshot is not None:
            await asyncio.to_thread(snapshot.close)  # freeing a large memdb is tens of ms: not on the UI

    def _close_later(self, snapshots: list[Snapshot]) -> None:
        """Close generations the history let go in a worker thread (shutdown waits for it)."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop running (a budget set before the window runs): close them now
            close_all(snapshots)
            return
        task = asyncio.ensure_future(asyncio.to_thread(close_all, snapshots))
        self._disposing.add(task)
        task.add_done_callback(self._disposing.discard)

    def _count_rows(self, database: Database, catalog: Catalog, exact: bool = True) -> None:
        """Counts appear as they are known: a quick count or estimate first, exact counts after."""
        tables = [t for t in catalog.tables if t.kind is not TableKind.VIEW and not t.error]

        async def work(job: Job) -> None:
            pending = []
            for table in tables:
                try:
                    count = await database.run_sync(
                        count_rows, table, COUNT_BUDGET_S, cancel=job.cancel_token
                    )
                except UserError:
                    continue
                self.row_count.emit(table.name, count)
                if not count.exact and exact:
                    pending.append(table)
            for table in pending:
                try:
                    count = await database.run_sync(count_rows, table, cancel=job.cancel_token)
                except UserError:
                    continue
                self.row_count.emit(table.name, count)

        self._counting.start(self.context.jobs, "Counting rows", work, show=False)

    def close(self) -> None:
        """Close the database; the window returns to its start page."""
        self._opening.stop()  # its "Stopped" still reaches the window
        self._counting.cancel()
        database, snapshot = self.context.database, self.snapshot
        self.snapshot = None
        self._key = self._pending_key = None  # the passphrase goes with the database
        self.loading, self.copy_stopped = None, ""
        self._unwatch()
        self.context.history.clear()
        self.context.set_database(None, None)
        self._forget_attachments()
        self.closed.emit()
        if database is not None:
            self._dispose_later(database, snapshot)
        elif snapshot is not None:
            snapshot.close()

    async def shutdown(self) -> None:
        """Stop every job and free the snapshot (window closing).

        One shutdown runs however often this is called (the window's close and its owner may both ask);
        every caller returns when it is complete.
        """
        if self._shutting_down is None:
            self._shutting_down = asyncio.ensure_future(self._shut_down())
        await asyncio.shield(self._shutting_down)

    async def _shut_down(self) -> None:
        self._unwatch()
        await self.context.jobs.wait_all()
        while self._disposing:  # generations given up meanwhile: their connections close first
            await asyncio.wait(list(self._disposing))
        self.context.history.clear()
        database, snapshot = self.context.database, self.snapshot
        self.snapshot = None
        self._key = self._pending_key = None
        if database is not None:
            await database.close()
        if snapshot is not None:
            snapshot.close()
        self.context.attachments.close()

    def _watch(self, snapshot: Snapshot) -> None:
        """Watch the file and its folder, and for a symbolic link the target's folder (its -wal is there)."""
        self._unwatch()
        for path in {snapshot.path, snapshot.source or snapshot.path}:
            self._watcher.addPath(str(path))
            self._watcher.addPath(str(path.parent))
        self._poll.start()

    def _unwatch(self) -> None:
        self._poll.stop()
        for watched in self._watcher.files() + self._watcher.directories():
            self._watcher.removePath(watched)

    def _check_source(self) -> None:
        snapshot = self.snapshot
        if snapshot is None or self._change_reported or not snapshot.changed_on_disk():
            return
        self._change_reported = True
        if not snapshot.path.exists():
            message = (
                f"“{snapshot.path.name}” was deleted or moved. The snapshot in memory still works; "
                "Reload is possible once the file is back."
            )
        else:
            message = f"“{snapshot.path.name}” changed on disk. The snapshot shows it as it was when opened."
        self.source_changed.emit(message)
