// Progress bars on stderr for long CLI steps (calibration, evaluation, sensitivity). On a terminal
// one line is redrawn in place; otherwise (logs, CI, pipes) nothing is drawn, so captured output
// holds only results.
import type { ProgressCallback } from '../optimize/calibrate.js';

export interface Progress {
  /** A callback for one task; `label` prefixes its phases. */
  task(label: string): ProgressCallback;
  /** Ends any bar still drawn (call before printing other output). */
  clear(): void;
}

export function progressBars(stream: NodeJS.WriteStream = process.stderr, quiet = false): Progress {
  const tty = !!stream.isTTY;
  let drawn = false;
  const width = 28;
  const clear = () => {
    if (drawn) { stream.write('\r\x1b[2K'); drawn = false; }
  };
  return {
    clear,
    task: (label) => (done, total, phase) => {
      if (quiet) return;
      const name = `${label} ${phase}`;
      if (tty) {
        const f = total ? Math.min(1, done / total) : 1;
        const fill = Math.round(f * width);
        stream.write(`\r\x1b[2K${name} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${done}/${total}`);
        drawn = true;
        if (done >= total) clear();
      }
    },
  };
}
