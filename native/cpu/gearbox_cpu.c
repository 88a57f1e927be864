/* See gearbox_cpu.h. Built with AVX-512 enabled; callers check gbx_cpu_supported() first. */
#include "gearbox_cpu.h"
#include "cpu_common.h"
#include <immintrin.h>
#include <math.h>
#include <string.h>

int gbx_cpu_supported(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vnni") &&
           __builtin_cpu_supports("f16c");
}

void gbx_cpu_quantize_q8(const float *x, int n, int8_t *q, float *d, int32_t *s) {
    for (int b = 0; b < n / 32; b++) {
        const float *xb = x + 32 * b;
        __m512 lo = _mm512_loadu_ps(xb), hi = _mm512_loadu_ps(xb + 16);
        __m512 m = _mm512_max_ps(_mm512_abs_ps(lo), _mm512_abs_ps(hi));
        float amax = _mm512_reduce_max_ps(m);
        float scale = amax / 127.0f;
        float inv = amax > 0 ? 127.0f / amax : 0.0f;
        __m512 vinv = _mm512_set1_ps(inv);
        __m512i ilo = _mm512_cvt_roundps_epi32(_mm512_mul_ps(lo, vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        __m512i ihi = _mm512_cvt_roundps_epi32(_mm512_mul_ps(hi, vinv), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        _mm_storeu_si128((__m128i *)(q + 32 * b), _mm512_cvtsepi32_epi8(ilo));
        _mm_storeu_si128((__m128i *)(q + 32 * b + 16), _mm512_cvtsepi32_epi8(ihi));
        d[b] = scale;
        s[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(ilo, ihi));
    }
}

/* Sum of the 8 int32 lanes of a 256-bit vector, as float times scale, added to acc. */
static inline __m256 scaled(__m256 acc, __m256i dot, float scale) {
    return _mm256_fmadd_ps(_mm256_cvtepi32_ps(dot), _mm256_set1_ps(scale), acc);
}

static inline float hsum(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

void gbx_cpu_matvec_q8_0(const uint8_t *w, int64_t row_bytes, int cols, int r0, int r1,
                         const int8_t *q, const float *d, float *y) {
    const int nb = cols / 32;
    for (int r = r0; r < r1; r++) {
        const uint8_t *row = w + (int64_t)r * row_bytes;
        __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
        int b = 0;
        for (; b + 1 < nb; b += 2) {
            const uint8_t *b0 = row + 34 * b, *b1 = b0 + 34;
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(b0 + 2));
            __m256i w1 = _mm256_loadu_si256((const __m256i *)(b1 + 2));
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(q + 32 * b));
            __m256i x1 = _mm256_loadu_si256((const __m256i *)(q + 32 * b + 32));
            /* dpbusd multiplies unsigned by signed bytes: move w's sign onto x. */
            __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w0), _mm256_sign_epi8(x0, w0));
            __m256i p1 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w1), _mm256_sign_epi8(x1, w1));
            acc0 = scaled(acc0, p0, fp16(b0) * d[b]);
            acc1 = scaled(acc1, p1, fp16(b1) * d[b + 1]);
        }
        for (; b < nb; b++) {
            const uint8_t *b0 = row + 34 * b;
            __m256i w0 = _mm256_loadu_si256((const __m256i *)(b0 + 2));
            __m256i x0 = _mm256_loadu_si256((const __m256i *)(q + 32 * b));
            __m256i p0 = _mm256_dpbusd_epi32(_mm256_setzero_si256(), _mm256_abs_epi8(w0), _mm256_sign_epi8(x0, w0));
            acc0 = scaled(acc0, p0, fp16(b0) * d[b]);
        }
        y[r - r0] = hsum(_mm256_add_ps(acc0, acc1));
    }
}
