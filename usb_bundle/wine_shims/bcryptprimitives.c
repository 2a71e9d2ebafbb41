/* Stand-in for bcryptprimitives.dll, which wine 8.0 lacks (notes W4).
 *
 * Rust's standard library (1.78 and later) takes its random bytes from
 * bcryptprimitives.dll!ProcessPrng, so the Rust-built wheels cbom uses (jsonschema-rs, rpds-py)
 * fail to load under wine 8.0 with "DLL load failed". This DLL exports that one function and
 * answers it from advapi32's RtlGenRandom (SystemFunction036), which wine implements.
 * Test and build harness only: it is copied into a wine prefix, never shipped to a stick.
 */
#include <windows.h>
#include <ntsecapi.h>

/* BOOL ProcessPrng(PBYTE pbData, SIZE_T cbData): documented to always return TRUE on Windows;
   RtlGenRandom takes a ULONG length, so large requests are served in pieces. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T size)
{
    while (size > 0) {
        ULONG piece = size > 0x10000000 ? 0x10000000 : (ULONG)size;
        if (!RtlGenRandom(data, piece))
            return FALSE;
        data += piece;
        size -= piece;
    }
    return TRUE;
}
