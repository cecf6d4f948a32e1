// Preloaded into the built server by test/server/crash-exit.test.ts (NODE_OPTIONS=--require this file):
// on SIGUSR2 it makes the server meet an error nothing handles, as a bug would — thrown from a timer
// (CT_INJECT_FAULT=throw) or a rejected promise nobody awaits (CT_INJECT_FAULT=reject). The server's own
// code has no test hook; this is how a real bug reaches its last-resort handlers.
'use strict';
process.on('SIGUSR2', () => {
  if (process.env.CT_INJECT_FAULT === 'reject') {
    void Promise.reject(new Error('injected fault: a promise nobody awaited was rejected'));
  } else {
    setTimeout(() => {
      throw new TypeError('injected fault: thrown from a timer');
    }, 0);
  }
});
