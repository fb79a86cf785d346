/*
 * lrscape_blas: the engine's native kernels, a Node-API addon in plain C over the system's CBLAS
 * (libs/engine/native/README.md).
 *
 *  - sgemm: float32 (batched) products on the bytes of tfjs's wasm backend, addressed as byte offsets into the
 *    wasm heap's ArrayBuffer (no copy), the output already allocated there by the backend (makeOutput). Every
 *    operand range is checked against the heap before BLAS sees a pointer: a detached heap (the wasm memory
 *    grew since the JS side took its view), an offset outside the heap, a misaligned offset or an output that
 *    overlaps an input is a thrown error, never a product of the wrong bytes.
 *  - projectInto / subtractCombination / combineInto: the float64 kernels of Lanczos's reorthogonalisation
 *    over a basis held as separate Float64Arrays (the signatures of libs/linalg/src/vector.ts), by ddot/daxpy
 *    on cache-sized chunks and, for combineInto, dgemm on a gathered chunk of the basis.
 *  - threads / setThreads / info: OpenBLAS's thread count and which library and core are in use.
 *
 * The library: OpenBLAS (Linux, -lopenblas), or Apple's Accelerate on macOS (LRSCAPE_ACCELERATE: documented,
 * untested). The CBLAS prototypes are declared here (the reference CBLAS ABI), so no cblas.h is needed.
 * Nothing here reads or sets OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: the library reads them when it loads.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef LRSCAPE_ACCELERATE
#include <Accelerate/Accelerate.h>
#define ORDER_ROW CblasRowMajor
#define NO_TRANS CblasNoTrans
#define TRANS CblasTrans
#else
/* Reference CBLAS ABI (the enum values of cblas.h). */
#define ORDER_ROW 101
#define NO_TRANS 111
#define TRANS 112
extern void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float *a, int lda,
                        const float *b, int ldb, float beta, float *c, int ldc);
extern void cblas_dgemm(int order, int transA, int transB, int m, int n, int k, double alpha, const double *a, int lda,
                        const double *b, int ldb, double beta, double *c, int ldc);
extern double cblas_ddot(int n, const double *x, int incx, const double *y, int incy);
extern void cblas_daxpy(int n, double alpha, const double *x, int incx, double *y, int incy);
extern void openblas_set_num_threads(int n);
extern int openblas_get_num_threads(void);
extern char *openblas_get_corename(void);
extern char *openblas_get_config(void);
extern int openblas_get_parallel(void);
#endif

/* Entries per chunk of the float64 kernels: 4096 doubles (32 KiB) of the shared operand stay in cache. */
#define CHUNK 4096
/* Largest dimension handed to BLAS (its int arguments). */
#define MAX_DIM 2147483647LL

/* ------------------------------------------------------------------------------------------------ helpers */

/* Throws a JS Error with a code and a formatted message; returns NULL, what a callback returns after it. */
static napi_value failf(napi_env env, const char *code, const char *format, ...) __attribute__((format(printf, 3, 4)));
static napi_value failf(napi_env env, const char *code, const char *format, ...) {
  char message[600];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof message, format, args);
  va_end(args);
  napi_throw_error(env, code, message);
  return NULL;
}

#define ARG_ERROR "ERR_LRSCAPE_BLAS_ARG"
#define RANGE_ERROR "ERR_LRSCAPE_BLAS_RANGE"

static bool pending(napi_env env) {
  bool is_pending = false;
  napi_is_exception_pending(env, &is_pending);
  return is_pending;
}

/* The callback's arguments; false (error thrown) when fewer than `want` were given. */
static bool get_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *name) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return false;
  if (argc < want) {
    failf(env, ARG_ERROR, "lrscape_blas.%s: %zu arguments, expected %zu", name, argc, want);
    return false;
  }
  return true;
}

/* An integer argument in [min, max] (a JS number holding an integer); false (error thrown) otherwise. */
static bool get_integer(napi_env env, napi_value value, const char *name, int64_t min, int64_t max, int64_t *out) {
  napi_valuetype type;
  double d;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_number || napi_get_value_double(env, value, &d) != napi_ok) {
    failf(env, ARG_ERROR, "lrscape_blas: %s must be a number", name);
    return false;
  }
  if (!(d == floor(d)) || d < (double)min || d > (double)max) {
    failf(env, ARG_ERROR, "lrscape_blas: %s must be an integer in [%lld, %lld], got %.17g", name, (long long)min,
          (long long)max, d);
    return false;
  }
  *out = (int64_t)d;
  return true;
}

