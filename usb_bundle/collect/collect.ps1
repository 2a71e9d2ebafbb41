# cbom collect.ps1 - record what a Windows machine's own commands say, for `cbom ingest`.
#
# The PowerShell variant of collect.bat, for Windows 7 / 2008 R2 and later (PowerShell 2.0+), and for
# Windows 11 24H2+ where wmic is gone: WMI classes are read with Get-WmiObject (Get-CimInstance on
# PowerShell 6+) and written in the `wmic path CLASS get /format:list` layout (Property=Value lines,
# a blank line between instances, UTF-16LE with BOM), so `cbom ingest` reads both alike.
# Installs nothing, writes only into the output folder, sends nothing on the network.
#
# Usage:  powershell -NoProfile -ExecutionPolicy Bypass -File collect.ps1 [-Out OUTPUT_DIR]
# Then, on any machine with cbom:  cbom ingest OUTPUT_DIR
param([string]$Out = "")

$ErrorActionPreference = 'Continue'
$here = Split-Path -Parent $MyInvocation.MyCommand.Path
$utcNow = { (Get-Date).ToUniversalTime().ToString("yyyy-MM-ddTHH:mm:ssZ") }
$stamp = (Get-Date).ToUniversalTime().ToString("yyyyMMddTHHmmssZ")
if (-not $Out) { $Out = Join-Path $here ("recordings\" + $env:COMPUTERNAME + "-" + $stamp) }
New-Item -ItemType Directory -Force -Path $Out | Out-Null
$manifest = Join-Path $Out "manifest.txt"
$admin = "no"
try {
    $id = [Security.Principal.WindowsPrincipal][Security.Principal.WindowsIdentity]::GetCurrent()
    if ($id.IsInRole([Security.Principal.WindowsBuiltInRole]::Administrator)) { $admin = "yes" }
} catch {}
function Add-Line([string]$text) { Add-Content -Path $manifest -Value $text -Encoding UTF8 }
Set-Content -Path $manifest -Encoding UTF8 -Value "# cbom collect.ps1 manifest: file`texit code`tUTC time`tcommand"
Add-Line ("# script collect.ps1 version 1; host {0}; started {1}; user {2}; admin {3}; os Windows" -f `
    $env:COMPUTERNAME, (& $utcNow), $env:USERNAME, $admin)

# Run a native command; stdout bytes as the tool wrote them (cmd /c keeps the console code page).
function Invoke-Recorded([string]$file, [string]$command) {
    $target = Join-Path $Out $file
    $err = Join-Path $Out ($file + ".stderr")
    cmd /c "$command < nul > `"$target`" 2> `"$err`""
    $rc = $LASTEXITCODE
    foreach ($f in @($target, $err)) { if ((Test-Path $f) -and ((Get-Item $f).Length -eq 0)) { Remove-Item $f } }
    Add-Line ("{0}`t{1}`t{2}`t{3}" -f $file, $rc, (& $utcNow), $command)
}

# One WMI class in wmic's /format:list layout (optionally of another namespace, or filtered).
function Save-Wmi([string]$class, [string]$namespace = "root\cimv2", [string]$filter = "") {
    $file = "$class.wmi"
    $rc = 0
    $lines = New-Object System.Collections.ArrayList
    try {
        $how = @{ Namespace = $namespace; ErrorAction = 'Stop' }
        if ($filter) { $how['Filter'] = $filter }
        if (Get-Command Get-WmiObject -ErrorAction SilentlyContinue) {
            $objs = @(Get-WmiObject -Class $class @how)
        } else {
            $objs = @(Get-CimInstance -ClassName $class @how)
        }
        foreach ($o in $objs) {
            [void]$lines.Add("")
            $props = if ($o.psbase -and $o.psbase.Properties) { $o.psbase.Properties } else { $o.CimInstanceProperties }
            foreach ($p in ($props | Sort-Object Name)) {
                $v = $p.Value
                if ($v -is [DateTime]) { $v = [Management.ManagementDateTimeConverter]::ToDmtfDateTime($v) }
                elseif ($v -is [Array]) { $v = '{' + (($v | ForEach-Object { '"' + $_ + '"' }) -join ',') + '}' }
                elseif ($v -is [bool]) { $v = $v.ToString().ToUpper() }
                [void]$lines.Add("$($p.Name)=$v")
            }
            [void]$lines.Add("")
        }
    } catch {
        $rc = 1
        Set-Content -Path (Join-Path $Out "$file.stderr") -Value $_.Exception.Message -Encoding UTF8
    }
    if ($lines.Count) { $lines | Out-File -FilePath (Join-Path $Out $file) -Encoding Unicode }
    Add-Line ("{0}`t{1}`t{2}`t{3}" -f $file, $rc, (& $utcNow), "Get-WmiObject $class $filter".Trim())
}

Invoke-Recorded "systeminfo.txt" "systeminfo"
Invoke-Recorded "hostname.txt" "hostname"
if (Get-Command wmic -ErrorAction SilentlyContinue) { Invoke-Recorded "wmic-qfe.txt" "wmic qfe" }
foreach ($c in "Win32_ComputerSystem", "Win32_ComputerSystemProduct", "Win32_BIOS", "Win32_BaseBoard",
        "Win32_Processor", "Win32_PhysicalMemory", "Win32_DiskDrive", "Win32_NetworkAdapter",
        "Win32_NetworkAdapterConfiguration", "Win32_OperatingSystem", "Win32_QuickFixEngineering",
        "Win32_VideoController", "Win32_PnPEntity") {
    Save-Wmi $c
}
# reg export writes the file itself (its stdout is only "The operation completed successfully.").
function Export-Key([string]$file, [string]$key) {
    $target = Join-Path $Out $file
    if (Test-Path $target) { Remove-Item $target }
    $err = Join-Path $Out ($file + ".stderr")
    cmd /c "reg export `"$key`" `"$target`" > nul 2> `"$err`""
    $rc = $LASTEXITCODE
    if ((Test-Path $err) -and ((Get-Item $err).Length -eq 0)) { Remove-Item $err }
    Add-Line ("{0}`t{1}`t{2}`t{3}" -f $file, $rc, (& $utcNow), "reg export `"$key`"")
}
Export-Key "Uninstall.reg" "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall"
Export-Key "Uninstall-WOW6432Node.reg" "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Uninstall"
Export-Key "Uninstall-HKCU.reg" "HKCU\Software\Microsoft\Windows\CurrentVersion\Uninstall"
foreach ($sid in @(Get-ChildItem Registry::HKEY_USERS -ErrorAction SilentlyContinue | Where-Object { $_.PSChildName -match '^S-1-5-21-[\d-]+$' })) {
    Export-Key ("Uninstall-" + $sid.PSChildName + ".reg") ("HKU\" + $sid.PSChildName + "\Software\Microsoft\Windows\CurrentVersion\Uninstall")
}
Export-Key "CentralProcessor.reg" "HKLM\HARDWARE\DESCRIPTION\System\CentralProcessor"

# Security posture: local accounts, the Administrators group (SID S-1-5-32-544, whatever its local
# name), services and what else starts by itself, firewall, BitLocker, Remote Desktop, USB storage
# history, certificate stores. Never a password or key: `net user` shows none.
Save-Wmi "Win32_UserAccount" "root\cimv2" "LocalAccount=True"
Save-Wmi "Win32_Group" "root\cimv2" "LocalAccount=True"
Save-Wmi "Win32_Service"
Save-Wmi "Win32_StartupCommand"
Save-Wmi "Win32_EncryptableVolume" "root\cimv2\Security\MicrosoftVolumeEncryption"
$admins = "Administrators"
try {
    $g = @(Get-WmiObject -Class Win32_Group -Filter "SID='S-1-5-32-544'" -ErrorAction Stop)
    if ($g.Count -and $g[0].Name) { $admins = $g[0].Name }
} catch {}
Invoke-Recorded "net-localgroup-administrators.txt" "net localgroup `"$admins`""
# `net user NAME` of every local account, one after the other (cbom reads them as one file).
$netUser = Join-Path $Out "net-user.txt"
$rc = 0
try {
    foreach ($u in @(Get-WmiObject -Class Win32_UserAccount -Filter "LocalAccount=True" -ErrorAction Stop)) {
        cmd /c "net user `"$($u.Name)`" < nul >> `"$netUser`" 2>&1"
        if ($LASTEXITCODE) { $rc = $LASTEXITCODE }
    }
} catch { $rc = 1 }
Add-Line ("{0}`t{1}`t{2}`t{3}" -f "net-user.txt", $rc, (& $utcNow), "net user NAME (every local account)")
Invoke-Recorded "schtasks.csv" "schtasks /query /fo csv /v"
Export-Key "Run-HKLM.reg" "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\Run"
Export-Key "RunOnce-HKLM.reg" "HKLM\SOFTWARE\Microsoft\Windows\CurrentVersion\RunOnce"
Export-Key "Run-WOW6432Node.reg" "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\Run"
Export-Key "RunOnce-WOW6432Node.reg" "HKLM\SOFTWARE\Wow6432Node\Microsoft\Windows\CurrentVersion\RunOnce"
Export-Key "Run-HKCU.reg" "HKCU\Software\Microsoft\Windows\CurrentVersion\Run"
Export-Key "RunOnce-HKCU.reg" "HKCU\Software\Microsoft\Windows\CurrentVersion\RunOnce"
Export-Key "FirewallPolicy.reg" "HKLM\SYSTEM\CurrentControlSet\Services\SharedAccess\Parameters\FirewallPolicy"
Export-Key "TerminalServer.reg" "HKLM\SYSTEM\CurrentControlSet\Control\Terminal Server"
Export-Key "USBSTOR.reg" "HKLM\SYSTEM\CurrentControlSet\Enum\USBSTOR"
# Certificate stores: each store's Certificates subkey only, and only the stores that exist.
foreach ($store in "ROOT", "AuthRoot", "CA", "Disallowed", "TrustedPublisher", "TrustedPeople", "My") {
    foreach ($pair in @(@("SystemCertificates", "HKLM\SOFTWARE\Microsoft\SystemCertificates"),
                        @("SystemCertificates-Policies", "HKLM\SOFTWARE\Policies\Microsoft\SystemCertificates"),
                        @("EnterpriseCertificates", "HKLM\SOFTWARE\Microsoft\EnterpriseCertificates"),
                        @("SystemCertificates-HKCU", "HKCU\Software\Microsoft\SystemCertificates"))) {
        $key = "$($pair[1])\$store\Certificates"
        if (Test-Path ("Registry::" + $key.Replace("HKLM\", "HKEY_LOCAL_MACHINE\").Replace("HKCU\", "HKEY_CURRENT_USER\"))) {
            Export-Key ("{0}-{1}.reg" -f $pair[0], $store) $key
        }
    }
}

Invoke-Recorded "ipconfig-all.txt" "ipconfig /all"
Invoke-Recorded "netstat-ano.txt" "netstat -ano"
Invoke-Recorded "tasklist.csv" "tasklist /fo csv /nh"
Invoke-Recorded "route-print.txt" "route print"
Invoke-Recorded "driverquery-v.txt" "driverquery /v"

# SHA-256 of every file, sha256sum layout ("hex  name"); .NET works on PowerShell 2.0 too.
# A file is listed only with a real hash (64 hex digits): one that cannot be read or hashed (locked,
# a FIPS policy refusing the algorithm) is named on a failed SHA256SUMS line of the manifest, and a
# list that would hold no file is not written: an empty SHA256SUMS reads as "every file checked".
$sums = @()
$nohash = @()
try { $sha = [Security.Cryptography.SHA256]::Create() } catch { $sha = $null }
foreach ($f in (Get-ChildItem -Path $Out | Where-Object { -not $_.PSIsContainer -and $_.Name -ne "SHA256SUMS" -and $_.Name -ne "manifest.txt" } | Sort-Object Name)) {
    $h = ""
    if ($sha) {
        try {
            $s = [IO.File]::OpenRead($f.FullName)
            try { $h = ($sha.ComputeHash($s) | ForEach-Object { $_.ToString("x2") }) -join "" } finally { $s.Close() }
        } catch { $h = "" }
    }
    if ($h -match '^[0-9a-f]{64}$') { $sums += "$h  $($f.Name)" } else { $nohash += $f.Name }
}
if ($sums.Count) { [IO.File]::WriteAllLines((Join-Path $Out "SHA256SUMS"), [string[]]$sums) }
if ($nohash.Count) {
    Add-Line ("SHA256SUMS`t1`t{0}`tSHA256 of FILE not computed for: {1}" -f (& $utcNow), ($nohash -join " "))
} elseif (-not $sums.Count) {
    Add-Line ("SHA256SUMS`t1`t{0}`tSHA256: no file was hashed" -f (& $utcNow))
}
Add-Line ("# finished " + (& $utcNow))
Write-Output $Out
