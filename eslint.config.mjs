// ESLint for the TypeScript of the extensions and the repository's own JS scripts.
// Formatting is Prettier's (eslint-config-prettier turns the conflicting rules off).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import react from 'eslint-plugin-react';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/lib/',
      '.venv/',
      '.stamps/',
      '.demo/',
      '.test-runtime/',
      'kernels-bridge/src/espri_vre/labextensions/',
      'ui-tests/test-results/',
      'ui-tests/playwright-report/',
      'docs/_build/'
    ]
  },
  {
    files: ['extensions/*/{src,test}/**/*.{ts,tsx}'],
    extends: [
      js.configs.recommended,
      ...tseslint.configs.recommended,
      react.configs.flat.recommended,
      reactHooks.configs['recommended-latest']
    ],
    languageOptions: {
      globals: { ...globals.browser }
    },
    settings: { react: { version: '18.2' } },
    rules: {
      // JupyterLab's pattern: a token or class merged with a namespace of its types.
      '@typescript-eslint/no-namespace': 'off',
      '@typescript-eslint/no-unused-vars': [
        'error',
        { args: 'none', ignoreRestSiblings: true }
      ],
      curly: ['error', 'all'],
      eqeqeq: ['error', 'smart'],
      'no-console': ['error', { allow: ['error', 'warn', 'debug'] }],
      'react/prop-types': 'off'
    }
  },
  {
    files: ['extensions/*/test/**/*.{ts,tsx}'],
    languageOptions: {
      globals: { ...globals.node }
    },
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off'
    }
  },
  {
    files: ['*.config.ts', 'ui-tests/**/*.ts'],
    extends: [js.configs.recommended, ...tseslint.configs.recommended],
    languageOptions: {
      globals: { ...globals.node }
    }
  },
  {
    files: ['**/*.{js,mjs,cjs}'],
    extends: [js.configs.recommended],
    languageOptions: {
      globals: { ...globals.node }
    }
  },
  {
    files: ['**/*.cjs', 'ui-tests/*.js', 'extensions/*/style/*.js'],
    languageOptions: { sourceType: 'commonjs' }
  },
  {
    files: ['extensions/*/style/*.js'],
    languageOptions: { sourceType: 'module' }
  },
  prettier
);