static bool get_bool(napi_env env, napi_value value, const char *name, bool *out) {
  if (napi_get_value_bool(env, value, out) != napi_ok) {
    failf(env, ARG_ERROR, "lrscape_blas: %s must be a boolean", name);
    return false;
  }
  return true;
}

/* A Float64Array's data (at its byte offset) and length; false (error thrown) otherwise. */
static bool get_float64_array(napi_env env, napi_value value, const char *name, double **data, size_t *length) {
  bool is_typed = false;
  napi_typedarray_type type;
  void *raw = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, length, &raw, NULL, NULL) != napi_ok || type != napi_float64_array) {
    failf(env, ARG_ERROR, "lrscape_blas: %s must be a Float64Array", name);
    return false;
  }
  *data = (double *)raw;
  return true;
}

/* Float64Arrays list[from..to−1], each of length n, into a malloc'd table; NULL (error thrown) otherwise. */
static double **get_vectors(napi_env env, napi_value list, const char *name, uint32_t from, uint32_t to, size_t n) {
  bool is_array = false;
  uint32_t length = 0;
  if (napi_is_array(env, list, &is_array) != napi_ok || !is_array || napi_get_array_length(env, list, &length) != napi_ok) {
    failf(env, ARG_ERROR, "lrscape_blas: %s must be an array of Float64Array", name);
    return NULL;
  }
  if (from > to || to > length) {
    failf(env, ARG_ERROR, "lrscape_blas: %s range [%u, %u) is outside its %u vectors", name, from, to, length);
    return NULL;
  }
  double **vectors = malloc(sizeof(double *) * ((size_t)(to - from) + 1));
  if (vectors == NULL) {
    failf(env, "ERR_LRSCAPE_BLAS_MEMORY", "lrscape_blas: out of memory");
    return NULL;
  }
  for (uint32_t i = from; i < to; i++) {
    napi_value element;
    size_t len = 0;
    char label[80];
    snprintf(label, sizeof label, "%s[%u]", name, i);
    if (napi_get_element(env, list, i, &element) != napi_ok || !get_float64_array(env, element, label, &vectors[i - from], &len)) {
      free(vectors);
      if (!pending(env)) failf(env, ARG_ERROR, "lrscape_blas: cannot read %s", label);
      return NULL;
    }
    if (len != n) {
      free(vectors);
      failf(env, ARG_ERROR, "lrscape_blas: vector lengths differ: %s has %zu entries, expected %zu", label, len, n);
      return NULL;
    }
  }
  return vectors;
}

static bool overlaps(const void *a, size_t a_bytes, const void *b, size_t b_bytes) {
  const char *p = a, *q = b;
  return a_bytes > 0 && b_bytes > 0 && p < q + b_bytes && q < p + a_bytes;
}

/* ------------------------------------------------------------------------------------------------ pool */

/*
 * The threads of the float32 products. OpenBLAS itself is kept at one thread (set once when the addon loads):
 * its own threading splits a product in ways that depend on the thread count, and so do its results, in the last
 * bits (measured: OpenBLAS 0.3.21, 1 vs 2 threads differ in ~8% of the entries of a 2048×200 product). Here a
 * product is cut into tiles by a rule of its shape alone (gemm_tiles), each tile one single-threaded OpenBLAS
 * call, and the tiles are shared out over `pool_threads` threads (the caller and pool_threads − 1 workers):
 * the bits of every product are the same whatever the thread count, so the count may follow the machine's
 * load (threads.ts) without changing any result.
 */
