// Tensor-core and packed-FP16 throughput loops in CUDA C, linked into numba-cuda kernels.
//
// numba-cuda has no tensor-core or half2 API, so these loops are foreign device functions
// (numba ABI: `int f(T* ret, args...)`, 0 = success) that kernels/gpu.py declares with
// cuda.declare_device and numba-cuda compiles with NVRTC for the device's architecture
// (sm_90a on Hopper from numba-cuda 0.24). The whole timed loop runs inside each function,
// so the call into it costs nothing measurable.
//
// Every loop keeps independent accumulators in registers and multiplies constant operands
// (a = 1.5, b = 0.5 in the operand's own format), so every accumulator element ends at
// iterations x batch x K x 0.75 exactly while that stays under 2^24: the host checks the
// returned mean against that figure, so a loop the compiler shortened or the hardware did not
// run is caught. Constant operands toggle few bits, so a real GEMM on random data may run at a
// lower clock (power); the GPU script runs cuBLAS next to these for that reason.
//
// No headers: NVRTC needs no include path, and every instruction is written in PTX.

#define TPP_CHAINS 8      // independent mma.sync accumulators per warp (latency x issue rate)
#define TPP_WGMMA_BATCH 8 // wgmma instructions per commit group
// fma.rn.f16x2 steps per chain per trip: 1024 HFMA2 against the ~9 loop instructions ptxas
// emits on sm_80/sm_89 keeps the issue ceiling above 99 % (tppcalc.measure.sass checks it).
#define TPP_HFMA2_UNROLL 128

__device__ __forceinline__ int tpp_not_available(float* ret) {
    *ret = __int_as_float(0x7fffffff);  // NaN: the host reports "cannot run on this device"
    return 0;
}

// ---------------------------------------------------------------- packed FP16 (non-tensor)
// Eight chains of x = x * a + b on half2 registers; fma.rn.f16x2 is one instruction for two
// FP16 FMAs. a = 0.5 makes each chain settle at 2b exactly, which the host checks. The trip loop
// is not unrolled further: ptxas would multiply the body (and its registers) by up to 8.
extern "C" __device__ int tpp_hfma2_loop(float* ret, int iterations, unsigned int a2, unsigned int b2) {
#if __CUDA_ARCH__ >= 530
    unsigned int x[TPP_CHAINS];
#pragma unroll
    for (int c = 0; c < TPP_CHAINS; ++c) x[c] = b2 + c;  // distinct starts: identical chains could be merged
#pragma unroll 1
    for (int i = 0; i < iterations; ++i) {
#pragma unroll
        for (int u = 0; u < TPP_HFMA2_UNROLL; ++u) {
#pragma unroll
            for (int c = 0; c < TPP_CHAINS; ++c)
                asm("fma.rn.f16x2 %0, %0, %1, %2;" : "+r"(x[c]) : "r"(a2), "r"(b2));
        }
    }
    float sum = 0.0f;
#pragma unroll
    for (int c = 0; c < TPP_CHAINS; ++c) {
        float lo, hi;
        asm("{ .reg .f16 l, h; mov.b32 {l, h}, %2; cvt.f32.f16 %0, l; cvt.f32.f16 %1, h; }"
            : "=f"(lo), "=f"(hi) : "r"(x[c]));
        sum += lo + hi;
    }
    *ret = sum / (2 * TPP_CHAINS);
    return 0;
#else
    return tpp_not_available(ret);
#endif
}

