@echo off
rem cbom-scan.bat - run a cbom scan of this Windows machine from the USB stick (cmd.exe only;
rem cbom-scan.ps1 does the same and can also verify the stick natively before running anything).
rem
rem Usage: cbom-scan.bat [--verify] [cbom scan options, e.g. --operator "J. Doe" -o D:\reports]
rem   --verify   first run `cbom verify-bundle` (from the wheelhouse copy) and stop if altered
rem
rem Uses the Python 3.9+ already on this machine (py -3, python, or %%CBOM_PYTHON%%): installs cbom
rem from wheelhouse\ into a temporary venv on the stick (or in %%TEMP%% when the stick is read-only)
rem and deletes it at exit. Reports go to reports\<COMPUTERNAME>-<UTC time>\ next to this file.
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
if /i "%~1"=="--verify" set "VERIFY=1"
rem Everything after an optional leading --verify goes to `cbom scan`.
set "ARGS="
set "HASOUT=0"
:collect
if "%~1"=="" goto collected
if /i "%~1"=="--verify" goto next
if /i "%~1"=="-o" set "HASOUT=1"
if /i "%~1"=="--output" set "HASOUT=1"
set ARGS=%ARGS% %1
:next
shift
goto collect
:collected

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
set "RC=2"

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

set "OUT="
if "%HASOUT%"=="0" (
    for /f %%T in ('"%VPY%" -c "import time; print(time.strftime('%%Y%%m%%dT%%H%%M%%SZ', time.gmtime()))"') do set "STAMP=%%T"
)
if "%HASOUT%"=="0" (
    set "OUT=%HERE%reports\%COMPUTERNAME%-%STAMP%"
)
if defined OUT (
    mkdir "%OUT%" 2>nul
    if not exist "%OUT%" (
        echo cbom-scan: cannot write %OUT% ^(read-only stick?^): give another folder with -o DIR 1>&2
        goto cleanup
    )
    set ARGS=-o "%OUT%" %ARGS%
)
"%VPY%" -m cbom scan %ARGS%
set "RC=%ERRORLEVEL%"
if defined OUT (
    echo.
    echo cbom-scan: reports are in %OUT%
    dir /b "%OUT%"
)

:cleanup
cd /d "%HERE%"
rmdir /s /q "%TMPV%" 2>nul
exit /b %RC%