typedef struct {
  const float *A, *B;
  float *C;
  const float *bias;
  int64_t bias_len;
  int64_t m, n, k;          /* of one product (rows m: the folded batch when folded) */
  int64_t a_stride, b_stride, c_stride;
  bool ta, tb;
  int lda, ldb, ldc;
  bool split_rows;          /* tiles cut the rows (else the columns) */
  int64_t tile_size, tiles; /* tiles per product */
  int64_t units;            /* products × tiles */
  atomic_llong next;
} GemmJob;

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
static GemmJob *pool_job = NULL;     /* the job workers may join; NULL when none */
static uint64_t pool_generation = 0; /* bumped per job */
static int pool_threads = 1;         /* threads per product, the caller included */
static int pool_workers = 0;         /* worker threads started */
static int pool_participants = 0;    /* workers inside the current job */

/* Tiles: up to GEMM_TILES per product along its longer output side, at least GEMM_MIN_TILE wide (narrower tiles
   lose speed: measured 8% on a 200-row product cut in 4), each a multiple of 16 (the micro-kernels' unroll); a
   product under GEMM_SPLIT_FLOPS is one tile. A function of (m, n, k) only. */
#define GEMM_TILES 4
#define GEMM_MIN_TILE 96
#define GEMM_SPLIT_FLOPS (1LL << 22)

static void gemm_tiles(GemmJob *job) {
  const int64_t flops = 2 * job->m * job->n * job->k;
  job->split_rows = job->m >= job->n;
  const int64_t side = job->split_rows ? job->m : job->n;
  int64_t tiles = side / GEMM_MIN_TILE;
  if (tiles > GEMM_TILES) tiles = GEMM_TILES;
  job->tiles = 1;
  job->tile_size = side;
  if (flops >= GEMM_SPLIT_FLOPS && tiles > 1) {
    int64_t size = (side + tiles - 1) / tiles;
    size = (size + 15) / 16 * 16;
    job->tile_size = size;
    job->tiles = (side + size - 1) / size;
  }
}

static void gemm_unit(GemmJob *job, int64_t unit) {
  const int64_t p = unit / job->tiles, t = unit % job->tiles;
  const int64_t side = job->split_rows ? job->m : job->n;
  const int64_t lo = t * job->tile_size;
  const int64_t hi = lo + job->tile_size < side ? lo + job->tile_size : side;
  if (lo >= hi) return;
  const float *A = job->A + p * job->a_stride;
  const float *B = job->B + p * job->b_stride;
  float *C = job->C + p * job->c_stride;
  int64_t rows = job->m, cols = job->n, column0 = 0;
  if (job->split_rows) {
    A += job->ta ? lo : lo * job->lda;
    C += lo * job->ldc;
    rows = hi - lo;
  } else {
    B += job->tb ? lo * job->ldb : lo;
    C += lo;
    cols = hi - lo;
    column0 = lo;
  }
  if (job->bias != NULL) {
    for (int64_t r = 0; r < rows; r++) {
      float *row = C + r * job->ldc;
      if (job->bias_len == 1) {
        for (int64_t j = 0; j < cols; j++) row[j] = job->bias[0];
      } else {
        memcpy(row, job->bias + column0, sizeof(float) * (size_t)cols);
      }
    }
  } else if (job->k == 0) {
    for (int64_t r = 0; r < rows; r++) memset(C + r * job->ldc, 0, sizeof(float) * (size_t)cols);
  }
  /* k = 0: an empty sum, C = 0 (+ bias) above; BLAS would reject A's zero leading dimension. */
  if (job->k == 0) return;
  cblas_sgemm(ORDER_ROW, job->ta ? TRANS : NO_TRANS, job->tb ? TRANS : NO_TRANS, (int)rows, (int)cols, (int)job->k, 1.0f, A,
              job->lda, B, job->ldb, job->bias != NULL ? 1.0f : 0.0f, C, job->ldc);
}

static void gemm_work(GemmJob *job) {
  for (;;) {
    const long long unit = atomic_fetch_add(&job->next, 1);
    if (unit >= job->units) return;
    gemm_unit(job, unit);
  }
}

static void *pool_main(void *arg) {
  const int index = (int)(intptr_t)arg;
  uint64_t seen = 0;
  pthread_mutex_lock(&pool_lock);
  for (;;) {
    while (!(pool_job != NULL && pool_generation != seen && index < pool_threads - 1)) pthread_cond_wait(&pool_wake, &pool_lock);
    seen = pool_generation;
    GemmJob *job = pool_job;
    pool_participants++;
    pthread_mutex_unlock(&pool_lock);
    gemm_work(job);
    pthread_mutex_lock(&pool_lock);
    pool_participants--;
    pthread_cond_broadcast(&pool_done);
  }
  return NULL;
}

