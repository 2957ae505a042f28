// The f32 GEMM family: C[b] = act(alpha * op(A[b]) · op(B[b]) + beta * bias), op = optional
// transpose. One source, specialised per use by `override` constants (transposes, bias, activation),
// so the compiler drops the branches a pipeline does not take. Shapes, strides and scalars come in a
// uniform, so one pipeline serves every shape.
//
// Tiling: a 16x16 workgroup computes a 64x64 tile of C; each invocation keeps a 4x4 block of
// accumulators in registers (four vec4 rows), reading 4 values of A and one vec4 of B per k from
// workgroup memory. K advances 16 at a time; tiles are loaded with consecutive invocations on the
// operand's contiguous axis (which axis that is depends on the transpose) so global reads coalesce.
// Out-of-range rows, columns and k are loaded as zeros, so any M, N, K works.

/** Tile geometry shared by the shader and the dispatcher. */
export const GEMM_TILE = { m: 64, n: 64, k: 16, threadsX: 16, threadsY: 16 } as const;

/** Activation codes of the ACTIVATION override. */
export const GEMM_ACTIVATION = { none: 0, relu: 1 } as const;
export type GemmActivation = keyof typeof GEMM_ACTIVATION;

/** Bytes of the Params uniform (12 words, 16-byte aligned). */
export const GEMM_PARAMS_BYTES = 48;

export const MATMUL_WGSL = /* wgsl */ `
override TRANS_A: bool = false;
override TRANS_B: bool = false;
override HAS_BIAS: bool = false;
override ACTIVATION: u32 = 0u;

struct Params {
  M: u32, N: u32, K: u32, strideA: u32,
  strideB: u32, strideC: u32, biasStrideM: u32, biasStrideN: u32,
  alpha: f32, beta: f32, pad0: u32, pad1: u32,
}

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> C: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const BM = 64u;
const BN = 64u;
const BK = 16u;
const THREADS = 256u;

// Tiles stored k-major: As[k][m], Bs[k][n].
var<workgroup> As: array<f32, 1024>;
var<workgroup> Bs: array<f32, 1024>;

fn loadA(base: u32, row: u32, k: u32) -> f32 {
  if (row >= p.M || k >= p.K) { return 0.0; }
  if (TRANS_A) { return A[base + k * p.M + row]; }
  return A[base + row * p.K + k];
}

fn loadB(base: u32, k: u32, col: u32) -> f32 {
  if (k >= p.K || col >= p.N) { return 0.0; }
  if (TRANS_B) { return B[base + col * p.K + k]; }
  return B[base + k * p.N + col];
}

@compute @workgroup_size(16, 16, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>,
        @builtin(local_invocation_index) li: u32) {
  let row0 = wg.y * BM;
  let col0 = wg.x * BN;
  let baseA = wg.z * p.strideA;
  let baseB = wg.z * p.strideB;
  let baseC = wg.z * p.strideC;
  var acc: array<vec4<f32>, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += BK) {
    for (var e = 0u; e < 4u; e++) {
      let idx = li + e * THREADS;
      var m: u32; var ka: u32;
      if (TRANS_A) { ka = idx / BM; m = idx % BM; } else { m = idx / BK; ka = idx % BK; }
      As[ka * BM + m] = loadA(baseA, row0 + m, k0 + ka);
      var n: u32; var kb: u32;
      if (TRANS_B) { n = idx / BK; kb = idx % BK; } else { kb = idx / BN; n = idx % BN; }
      Bs[kb * BN + n] = loadB(baseB, k0 + kb, col0 + n);
    }
    workgroupBarrier();
    for (var k = 0u; k < BK; k++) {
      let a = vec4<f32>(As[k * BM + lid.y * 4u], As[k * BM + lid.y * 4u + 1u],
                        As[k * BM + lid.y * 4u + 2u], As[k * BM + lid.y * 4u + 3u]);
      let b = vec4<f32>(Bs[k * BN + lid.x * 4u], Bs[k * BN + lid.x * 4u + 1u],
                        Bs[k * BN + lid.x * 4u + 2u], Bs[k * BN + lid.x * 4u + 3u]);
      acc[0] = fma(vec4<f32>(a.x), b, acc[0]);
      acc[1] = fma(vec4<f32>(a.y), b, acc[1]);
      acc[2] = fma(vec4<f32>(a.z), b, acc[2]);
      acc[3] = fma(vec4<f32>(a.w), b, acc[3]);
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    let r = row0 + lid.y * 4u + i;
    if (r >= p.M) { break; }
    for (var j = 0u; j < 4u; j++) {
      let c = col0 + lid.x * 4u + j;
      if (c >= p.N) { break; }
      var v = p.alpha * acc[i][j];
      if (HAS_BIAS) { v += p.beta * bias[r * p.biasStrideM + c * p.biasStrideN]; }
      if (ACTIVATION == 1u) { v = max(v, 0.0); }
      C[baseC + r * p.N + c] = v;
    }
  }
}
`;
