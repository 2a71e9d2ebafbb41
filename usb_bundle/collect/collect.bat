@echo off
rem cbom collect.bat - record what a Windows machine's own commands say, for `cbom ingest`.
rem
rem For machines that cannot run cbom itself (Windows XP SP2 / 2003 / 7 with no usable Python,
rem sites that forbid foreign executables). cmd.exe and the tools Windows ships only: systeminfo,
rem wmic, reg, ipconfig, netstat, driverquery, tasklist, certutil. Installs nothing, writes only
rem into the output folder (on the stick), sends nothing on the network.
rem Every command is optional: a missing or failing tool is recorded in manifest.txt with its
rem exit code and the collection goes on.
rem
rem Usage:  collect.bat [OUTPUT_DIR]
rem   default OUTPUT_DIR: recordings\<COMPUTERNAME>-<local time>\ next to this script.
rem Then, on any machine with cbom:  cbom ingest OUTPUT_DIR
rem Run it from an elevated prompt ("Run as administrator") where possible: without it, wmic
rem hides some serial numbers and other users' Uninstall keys cannot be read.
setlocal EnableExtensions EnableDelayedExpansion

set "HERE=%~dp0"
rem wmic's LocalDateTime (20240102T030405 local + UTC offset in minutes) is locale-independent, %DATE% is not.
set "LDT="
for /f "tokens=2 delims==" %%a in ('wmic os get LocalDateTime /value 2^>nul ^| find "="') do set "LDT=%%a"
set "STAMP=%LDT:~0,8%T%LDT:~8,6%"
if "%LDT%"=="" set "STAMP=unknown-time"
set "OUT=%~1"
if "%OUT%"=="" set "OUT=%HERE%recordings\%COMPUTERNAME%-%STAMP%"
if not exist "%OUT%\" mkdir "%OUT%"
if not exist "%OUT%\" (
    echo collect.bat: cannot create %OUT% 1>&2
    exit /b 2
)
set "ADMIN=no"
net session >nul 2>&1 && set "ADMIN=yes"
set "M=%OUT%\manifest.txt"
> "%M%" echo # cbom collect.bat manifest: file	exit code	local time	command
>> "%M%" echo # script collect.bat version 1; host %COMPUTERNAME%; started %LDT%; user %USERNAME%; admin %ADMIN%; os Windows

rem --- operating system, hotfixes
call :run "systeminfo.txt" "systeminfo"
call :run "wmic-qfe.txt" "wmic qfe"
call :run "hostname.txt" "hostname"
call :run "ver.txt" "cmd /c ver"

rem --- WMI classes, `wmic path CLASS get /format:list` (UTF-16LE with BOM when redirected)
for %%c in (Win32_ComputerSystem Win32_ComputerSystemProduct Win32_BIOS Win32_BaseBoard Win32_Processor Win32_PhysicalMemory Win32_DiskDrive Win32_NetworkAdapter Win32_NetworkAdapterConfiguration Win32_OperatingSystem Win32_QuickFixEngineering Win32_VideoController Win32_PnPEntity) do (
    call :run "%%c.wmi" "wmic path %%c get /format:list"
)

rem --- installed programs: both registry views, the current user, and every loaded user hive
call :reg "Uninstall.reg" "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
call :reg "Uninstall-WOW6432Node.reg" "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall"
call :reg "Uninstall-HKCU.reg" "HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall"
for /f "delims=" %%k in ('reg query HKU 2^>nul ^| findstr /r /c:"^HKEY_USERS\\S-1-5-21-[0-9-]*$"') do (
    call :reg "Uninstall-%%~nxk.reg" "%%k\Software\Microsoft\Windows\CurrentVersion\Uninstall"
)
call :reg "CentralProcessor.reg" "HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor"