/* Sets the threads per product (the caller included), starting workers as needed; returns the count in effect. */
static int pool_set_threads(int threads) {
  pthread_mutex_lock(&pool_lock);
  while (pool_workers < threads - 1) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int started = pthread_create(&thread, &attr, pool_main, (void *)(intptr_t)pool_workers);
    pthread_attr_destroy(&attr);
    if (started != 0) break;
    pool_workers++;
  }
  pool_threads = threads < pool_workers + 1 ? threads : pool_workers + 1;
  const int result = pool_threads;
  pthread_mutex_unlock(&pool_lock);
  return result;
}

/* Runs every unit of the job: on the pool when it is free and wanted, else in the calling thread alone. */
static void gemm_run(GemmJob *job) {
  atomic_init(&job->next, 0);
  pthread_mutex_lock(&pool_lock);
  const bool shared = job->units > 1 && pool_threads > 1 && pool_job == NULL;
  if (shared) {
    pool_job = job;
    pool_generation++;
    pthread_cond_broadcast(&pool_wake);
  }
  pthread_mutex_unlock(&pool_lock);
  gemm_work(job);
  if (!shared) return;
  pthread_mutex_lock(&pool_lock);
  pool_job = NULL;
  while (pool_participants > 0) pthread_cond_wait(&pool_done, &pool_lock);
  pthread_mutex_unlock(&pool_lock);
}

/* ------------------------------------------------------------------------------------------------ sgemm */

/* Bytes [offset, offset + 4·((batch−1)·stride + count)) of an operand, checked to lie inside the heap. */
typedef struct {
  const char *name;
  int64_t offset; /* bytes */
  int64_t stride; /* elements between batch entries (0: broadcast) */
  int64_t count;  /* elements of one batch entry */
  int64_t end;    /* one past the last byte touched (offset when nothing is touched) */
} Operand;

static bool check_operand(napi_env env, Operand *op, int64_t batch, size_t heap_bytes) {
  if (op->offset % 4 != 0) {
    failf(env, RANGE_ERROR, "lrscape_blas.sgemm: %s's byte offset %lld is not float32-aligned (the tensor's bytes are not where the backend says)",
          op->name, (long long)op->offset);
    return false;
  }
  op->end = op->offset;
  if (batch == 0 || op->count == 0) return true;
  /* Every term is below 2^31 · 2^31 · 4 < 2^63: no overflow in int64. */
  const int64_t elements = (batch - 1) * op->stride + op->count;
  op->end = op->offset + 4 * elements;
  if (op->end > (int64_t)heap_bytes) {
    failf(env, RANGE_ERROR,
          "lrscape_blas.sgemm: %s's bytes [%lld, %lld) lie outside the %zu-byte wasm heap (the tensor's bytes are not where the backend says, or the heap view is stale)",
          op->name, (long long)op->offset, (long long)op->end, heap_bytes);
    return false;
  }
  return true;
}

/*
 * sgemm(heap, transA, transB, m, n, k, batch, aOffset, aStride, bOffset, bStride, cOffset, biasOffset, biasLength)
 *
 * For each b < batch: C_b = op(A_b)·op(B_b) (+ bias broadcast over the rows), row-major float32, where
 * A_b = heap[aOffset + 4·b·aStride] is m×k (stored k×m when transA), B_b = heap[bOffset + 4·b·bStride] is k×n
 * (stored n×k when transB), C_b = heap[cOffset + 4·b·m·n] is m×n. Offsets in bytes, strides in elements (0
 * broadcasts one matrix over the batch). biasOffset −1: no bias; else biasLength is n (one per column) or 1.
 */
