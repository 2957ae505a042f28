// Finding a WebGPU device: from what the caller hands in (navigator.gpu, a GPUAdapter or a
// GPUDevice), from the host's navigator.gpu (browsers, Deno), or in Node from the optional `webgpu`
// package (Dawn). The library stays browser-safe: the package is loaded with a dynamic import whose
// specifier bundlers cannot see, and only when no navigator.gpu exists.

/** What the engine uses when the adapter has it (probed once per device). */
export interface GpuFeatures {
  shaderF16: boolean;
  subgroups: boolean;
  timestampQuery: boolean;
  /** WGSL's dot4I8Packed / dot4U8Packed (a language feature, not a device feature). */
  packed4x8IntegerDotProduct: boolean;
}

/** The limits kernels and buffer planning must respect. */
export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupSizeY: number;
  maxComputeWorkgroupSizeZ: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
}

export interface GpuAdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

export type GpuSource = GPU | GPUAdapter | GPUDevice;

/** Thrown when the host has no WebGPU or no adapter; `reason` says which. */
export class WebGpuUnavailableError extends Error {
  override readonly name = 'WebGpuUnavailableError';
}

/** Thrown by runs on a device that was lost (destroyed, driver reset, ...). */
export class WebGpuDeviceLostError extends Error {
  override readonly name = 'WebGpuDeviceLostError';
}

/** A device with what was probed about it, and its loss state. */
export class GpuContext {
  private lostMessage: string | undefined;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: GpuAdapterSummary,
    readonly features: GpuFeatures,
    readonly limits: GpuLimits,
  ) {
    void device.lost.then((info) => {
      this.lostMessage = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
    });
  }

  get lost(): boolean {
    return this.lostMessage !== undefined;
  }

  /** Throws a WebGpuDeviceLostError when the device is gone. */
  checkAlive(): void {
    if (this.lostMessage !== undefined) {
      throw new WebGpuDeviceLostError(`WebGPU device lost (${this.lostMessage}); create a new session to continue`);
    }
  }

  /** Rewrites an error from a GPU call as a device-lost error when the device is gone. */
  async explain(err: unknown): Promise<Error> {
    // device.lost settles asynchronously after destroy(); give it a turn before deciding.
    await Promise.race([this.device.lost, new Promise((r) => setTimeout(r, 0))]);
    if (this.lostMessage !== undefined) {
      return new WebGpuDeviceLostError(`WebGPU device lost (${this.lostMessage}) during a run; create a new session to continue`);
    }
    return err instanceof Error ? err : new Error(String(err));
  }
}

function isDevice(s: GpuSource): s is GPUDevice {
  return typeof (s as GPUDevice).createBuffer === 'function';
}

function isAdapter(s: GpuSource): s is GPUAdapter {
  return typeof (s as GPUAdapter).requestDevice === 'function';
}

interface NodeWebGpuModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

let nodeGpu: Promise<GPU | undefined> | undefined;

/** Dawn through the `webgpu` package, when the host is Node and the package is installed. */
async function loadNodeGpu(): Promise<GPU | undefined> {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  if (!proc?.versions?.node) return undefined;
  nodeGpu ??= (async () => {
    // A specifier in a variable: bundlers leave the import alone, so browser bundles never see it.
    const specifier = 'webgpu';
    try {
      const mod = (await import(/* @vite-ignore */ specifier)) as NodeWebGpuModule;
      // The classes (GPUBufferUsage, GPUShaderStage, ...) must be globals for code written for browsers.
      for (const [k, v] of Object.entries(mod.globals)) {
        if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      }
      return mod.create([]);
    } catch {
      return undefined;
    }
  })();
  return nodeGpu;
}

/** The host's WebGPU entry point: navigator.gpu, else Dawn in Node; undefined when neither exists. */
export async function hostGpu(): Promise<GPU | undefined> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (nav?.gpu) return nav.gpu;
  return loadNodeGpu();
}

