// The worker's code as one self-contained script string, the same text for every host: browsers and
// Deno load it from a Blob URL, Node runs it with `new Worker(source, { eval: true })`. A string
// (rather than fn.toString()) is immune to bundler transforms such as esbuild's keepNames helpers
// or coverage counters that would reference names outside the function.
//
// The worker instantiates the module on the shared memory once, answers 'ready', then never
// returns to its event loop: it sleeps in Atomics.wait on the control block's generation word,
// claims chunks of each new job and runs them (see protocol.ts for the word layout).
import { CHUNK_BITS, CTL, ERROR_TEXT, ERROR_TEXT_WORDS, GEN_MASK, MAX_ARGS } from './protocol.js';

export const WORKER_SOURCE = `'use strict';
(function () {
  var C = ${JSON.stringify(CTL)};
  var CHUNK_BITS = ${CHUNK_BITS}, CHUNK_MASK = ${(1 << CHUNK_BITS) - 1}, GEN_MASK = ${GEN_MASK}, MAX_ARGS = ${MAX_ARGS};
  var ERROR_TEXT = ${ERROR_TEXT}, ERROR_TEXT_WORDS = ${ERROR_TEXT_WORDS};
  // Node's eval workers (also Deno's node:worker_threads) have require() and a parentPort; web
  // workers have neither and talk through self.
  var port = typeof require === 'function' ? require('node:worker_threads').parentPort : null;
  function post(m) { if (port) port.postMessage(m); else self.postMessage(m); }

  function start(d) {
    var fns = [], sigs = [];
    try {
      var inst = new WebAssembly.Instance(d.module, { env: {
        memory: d.memory,
        abort: function () { throw new Error('Kiln WASM kernel aborted'); },
      } });
      for (var k = 0; k < d.kernels.length; k++) {
        var f = inst.exports[d.kernels[k].export];
        // A kernel this build lacks stays null; the main thread never dispatches it.
        fns.push(typeof f === 'function' ? f : null);
        sigs.push(d.kernels[k].args);
      }
    } catch (e) {
      post({ type: 'error', thread: d.thread, message: String(e && e.message || e) });
      return;
    }
    post({ type: 'ready', thread: d.thread });
    loop(new Int32Array(d.control), new Float32Array(d.control), fns, sigs, d.thread, d.spin);
  }

  function loop(ctl, ctlF, fns, sigs, thread, spin) {
    var a = new Array(MAX_ARGS).fill(0);
    // Generation 0 is the fresh control block: a worker that starts its loop after the first jobs
    // were published still sees them (a broadcast would otherwise wait for it forever).
    var seen = 0;
    for (;;) {
      var g, s = 0, t0 = -1;
      while ((g = Atomics.load(ctl, C.GEN)) === seen) {
        // A short spin catches back-to-back jobs (one model op after another) without the tens of
        // microseconds a wake-up from Atomics.wait costs. It is bounded in time, not iterations:
        // an unoptimized loop and an optimized one differ a hundredfold in speed.
        if ((++s & 127) !== 0) continue;
        var now = performance.now();
        if (t0 < 0) t0 = now;
        else if (now - t0 >= spin) Atomics.wait(ctl, C.GEN, seen);
      }
      seen = g;
      if (Atomics.load(ctl, C.SHUTDOWN) !== 0) return;
      var kid = ctl[C.KERNEL], n = ctl[C.CHUNKS], extent = ctl[C.EXTENT], align = ctl[C.ALIGN];
      var loArg = ctl[C.LO_ARG], hiArg = ctl[C.HI_ARG], scratchArg = ctl[C.SCRATCH_ARG];
      var nargs = ctl[C.NARGS], sig = sigs[kid], fn = fns[kid];
      for (var i = 0; i < nargs; i++) a[i] = sig.charCodeAt(i) === 102 /* f */ ? ctlF[C.ARGS + i] : ctl[C.ARGS + i];
      if (scratchArg >= 0) a[scratchArg] = (ctl[C.SCRATCH_BASE] + thread * ctl[C.SCRATCH_STRIDE]) | 0;
      var mode = ctl[C.MODE], tag = (g & GEN_MASK) << CHUNK_BITS;
      // The descriptor read above is this job's only if claims are still open under its tag: the
      // main thread closes them before it writes the next job's descriptor (a late worker would
      // otherwise mix two jobs' words, claim a chunk that does not exist or count a broadcast it
      // ran with the previous job's arguments).
      if ((Atomics.load(ctl, C.CLAIM) & ~CHUNK_MASK) !== tag) continue;
      if (mode === 1) {
        // Broadcast: the main thread waits for every worker, so none can miss this job.
        invoke(fn, a, ctl, thread);
        if (Atomics.add(ctl, C.DONE, 1) + 1 === n) Atomics.notify(ctl, C.DONE);
        continue;
      }
      var units = Math.ceil(extent / align);
      for (;;) {
        var w = Atomics.load(ctl, C.CLAIM);
        // A newer job replaced this one (we woke late): go back and read its descriptor.
        if ((w & ~CHUNK_MASK) !== tag) break;
        var c = w & CHUNK_MASK;
        if (c >= n) break;
        if (Atomics.compareExchange(ctl, C.CLAIM, w, w + 1) !== w) continue;
        a[loArg] = Math.floor(c * units / n) * align;
        a[hiArg] = Math.min(Math.floor((c + 1) * units / n) * align, extent);
        invoke(fn, a, ctl, thread);
        if (Atomics.add(ctl, C.DONE, 1) + 1 === n) Atomics.notify(ctl, C.DONE);
      }
    }
  }

  // A fixed-arity call allocates nothing; wasm ignores the arguments past its signature.
  function invoke(fn, a, ctl, thread) {
    try {
      fn(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15],
         a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25], a[26], a[27], a[28], a[29], a[30], a[31]);
    } catch (e) {
      // The caller is blocked in run() and cannot receive messages: the text goes into the
      // control block (first failing thread wins), ERROR is set after it.
      var msg = String(e && e.message || e);
      if (Atomics.compareExchange(ctl, C.ERROR, 0, -1) === 0) {
        var len = Math.min(msg.length, ERROR_TEXT_WORDS - 1);
        for (var i = 0; i < len; i++) ctl[ERROR_TEXT + i] = msg.charCodeAt(i);
        ctl[ERROR_TEXT + len] = 0;
        Atomics.store(ctl, C.ERROR, thread + 1);
      }
      post({ type: 'error', thread: thread, message: msg });
    }
  }

  if (port) port.once('message', start);
  else self.onmessage = function (e) { self.onmessage = null; start(e.data); };
})();
`;