static napi_value Sgemm(napi_env env, napi_callback_info info) {
  napi_value argv[14];
  if (!get_args(env, info, 14, argv, "sgemm")) return NULL;
  bool is_buffer = false;
  if (napi_is_arraybuffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    return failf(env, ARG_ERROR, "lrscape_blas.sgemm: heap must be an ArrayBuffer (the wasm backend's HEAPU8.buffer)");
  }
  bool detached = false;
  napi_is_detached_arraybuffer(env, argv[0], &detached);
  if (detached) {
    return failf(env, RANGE_ERROR, "lrscape_blas.sgemm: the wasm heap's ArrayBuffer is detached (the wasm memory grew since this view was taken)");
  }
  void *heap = NULL;
  size_t heap_bytes = 0;
  if (napi_get_arraybuffer_info(env, argv[0], &heap, &heap_bytes) != napi_ok) return failf(env, ARG_ERROR, "lrscape_blas.sgemm: cannot read the heap");
  bool trans_a, trans_b;
  int64_t m, n, k, batch, a_off, a_stride, b_off, b_stride, c_off, bias_off, bias_len;
  const int64_t max_bytes = 1LL << 40;
  if (!get_bool(env, argv[1], "transA", &trans_a) || !get_bool(env, argv[2], "transB", &trans_b) ||
      !get_integer(env, argv[3], "m", 0, MAX_DIM, &m) || !get_integer(env, argv[4], "n", 0, MAX_DIM, &n) ||
      !get_integer(env, argv[5], "k", 0, MAX_DIM, &k) || !get_integer(env, argv[6], "batch", 0, MAX_DIM, &batch) ||
      !get_integer(env, argv[7], "aOffset", 0, max_bytes, &a_off) || !get_integer(env, argv[8], "aStride", 0, MAX_DIM, &a_stride) ||
      !get_integer(env, argv[9], "bOffset", 0, max_bytes, &b_off) || !get_integer(env, argv[10], "bStride", 0, MAX_DIM, &b_stride) ||
      !get_integer(env, argv[11], "cOffset", 0, max_bytes, &c_off) || !get_integer(env, argv[12], "biasOffset", -1, max_bytes, &bias_off) ||
      !get_integer(env, argv[13], "biasLength", 0, MAX_DIM, &bias_len)) {
    return NULL;
  }
  if (m * n > MAX_DIM || m * k > MAX_DIM || k * n > MAX_DIM) {
    return failf(env, ARG_ERROR, "lrscape_blas.sgemm: a %lld×%lld · %lld×%lld product exceeds BLAS's int dimensions", (long long)m,
                 (long long)k, (long long)k, (long long)n);
  }
  if (bias_off >= 0 && bias_len != n && bias_len != 1) {
    return failf(env, ARG_ERROR, "lrscape_blas.sgemm: bias has %lld values, expected %lld (one per column) or 1", (long long)bias_len, (long long)n);
  }
  if ((a_stride != 0 && a_stride < m * k) || (b_stride != 0 && b_stride < k * n)) {
    return failf(env, ARG_ERROR, "lrscape_blas.sgemm: batch strides (%lld, %lld) are below one matrix (%lld, %lld): the batch entries would overlap",
                 (long long)a_stride, (long long)b_stride, (long long)(m * k), (long long)(k * n));
  }
  Operand a = {"A", a_off, a_stride, m * k, 0}, b = {"B", b_off, b_stride, k * n, 0}, c = {"C (output)", c_off, m * n, m * n, 0};
  Operand bias = {"bias", bias_off < 0 ? 0 : bias_off, 0, bias_off < 0 ? 0 : bias_len, 0};
  if (!check_operand(env, &a, batch, heap_bytes) || !check_operand(env, &b, batch, heap_bytes) ||
      !check_operand(env, &c, batch, heap_bytes) || !check_operand(env, &bias, batch, heap_bytes)) {
    return NULL;
  }
  char *base = heap;
  const size_t c_bytes = (size_t)(c.end - c.offset);
  if (overlaps(base + c.offset, c_bytes, base + a.offset, (size_t)(a.end - a.offset)) ||
      overlaps(base + c.offset, c_bytes, base + b.offset, (size_t)(b.end - b.offset)) ||
      overlaps(base + c.offset, c_bytes, base + bias.offset, (size_t)(bias.end - bias.offset))) {
    return failf(env, RANGE_ERROR, "lrscape_blas.sgemm: the output's bytes overlap an input's (the tensors' bytes are not where the backend says)");
  }
  if (batch == 0 || m == 0 || n == 0) return NULL;

  GemmJob job;
  job.A = (const float *)(base + a.offset);
  job.B = (const float *)(base + b.offset);
  job.C = (float *)(base + c.offset);
  job.bias = bias_off < 0 ? NULL : (const float *)(base + bias.offset);
  job.bias_len = bias_len;
  job.m = m;
  job.n = n;
  job.k = k;
  job.a_stride = a_stride;
  job.b_stride = b_stride;
  job.c_stride = m * n;
  job.ta = trans_a;
  job.tb = trans_b;
  job.lda = (int)(trans_a ? m : (k > 0 ? k : 1));
  job.ldb = (int)(trans_b ? (k > 0 ? k : 1) : n);
  job.ldc = (int)n;
  int64_t products = batch;
  /* One product for the whole batch when B is shared and the A's and C's are stacked rows: [batch·m, k]·[k, n]. */
  if (batch > 1 && b_stride == 0 && !trans_a && a_stride == m * k && batch * m <= MAX_DIM && batch * m * (n > k ? n : k) <= MAX_DIM) {
    products = 1;
    job.m = batch * m;
  }
  gemm_tiles(&job);
  job.units = products * job.tiles;
  gemm_run(&job);
  return NULL;
}