// ---------------------------------------------------------------- mma.sync (Ampere and later)
// One warp-wide m16n8kK MMA per chain per iteration; chain c starts at c (subtracted at the end). Fragments: A 4 x b32, B 2 x b32, C/D 4
// elements per lane. The host returns the mean accumulator element.
#define TPP_MMA_LOOP(NAME, SHAPE_TYPES, ACC_T, ACC_C)                                              \
    extern "C" __device__ int NAME(float* ret, int iterations, unsigned int a, unsigned int b) {  \
        ACC_T d[TPP_CHAINS][4];                                                                    \
        _Pragma("unroll") for (int c = 0; c < TPP_CHAINS; ++c) /* distinct: no chain merging */    \
            d[c][0] = d[c][1] = d[c][2] = d[c][3] = c;                                             \
        for (int i = 0; i < iterations; ++i) {                                                     \
            _Pragma("unroll") for (int c = 0; c < TPP_CHAINS; ++c)                                 \
                asm volatile("mma.sync.aligned." SHAPE_TYPES                                       \
                             " {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"    \
                             : ACC_C(d[c][0]), ACC_C(d[c][1]), ACC_C(d[c][2]), ACC_C(d[c][3])      \
                             : "r"(a), "r"(a), "r"(a), "r"(a), "r"(b), "r"(b));                    \
        }                                                                                          \
        float sum = 0.0f;                                                                          \
        _Pragma("unroll") for (int c = 0; c < TPP_CHAINS; ++c)                                     \
            sum += (float)(d[c][0] - c) + (float)(d[c][1] - c) + (float)(d[c][2] - c) + (float)(d[c][3] - c); \
        *ret = sum / (4 * TPP_CHAINS);                                                             \
        return 0;                                                                                  \
    }