rem --- security posture: local accounts and the Administrators group (whatever its local name: SID
rem S-1-5-32-544), services and what else starts by itself, firewall, BitLocker, Remote Desktop,
rem USB storage history, certificate stores. Never a password or key: `net user` shows none.
call :run "Win32_UserAccount.wmi" "wmic path Win32_UserAccount where (LocalAccount=True) get /format:list"
call :run "Win32_Group.wmi" "wmic path Win32_Group where (LocalAccount=True) get /format:list"
for %%c in (Win32_Service Win32_StartupCommand) do call :run "%%c.wmi" "wmic path %%c get /format:list"
call :run "Win32_EncryptableVolume.wmi" "wmic /namespace:\\root\cimv2\security\microsoftvolumeencryption path Win32_EncryptableVolume get /format:list"
rem wmic /value lines end in CR LF CR: the inner for /f drops the stray CR from the name.
set "ADMGRP=Administrators"
for /f "tokens=2 delims==" %%g in ('wmic path Win32_Group where "SID='S-1-5-32-544'" get Name /value 2^>nul ^| find "="') do for /f "delims=" %%h in ("%%g") do set "ADMGRP=%%h"
call :run "net-localgroup-administrators.txt" "net localgroup "%ADMGRP%""
call :netusers
call :run "schtasks.csv" "schtasks /query /fo csv /v"
call :reg "Run-HKLM.reg" "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
call :reg "RunOnce-HKLM.reg" "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce"
call :reg "Run-WOW6432Node.reg" "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Run"
call :reg "RunOnce-WOW6432Node.reg" "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\RunOnce"
call :reg "Run-HKCU.reg" "HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
call :reg "RunOnce-HKCU.reg" "HKCU\Software\Microsoft\Windows\CurrentVersion\RunOnce"
call :reg "FirewallPolicy.reg" "HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"
call :reg "TerminalServer.reg" "HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server"
call :reg "USBSTOR.reg" "HKLM\SYSTEM\CurrentControlSet\Enum\USBSTOR"
rem Certificate stores: each store's Certificates subkey only, and only the stores that exist.
for %%s in (ROOT AuthRoot CA Disallowed TrustedPublisher TrustedPeople My) do (
    call :store "SystemCertificates-%%s.reg" "HKLM\SOFTWARE\Microsoft\SystemCertificates\%%s\Certificates"
    call :store "SystemCertificates-Policies-%%s.reg" "HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates\%%s\Certificates"
    call :store "EnterpriseCertificates-%%s.reg" "HKLM\SOFTWARE\Microsoft\EnterpriseCertificates\%%s\Certificates"
    call :store "SystemCertificates-HKCU-%%s.reg" "HKCU\Software\Microsoft\SystemCertificates\%%s\Certificates"
)

rem --- network configuration and listening sockets (nothing is sent)
call :run "ipconfig-all.txt" "ipconfig /all"
call :run "netstat-ano.txt" "netstat -ano"
call :run "tasklist.csv" "tasklist /fo csv /nh"
call :run "route-print.txt" "route print"

rem --- drivers
call :run "driverquery-v.txt" "driverquery /v"