/* --------------------------------------------------------------------------------- float64 basis kernels */

/* projectInto(out, vectors, w, from, to): out[i − from] = vectors[i]ᵀw for from ≤ i < to. Returns out. */
static napi_value ProjectInto(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "projectInto")) return NULL;
  double *out, *w;
  size_t out_len, n;
  int64_t from, to;
  if (!get_float64_array(env, argv[0], "out", &out, &out_len) || !get_float64_array(env, argv[2], "w", &w, &n) ||
      !get_integer(env, argv[3], "from", 0, UINT32_MAX, &from) || !get_integer(env, argv[4], "to", 0, UINT32_MAX, &to)) {
    return NULL;
  }
  if (to < from) return failf(env, ARG_ERROR, "lrscape_blas.projectInto: to (%lld) < from (%lld)", (long long)to, (long long)from);
  if ((int64_t)out_len < to - from) return failf(env, ARG_ERROR, "lrscape_blas.projectInto: out has %zu entries for %lld products", out_len, (long long)(to - from));
  if (n > (size_t)MAX_DIM) return failf(env, ARG_ERROR, "lrscape_blas.projectInto: vectors too long for BLAS");
  double **q = get_vectors(env, argv[1], "vectors", (uint32_t)from, (uint32_t)to, n);
  if (q == NULL) return NULL;
  const int64_t count = to - from;
  for (int64_t i = 0; i < count; i++) out[i] = 0;
  for (size_t start = 0; start < n; start += CHUNK) {
    const int len = (int)(n - start < CHUNK ? n - start : CHUNK);
    for (int64_t i = 0; i < count; i++) out[i] += cblas_ddot(len, q[i] + start, 1, w + start, 1);
  }
  free(q);
  return argv[0];
}

/*
 * subtractCombination(w, vectors, coefficients, from, to): w ← w − Σ coefficients[i − from]·vectors[i], in place;
 * returns ‖w‖² of the result (summed in the same pass).
 */