#define TPP_F(x) "+f"(x)
#define TPP_R(x) "+r"(x)

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
TPP_MMA_LOOP(tpp_mma_fp16, "m16n8k16.row.col.f32.f16.f16.f32", float, TPP_F)
TPP_MMA_LOOP(tpp_mma_bf16, "m16n8k16.row.col.f32.bf16.bf16.f32", float, TPP_F)
TPP_MMA_LOOP(tpp_mma_tf32, "m16n8k8.row.col.f32.tf32.tf32.f32", float, TPP_F)
TPP_MMA_LOOP(tpp_mma_int8, "m16n8k32.row.col.s32.s8.s8.s32", int, TPP_R)
#else
extern "C" __device__ int tpp_mma_fp16(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
extern "C" __device__ int tpp_mma_bf16(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
extern "C" __device__ int tpp_mma_tf32(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
extern "C" __device__ int tpp_mma_int8(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
#endif

// FP8 (E4M3) mma.sync exists from Ada (sm_89).
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 890
TPP_MMA_LOOP(tpp_mma_fp8, "m16n8k32.row.col.f32.e4m3.e4m3.f32", float, TPP_F)
#else
extern "C" __device__ int tpp_mma_fp8(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
#endif

// ---------------------------------------------------------------- wgmma (Hopper, sm_90a only)
// A warpgroup (4 warps, 128 threads) issues m64n256kK MMAs with both operands in shared memory;
// the 64 x 256 FP32 (or S32) accumulator is 128 registers per thread. Batches of
// TPP_WGMMA_BATCH instructions are committed and awaited together; two warpgroups per block keep
// the tensor cores busy while one waits. Every thread of the block must call these together.
#if defined(__CUDA_ARCH_FEAT_SM90_ALL)

#define TPP_WGMMA_D_LIST                                                                      \
    "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, "                  \
    "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31, "        \
    "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47, "        \
    "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63, "        \
    "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79, "        \
    "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95, "        \
    "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111, " \
    "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127 "

#define TPP_D4(C, i) C(d[i]), C(d[i + 1]), C(d[i + 2]), C(d[i + 3])
#define TPP_D16(C, i) TPP_D4(C, i), TPP_D4(C, i + 4), TPP_D4(C, i + 8), TPP_D4(C, i + 12)
#define TPP_D128(C) TPP_D16(C, 0), TPP_D16(C, 16), TPP_D16(C, 32), TPP_D16(C, 48), \
                    TPP_D16(C, 64), TPP_D16(C, 80), TPP_D16(C, 96), TPP_D16(C, 112)

// Shared memory operands: 4 KiB for A (64 x K) and 16 KiB for B (K x 256), each larger than one
// operand tile, filled with the constant pattern. Descriptors use no swizzle; leading and
// stride byte offsets of one 8 x 16-byte core matrix and two keep every read inside the buffers.
__device__ __forceinline__ unsigned long long tpp_descriptor(const void* p) {
    unsigned int address;
    asm("{ .reg .u64 t; cvta.to.shared.u64 t, %1; cvt.u32.u64 %0, t; }" : "=r"(address) : "l"(p));
    return (unsigned long long)((address & 0x3FFFF) >> 4)
         | ((unsigned long long)(128 >> 4) << 16)
         | ((unsigned long long)(256 >> 4) << 32);
}

#define TPP_WGMMA_LOOP(NAME, INSTRUCTION, TAIL, ACC_T, ACC_C)                                    \
    extern "C" __device__ int NAME(float* ret, int iterations, unsigned int a, unsigned int b) { \
        __shared__ __align__(128) unsigned int a_tile[1024];                                     \
        __shared__ __align__(128) unsigned int b_tile[4096];                                     \
        for (int i = threadIdx.x; i < 1024; i += blockDim.x) a_tile[i] = a;                      \
        for (int i = threadIdx.x; i < 4096; i += blockDim.x) b_tile[i] = b;                      \
        __syncthreads();                                                                         \
        asm volatile("fence.proxy.async.shared::cta;" ::: "memory");                            \
        const unsigned long long desc_a = tpp_descriptor(a_tile);                                \
        const unsigned long long desc_b = tpp_descriptor(b_tile);                                \
        ACC_T d[128];                                                                            \
        _Pragma("unroll") for (int j = 0; j < 128; ++j) d[j] = 0;                                \
        for (int i = 0; i < iterations; ++i) {                                                   \
            asm volatile("wgmma.fence.sync.aligned;" ::: "memory");                             \
            _Pragma("unroll") for (int u = 0; u < TPP_WGMMA_BATCH; ++u)                          \
                asm volatile("{ .reg .pred p; setp.ne.b32 p, %130, 0; "                             \
                             INSTRUCTION " {" TPP_WGMMA_D_LIST "}, %128, %129, p" TAIL "; }"    \
                             : TPP_D128(ACC_C) : "l"(desc_a), "l"(desc_b), "r"(1));              \
            asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory");                      \
            asm volatile("wgmma.wait_group.sync.aligned 0;" ::: "memory");                      \
        }                                                                                        \
        float sum = 0.0f;                                                                        \
        _Pragma("unroll") for (int j = 0; j < 128; ++j) sum += (float)d[j];                      \
        *ret = sum / 128;                                                                        \
        return 0;                                                                                \
    }

TPP_WGMMA_LOOP(tpp_wgmma_fp16, "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16", ", 1, 1, 0, 0", float, TPP_F)
TPP_WGMMA_LOOP(tpp_wgmma_bf16, "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16", ", 1, 1, 0, 0", float, TPP_F)
TPP_WGMMA_LOOP(tpp_wgmma_tf32, "wgmma.mma_async.sync.aligned.m64n256k8.f32.tf32.tf32", ", 1, 1", float, TPP_F)
TPP_WGMMA_LOOP(tpp_wgmma_fp8, "wgmma.mma_async.sync.aligned.m64n256k32.f32.e4m3.e4m3", ", 1, 1", float, TPP_F)
TPP_WGMMA_LOOP(tpp_wgmma_int8, "wgmma.mma_async.sync.aligned.m64n256k32.s32.s8.s8", "", int, TPP_R)

#else
extern "C" __device__ int tpp_wgmma_fp16(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
extern "C" __device__ int tpp_wgmma_bf16(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
extern "C" __device__ int tpp_wgmma_tf32(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
extern "C" __device__ int tpp_wgmma_fp8(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
extern "C" __device__ int tpp_wgmma_int8(float* ret, int, unsigned int, unsigned int) { return tpp_not_available(ret); }
#endif
