/* A STREAM triad (a[i] = b[i] + q * c[i]) counted as McCalpin's STREAM counts it, for
 * `tppcalc bench --cpu --compare-stream`: compiled at run time with the system C compiler
 * (-O3 -march=native -fopenmp), run on the same cores as tppcalc's numba triad.
 *
 * Usage: stream_triad ELEMENTS REPETITIONS HUGEPAGES(0|1)
 * Prints "triad_gbps BEST" (24 bytes per element: 2 reads + 1 write, no write-allocate credit;
 * best of REPETITIONS after a first, untimed pass; 1 GB = 1e9 bytes) and "threads N".
 * HUGEPAGES=1 asks for transparent huge pages with madvise, as numpy does for large arrays;
 * STREAM's own static arrays get them only where THP is "always". */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static double *array(size_t n, int hugepages) {
    size_t bytes = (n * sizeof(double) + (2u << 20) - 1) & ~(size_t)((2u << 20) - 1);
    double *p = aligned_alloc(2u << 20, bytes);
    if (p && hugepages) madvise(p, bytes, MADV_HUGEPAGE);
    return p;
}

int main(int argc, char **argv) {
    if (argc != 4) { fprintf(stderr, "usage: %s ELEMENTS REPETITIONS HUGEPAGES\n", argv[0]); return 2; }
    long n = atol(argv[1]), reps = atol(argv[2]);
    int hugepages = atoi(argv[3]);
    if (n < 1 || reps < 1) { fprintf(stderr, "ELEMENTS and REPETITIONS must be positive\n"); return 2; }
    /* One block holding a, b and c back to back, as STREAM's static arrays lie (and as tppcalc's). */
    double *a = array(3 * (size_t)n, hugepages);
    if (!a) { fprintf(stderr, "out of memory\n"); return 3; }
    double *b = a + n, *c = a + 2 * n;
    const double q = 3.0;
    long i;
#pragma omp parallel for
    for (i = 0; i < n; i++) { a[i] = 0.0; b[i] = 1.0; c[i] = 2.0; }  /* first touch on the running threads */
    double best = 1e30;
    for (long r = 0; r <= reps; r++) {
        double start = now();
#pragma omp parallel for
        for (i = 0; i < n; i++) a[i] = b[i] + q * c[i];
        double elapsed = now() - start;
        if (r > 0 && elapsed < best) best = elapsed;  /* the first pass is not timed, as in STREAM */
    }
    if (a[n / 2] != 7.0) { fprintf(stderr, "triad computed a wrong value\n"); return 4; }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    printf("triad_gbps %.4f\nthreads %d\n", 24.0 * (double)n / best / 1e9, threads);
    return 0;
}
