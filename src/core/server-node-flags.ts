/**
 * Node/V8 flags for the embedded server's process (every place that starts `dist/server.js` passes them;
 * scripts/start.mjs repeats them, being plain JavaScript).
 *
 * `--max-semi-space-size=4` (MiB; Node 20's default is 16): V8's young generation is two semi-spaces, and once
 * a burst of exports has grown them to 2 × 16 MiB they stay committed, also after the idle purge's full
 * collection. Measured with bench/memory-breakdown.ts (4 senders, 30 s): idle 15 s after the load the V8
 * heap took 11.6 MiB instead of 45.4, the server ~34 MiB less RSS; the CPU per record stayed within the
 * runs' noise. Objects that outlive a smaller young generation are promoted sooner: the receiver's
 * decoded exports live for one insert, so a scavenge every 4 MiB still finds most of them dead.
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=4'];
