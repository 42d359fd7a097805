import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.pack-test/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', console: 'readonly', Buffer: 'readonly', URL: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly', fetch: 'readonly', Response: 'readonly', Headers: 'readonly', performance: 'readonly', queueMicrotask: 'readonly', TextEncoder: 'readonly', TextDecoder: 'readonly' } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    // The core must run on every runtime Hono runs on: no Node built-ins.
    files: ['src/core/**/*.ts', 'src/index.ts', 'src/adapters/hono.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['node:*'], allowTypeImports: true, message: 'src/core must stay Web-standard (Bun, Deno, Workers).' }] }],
    },
  },
);
