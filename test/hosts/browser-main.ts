// Browser entry, bundled by esbuild for the page the browser test serves.
import { runQuantizeSmoke, runSmoke } from './smoke.js';

declare global {
  interface Window { kilnSmoke: () => Promise<string>; kilnQuantizeSmoke: () => Promise<string> }
}

window.kilnSmoke = async () => {
  const model = new Uint8Array(await (await fetch('/mnist-8.onnx')).arrayBuffer());
  return JSON.stringify(await runSmoke(model, ['reference', 'wasm']));
};

window.kilnQuantizeSmoke = async () => {
  const model = new Uint8Array(await (await fetch('/mnist-8.onnx')).arrayBuffer());
  return JSON.stringify(await runQuantizeSmoke(model));
};
