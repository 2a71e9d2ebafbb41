@echo off
rem cbom-scan.bat - run a cbom scan of this Windows machine from the USB stick (cmd.exe only;
rem cbom-scan.ps1 does the same and can also verify the stick natively before running anything).
rem
rem Usage: cbom-scan.bat [--verify] [--wheelhouse] [--no-open] [cbom scan options, e.g. --operator "J. Doe"]
rem   --verify      first run `cbom verify-bundle` and stop if the stick was altered
rem   --wheelhouse  use a Python 3.9+ of this machine and the wheelhouse instead of windows-x86_64\cbom.exe
rem   --no-open     do not open the HTML report at the end
rem
rem windows-x86_64\cbom.exe (Windows 8.1 or later, x64) needs no Python. Where it is missing or cannot
rem start, the Python 3.9+ already on this machine (py -3, python, or %%CBOM_PYTHON%%) installs cbom
rem from wheelhouse\ into a temporary venv on the stick (or in %%TEMP%% when the stick is read-only),
rem deleted at exit. Reports go to reports\<COMPUTERNAME>-<UTC time>\ next to this file.
rem Only plain cmd.exe syntax (no && or ||, no quoted for-wildcards): Windows XP's cmd runs it too.
setlocal EnableExtensions DisableDelayedExpansion
set "HERE=%~dp0"
set "PYTHONDONTWRITEBYTECODE=1"
set "PIP_NO_CACHE_DIR=1"
set "PIP_CONFIG_FILE=NUL"
set "PIP_NO_INPUT=1"
set "PIP_DISABLE_PIP_VERSION_CHECK=1"
set "PYTHONNOUSERSITE=1"
set "CBOM_TEMPLATES=%HERE%templates"
set "PYTHONPATH="
set "PYTHONHOME="
set "PYTHONSTARTUP="
set "PYTHONUSERBASE="
set "PIP_FIND_LINKS="
set "PIP_INDEX_URL="
set "PIP_EXTRA_INDEX_URL="
set "PIP_REQUIRE_VIRTUALENV="

set "VERIFY=0"
set "MODE=exe"
set "OPEN=1"
rem The launcher's own options anywhere; every other argument goes to `cbom scan`.
set "ARGS="
set "HASOUT=0"
:collect
if "%~1"=="" goto collected
if /i "%~1"=="--verify" set "VERIFY=1"
if /i "%~1"=="--verify" goto next
if /i "%~1"=="--wheelhouse" set "MODE=wheelhouse"
if /i "%~1"=="--wheelhouse" goto next
if /i "%~1"=="--no-open" set "OPEN=0"
if /i "%~1"=="--no-open" goto next
if /i "%~1"=="-o" set "HASOUT=1"
if /i "%~1"=="--output" set "HASOUT=1"
set ARGS=%ARGS% %1
:next
shift
goto collect
:collected
set "RC=2"
set "OUT="

rem --- windows-x86_64\cbom.exe: self-contained, no Python needed -----------------------------------
set "EXE=%HERE%windows-x86_64\cbom.exe"
if "%MODE%"=="wheelhouse" goto python
if not exist "%EXE%" goto noexe
"%EXE%" --version >nul 2>&1
if errorlevel 1 goto exefails
if "%VERIFY%"=="0" goto exescan
"%EXE%" verify-bundle "%HERE%."
if errorlevel 1 goto altered
:exescan
rem cbom makes reports\<host>-<UTC time>\ itself (--reports-dir): no clock arithmetic in cmd.
if "%HASOUT%"=="0" set ARGS=--reports-dir "%HERE%reports" %ARGS%
if exist "%HERE%db\cbom-vulndb.sqlite" set ARGS=--db "%HERE%db" %ARGS%
"%EXE%" scan %ARGS%
set "RC=%ERRORLEVEL%"
goto done
:noexe
echo cbom-scan: no windows-x86_64\cbom.exe on the stick: using a Python of this machine 1>&2
goto python
:exefails
echo cbom-scan: windows-x86_64\cbom.exe cannot start here (it needs Windows 8.1 or later, x64): using a Python of this machine 1>&2
goto python
:altered
echo cbom-scan: the stick was ALTERED or cannot be checked: not scanning 1>&2
exit /b 1

:python

