import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'coverage/**', 'node_modules/**', 'tools/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: {
        process: 'readonly',
        console: 'readonly',
        URL: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
        setInterval: 'readonly',
        clearInterval: 'readonly',
        Buffer: 'readonly',
      },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      // Layering (docs/architecture.md): the pure core never imports I/O layers.
      'no-restricted-imports': 'off',
    },
  },
  {
    // (bin/run.js is CommonJS too: bin/package.json)
    files: ['**/*.cjs', 'bin/run.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // The pure core (docs/architecture.md); test/unit/arch/layering.test.ts checks the same list on the import graph.
    files: [
      'src/model/**',
      'src/bgp/**',
      'src/rr/**',
      'src/typha/**',
      'src/migrate/**',
      'src/encap/**',
      'src/status/**',
      'src/plan/**',
      'src/monitoring/**',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/kube/**',
                '**/commands/**',
                '**/prompt/**',
                '**/executor/**',
                '@kubernetes/client-node',
                '@oclif/core',
                'node:fs',
                'fs',
                'node:child_process',
              ],
              message: 'pure core: no I/O imports (docs/architecture.md)',
            },
          ],
        },
      ],
    },
  },
);
