<#
.SYNOPSIS
  Run a cbom scan of this Windows machine from the USB stick (PowerShell 2.0 or later).

.DESCRIPTION
  Runs windows-x86_64\cbom.exe from the stick (self-contained: Windows 8.1 or later, x64, no
  Python needed). Where it is missing or cannot start, or with --wheelhouse, installs cbom from
  the wheelhouse on the stick into a temporary venv (on the stick, or in %TEMP% when the stick is
  read-only) with the Python 3.9+ already on this machine, and removes the venv at exit.
  Reports go to reports\<COMPUTERNAME>-<UTC time>\ next to this script unless -o/--output is
  given; the HTML report is opened at the end (--no-open: not). Nothing is installed on the
  machine, no setting is changed, no pip cache or bytecode is written.

  The PDF is printed with the machine's Edge or Chrome (headless); without either, the HTML report
  is written and cbom says why there is no PDF. Without Npcap (not redistributable) the capture
  collector reports why it could not run.

.EXAMPLE
  powershell -NoProfile -ExecutionPolicy Bypass -File E:\cbom-usb\cbom-scan.ps1 --verify --operator "J. Doe"
  Options: --verify (check the stick against SHA256SUMS first, natively, before running any
  code from it), --verify-only, --wheelhouse, --no-open; every other argument goes to `cbom scan`.
#>
$ErrorActionPreference = 'Stop'
$here = Split-Path -Parent $MyInvocation.MyCommand.Definition

$env:PYTHONDONTWRITEBYTECODE = '1'; $env:PIP_NO_CACHE_DIR = '1'; $env:PIP_CONFIG_FILE = 'NUL'
$env:PIP_NO_INPUT = '1'; $env:PIP_DISABLE_PIP_VERSION_CHECK = '1'; $env:PYTHONNOUSERSITE = '1'
$env:CBOM_TEMPLATES = Join-Path $here 'templates'
foreach ($v in 'PYTHONPATH', 'PYTHONHOME', 'PYTHONSTARTUP', 'PYTHONUSERBASE', 'PIP_FIND_LINKS', 'PIP_INDEX_URL',
               'PIP_EXTRA_INDEX_URL', 'PIP_REQUIRE_VIRTUALENV', 'PIP_TARGET', 'PIP_PREFIX') {
    Remove-Item "env:$v" -ErrorAction SilentlyContinue
}

function Say($msg) { [Console]::Error.WriteLine("cbom-scan: $msg") }

$verify = $false; $verifyOnly = $false; $hasOutput = $false; $wheelhouseMode = $false; $open = $true
$own = @('--verify', '--verify-only', '--wheelhouse', '--no-open')
$rest = @()
foreach ($a in $args) {
    switch -regex ($a) {
        '^--verify$' { $verify = $true }
        '^--verify-only$' { $verify = $true; $verifyOnly = $true }
        '^--wheelhouse$' { $wheelhouseMode = $true }
        '^--no-open$' { $open = $false }
        '^(-o|--output)(=.*)?$' { $hasOutput = $true }
    }
    if ($own -notcontains $a) { $rest += $a }
}
$reports = Join-Path $here 'reports'
if (-not $hasOutput) { $rest = @('--reports-dir', $reports) + $rest }
# The stick's offline vulnerability database (db\, from usb_bundle/build --db); a --db given later wins.
$db = Join-Path $here 'db'
if (Test-Path (Join-Path $db 'cbom-vulndb.sqlite')) { $rest = @('--db', $db) + $rest }

# The report folder a scan made (cbom names it <host>-<UTC time>): the newest one in reports\.
function Show-Reports($rc) {
    if ($hasOutput -or $rc -eq 2) { return }
    $dir = Get-ChildItem -LiteralPath $reports -ErrorAction SilentlyContinue | Where-Object { $_.PSIsContainer } |
        Sort-Object LastWriteTime | Select-Object -Last 1
    if (-not $dir) { return }
    Write-Host ""; Write-Host "cbom-scan: reports are in $($dir.FullName)"
    Get-ChildItem -LiteralPath $dir.FullName | Format-Table Name, Length -AutoSize
    $html = Join-Path $dir.FullName 'cbom.html'
    if ($open -and (Test-Path -LiteralPath $html)) { Invoke-Item -LiteralPath $html }
}

# Files that are not part of the bundle (see cbom/bundle.py IGNORED_TOP).
$ignoredTop = @('reports', 'recordings', 'System Volume Information', '$RECYCLE.BIN', '.Trashes',
                '.Spotlight-V100', '.fseventsd')

