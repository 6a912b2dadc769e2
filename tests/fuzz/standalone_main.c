/*
 * Replay driver for the fuzz targets, so that they build and run without
 * libFuzzer (gcc): runs LLVMFuzzerTestOneInput over every file given as an
 * argument, or every regular file in a directory given as an argument
 * (sorted by name), and prints one TAP line per file. A crash is a crash:
 * the sanitizers or abort() end the run.
 */
#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int count;
static int failed;

static void run_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t len = 0;
    bool good = false;
    if (f != NULL) {
        if (fseek(f, 0, SEEK_END) == 0) {
            long n = ftell(f);
            if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) {
                len = (size_t)n;
                /* exactly len bytes: ASan sees any read past the input */
                buf = malloc(len ? len : 1);
                good = buf != NULL && fread(buf, 1, len, f) == len;
            }
        }
        fclose(f);
    }
    count++;
    if (!good) {
        failed++;
        printf("not ok %d - %s\n# cannot read\n", count, path);
    } else {
        LLVMFuzzerTestOneInput(buf, len);
        printf("ok %d - %s\n", count, path);
    }
    fflush(stdout);
    free(buf);
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void run_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) {
        count++;
        failed++;
        printf("not ok %d - %s\n# cannot open directory\n", count, dir);
        return;
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *de; (de = readdir(d)) != NULL;) {
        if (de->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, cap * sizeof *names);
            if (nn == NULL)
                break;
            names = nn;
        }
        size_t l = strlen(dir) + strlen(de->d_name) + 2;
        names[n] = malloc(l);
        if (names[n] == NULL)
            break;
        snprintf(names[n], l, "%s/%s", dir, de->d_name);
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, cmp);
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (stat(names[i], &st) == 0 && S_ISREG(st.st_mode))
            run_file(names[i]);
        free(names[i]);
    }
    free(names);
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        struct stat st;
        if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
            run_dir(argv[i]);
        else
            run_file(argv[i]);
    }
    printf("1..%d\n", count);
    return failed ? 1 : 0;
}