static napi_value SubtractCombination(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, 5, argv, "subtractCombination")) return NULL;
  double *w, *c;
  size_t n, c_len;
  int64_t from, to;
  if (!get_float64_array(env, argv[0], "w", &w, &n) || !get_float64_array(env, argv[2], "coefficients", &c, &c_len) ||
      !get_integer(env, argv[3], "from", 0, UINT32_MAX, &from) || !get_integer(env, argv[4], "to", 0, UINT32_MAX, &to)) {
    return NULL;
  }
  if (to < from) return failf(env, ARG_ERROR, "lrscape_blas.subtractCombination: to (%lld) < from (%lld)", (long long)to, (long long)from);
  if ((int64_t)c_len < to - from) return failf(env, ARG_ERROR, "lrscape_blas.subtractCombination: %zu coefficients for %lld vectors", c_len, (long long)(to - from));
  if (n > (size_t)MAX_DIM) return failf(env, ARG_ERROR, "lrscape_blas.subtractCombination: vectors too long for BLAS");
  double **q = get_vectors(env, argv[1], "vectors", (uint32_t)from, (uint32_t)to, n);
  if (q == NULL) return NULL;
  const int64_t count = to - from;
  for (int64_t i = 0; i < count; i++) {
    if (overlaps(q[i], n * sizeof(double), w, n * sizeof(double))) {
      free(q);
      return failf(env, ARG_ERROR, "lrscape_blas.subtractCombination: w aliases vectors[%lld]", (long long)(from + i));
    }
  }
  double squares = 0;
  for (size_t start = 0; start < n; start += CHUNK) {
    const int len = (int)(n - start < CHUNK ? n - start : CHUNK);
    for (int64_t i = 0; i < count; i++) {
      if (c[i] != 0) cblas_daxpy(len, -c[i], q[i] + start, 1, w + start, 1);
    }
    squares += cblas_ddot(len, w + start, 1, w + start, 1);
  }
  free(q);
  napi_value result;
  napi_create_double(env, squares, &result);
  return result;
}

/*
 * combineInto(outputs, inputs, coefficients): outputs[o] = Σ_i coefficients[i·m + o]·inputs[i] for the
 * m = outputs.length outputs (Q·M with M row-major k × m). Per chunk of rows, the inputs' chunk is gathered into
 * one k × chunk block and the outputs' chunk is one dgemm: Mᵀ (m × k) · block (k × chunk).
 */
static napi_value CombineInto(napi_env env, napi_callback_info info) {
  napi_value argv[3];
  if (!get_args(env, info, 3, argv, "combineInto")) return NULL;
  uint32_t m = 0, k = 0;
  bool is_array = false;
  if (napi_is_array(env, argv[0], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[0], &m) != napi_ok ||
      napi_is_array(env, argv[1], &is_array) != napi_ok || !is_array || napi_get_array_length(env, argv[1], &k) != napi_ok) {
    return failf(env, ARG_ERROR, "lrscape_blas.combineInto: outputs and inputs must be arrays of Float64Array");
  }
  double *coefficients;
  size_t c_len;
  if (!get_float64_array(env, argv[2], "coefficients", &coefficients, &c_len)) return NULL;
  if (c_len != (size_t)k * m) return failf(env, ARG_ERROR, "lrscape_blas.combineInto: %zu coefficients for %u × %u", c_len, k, m);
  if (m == 0) return NULL;
  napi_value first;
  double *probe;
  size_t n;
  if (napi_get_element(env, argv[0], 0, &first) != napi_ok || !get_float64_array(env, first, "outputs[0]", &probe, &n)) return NULL;
  if (n > (size_t)MAX_DIM) return failf(env, ARG_ERROR, "lrscape_blas.combineInto: vectors too long for BLAS");
  double **out = get_vectors(env, argv[0], "outputs", 0, m, n);
  if (out == NULL) return NULL;
  double **in = get_vectors(env, argv[1], "inputs", 0, k, n);
  if (in == NULL) {
    free(out);
    return NULL;
  }
  for (uint32_t o = 0; o < m; o++) {
    for (uint32_t i = 0; i < k; i++) {
      if (overlaps(out[o], n * sizeof(double), in[i], n * sizeof(double))) {
        free(out);
        free(in);
        return failf(env, ARG_ERROR, "lrscape_blas.combineInto: outputs[%u] aliases inputs[%u]", o, i);
      }
    }
  }
  const size_t chunk = CHUNK / 4;
  double *block = malloc(sizeof(double) * ((size_t)k * chunk + (size_t)m * chunk + 1));
  if (block == NULL) {
    free(out);
    free(in);
    return failf(env, "ERR_LRSCAPE_BLAS_MEMORY", "lrscape_blas.combineInto: out of memory");
  }
  double *result = block + (size_t)k * chunk;
  for (size_t start = 0; start < n; start += chunk) {
    const size_t len = n - start < chunk ? n - start : chunk;
    if (k == 0) {
      for (uint32_t o = 0; o < m; o++) memset(out[o] + start, 0, sizeof(double) * len);
      continue;
    }
    for (uint32_t i = 0; i < k; i++) memcpy(block + (size_t)i * len, in[i] + start, sizeof(double) * len);
    /* result (m × len) = coefficientsᵀ (m × k; coefficients is k × m row-major) · block (k × len). */
    cblas_dgemm(ORDER_ROW, TRANS, NO_TRANS, (int)m, (int)len, (int)k, 1.0, coefficients, (int)m, block, (int)len, 0.0, result, (int)len);
    for (uint32_t o = 0; o < m; o++) memcpy(out[o] + start, result + (size_t)o * len, sizeof(double) * len);
  }
  free(block);
  free(out);
  free(in);
  return NULL;
}

