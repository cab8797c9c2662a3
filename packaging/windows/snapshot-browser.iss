; Inno Setup 6 script: installs the PyInstaller one-folder build and registers the file types.
;
; Build on Windows, after packaging/build.sh (Git Bash) has produced dist\snapshot-browser\:
;   iscc /DAppVersion=0.1.0 packaging\windows\snapshot-browser.iss
; The installer lands in dist\installer\. It installs per user by default (no administrator rights);
; choosing "all users" in the first dialog writes the same keys under HKLM instead (HKA below).
;
; Windows 10/11 never lets an installer force itself as the default program: the types are
; registered (Open with list, icon, "open" command) and Windows asks the user once which app to use.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#define AppName "SQLite Snapshot Browser"
#define AppExe "snapshot-browser.exe"
#define CliExe "snapshot-browser-cli.exe"
#define Root "..\.."

[Setup]
AppId={{944EC71A-AB8C-4454-B03E-01E394CD3FEC}
AppName={#AppName}
AppVersion={#AppVersion}
AppPublisher=SQLite Snapshot Browser contributors
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ChangesAssociations=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
SetupIconFile={#Root}\resources\icons\snapshot-browser.ico
UninstallDisplayIcon={app}\{#AppExe}
OutputDir={#Root}\dist\installer
OutputBaseFilename=snapshot-browser-{#AppVersion}-setup
Compression=lzma2
SolidCompression=yes
WizardStyle=modern

[Tasks]
Name: "associate"; Description: "Open .db, .sqlite, .sqlite3, .db3, .gpkg and .mbtiles files with {#AppName}"; GroupDescription: "File types:"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\snapshot-browser\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Registry]
; One ProgID per kind of file, each opening the file with the GUI ("%1" keeps paths with spaces whole).
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.SQLite"; ValueType: string; ValueName: ""; ValueData: "SQLite database"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.SQLite\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.SQLite\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.GeoPackage"; ValueType: string; ValueName: ""; ValueData: "GeoPackage"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.GeoPackage\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.GeoPackage\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.MBTiles"; ValueType: string; ValueName: ""; ValueData: "MBTiles tile set"; Flags: uninsdeletekey; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.MBTiles\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"; Tasks: associate
Root: HKA; Subkey: "Software\Classes\SnapshotBrowser.MBTiles\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""; Tasks: associate

; Extensions → ProgID: listed under "Open with", chosen by Windows when the extension has no default yet.
Root: HKA; Subkey: "Software\Classes\.db\OpenWithProgids"; ValueType: string; ValueName: "SnapshotBrowser.SQLite"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.sqlite\OpenWithProgids"; ValueType: string; ValueName: "SnapshotBrowser.SQLite"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.sqlite3\OpenWithProgids"; ValueType: string; ValueName: "SnapshotBrowser.SQLite"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.db3\OpenWithProgids"; ValueType: string; ValueName: "SnapshotBrowser.SQLite"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.gpkg\OpenWithProgids"; ValueType: string; ValueName: "SnapshotBrowser.GeoPackage"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.mbtiles\OpenWithProgids"; ValueType: string; ValueName: "SnapshotBrowser.MBTiles"; ValueData: ""; Flags: uninsdeletevalue; Tasks: associate

; MIME types, for programs that look the extension up by content type.
Root: HKA; Subkey: "Software\Classes\.sqlite"; ValueType: string; ValueName: "Content Type"; ValueData: "application/vnd.sqlite3"; Flags: createvalueifdoesntexist; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.sqlite3"; ValueType: string; ValueName: "Content Type"; ValueData: "application/vnd.sqlite3"; Flags: createvalueifdoesntexist; Tasks: associate
Root: HKA; Subkey: "Software\Classes\.gpkg"; ValueType: string; ValueName: "Content Type"; ValueData: "application/geopackage+sqlite3"; Flags: createvalueifdoesntexist; Tasks: associate

; The application itself: friendly name and the types it supports, for the "Open with" dialog.
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}"; ValueType: string; ValueName: "FriendlyAppName"; ValueData: "{#AppName}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe},0"
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\{#AppExe}"" ""%1"""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".db"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".sqlite"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".sqlite3"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".db3"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".gpkg"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\Applications\{#AppExe}\SupportedTypes"; ValueType: string; ValueName: ".mbtiles"; ValueData: ""

; App Paths: `snapshot-browser` starts from Win+R and the Start menu without a PATH change. cmd.exe does
; not read App Paths: to type snapshot-browser-cli in a console, add the install folder to PATH.
Root: HKA; Subkey: "Software\Microsoft\Windows\CurrentVersion\App Paths\{#AppExe}"; ValueType: string; ValueName: ""; ValueData: "{app}\{#AppExe}"; Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Microsoft\Windows\CurrentVersion\App Paths\{#CliExe}"; ValueType: string; ValueName: ""; ValueData: "{app}\{#CliExe}"; Flags: uninsdeletekey

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent
