// The .kiln container: one binary file holding a graph, its weights (dense, quantized or sparse)
// and the provenance of the passes that made it. See header.ts for the byte layout.
export { saveKiln, type SaveKilnOptions } from './writer.js';
export { loadKiln } from './reader.js';
export { KILN_MAGIC, KILN_VERSION, DATA_ALIGN, type KilnHeader, type TensorJson } from './header.js';
