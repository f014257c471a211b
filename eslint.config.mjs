// Lint: typescript-eslint with type information, formatting left to Prettier
// (prettier.config.mjs). Chosen over Biome because its type-aware rules
// (no-floating-promises, no-misused-promises, no-unsafe-*) see through the
// types: an unawaited kernel op or transaction is this codebase's real risk,
// and that needs the type checker, which Biome does not run.
// Every rule turned off below says why in one line. The allowed import
// directions between src/'s folders are a test (test/unit/layers.test.ts).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'build/**', 'prebuilds/**', 'node_modules/**', 'native/**', 'coverage/**', 'src/managed/state-validator.ts'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.check.json'],
        tsconfigRootDir: import.meta.dirname,
      },
      globals: {
        process: 'readonly',
        console: 'readonly',
        Buffer: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        setImmediate: 'readonly',
        queueMicrotask: 'readonly',
        performance: 'readonly',
        AbortController: 'readonly',
        TextEncoder: 'readonly',
        TextDecoder: 'readonly',
        structuredClone: 'readonly',
        globalThis: 'readonly',
        SharedArrayBuffer: 'readonly',
        Atomics: 'readonly',
      },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // Unawaited promises: a kernel op or transaction that nobody waits for.
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
      // A result nobody reads: a pure function called for nothing.
      '@typescript-eslint/no-unused-expressions': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // Accidental any.
      '@typescript-eslint/no-explicit-any': 'error',
      // A `!` where a check belongs.
      '@typescript-eslint/no-non-null-assertion': 'error',
      // A switch over a union with no default must name every member; one with a default is deliberate.
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Off: an async function without await is deliberate here (it implements a Promise-returning interface, and a throw in it becomes a rejection, not a synchronous throw).
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    files: ['test/**'],
    rules: {
      // Off in tests: the independent oracles (`ip -j`, `nft -j`, JSON files, child output) are untyped JSON by nature, and the assertions check the values.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      // Off in tests: a `!` on something the test just made fails the test at once if wrong; the assertion is the check.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // Off in tests: they read untyped oracle JSON (`ip -j`, `nft -j`, fixtures) and build deliberately ill-typed bad input; `any` there is honest.
      '@typescript-eslint/no-explicit-any': 'off',
    },
  },
  {
    files: ['**/*.mjs'],
    rules: {
      // Plain JS: what JSON.parse, the dist/ modules imported by computed path and IPC give is `any`, so these would flag many lines; tsc (tsconfig.check.json) checks the JSDoc types.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
    },
  },
);
