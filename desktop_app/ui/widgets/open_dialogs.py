"""Dialogs asked while opening: the passphrase of an encrypted database, the database inside an archive.

Shared by every place that opens a file (File → Open, File → Attach, the Changes pane's other file):
`ask_how_to_open` shows the one an open's error calls for and opens again with the answer.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import DatabaseOpenError, EncryptedDatabase, SeveralDatabases, UserError
from desktop_app.core.snapshot.encrypted import (
    HMAC_ALGORITHMS,
    KDF_ALGORITHMS,
    PAGE_SIZES,
    PLAINTEXT_HEADER_SIZES,
    CipherKey,
    CipherSettings,
    salt_hex,
)
from desktop_app.ui.widgets.problem_label import ProblemLabel

#: Presets: (label, SQLCipher version whose defaults apply); "Custom" unlocks the fields below.
PRESETS = (("SQLCipher 4 defaults", 4), ("SQLCipher 3 defaults", 3), ("Custom", 4))
CUSTOM = len(PRESETS) - 1
OPEN_CANCEL = QDialogButtonBox.StandardButton.Open | QDialogButtonBox.StandardButton.Cancel
#: Each SQLCipher version's defaults, shown in the custom fields (page size, KDF iterations, HMAC, KDF).
DEFAULTS = {
    4: (4096, 256_000, "HMAC_SHA512", "PBKDF2_HMAC_SHA512"),
    3: (1024, 64_000, "HMAC_SHA1", "PBKDF2_HMAC_SHA1"),
}


class PassphraseDialog(QDialog):
    """Ask for the passphrase (or a raw key) and the SQLCipher settings of an encrypted database.

    Non-modal (`open()`); `key_given` carries the `CipherKey` when the user chooses Open. The field is
    cleared once read: the passphrase stays nowhere in the dialog.
    """

    key_given = Signal(object)  #: CipherKey

    def __init__(
        self,
        name: str,
        problem: str = "",
        parent: QWidget | None = None,
        *,
        plaintext_header: int = 0,
        settings: CipherSettings | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Encrypted database")
        self.intro = QLabel(
            f"“{name}” looks encrypted (for example with SQLCipher). Enter its passphrase to open it. "
            "It is decrypted into memory only; the passphrase is not saved."
            + (
                " It starts with a plaintext SQLite header (as iOS apps write them): its salt is kept "
                "elsewhere, so give the salt below, or a raw key of 96 digits that holds it."
                if plaintext_header
                else ""
            )
        )
        self.intro.setWordWrap(True)
        self.problem = ProblemLabel()
        self.problem.show_problem(problem)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("Passphrase")
        self.raw = QCheckBox("Raw key (64 hexadecimal digits, or 96 with the salt; written x'…' or bare)")
        self.raw.toggled.connect(self._on_raw)
        self.preset = QComboBox()
        for label, _version in PRESETS:
            self.preset.addItem(label)
        self.page_size = QComboBox()
        for size in PAGE_SIZES:
            self.page_size.addItem(str(size), size)
        self.kdf_iter = QSpinBox()
        self.kdf_iter.setRange(1, 10_000_000)
        self.hmac = QComboBox()
        self.hmac.addItems(list(HMAC_ALGORITHMS))
        self.kdf = QComboBox()
        self.kdf.addItems(list(KDF_ALGORITHMS))
        self.use_hmac = QCheckBox("Pages carry an HMAC")
        self.use_hmac.setChecked(True)
        # A plaintext header (iOS apps keep 32 bytes so the system sees a SQLite file) keeps no salt:
        # the app stores it elsewhere, and it is given here (or with a raw key of 96 digits).
        self.plaintext_header = QComboBox()
        self.plaintext_header.addItem("None (the whole file is encrypted)", 0)
        for size in PLAINTEXT_HEADER_SIZES:
            self.plaintext_header.addItem(f"{size} bytes", size)
        self.salt = QLineEdit()
        self.salt.setPlaceholderText("32 hexadecimal digits (cipher_salt)")
        self.plaintext_header.currentIndexChanged.connect(self._on_plaintext_header)
        form = QFormLayout()
        form.addRow("Passphrase:", self.secret)
        form.addRow("", self.raw)
        form.addRow("Settings:", self.preset)
        form.addRow("Page size:", self.page_size)
        form.addRow("KDF iterations:", self.kdf_iter)
        form.addRow("HMAC algorithm:", self.hmac)
        form.addRow("KDF algorithm:", self.kdf)
        form.addRow("", self.use_hmac)
        form.addRow("Plaintext header:", self.plaintext_header)
        form.addRow("Salt:", self.salt)
        buttons = QDialogButtonBox(OPEN_CANCEL)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.open_button = buttons.button(QDialogButtonBox.StandardButton.Open)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.problem)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.preset.currentIndexChanged.connect(self._on_preset)
        self.secret.textChanged.connect(lambda text: self.open_button.setEnabled(bool(text)))
        self.open_button.setEnabled(False)
        self._on_preset(0)
        self._show_settings(settings, plaintext_header)

    def _show_settings(self, settings: CipherSettings | None, plaintext_header: int) -> None:
        """Fill the fields with the settings tried last (asked again), or the plaintext header seen."""
        if settings is not None:
            custom = any(
                v is not None
                for v in (
                    settings.page_size,
                    settings.kdf_iter,
                    settings.hmac_algorithm,
                    settings.kdf_algorithm,
                    settings.use_hmac,
                )
            )
            self.preset.setCurrentIndex(CUSTOM if custom else (1 if settings.compatibility == 3 else 0))
            if custom:
                page_size, iterations, hmac, kdf = DEFAULTS.get(settings.compatibility, DEFAULTS[4])
                self.page_size.setCurrentIndex(PAGE_SIZES.index(settings.page_size or page_size))
                self.kdf_iter.setValue(settings.kdf_iter or iterations)
                self.hmac.setCurrentText(settings.hmac_algorithm or hmac)
                self.kdf.setCurrentText(settings.kdf_algorithm or kdf)
                self.use_hmac.setChecked(settings.use_hmac is not False)
            plaintext_header = settings.plaintext_header_size or plaintext_header
            self.salt.setText(settings.salt or "")
        self.plaintext_header.setCurrentIndex(max(self.plaintext_header.findData(plaintext_header), 0))
        self._on_plaintext_header()

    def _on_plaintext_header(self, *_args: object) -> None:
        self.salt.setEnabled(bool(self.plaintext_header.currentData()))

    def _on_raw(self, raw: bool) -> None:
        self.secret.setPlaceholderText("x'…' (64 hexadecimal digits)" if raw else "Passphrase")

    def _on_preset(self, index: int) -> None:
        version = PRESETS[index][1]
        custom = index == CUSTOM
        if not custom:
            page_size, iterations, hmac, kdf = DEFAULTS[version]
            self.page_size.setCurrentIndex(PAGE_SIZES.index(page_size))
            self.kdf_iter.setValue(iterations)
            self.hmac.setCurrentText(hmac)
            self.kdf.setCurrentText(kdf)
            self.use_hmac.setChecked(True)
        for field in (self.page_size, self.kdf_iter, self.hmac, self.kdf, self.use_hmac):
            field.setEnabled(custom)

    def settings(self) -> CipherSettings:
        """The settings chosen (a preset, or the custom fields over SQLCipher 4's defaults), with the
        plaintext header and its salt when given (DatabaseOpenError for a salt that is not 32 hex digits)."""
        header = int(self.plaintext_header.currentData() or 0)
        salt = self.salt.text().strip() if header else ""
        behind = {"plaintext_header_size": header or None, "salt": salt_hex(salt) if salt else None}
        index = self.preset.currentIndex()
        version = PRESETS[index][1]
        if index != CUSTOM:
            return CipherSettings(compatibility=version, **behind)
        return CipherSettings(
            **behind,
            compatibility=version,
            page_size=int(self.page_size.currentData()),
            kdf_iter=self.kdf_iter.value(),
            hmac_algorithm=self.hmac.currentText(),
            kdf_algorithm=self.kdf.currentText(),
            use_hmac=self.use_hmac.isChecked(),
        )

    def accept(self) -> None:
        """Hand the key over and forget the text typed."""
        text = self.secret.text()
        if self.raw.isChecked():
            digits = text.strip()
            if digits[:2].lower() == "x'" and digits.endswith("'"):
                digits = digits[2:-1]
            text = f"x'{digits}'"
        try:
            settings = self.settings()
        except DatabaseOpenError as exc:
            self.problem.show_problem(exc.message)
            return
        key = CipherKey(text, settings)
        self.secret.clear()
        super().accept()
        self.key_given.emit(key)


class MemberDialog(QDialog):
    """Choose which database of a packed file to open. Non-modal; `chosen` carries the member's name."""

    chosen = Signal(str)

    def __init__(self, name: str, members: list[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Choose a database")
        label = QLabel(f"“{name}” holds {len(members)} databases. Which one do you want to open?")
        label.setWordWrap(True)
        self.list = QListWidget()
        self.list.addItems(members)
        self.list.setCurrentRow(0)
        self.list.itemDoubleClicked.connect(lambda _item: self.accept())
        buttons = QDialogButtonBox(OPEN_CANCEL)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.list)
        layout.addWidget(buttons)

    def accept(self) -> None:
        """Open the database selected."""
        item = self.list.currentItem()
        super().accept()
        if item is not None:
            self.chosen.emit(item.text())


def ask_how_to_open(
    parent: QWidget,
    name: str,
    error: UserError,
    retry: Callable[[str | None, CipherKey | None], object],
    *,
    member: str | None = None,
    key: CipherKey | None = None,
) -> QDialog | None:
    """Show what an open that failed with `error` needs: the passphrase of an encrypted file (asked again,
    saying why, after a wrong one) or the database to open inside an archive; then call `retry(member,
    key)` with the answer (the member chosen earlier and the key tried last are kept). Returns the
    dialog shown (non-modal), or None when `error` is not one an answer fixes."""
    dialog: QDialog
    if isinstance(error, EncryptedDatabase) and error.available:
        shown = f"{member} in {name}" if member else name
        problem = error.message if error.wrong_key else ""
        settings = key.settings if key is not None else None
        passphrase = PassphraseDialog(
            shown, problem, parent, plaintext_header=error.plaintext_header, settings=settings
        )
        passphrase.key_given.connect(lambda given: retry(member, given))
        dialog = passphrase
    elif isinstance(error, SeveralDatabases):
        chooser = MemberDialog(name, error.members, parent)
        chooser.chosen.connect(lambda chosen: retry(chosen, key))
        dialog = chooser
    else:
        return None
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.open()
    return dialog