/* ------------------------------------------------------------------------------------------------ threads, info */

static napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  int64_t threads;
  if (!get_args(env, info, 1, argv, "setThreads") || !get_integer(env, argv[0], "threads", 1, 1024, &threads)) return NULL;
  napi_value result;
  napi_create_int32(env, pool_set_threads((int)threads), &result);
  return result;
}

/* { pool, openblas }: threads per product (the pool's, the caller included) and OpenBLAS's own count (kept at 1). */
static napi_value Threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, pool, library;
  napi_create_object(env, &result);
  pthread_mutex_lock(&pool_lock);
  napi_create_int32(env, pool_threads, &pool);
  pthread_mutex_unlock(&pool_lock);
#ifdef LRSCAPE_ACCELERATE
  napi_create_int32(env, 0, &library);
#else
  napi_create_int32(env, openblas_get_num_threads(), &library);
#endif
  napi_set_named_property(env, result, "pool", pool);
  napi_set_named_property(env, result, "library", library);
  return result;
}

static void set_string(napi_env env, napi_value object, const char *key, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value == NULL ? "" : value, NAPI_AUTO_LENGTH, &v);
  napi_set_named_property(env, object, key, v);
}

/* { library, corename, config, parallel }: parallel 0 sequential, 1 pthreads, 2 OpenMP (OpenBLAS's codes). */
static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, parallel;
  napi_create_object(env, &result);
#ifdef LRSCAPE_ACCELERATE
  set_string(env, result, "library", "accelerate");
  set_string(env, result, "corename", "accelerate");
  set_string(env, result, "config", "Apple Accelerate");
  napi_create_int32(env, 1, &parallel);
#else
  set_string(env, result, "library", "openblas");
  set_string(env, result, "corename", openblas_get_corename());
  set_string(env, result, "config", openblas_get_config());
  napi_create_int32(env, openblas_get_parallel(), &parallel);
#endif
  napi_set_named_property(env, result, "parallel", parallel);
  napi_value tiles;
  napi_create_int32(env, GEMM_TILES, &tiles);
  napi_set_named_property(env, result, "tiles", tiles);
  napi_value min_tile;
  napi_create_int32(env, GEMM_MIN_TILE, &min_tile);
  napi_set_named_property(env, result, "minTile", min_tile);
  return result;
}

/* ------------------------------------------------------------------------------------------------ module */

static pthread_once_t library_once = PTHREAD_ONCE_INIT;
static void library_single_threaded(void) {
#ifndef LRSCAPE_ACCELERATE
  openblas_set_num_threads(1);
#endif
}

static napi_value Init(napi_env env, napi_value exports) {
  pthread_once(&library_once, library_single_threaded);
  napi_property_descriptor properties[] = {
      {"sgemm", NULL, Sgemm, NULL, NULL, NULL, napi_enumerable, NULL},
      {"projectInto", NULL, ProjectInto, NULL, NULL, NULL, napi_enumerable, NULL},
      {"subtractCombination", NULL, SubtractCombination, NULL, NULL, NULL, napi_enumerable, NULL},
      {"combineInto", NULL, CombineInto, NULL, NULL, NULL, napi_enumerable, NULL},
      {"setThreads", NULL, SetThreads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"threads", NULL, Threads, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  napi_define_properties(env, exports, sizeof properties / sizeof properties[0], properties);
  napi_value version;
  napi_create_int32(env, 1, &version);
  napi_set_named_property(env, exports, "abiVersion", version);
  return exports;
}

NAPI_MODULE_INIT() { return Init(env, exports); }