function Test-Stick {
    $sums = Join-Path $here 'SHA256SUMS'
    if (-not (Test-Path -LiteralPath $sums)) { Say "no SHA256SUMS next to the launcher: cannot verify"; return 2 }
    $sha = [System.Security.Cryptography.SHA256]::Create()
    $listed = @{}
    $script:bad = 0
    foreach ($line in [System.IO.File]::ReadAllLines($sums)) {
        if ($line.Length -lt 67) { continue }
        $want = $line.Substring(0, 64).ToLower(); $rel = $line.Substring(66); $listed[$rel] = $true
        $path = Join-Path $here ($rel -replace '/', '\')
        if (-not (Test-Path -LiteralPath $path -PathType Leaf)) { Write-Host "missing    $rel"; $script:bad++; continue }
        $fs = [System.IO.File]::OpenRead($path)
        try { $got = -join ($sha.ComputeHash($fs) | ForEach-Object { $_.ToString('x2') }) } finally { $fs.Close() }
        if ($got -ne $want) { Write-Host "changed    $rel"; $script:bad++ }
    }
    $root = (Resolve-Path -LiteralPath $here).ProviderPath.TrimEnd('\')
    Get-ChildItem -LiteralPath $root -Recurse -Force | Where-Object { -not $_.PSIsContainer } | ForEach-Object {
        $rel = $_.FullName.Substring($root.Length + 1) -replace '\\', '/'
        $top = $rel.Split('/')[0]
        if ($rel -ne 'SHA256SUMS' -and -not $listed.ContainsKey($rel) -and $ignoredTop -notcontains $top -and
            -not $top.StartsWith('.cbom-tmp-')) { Write-Host "extra      $rel"; $script:bad++ }
    }
    $sumsHash = -join ($sha.ComputeHash([System.IO.File]::ReadAllBytes($sums)) | ForEach-Object { $_.ToString('x2') })
    Write-Host "SHA256SUMS sha256 $sumsHash"
    if ($script:bad -gt 0) { Say "the stick was ALTERED since it was built ($script:bad file(s)): not scanning"; return 1 }
    Say "stick intact: every file matches SHA256SUMS"
    return 0
}

if ($verify) {
    $rc = Test-Stick
    if ($rc -ne 0) { exit $rc }
    if ($verifyOnly) { exit 0 }
}

# --- windows-x86_64\cbom.exe: self-contained, no Python needed --------------------------------------
$exe = Join-Path $here 'windows-x86_64\cbom.exe'
if (-not $wheelhouseMode) {
    $started = $false
    if (Test-Path -LiteralPath $exe -PathType Leaf) {
        try { & $exe --version 2>$null | Out-Null; $started = ($LASTEXITCODE -eq 0) } catch { }
        if (-not $started) { Say "windows-x86_64\cbom.exe cannot start here (it needs Windows 8.1 or later, x64): using a Python of this machine" }
    } else { Say "no windows-x86_64\cbom.exe on the stick: using a Python of this machine" }
    if ($started) {
        & $exe scan @rest
        $rc = $LASTEXITCODE
        Show-Reports $rc
        exit $rc
    }
}

# --- a Python 3.9+ of this machine -----------------------------------------------------------------
$py = $null; $pyArgs = @()
$candidates = @()
if ($env:CBOM_PYTHON) { $candidates += ,@($env:CBOM_PYTHON) }
$candidates += ,@('py', '-3'); $candidates += ,@('python'); $candidates += ,@('python3')
foreach ($c in $candidates) {
    $exe = $c[0]; $cargs = @($c | Select-Object -Skip 1)
    try {
        & $exe @cargs -c 'import sys; sys.exit(sys.version_info < (3, 9))' 2>$null | Out-Null
        if ($LASTEXITCODE -eq 0) { $py = $exe; $pyArgs = $cargs; break }
    } catch { }
}
if (-not $py) { Say "no Python 3.9+ found (py -3, python): install one or scan from another machine"; exit 2 }

$wheelhouse = Join-Path $here 'wheelhouse'
$pipWheel = Get-ChildItem -LiteralPath $wheelhouse -Filter 'pip-*.whl' | Sort-Object Name | Select-Object -Last 1
if (-not $pipWheel) { Say "no pip wheel in $wheelhouse"; exit 2 }

$tmp = Join-Path $here (".cbom-tmp-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
try { New-Item -ItemType Directory -Path $tmp | Out-Null }
catch {
    $tmp = Join-Path ([System.IO.Path]::GetTempPath()) (".cbom-tmp-" + [guid]::NewGuid().ToString('N').Substring(0, 8))
    New-Item -ItemType Directory -Path $tmp | Out-Null
    Say "stick is read-only: temporary folder $tmp (removed at exit)"
}
$env:TMP = $tmp; $env:TEMP = $tmp
$rc = 2
try {
    $venv = Join-Path $tmp 'venv'
    & $py @pyArgs -m venv --without-pip $venv
    if ($LASTEXITCODE -ne 0) { Say "python -m venv failed"; exit 2 }
    $vpy = Join-Path $venv 'Scripts\python.exe'
    Say "installing cbom from the wheelhouse into $tmp"
    # PATH emptied for pip: its user-agent code runs `rustc --version`, and a rustup proxy on PATH
    # then creates %USERPROFILE%\.rustup. Installing wheels needs no external program.
    $savedPath = $env:PATH; $env:PATH = $tmp
    & $vpy (Join-Path $pipWheel.FullName 'pip') install --quiet --no-index --no-compile --find-links $wheelhouse cbom-scanner
    $env:PATH = $savedPath
    if ($LASTEXITCODE -ne 0) { Say "cannot install cbom from the wheelhouse for this Python"; exit 2 }

    & $vpy -m cbom scan @rest
    $rc = $LASTEXITCODE
}
finally {
    Remove-Item -LiteralPath $tmp -Recurse -Force -ErrorAction SilentlyContinue
}
Show-Reports $rc
exit $rc
