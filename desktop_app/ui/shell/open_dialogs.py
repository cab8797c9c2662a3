"""Dialogs asked while opening: the passphrase of an encrypted database, the database inside an archive."""

from __future__ import annotations

from PySide6.QtCore import Signal
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

from desktop_app.core.snapshot.encrypted import (
    HMAC_ALGORITHMS,
    KDF_ALGORITHMS,
    PAGE_SIZES,
    CipherKey,
    CipherSettings,
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

    def __init__(self, name: str, problem: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Encrypted database")
        self.intro = QLabel(
            f"“{name}” looks encrypted (for example with SQLCipher). Enter its passphrase to open it. "
            "It is decrypted into memory only; the passphrase is not saved."
        )
        self.intro.setWordWrap(True)
        self.problem = ProblemLabel()
        self.problem.show_problem(problem)
        self.secret = QLineEdit()
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("Passphrase")
        self.raw = QCheckBox("Raw key (64 hexadecimal digits, written x'…' or bare)")
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
        form = QFormLayout()
        form.addRow("Passphrase:", self.secret)
        form.addRow("", self.raw)
        form.addRow("Settings:", self.preset)
        form.addRow("Page size:", self.page_size)
        form.addRow("KDF iterations:", self.kdf_iter)
        form.addRow("HMAC algorithm:", self.hmac)
        form.addRow("KDF algorithm:", self.kdf)
        form.addRow("", self.use_hmac)
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
        """The settings chosen (a preset, or the custom fields over SQLCipher 4's defaults)."""
        index = self.preset.currentIndex()
        version = PRESETS[index][1]
        if index != CUSTOM:
            return CipherSettings(compatibility=version)
        return CipherSettings(
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
        key = CipherKey(text, self.settings())
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
