/* fuzz_replay.c: main() for the fuzz harnesses outside libFuzzer.
 *
 * `replay_NAME PATH...` runs the harness once on every file named, and on
 * every regular file of every directory named (in strcmp order, so a
 * failure reproduces the same way everywhere).  Each input is copied into
 * a heap block of exactly its size, as libFuzzer passes it, so a read past
 * the end is an ASan report.  Exit 0 when every input ran, 1 when a file
 * could not be read or there was none (a corpus gone missing must not
 * pass); a finding stops the process. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz.h"

static int replay_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        perror(path);
        return 1;
    }
    size_t cap = 4096, n = 0;
    unsigned char *data = malloc(cap);
    for (;;) {                                       /* bound: the file size */
        if (data == NULL) break;
        n += fread(data + n, 1, cap - n, f);
        if (n < cap) break;
        unsigned char *grown = realloc(data, cap * 2);
        if (grown == NULL) free(data);
        data = grown;
        cap *= 2;
    }
    int bad = data == NULL || ferror(f);
    fclose(f);
    if (bad) {
        fprintf(stderr, "%s: cannot read\n", path);
        free(data);
        return 1;
    }
    /* Exactly n bytes (at least one: malloc(0) may return NULL). */
    unsigned char *exact = malloc(n > 0 ? n : 1);
    if (exact == NULL) {
        free(data);
        return 1;
    }
    memcpy(exact, data, n);
    free(data);
    (void)LLVMFuzzerTestOneInput(exact, n);
    free(exact);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *dir, size_t *count)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        perror(dir);
        return 1;
    }
    char **paths = NULL;
    size_t n = 0, cap = 0;
    int status = 0;
    struct dirent *ent;
    while ((ent = readdir(d)) != NULL) {            /* bound: the directory */
        if (ent->d_name[0] == '.') continue;
        if (n == cap) {
            cap = cap == 0 ? 64 : cap * 2;
            char **grown = realloc(paths, cap * sizeof *paths);
            if (grown == NULL) abort();
            paths = grown;
        }
        size_t len = strlen(dir) + strlen(ent->d_name) + 2;
        if ((paths[n] = malloc(len)) == NULL) abort();
        snprintf(paths[n], len, "%s/%s", dir, ent->d_name);
        n++;
    }
    closedir(d);
    if (n > 0) qsort(paths, n, sizeof *paths, name_cmp);
    for (size_t i = 0; i < n; i++) {
        struct stat sb;
        if (stat(paths[i], &sb) == 0 && S_ISREG(sb.st_mode)) {
            status |= replay_file(paths[i]);
            (*count)++;
        }
        free(paths[i]);
    }
    free(paths);
    return status;
}

int main(int argc, char **argv)
{
    int status = 0;
    size_t count = 0;
    for (int i = 1; i < argc; i++) {
        struct stat sb;
        if (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
            status |= replay_dir(argv[i], &count);
        } else {
            status |= replay_file(argv[i]);
            count++;
        }
    }
    printf("replayed %zu inputs\n", count);
    return count == 0 ? 1 : status;
}
