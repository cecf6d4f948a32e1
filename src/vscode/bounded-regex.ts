/**
 * Chapter patterns may come from a cloned repository's workspace settings, and a JavaScript regex can
 * backtrack for minutes on the extension host's only thread. node:vm's timeout interrupts a runaway
 * match; the pure matching rules stay in src/core/chapter.ts, which takes this as its `RegexExec`.
 */
import { Script, createContext } from 'node:vm';
import type { RegexExec } from '../core/chapter';

/** How long one pattern may take on one path; a book's patterns need microseconds. */
export const MATCH_TIMEOUT_MS = 100;

const sandbox = createContext({ re: undefined as RegExp | undefined, path: '' });
/** Compiled once; each match only runs it. */
const execInSandbox = new Script('re.lastIndex = 0, re.exec(path)');

/** `re.exec(path)` under a time limit: 'timeout' when the regex had to be interrupted. */
export function boundedExec(re: RegExp, path: string, timeoutMs = MATCH_TIMEOUT_MS): RegExpExecArray | null | 'timeout' {
  sandbox.re = re;
  sandbox.path = path;
  try {
    return execInSandbox.runInContext(sandbox, { timeout: timeoutMs }) as RegExpExecArray | null;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'timeout';
    throw e;
  } finally {
    sandbox.re = undefined;
    sandbox.path = '';
  }
}

/** The second chance's limit: only a pattern that runs this long too is reported and dropped. */
export const RETRY_TIMEOUT_MS = 1000;

/**
 * The limit is wall-clock time: on a loaded machine a pattern that needs microseconds can still miss 100 ms
 * when the thread is descheduled, and a dropped pattern stays dropped. So a timeout gets one second chance
 * with a ten times longer limit; a catastrophic pattern (2^n steps) misses that too, at a one-time cost of 1.1 s.
 */
export const boundedRegexExec: RegexExec = (re, path) => {
  const first = boundedExec(re, path);
  return first === 'timeout' ? boundedExec(re, path, RETRY_TIMEOUT_MS) : first;
};