rem --- SHA-256 of every file (certutil -hashfile ... SHA256: Windows 7 / 2008 R2 and later; XP's cannot)
rem A hash is listed only when certutil printed one: 64 hex digits on its second line (Windows 7
rem spaces them in pairs). A certutil that exits 0 and prints nothing (wine's stub) or prints an
rem error must not leave a SHA256SUMS that lists nothing as if the files were checked: the files
rem left unhashed are named on a failed SHA256SUMS line of the manifest, and a list of no file is
rem removed. Plain goto/call flow and pushd + an unquoted wildcard (the folder may hold spaces):
rem nested IF blocks and quoted wildcards in FOR are where cmd implementations differ.
certutil -hashfile "%M%" SHA256 >nul 2>&1
if errorlevel 1 goto :nosha
> "%OUT%\SHA256SUMS" type nul
set "HASHED=0"
set "NOHASH="
pushd "%OUT%"
for %%f in (*) do call :hash "%%~nxf"
popd
if defined NOHASH >> "%M%" echo SHA256SUMS	1	!DATE! !TIME!	certutil -hashfile FILE SHA256 printed no SHA-256 for:!NOHASH!
if "%HASHED%"=="0" del "%OUT%\SHA256SUMS"
if "%HASHED%"=="0" if not defined NOHASH >> "%M%" echo SHA256SUMS	1	!DATE! !TIME!	certutil -hashfile FILE SHA256: no file was hashed
goto :hashed
:nosha
>> "%M%" echo # sha256 not available: certutil cannot hash SHA256 on this Windows version
:hashed
set "END="
for /f "tokens=2 delims==" %%a in ('wmic os get LocalDateTime /value 2^>nul ^| find "="') do set "END=%%a"
>> "%M%" echo # finished %END%
echo %OUT%
endlocal
exit /b 0

rem :run FILE "COMMAND LINE" - stdout into FILE, stderr into FILE.stderr (deleted when empty), manifest line.
:run
set "F=%~1"
set "C=%~2"
%C% < nul > "%OUT%\%F%" 2> "%OUT%\%F%.stderr"
set "RC=!ERRORLEVEL!"
for %%s in ("%OUT%\%F%.stderr") do if %%~zs==0 del "%%~s"
for %%s in ("%OUT%\%F%") do if %%~zs==0 del "%%~s"
>> "%M%" echo %F%	!RC!	!DATE! !TIME!	%C%
goto :eof

rem :hash NAME - the SHA-256 line of file NAME (in the current folder) into SHA256SUMS, or NAME
rem added to NOHASH when certutil printed no hash for it. One command a line, %%-expanded when it
rem runs: wine's cmd has no !VAR:~n! or !VAR: =! (cmd.exe has both since XP).
:hash
if /i "%~1"=="SHA256SUMS" goto :eof
if /i "%~1"=="manifest.txt" goto :eof
set "H="
for /f "skip=1 delims=" %%h in ('certutil -hashfile "%~1" SHA256 2^>nul') do if not defined H set "H=%%h"
if not defined H goto :nohash
set "H=%H: =%"
if "%H:~63,1%"=="" goto :nohash
if not "%H:~64%"=="" goto :nohash
>> "%OUT%\SHA256SUMS" echo %H%  %~1
set /a HASHED+=1
goto :eof
:nohash
set "NOHASH=%NOHASH% %~1"
goto :eof

rem :netusers - `net user NAME` of every local account, one after the other, into net-user.txt (the
rem account names from wmic /value, CR dropped as above); one manifest line with the last exit code.
:netusers
set "RC=0"
if exist "%OUT%\net-user.txt" del "%OUT%\net-user.txt"
for /f "tokens=2 delims==" %%u in ('wmic path Win32_UserAccount where "LocalAccount=True" get Name /value 2^>nul ^| find "="') do for /f "delims=" %%v in ("%%u") do call :netuser "%%v"
for %%s in ("%OUT%\net-user.txt.stderr") do if exist "%%~s" if %%~zs==0 del "%%~s"
>> "%M%" echo net-user.txt	!RC!	!DATE! !TIME!	net user NAME (every local account)
goto :eof
:netuser
net user "%~1" < nul >> "%OUT%\net-user.txt" 2>> "%OUT%\net-user.txt.stderr"
if errorlevel 1 set "RC=!ERRORLEVEL!"
goto :eof

rem :store FILE KEY - :reg, for a key that exists (most certificate stores are absent from most roots).
:store
reg query "%~2" >nul 2>&1
if errorlevel 1 goto :eof
call :reg "%~1" "%~2"
goto :eof

rem :reg FILE KEY - regedit export of KEY (UTF-16LE with BOM) into FILE; XP's reg has no /y, so delete first.
:reg
set "F=%~1"
set "K=%~2"
if exist "%OUT%\%F%" del "%OUT%\%F%"
reg export "%K%" "%OUT%\%F%" > nul 2> "%OUT%\%F%.stderr"
set "RC=!ERRORLEVEL!"
for %%s in ("%OUT%\%F%.stderr") do if %%~zs==0 del "%%~s"
>> "%M%" echo %F%	!RC!	!DATE! !TIME!	reg export "%K%"
goto :eof