rem --- a Python 3.9+ of this machine --------------------------------------------------------------
set "PY="
if defined CBOM_PYTHON (
    "%CBOM_PYTHON%" -c "import sys; sys.exit(sys.version_info < (3, 9))" >nul 2>&1 && set "PY="%CBOM_PYTHON%""
)
if not defined PY (
    py -3 -c "import sys; sys.exit(sys.version_info < (3, 9))" >nul 2>&1 && set "PY=py -3"
)
if not defined PY (
    python -c "import sys; sys.exit(sys.version_info < (3, 9))" >nul 2>&1 && set "PY=python"
)
if not defined PY (
    echo cbom-scan: no Python 3.9+ found ^(py -3, python^): install one or scan from another machine 1>&2
    exit /b 2
)
set "PIPWHL="
for %%W in ("%HERE%wheelhouse\pip-*.whl") do set "PIPWHL=%%~fW"
if not defined PIPWHL (
    echo cbom-scan: no pip wheel in %HERE%wheelhouse 1>&2
    exit /b 2
)

set "TMPV=%HERE%.cbom-tmp-%RANDOM%%RANDOM%"
mkdir "%TMPV%" 2>nul
if errorlevel 1 (
    set "TMPV=%TEMP%\.cbom-tmp-%RANDOM%%RANDOM%"
)
if not exist "%TMPV%" mkdir "%TMPV%"
if not exist "%TMPV%" (
    echo cbom-scan: cannot create a temporary folder 1>&2
    exit /b 2
)
set "TMP=%TMPV%"
set "TEMP=%TMPV%"

echo cbom-scan: installing cbom from the wheelhouse into %TMPV% 1>&2
%PY% -m venv --without-pip "%TMPV%\venv"
if errorlevel 1 goto cleanup
set "VPY=%TMPV%\venv\Scripts\python.exe"
rem PATH emptied for pip: its user-agent code runs `rustc --version`, and a rustup proxy on PATH
rem then creates %%USERPROFILE%%\.rustup. Installing wheels needs no external program.
set "SAVEDPATH=%PATH%"
set "PATH=%TMPV%"
"%VPY%" "%PIPWHL%\pip" install --quiet --no-index --no-compile --find-links "%HERE%wheelhouse" cbom-scanner
set "PIPRC=%ERRORLEVEL%"
set "PATH=%SAVEDPATH%"
if not "%PIPRC%"=="0" (
    echo cbom-scan: cannot install cbom from the wheelhouse for this Python 1>&2
    goto cleanup
)

if "%VERIFY%"=="1" (
    "%VPY%" -m cbom verify-bundle "%HERE%."
    if errorlevel 1 (
        echo cbom-scan: the stick was ALTERED or cannot be checked: not scanning 1>&2
        set "RC=1"
        goto cleanup
    )
)

if "%HASOUT%"=="0" set ARGS=--reports-dir "%HERE%reports" %ARGS%
if exist "%HERE%db\cbom-vulndb.sqlite" set ARGS=--db "%HERE%db" %ARGS%
"%VPY%" -m cbom scan %ARGS%
set "RC=%ERRORLEVEL%"
cd /d "%HERE%"
rmdir /s /q "%TMPV%" 2>nul

:done
rem The report folder this scan made: the newest one in reports\ (exit 2 = nothing written). Listed
rem into a file in reports\ and read back: `for /f` over a command leaves a CMD*.tmp in %%TEMP%% under
rem some cmd implementations, and nothing may be left outside the output folder.
if "%HASOUT%"=="1" goto finish
if "%RC%"=="2" goto finish
set "LIST=%HERE%reports\.cbom-scan-list.txt"
dir /b /ad /o-d "%HERE%reports" > "%LIST%" 2>nul
for /f "usebackq delims=" %%D in ("%LIST%") do if not defined OUT set "OUT=%HERE%reports\%%D"
del "%LIST%" 2>nul
if not defined OUT goto finish
echo.
echo cbom-scan: reports are in %OUT%
dir /b "%OUT%"
if "%OPEN%"=="0" goto finish
if exist "%OUT%\cbom.html" start "" "%OUT%\cbom.html"
:finish
exit /b %RC%

:cleanup
cd /d "%HERE%"
rmdir /s /q "%TMPV%" 2>nul
exit /b %RC%
