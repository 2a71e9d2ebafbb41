/* replay.exe: a test double that answers a command line with a recorded output (notes §6).
 *
 * Copied as wmic.exe, systeminfo.exe, powershell.exe... into a folder first on the Windows PATH,
 * it lets cbom's live Windows collectors run their real code (process start, PATH search, output
 * decoding, fallbacks) on what a real Windows machine printed. It reads replay.tsv next to itself:
 * one line per answer, "<command> <arg> <arg>...<TAB><file>", lower case, where the command is the
 * program's name without ".exe". The line whose words are the longest prefix of this program's own
 * command line (compared without regard to case) wins; its file goes to stdout byte for byte and
 * the exit code is 0. No line matching: one line on stderr and exit code 1, as a refused command.
 */
#include <windows.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    char table[MAX_PATH + 16], line[8192], best_file[MAX_PATH] = "", self[MAX_PATH];
    int best = 0;
    /* The program's own file name ("wmic" of D:\replay\wmic.exe), however it was started. */
    GetModuleFileNameA(NULL, table, MAX_PATH);
    char *slash = strrchr(table, '\\'), *dot;
    strcpy(self, slash + 1);
    if ((dot = strrchr(self, '.')) && _stricmp(dot, ".exe") == 0)
        *dot = 0;
    strcpy(slash + 1, "replay.tsv");
    FILE *tsv = fopen(table, "r");
    while (tsv && fgets(line, sizeof line, tsv)) {
        char *file = strchr(line, '\t'), *word;
        int n = 0, match = 1;
        if (!file)
            continue;
        *file++ = 0;
        file[strcspn(file, "\r\n")] = 0;
        for (word = strtok(line, " "); word && match; word = strtok(NULL, " "), n++)
            match = n == 0 ? _stricmp(word, self) == 0 : n < argc && _stricmp(word, argv[n]) == 0;
        if (match && n > best) {
            best = n;
            strncpy(best_file, file, sizeof best_file - 1);
        }
    }
    FILE *out = best ? fopen(best_file, "rb") : NULL;
    if (!out) {
        fprintf(stderr, "replay: `%s%s%s` was not recorded%s%s\n", self, argc > 1 ? " " : "",
                argc > 1 ? argv[1] : "", best ? ": cannot open " : "", best ? best_file : "");
        return 1;
    }
    _setmode(_fileno(stdout), _O_BINARY);
    size_t got;
    while ((got = fread(line, 1, sizeof line, out)) > 0)
        fwrite(line, 1, got, stdout);
    return fflush(stdout) == 0 && !ferror(out) ? 0 : 1;
}
