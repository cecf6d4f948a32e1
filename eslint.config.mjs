// ESLint (flat config) with typescript-eslint's recommended rules — correctness, not style — and the import
// boundaries of docs/ARCHITECTURE.md as rules, so a wrong import fails `npm test` instead of waiting for review:
// - src/core and src/webview are pure / browser code: neither `vscode` nor Node's built-in modules;
// - src/core, src/server, src/stack never import `vscode` (they run headless: server, CLI, tests);
// - `dockerode` only under src/stack/docker (it must never load at activation).
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const vscode = { name: 'vscode', message: 'Only src/vscode talks to the VS Code API (docs/ARCHITECTURE.md).' };
const dockerode = { name: 'dockerode', message: 'dockerode is imported only under src/stack/docker (loaded lazily).' };
const nodeBuiltins = {
  paths: builtinModules.map((name) => ({ name, message: 'src/core and src/webview do no I/O: no Node built-ins.' })),
  patterns: [{ group: ['node:*'], message: 'src/core and src/webview do no I/O: no Node built-ins.' }],
};
/** no-restricted-imports for a folder; type-only imports count too (a boundary is about what a folder knows). */
const restrict = (paths, patterns = []) => ({ 'no-restricted-imports': ['error', { paths, patterns }] });

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', '.cache/**', '.test-artifacts/**', '.vscode-test/**', 'out/**', '**/*.vsix'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    rules: {
      // `_`-prefixed names are deliberately unused (callback signatures, destructuring to omit).
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // A variable read by a closure before its one assignment (a server's store, set once ready) cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
    },
  },
  { files: ['src/webview/**'], languageOptions: { globals: { ...globals.browser } } },
  { files: ['test/vscode/**'], languageOptions: { globals: { ...globals.mocha } } },
  // CommonJS files load their modules with require(): that is their import syntax, not a lapse.
  { files: ['**/*.cjs', 'telemetry-server/**/*.js'], rules: { '@typescript-eslint/no-require-imports': 'off' } },
  { files: ['src/core/**', 'src/webview/**'], rules: restrict([vscode, dockerode, ...nodeBuiltins.paths], nodeBuiltins.patterns) },
  { files: ['src/server/**', 'src/stack/**'], ignores: ['src/stack/docker/**'], rules: restrict([vscode, dockerode]) },
  { files: ['src/stack/docker/**'], rules: restrict([vscode]) },
  { files: ['src/vscode/**'], rules: restrict([dockerode]) },
);
