package dev.gearbox.backend.cuda;

import dev.gearbox.tensor.GGMLType;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;

/**
 * One lane's weight-times-activations products. Decode-sized products (n <= {@value #MATVEC_MAX_ROWS}
 * tokens) run our dequantizing mat-vec kernel; beyond that the weight is dequantized a tile of rows
 * at a time and multiplied with cuBLAS (F32 for F32/F16/BF16 weights, whose comparisons with the
 * CPU are held to 1e-3; BF16 tensor cores for quantized weights, held to 1e-2). Owns the lane's
 * cuBLAS handle and its tile and BF16 activation scratch. Used under the lane's lock.
 */
final class Products {
    /** Up to this many token rows a product uses the mat-vec kernel, beyond it dequantize + GEMM. */
    static final int MATVEC_MAX_ROWS = 8;
    /** Bytes of one dequantized weight tile for the GEMM path. */
    static final long TILE_BYTES = 64L << 20;

    private final NativeKernels k;
    private final DeviceMemory mem;
    private final long s;
    private final cublasContext blas;
    private final FloatPointer one, zero; // made after detection: JavaCPP's natives may be absent
    private long tile, tileBytes, act16, act16Bytes;

    Products(NativeKernels k, DeviceMemory mem, CUstream_st stream) {
        this.k = k;
        this.mem = mem;
        this.s = stream.address();
        this.blas = new cublasContext();
        int st = cublas.cublasCreate_v2(blas);
        if (st != cublas.CUBLAS_STATUS_SUCCESS) throw new CudaException("cublasCreate", st, "cuBLAS status " + st);
        check("cublasSetStream", cublas.cublasSetStream_v2(blas, stream));
        this.one = new FloatPointer(1f);
        this.zero = new FloatPointer(0f);
    }

    private static void check(String call, int status) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) throw new CudaException(call, status, "cuBLAS status " + status);
    }

    /** {@code out[t] = W · x[t]} for {@code n} rows: {@code w} is {@code rows x cols} of GGUF type {@code type}. */
    void matmul(GGMLType type, long w, int rows, int cols, long x, int n, long out) {
        if (n <= MATVEC_MAX_ROWS) {
            k.matvec(type.id(), w, rows, cols, x, n, out, s);
            return;
        }
        boolean exact = type == GGMLType.F32 || type == GGMLType.F16 || type == GGMLType.BF16;
        int tileType = exact ? NativeKernels.F32 : NativeKernels.BF16;
        int cudaType = exact ? cudart.CUDA_R_32F : cudart.CUDA_R_16BF;
        int elem = exact ? 4 : 2;
        long xin = x;
        if (!exact) {
            long need = (long) n * cols * 2;
            if (need > act16Bytes) {
                if (act16 != 0) mem.free(act16);
                act16 = mem.malloc(need, "BF16 activations");
                act16Bytes = need;
            }
            k.convertF32(x, (long) n * cols, NativeKernels.BF16, act16, s);
            xin = act16;
        }
        if (type == GGMLType.F32) {
            gemm(w, cudart.CUDA_R_32F, rows, n, cols, xin, out, rows);
            return;
        }
        int tileRows = (int) Math.max(1, Math.min(rows, TILE_BYTES / ((long) cols * elem)));
        long need = (long) tileRows * cols * elem;
        if (need > tileBytes) {
            if (tile != 0) mem.free(tile);
            tile = mem.malloc(need, "a dequantized weight tile");
            tileBytes = need;
        }
        for (int r0 = 0; r0 < rows; r0 += tileRows) {
            int r = Math.min(tileRows, rows - r0);
            k.dequantize(type.id(), w, cols, r0, r, tileType, tile, s);
            gemm(tile, cudaType, r, n, cols, xin, out + (long) r0 * Float.BYTES, rows);
        }
    }

    /** C (F32, n rows of ldc, column-major ldc x n) = A^T B: A is rows x cols row-major, B n x cols row-major. */
    private void gemm(long a, int type, int rows, int n, int cols, long b, long c, int ldc) {
        check("cublasGemmEx", cublas.cublasGemmEx(blas, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, rows, n, cols,
                one, new DevicePointer(a), type, cols, new DevicePointer(b), type, cols,
                zero, new DevicePointer(c), cudart.CUDA_R_32F, ldc, cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT));
    }

    /** Releases the cuBLAS handle; {@code freeScratch} for a lane (the pool's close frees the backend's own). */
    void close(boolean freeScratch) {
        if (freeScratch) {
            if (tile != 0) mem.free(tile);
            if (act16 != 0) mem.free(act16);
        }
        tile = act16 = tileBytes = act16Bytes = 0;
        cublas.cublasDestroy_v2(blas);
        one.close();
        zero.close();
    }
}