function hasWgslFeature(gpu: GPU | undefined, name: string): boolean {
  const set = (gpu as { wgslLanguageFeatures?: ReadonlySet<string> } | undefined)?.wgslLanguageFeatures;
  return set?.has(name) ?? false;
}

/** An adapter from `gpu` (or the host); a WebGpuUnavailableError says why there is none. */
export async function requestAdapter(gpu?: GPU, options: GPURequestAdapterOptions = {}): Promise<GPUAdapter> {
  const g = gpu ?? (await hostGpu());
  if (!g) {
    throw new WebGpuUnavailableError(
      'WebGPU is not available: no navigator.gpu, and in Node the optional `webgpu` package (Dawn) is not installed',
    );
  }
  const adapter = await g.requestAdapter(options);
  if (!adapter) {
    throw new WebGpuUnavailableError(
      'WebGPU is present but returned no adapter (no GPU, or no driver it accepts; on Linux without a GPU, ' +
      "Dawn needs Mesa >= 25's lavapipe)",
    );
  }
  return adapter;
}

const WANTED_FEATURES: GPUFeatureName[] = ['shader-f16', 'subgroups' as GPUFeatureName, 'timestamp-query'];

const LIMIT_NAMES: (keyof GpuLimits)[] = [
  'maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ', 'maxComputeWorkgroupsPerDimension', 'maxStorageBuffersPerShaderStage',
];

function readLimits(l: GPUSupportedLimits): GpuLimits {
  const out = {} as GpuLimits;
  for (const k of LIMIT_NAMES) out[k] = l[k];
  return out;
}

async function summarize(adapter: GPUAdapter | undefined, device: GPUDevice): Promise<GpuAdapterSummary> {
  // adapter.info (current spec); GPUDevice.adapterInfo exists in newer hosts only.
  const info = adapter?.info ?? (device as { adapterInfo?: GPUAdapterInfo }).adapterInfo;
  return {
    vendor: info?.vendor ?? '',
    architecture: info?.architecture ?? '',
    device: info?.device ?? '',
    description: info?.description ?? '',
  };
}

function probe(device: GPUDevice, gpu: GPU | undefined): GpuFeatures {
  return {
    shaderF16: device.features.has('shader-f16'),
    subgroups: device.features.has('subgroups'),
    timestampQuery: device.features.has('timestamp-query'),
    packed4x8IntegerDotProduct: hasWgslFeature(gpu, 'packed_4x8_integer_dot_product'),
  };
}

/**
 * A device from `source` (default: the host's WebGPU). From a GPU or an adapter, the device is
 * requested with every wanted feature the adapter has and with the adapter's full buffer and
 * workgroup limits (the defaults are far below what GPUs allow). A GPUDevice is used as it is.
 */
export async function acquireDevice(source?: GpuSource): Promise<GpuContext> {
  if (source && isDevice(source)) {
    const gpu = await hostGpu().catch(() => undefined);
    return new GpuContext(source, await summarize(undefined, source), probe(source, gpu), readLimits(source.limits));
  }
  const gpu = source && !isAdapter(source) ? source : await hostGpu();
  const adapter = source && isAdapter(source) ? source : await requestAdapter(gpu);
  const requiredFeatures = WANTED_FEATURES.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const k of ['maxBufferSize', 'maxStorageBufferBindingSize', 'maxComputeWorkgroupStorageSize',
    'maxComputeInvocationsPerWorkgroup', 'maxStorageBuffersPerShaderStage'] as const) {
    requiredLimits[k] = adapter.limits[k];
  }
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredFeatures, requiredLimits });
  } catch (err) {
    throw new WebGpuUnavailableError(`WebGPU adapter refused a device: ${err instanceof Error ? err.message : String(err)}`);
  }
  return new GpuContext(device, await summarize(adapter, device), probe(device, gpu), readLimits(device.limits));
}
