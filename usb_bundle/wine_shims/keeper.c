/* keeper.exe: holds one window open for as long as it runs (notes W5).
 *
 * Under wine 8.0 the first program that needs a desktop starts `explorer.exe /desktop`, which
 * inherits that program's std handles and stays up only while some window exists. When that
 * program is a command whose stdout a scan reads (wmic), explorer keeps the pipe open after the
 * command exits and the reader waits for an end of file that never comes. Started first and kept
 * running, this program owns the desktop's explorer, so no later command's pipe is inherited.
 * It prints "ready" once its window exists (explorer is then up) and then sleeps until killed.
 */
#include <windows.h>
#include <stdio.h>

int main(void)
{
    HWND window = CreateWindowExW(0, L"STATIC", L"cbom wine keeper", 0, 0, 0, 1, 1,
                                  NULL, NULL, GetModuleHandleW(NULL), NULL);
    if (window == NULL) {
        fprintf(stderr, "keeper: CreateWindowExW failed (error %lu)\n", GetLastError());
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    for (;;)
        Sleep(INFINITE);
}
