// kernel_check: runs every kernel of libgearbox_cuda.so on random data and compares with plain host
// references (the decoders are written from tensor/Quantizer.java and tensor/KQuants.java), then
// times the decode matvec. Needs a GPU; exits 0 when every check passes, 1 otherwise, 2 with no GPU.
// Built when GEARBOX_NATIVE_TESTS=ON (scripts/build-native.sh passes the env var of that name).
#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <vector>

#include "gearbox_cuda.h"

static int failures = 0;

#define CK(call)                                                                                   \
    do {                                                                                           \
        int rc_ = (int) (call);                                                                    \
        if (rc_ != 0) {                                                                            \
            fprintf(stderr, "%s:%d %s -> %d %s\n", __FILE__, __LINE__, #call, rc_, gbx_error_string(rc_)); \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static uint64_t rng = 0x1234567887654321ull;
static uint32_t next_u32() {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t) (rng >> 16);
}
static float uniform(float lo, float hi) { return lo + (hi - lo) * (next_u32() & 0xFFFFFF) / 16777216.0f; }

static float h2f(uint16_t h) {
    const uint32_t s = (h >> 15) & 1, e = (h >> 10) & 31, m = h & 1023;
    float v = e == 0 ? ldexpf((float) m, -24) : e == 31 ? INFINITY : ldexpf((float) (m | 1024), (int) e - 25);
    return s ? -v : v;
}
static uint16_t f2h(float f) {  // for test data only: values well inside the normal range
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint32_t s = (u >> 16) & 0x8000;
    int e = (int) ((u >> 23) & 255) - 127 + 15;
    if (f == 0.0f || e <= 0) return (uint16_t) s;
    return (uint16_t) (s | (uint32_t) e << 10 | ((u >> 13) & 1023));
}
static float bf2f(uint16_t h) {
    uint32_t u = (uint32_t) h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint16_t rd16(const uint8_t* p) { return (uint16_t) (p[0] | p[1] << 8); }
static void wr16(uint8_t* p, uint16_t v) { p[0] = (uint8_t) v; p[1] = (uint8_t) (v >> 8); }

struct TypeInfo { int type, qk, bytes; const char* name; };
static const TypeInfo kTypes[] = {
    {GBX_TYPE_F32, 1, 4, "F32"},      {GBX_TYPE_F16, 1, 2, "F16"},     {GBX_TYPE_BF16, 1, 2, "BF16"},
    {GBX_TYPE_Q8_0, 32, 34, "Q8_0"},  {GBX_TYPE_Q4_0, 32, 18, "Q4_0"}, {GBX_TYPE_Q4_1, 32, 20, "Q4_1"},
    {GBX_TYPE_Q5_0, 32, 22, "Q5_0"},  {GBX_TYPE_Q4_K, 256, 144, "Q4_K"}, {GBX_TYPE_Q5_K, 256, 176, "Q5_K"},
    {GBX_TYPE_Q6_K, 256, 210, "Q6_K"},  {GBX_TYPE_Q2_K, 256, 84, "Q2_K"},  {GBX_TYPE_Q3_K, 256, 110, "Q3_K"},
};

static int scale_min(const uint8_t* sc, int j, bool min) {
    if (j < 4) return sc[j + (min ? 4 : 0)] & 63;
    const int packed = sc[j + 4], top = sc[j - (min ? 0 : 4)] >> 6;
    return (min ? packed >> 4 : packed & 0xF) | top << 4;
}

// Host reference: one row of `cols` values.
static void ref_row(const TypeInfo& t, const uint8_t* s, int cols, float* o) {
    const int nb = cols / t.qk;
    for (int b = 0; b < nb; b++) {
        const uint8_t* p = s + (size_t) b * t.bytes;
        float* d = o + (size_t) b * t.qk;
        switch (t.type) {
            case GBX_TYPE_F32: memcpy(d, p, 4); break;
            case GBX_TYPE_F16: d[0] = h2f(rd16(p)); break;
            case GBX_TYPE_BF16: d[0] = bf2f(rd16(p)); break;
            case GBX_TYPE_Q8_0: for (int j = 0; j < 32; j++) d[j] = h2f(rd16(p)) * (int8_t) p[2 + j]; break;
            case GBX_TYPE_Q4_0:
                for (int j = 0; j < 16; j++) {
                    d[j] = h2f(rd16(p)) * ((p[2 + j] & 0xF) - 8);
                    d[j + 16] = h2f(rd16(p)) * ((p[2 + j] >> 4) - 8);
                }
                break;
            case GBX_TYPE_Q4_1:
                for (int j = 0; j < 16; j++) {
                    d[j] = h2f(rd16(p)) * (p[4 + j] & 0xF) + h2f(rd16(p + 2));
                    d[j + 16] = h2f(rd16(p)) * (p[4 + j] >> 4) + h2f(rd16(p + 2));
                }
                break;
            case GBX_TYPE_Q5_0: {
                const uint32_t qh = rd16(p + 2) | (uint32_t) rd16(p + 4) << 16;
                for (int j = 0; j < 16; j++) {
                    d[j] = h2f(rd16(p)) * ((int) ((p[6 + j] & 0xF) | ((qh >> j) & 1) << 4) - 16);
                    d[j + 16] = h2f(rd16(p)) * ((int) ((p[6 + j] >> 4) | ((qh >> (j + 16)) & 1) << 4) - 16);
                }
                break;
            }
            case GBX_TYPE_Q4_K:
            case GBX_TYPE_Q5_K: {
                const bool q5 = t.type == GBX_TYPE_Q5_K;
                const float dd = h2f(rd16(p)), dm = h2f(rd16(p + 2));
                const uint8_t *sc = p + 4, *qh = p + 16, *qs = p + (q5 ? 48 : 16);
                for (int c = 0; c < 4; c++)
                    for (int l = 0; l < 32; l++) {
                        int lo = qs[32 * c + l] & 0xF, hi = qs[32 * c + l] >> 4;
                        if (q5) {
                            lo |= ((qh[l] >> (2 * c)) & 1) << 4;
                            hi |= ((qh[l] >> (2 * c + 1)) & 1) << 4;
                        }
                        d[64 * c + l] = dd * scale_min(sc, 2 * c, false) * lo - dm * scale_min(sc, 2 * c, true);
                        d[64 * c + 32 + l] = dd * scale_min(sc, 2 * c + 1, false) * hi - dm * scale_min(sc, 2 * c + 1, true);
                    }
                break;
            }
            case GBX_TYPE_Q2_K:
                // value v: bits 2*((v%128)/32) of qs[32*(v/128) + v%32]; byte v/16 of scales: scale | min << 4
                for (int v = 0; v < 256; v++) {
                    const int sc = p[v / 16], q = (p[16 + 32 * (v / 128) + v % 32] >> (2 * ((v % 128) / 32))) & 3;
                    d[v] = h2f(rd16(p + 80)) * (sc & 0xF) * q - h2f(rd16(p + 82)) * (sc >> 4);
                }
                break;
            case GBX_TYPE_Q3_K:
                // as Q2_K plus hmask bit 4*(v/128) + (v%128)/32 of byte v%32 (clear: -4); 6-bit scales - 32
                for (int v = 0; v < 256; v++) {
                    const int i = v / 16, g = (v % 128) / 32;
                    const int s = (((p[96 + i % 8] >> (i < 8 ? 0 : 4)) & 0xF) | ((p[104 + i % 4] >> (2 * (i / 4))) & 3) << 4) - 32;
                    const int low = (p[32 + 32 * (v / 128) + v % 32] >> (2 * g)) & 3;
                    const int high = (p[v % 32] >> (4 * (v / 128) + g)) & 1;
                    d[v] = h2f(rd16(p + 108)) * s * (high ? low : low - 4);
                }
                break;
            case GBX_TYPE_Q6_K: {
                const uint8_t *ql = p, *qh = p + 128;
                const int8_t* sc = (const int8_t*) (p + 192);
                const float dd = h2f(rd16(p + 208));
                for (int h = 0; h < 2; h++)
                    for (int l = 0; l < 32; l++) {
                        const int a = ql[64 * h + l], bb = ql[64 * h + 32 + l], hb = qh[32 * h + l];
                        const int is = 8 * h + l / 16;
                        d[128 * h + l] = dd * sc[is] * (((a & 0xF) | (hb & 3) << 4) - 32);
                        d[128 * h + l + 32] = dd * sc[is + 2] * (((bb & 0xF) | ((hb >> 2) & 3) << 4) - 32);
                        d[128 * h + l + 64] = dd * sc[is + 4] * (((a >> 4) | ((hb >> 4) & 3) << 4) - 32);
                        d[128 * h + l + 96] = dd * sc[is + 6] * (((bb >> 4) | ((hb >> 6) & 3) << 4) - 32);
                    }
                break;
            }
        }
    }
}

// Random bytes of a valid tensor: random quants, and small sane fp16/bf16/f32 fields.
static std::vector<uint8_t> random_weight(const TypeInfo& t, int rows, int cols) {
    const size_t rb = (size_t) cols / t.qk * t.bytes;
    std::vector<uint8_t> w(rb * rows);
    for (auto& b : w) b = (uint8_t) next_u32();
    const size_t blocks = w.size() / t.bytes;
    for (size_t b = 0; b < blocks; b++) {
        uint8_t* p = w.data() + b * t.bytes;
        switch (t.type) {
            case GBX_TYPE_F32: { float f = uniform(-1, 1); memcpy(p, &f, 4); break; }
            case GBX_TYPE_F16: wr16(p, f2h(uniform(-1, 1))); break;
            case GBX_TYPE_BF16: { float f = uniform(-1, 1); uint32_t u; memcpy(&u, &f, 4); wr16(p, (uint16_t) (u >> 16)); break; }
            case GBX_TYPE_Q4_1: wr16(p + 2, f2h(uniform(-0.1f, 0.1f))); wr16(p, f2h(uniform(0.001f, 0.02f))); break;
            case GBX_TYPE_Q4_K: case GBX_TYPE_Q5_K: wr16(p, f2h(uniform(0.0005f, 0.002f))); wr16(p + 2, f2h(uniform(0.0005f, 0.002f))); break;
            case GBX_TYPE_Q6_K: wr16(p + 208, f2h(uniform(0.0001f, 0.0005f))); break;
            case GBX_TYPE_Q2_K: wr16(p + 80, f2h(uniform(0.0005f, 0.002f))); wr16(p + 82, f2h(uniform(0.0005f, 0.002f))); break;
            case GBX_TYPE_Q3_K: wr16(p + 108, f2h(uniform(0.0001f, 0.0005f))); break;
            default: wr16(p, f2h(uniform(0.001f, 0.02f))); break;  // Q8_0, Q4_0, Q5_0: d
        }
    }
    return w;
}

template <class T> static T* dev(const std::vector<T>& h) {
    T* d = nullptr;
    CK(cudaMalloc(&d, std::max<size_t>(1, h.size()) * sizeof(T)));
    if (!h.empty()) CK(cudaMemcpy(d, h.data(), h.size() * sizeof(T), cudaMemcpyHostToDevice));
    return d;
}
template <class T> static std::vector<T> host(const T* d, size_t n) {
    std::vector<T> h(n);
    CK(cudaMemcpy(h.data(), d, n * sizeof(T), cudaMemcpyDeviceToHost));
    return h;
}
static std::vector<float> randv(size_t n, float lo = -1, float hi = 1) {
    std::vector<float> v(n);
    for (auto& x : v) x = uniform(lo, hi);
    return v;
}

// Max |a-b| / max(|b|max, tiny): error relative to the reference's scale.
static void expect_close(const char* what, const std::vector<float>& got, const std::vector<float>& want, double tol) {
    double maxerr = 0, scale = 1e-20;
    for (size_t i = 0; i < want.size(); i++) scale = std::max(scale, (double) fabsf(want[i]));
    for (size_t i = 0; i < want.size(); i++) {
        const double e = fabs((double) got[i] - want[i]);
        if (!(e <= maxerr)) maxerr = std::isnan(e) ? INFINITY : std::max(maxerr, e);
    }
    const bool ok = maxerr / scale <= tol;
    if (!ok) failures++;
    printf("%-44s %s  rel.err %.2e (tol %.0e)\n", what, ok ? "ok  " : "FAIL", maxerr / scale, tol);
}

static void check_weights() {
    for (const TypeInfo& t : kTypes) {
        const int rows = 37, n = 11;
        for (int cols : {t.qk == 256 ? 512 : 96, t.qk == 1 ? 20 : (t.qk == 256 ? 768 : 160)}) {
            const auto w = random_weight(t, rows, cols);
            std::vector<float> ref((size_t) rows * cols);
            const size_t rb = (size_t) cols / t.qk * t.bytes;
            for (int r = 0; r < rows; r++) ref_row(t, w.data() + r * rb, cols, ref.data() + (size_t) r * cols);
            uint8_t* dw = dev(w);
            char name[96];
            // dequantize rows 3.. to F32
            float* dout;
            CK(cudaMalloc(&dout, ref.size() * 4));
            CK(gbx_dequantize(t.type, dw, cols, 3, rows - 3, GBX_TYPE_F32, dout, nullptr));
            std::vector<float> want(ref.begin() + 3 * cols, ref.end());
            snprintf(name, sizeof name, "dequantize %s %dx%d", t.name, rows, cols);
            expect_close(name, host(dout, want.size()), want, 1e-6);
            // embed
            std::vector<int32_t> toks = {5, 0, 36, 17, 5};
            int32_t* dt = dev(toks);
            CK(gbx_embed(t.type, dw, rows, cols, dt, (int) toks.size(), dout, nullptr));
            std::vector<float> we;
            for (int tk : toks) we.insert(we.end(), ref.begin() + (size_t) tk * cols, ref.begin() + (size_t) (tk + 1) * cols);
            snprintf(name, sizeof name, "embed %s", t.name);
            expect_close(name, host(dout, we.size()), we, 1e-6);
            // matvec for n = 1 and n = 11
            for (int nn : {1, n}) {
                const auto x = randv((size_t) nn * cols);
                std::vector<float> y((size_t) nn * rows);
                for (int i = 0; i < nn; i++)
                    for (int r = 0; r < rows; r++) {
                        double s = 0;
                        for (int c = 0; c < cols; c++) s += (double) ref[(size_t) r * cols + c] * x[(size_t) i * cols + c];
                        y[(size_t) i * rows + r] = (float) s;
                    }
                float* dx = dev(x);
                float* dy;
                CK(cudaMalloc(&dy, y.size() * 4));
                CK(gbx_matvec(t.type, dw, rows, cols, dx, nn, dy, nullptr));
                CK(cudaDeviceSynchronize());
                snprintf(name, sizeof name, "matvec %s %dx%d n=%d", t.name, rows, cols, nn);
                expect_close(name, host(dy, y.size()), y, 1e-5);
                cudaFree(dx);
                cudaFree(dy);
            }
            cudaFree(dt);
            cudaFree(dout);
            cudaFree(dw);
        }
    }
}

static void check_elementwise() {
    const int rows = 5, dim = 288;
    auto x = randv((size_t) rows * dim), g = randv(dim, 0.5f, 1.5f);
    float *dx = dev(x), *dg = dev(g);
    std::vector<float> want(x.size());
    for (int r = 0; r < rows; r++) {
        double ss = 0;
        for (int i = 0; i < dim; i++) ss += (double) x[r * dim + i] * x[r * dim + i];
        const float sc = (float) (1.0 / sqrt(ss / dim + 1e-5));
        for (int i = 0; i < dim; i++) want[r * dim + i] = x[r * dim + i] * sc * g[i];
    }
    CK(gbx_rms_norm(dx, dx, dg, rows, dim, 1e-5f, nullptr));
    expect_close("rms_norm in place", host(dx, x.size()), want, 1e-5);

    for (int neox = 0; neox < 2; neox++) {
        const int n = 3, heads = 4, hd = 64, dims = 48, pos0 = 1000;
        auto q = randv((size_t) n * heads * hd);
        std::vector<float> f(dims / 2);
        for (int i = 0; i < dims / 2; i++) f[i] = (float) pow(10000.0, -2.0 * i / dims);
        auto w = q;
        for (int t = 0; t < n; t++)
            for (int h = 0; h < heads; h++)
                for (int i = 0; i < dims / 2; i++) {
                    const double th = (pos0 + t) * (double) f[i];
                    const float c = (float) cos(th), s = (float) sin(th);
                    const int o = (t * heads + h) * hd, a = neox ? o + i : o + 2 * i, b = neox ? o + i + dims / 2 : o + 2 * i + 1;
                    const float x0 = q[a], x1 = q[b];
                    w[a] = x0 * c - x1 * s;
                    w[b] = x0 * s + x1 * c;
                }
        float *dq = dev(q), *df = dev(f);
        int32_t* dp = dev(std::vector<int32_t>{pos0});
        CK(gbx_rope(dq, n, heads, hd, 0, dp, neox, dims, df, nullptr));  // position from the device
        expect_close(neox ? "rope neox (device pos)" : "rope normal (device pos)", host(dq, q.size()), w, 1e-5);
        cudaFree(dq);
        cudaFree(df);
        cudaFree(dp);
    }

    auto a = randv(1000, -6, 6), b = randv(1000);
    std::vector<float> sw(1000), ad(1000);
    for (int i = 0; i < 1000; i++) {
        sw[i] = a[i] / (1.0f + expf(-a[i])) * b[i];
        ad[i] = a[i] + b[i];
    }
    float *da = dev(a), *db = dev(b);
    CK(gbx_swiglu(da, db, 1000, nullptr));
    expect_close("swiglu", host(da, 1000), sw, 1e-6);
    CK(cudaMemcpy(da, a.data(), 4000, cudaMemcpyHostToDevice));
    CK(gbx_add(da, db, 1000, nullptr));
    expect_close("add", host(da, 1000), ad, 1e-7);
    CK(gbx_add_bias(da, db, 10, 100, nullptr));
    for (int i = 0; i < 1000; i++) ad[i] += b[i % 100];
    expect_close("add_bias", host(da, 1000), ad, 1e-6);
    cudaFree(da);
    cudaFree(db);
    cudaFree(dx);
    cudaFree(dg);
}

static void ref_attention(const std::vector<float>& K, const std::vector<float>& V, int kv_dim, const std::vector<float>& q,
                          int n, int pos0, int heads, int kvh, int hd, float scale, std::vector<float>& out) {
    const int group = heads / kvh;
    out.assign((size_t) n * heads * hd, 0.0f);
    for (int t = 0; t < n; t++)
        for (int h = 0; h < heads; h++) {
            const int len = pos0 + t + 1, ko = (h / group) * hd;
            std::vector<double> sc(len);
            double mx = -1e300, sum = 0;
            for (int p = 0; p < len; p++) {
                double s = 0;
                for (int d = 0; d < hd; d++) s += (double) q[((size_t) t * heads + h) * hd + d] * K[(size_t) p * kv_dim + ko + d];
                sc[p] = s * scale;
                mx = std::max(mx, sc[p]);
            }
            for (int p = 0; p < len; p++) sum += (sc[p] = exp(sc[p] - mx));
            for (int p = 0; p < len; p++)
                for (int d = 0; d < hd; d++)
                    out[((size_t) t * heads + h) * hd + d] += (float) (sc[p] / sum * V[(size_t) p * kv_dim + ko + d]);
        }
}

static void check_attention() {
    struct Case { int heads, kvh, hd, pos0, n, cap; };
    const Case cases[] = {{8, 8, 8, 0, 1, 64}, {8, 2, 64, 700, 1, 1024}, {4, 1, 128, 0, 45, 128},
                          {6, 3, 96, 33, 20, 64}, {2, 2, 256, 300, 1, 512}, {4, 2, 256, 5, 70, 128}};
    for (const Case& c : cases) {
        const int kv_dim = c.kvh * c.hd, len = c.pos0 + c.n;
        auto kf = randv((size_t) len * kv_dim), vf = randv((size_t) len * kv_dim), q = randv((size_t) c.n * c.heads * c.hd);
        float *dk, *dv;
        CK(cudaMalloc(&dk, (size_t) c.cap * kv_dim * 4));
        CK(cudaMalloc(&dv, (size_t) c.cap * kv_dim * 4));
        // store the first pos0 rows, then the n new rows (as the forward pass does)
        float *dkn = dev(kf), *dvn = dev(vf), *dq = dev(q), *dout;
        if (c.pos0 > 0) CK(gbx_store_kv(dk, dv, c.cap, kv_dim, dkn, dvn, c.pos0, 0, nullptr, nullptr));
        CK(gbx_store_kv(dk, dv, c.cap, kv_dim, dkn + (size_t) c.pos0 * kv_dim, dvn + (size_t) c.pos0 * kv_dim, c.n, c.pos0,
                        nullptr, nullptr));
        CK(cudaMalloc(&dout, q.size() * 4));
        size_t wsb = 0;
        CK(gbx_attention_workspace_bytes(c.n, c.heads, c.hd, c.cap, &wsb));
        void* ws = nullptr;
        if (wsb) CK(cudaMalloc(&ws, wsb));
        const float scale = 1.0f / sqrtf((float) c.hd);
        int32_t* dp = dev(std::vector<int32_t>{c.pos0});
        // decode through the device position and max_len = capacity (the graph path); prefill by value
        CK(gbx_attention(dk, dv, c.cap, kv_dim, dq, c.n, c.pos0, c.n == 1 ? dp : nullptr, c.heads, c.kvh, c.hd, scale, ws,
                         wsb, c.cap, dout, nullptr));
        CK(cudaDeviceSynchronize());
        std::vector<float> want;
        ref_attention(kf, vf, kv_dim, q, c.n, c.pos0, c.heads, c.kvh, c.hd, scale, want);
        char name[96];
        snprintf(name, sizeof name, "attention h%d/%d hd%d pos0=%d n=%d", c.heads, c.kvh, c.hd, c.pos0, c.n);
        expect_close(name, host(dout, want.size()), want, 1e-4);
        cudaFree(dk); cudaFree(dv); cudaFree(dkn); cudaFree(dvn); cudaFree(dq); cudaFree(dout); cudaFree(dp);
        if (ws) cudaFree(ws);
    }
}

static void check_sampling() {
    const int n = 50000;
    auto l = randv(n, -5, 5);
    l[31337] = 9.0f;
    l[4242] = 8.9f;
    float* dl = dev(l);
    int32_t *dt = dev(std::vector<int32_t>{-1}), *dc = dev(std::vector<int32_t>{0});
    uint64_t *ds7 = dev(std::vector<uint64_t>{7}), *ds11 = dev(std::vector<uint64_t>{11});
    float* dlp = dev(std::vector<float>{0.0f});
    CK(gbx_argmax(dl, n, dt, nullptr));
    int tok = host(dt, 1)[0];
    bool ok = tok == 31337;
    CK(gbx_sample(dl, n, 1.0f, 1, 1.0f, 0.0f, ds7, dc, dt, nullptr, nullptr));
    ok = ok && host(dt, 1)[0] == 31337;
    CK(gbx_sample(dl, n, 1.0f, 2, 0.5f, 0.0f, ds7, dc, dt, nullptr, nullptr));  // top-2 then top-p 0.5: the first alone
    ok = ok && host(dt, 1)[0] == 31337;
    CK(gbx_sample(dl, n, 1.0f, 0, 1.0f, 0.95f, ds7, dc, dt, nullptr, nullptr));  // min-p floor 8.95: the first alone
    ok = ok && host(dt, 1)[0] == 31337;
    CK(gbx_sample(dl, n, 1.0f, 0, 0.0f, 0.0f, ds7, dc, dt, nullptr, nullptr));  // top-p 0 keeps the most likely
    ok = ok && host(dt, 1)[0] == 31337;
    // top-2, and (top-k off) min-p 0.85 keeping 9.0 and 8.9 (top-p 0.99 over all 50000 cuts nothing more):
    // p = 0.525 / 0.475 for both
    int hits[2][2] = {{0, 0}, {0, 0}};
    for (int mode = 0; mode < 2; mode++)
        for (int i = 0; i < 300; i++) {
            if (mode == 0) CK(gbx_sample(dl, n, 1.0f, 2, 1.0f, 0.0f, ds7, dc, dt, nullptr, nullptr));
            else CK(gbx_sample(dl, n, 1.0f, 0, 0.99f, 0.85f, ds7, dc, dt, nullptr, nullptr));
            tok = host(dt, 1)[0];
            if (tok == 31337) hits[mode][0]++;
            else if (tok == 4242) hits[mode][1]++;
            else ok = false;
        }
    ok = ok && hits[0][0] > 110 && hits[0][1] > 110 && hits[1][0] > 110 && hits[1][1] > 110 && host(dc, 1)[0] == 604;
    // log-probabilities of the chosen token, greedy and sampled, against the host's
    double z = 0;
    for (float v : l) z += exp((double) v - 9.0);
    CK(gbx_sample(dl, n, 0.0f, 0, 1.0f, 0.0f, ds7, dc, dt, dlp, nullptr));
    ok = ok && host(dt, 1)[0] == 31337 && fabs(host(dlp, 1)[0] - (-log(z))) < 1e-4;
    CK(gbx_sample(dl, n, 1.0f, 2, 1.0f, 0.0f, ds7, dc, dt, dlp, nullptr));
    tok = host(dt, 1)[0];
    ok = ok && (tok == 31337 || tok == 4242) && fabs(host(dlp, 1)[0] - (l[tok] - 9.0 - log(z))) < 1e-4;
    // top-p 0.9 alone over 50000 near-uniform logits (too many for shared memory: the bisection over
    // the logits): many distinct tokens, never outside the range
    auto flat = randv(n, -0.01f, 0.01f);
    CK(cudaMemcpy(dl, flat.data(), n * 4, cudaMemcpyHostToDevice));
    std::vector<int> seen;
    for (int i = 0; i < 50; i++) {
        CK(gbx_sample(dl, n, 0.7f, 0, 0.9f, 0.0f, ds11, dc, dt, nullptr, nullptr));
        tok = host(dt, 1)[0];
        ok = ok && tok >= 0 && tok < n;
        seen.push_back(tok);
    }
    std::sort(seen.begin(), seen.end());
    const long distinct = std::unique(seen.begin(), seen.end()) - seen.begin();
    ok = ok && distinct > 40;
    if (!ok) failures++;
    printf("%-44s %s  top-2 %d/%d, min-p+top-p %d/%d, flat distinct %ld/50\n", "argmax / sample", ok ? "ok  " : "FAIL",
           hits[0][0], hits[0][1], hits[1][0], hits[1][1], distinct);
    cudaFree(dl); cudaFree(dt); cudaFree(dc); cudaFree(ds7); cudaFree(ds11); cudaFree(dlp);
}

static void bench_matvec() {
    size_t fr, tot;
    char nm[128];
    int clk = 0, bus = 0;
    CK(gbx_device_info(0, &fr, &tot, nm, sizeof nm, nullptr, nullptr, nullptr, &clk, &bus));
    const double peak = 2.0 * clk * 1000.0 * bus / 8.0;
    printf("\n%s, %.1f GiB free, nominal peak %.0f GB/s\n", nm, fr / 1073741824.0, peak / 1e9);
    printf("%-8s %-14s %10s %10s %8s\n", "type", "rows x cols", "us", "GB/s", "% peak");
    for (const TypeInfo& t : kTypes) {
        if (t.type != GBX_TYPE_Q8_0 && t.type != GBX_TYPE_Q4_K && t.type != GBX_TYPE_Q6_K && t.type != GBX_TYPE_BF16 && t.type != GBX_TYPE_Q4_0) continue;
        const int shapes[][2] = {{2048, 2048}, {8192, 2048}, {2048, 8192}, {32768, 2048}};
        for (auto& s : shapes) {
            const int rows = s[0], cols = s[1];
            const auto w = random_weight(t, rows, cols);
            uint8_t* dw = dev(w);
            float *dx = dev(randv(cols)), *dy;
            CK(cudaMalloc(&dy, rows * 4));
            cudaEvent_t a, b;
            CK(cudaEventCreate(&a));
            CK(cudaEventCreate(&b));
            for (int i = 0; i < 20; i++) CK(gbx_matvec(t.type, dw, rows, cols, dx, 1, dy, nullptr));
            std::vector<float> ms;
            for (int rep = 0; rep < 15; rep++) {
                CK(cudaEventRecord(a));
                for (int i = 0; i < 20; i++) CK(gbx_matvec(t.type, dw, rows, cols, dx, 1, dy, nullptr));
                CK(cudaEventRecord(b));
                CK(cudaEventSynchronize(b));
                float m;
                CK(cudaEventElapsedTime(&m, a, b));
                ms.push_back(m / 20);
            }
            std::sort(ms.begin(), ms.end());
            const double us = ms[ms.size() / 2] * 1000.0, gbs = w.size() / (us * 1e-6) / 1e9;
            printf("%-8s %6dx%-7d %10.1f %10.0f %7.0f%%\n", t.name, rows, cols, us, gbs, 100.0 * gbs * 1e9 / peak);
            cudaFree(dw); cudaFree(dx); cudaFree(dy);
            cudaEventDestroy(a); cudaEventDestroy(b);
        }
    }
}

int main(int argc, char** argv) {
    int count = 0;
    const int rc = gbx_device_count(&count);
    if (rc != 0 || count == 0) {
        printf("kernel_check: no CUDA device (%s)\n", rc ? gbx_error_string(rc) : "0 devices");
        return 2;
    }
    check_weights();
    check_elementwise();
    check_attention();
    check_sampling();
    CK(cudaDeviceSynchronize());
    if (argc < 2 || strcmp(argv[1], "--no-bench") != 0) bench_matvec();
    printf("\nkernel_check: %s (%d failed)\n", failures ? "FAILED" : "all passed", failures);
    return failures ? 1 : 0;
}
