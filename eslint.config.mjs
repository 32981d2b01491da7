// ESLint for the TypeScript of the extensions and the repository's own JS scripts.
// Formatting is Prettier's (eslint-config-prettier turns the conflicting rules off).
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import { createNodeResolver, importX } from 'eslint-plugin-import-x';
import react from 'eslint-plugin-react';
import reactHooks from 'eslint-plugin-react-hooks';
import globals from 'globals';
import tseslint from 'typescript-eslint';
import { readdirSync } from 'node:fs';

// The extension packages, so that a new one is fenced in as soon as it exists.
const PACKAGES = readdirSync(new URL('extensions/', import.meta.url), {
  withFileTypes: true
})
  .filter(entry => entry.isDirectory())
  .map(entry => entry.name);

const THROUGH_CORE =
  'Extensions meet only through @espri-vre/core (its tokens and REST client), imported by its package name: a deep or relative import would bundle a second copy of the singleton, and another extension may be disabled.';

/**
 * The import fence of the files `depth` folders below a package's src/ or test/:
 * `../` climbs `depth + 2` times to reach extensions/, once more to the repository
 * (whose scripts/ a test may read).
 */
function packageFence(depth) {
  return {
    files: [`extensions/*/{src,test}/${'*/'.repeat(depth)}*.{ts,tsx}`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { regex: '^@espri-vre/(?!core$)', message: THROUGH_CORE },
            {
              regex: `^(\\.\\./){${depth + 2}}(${PACKAGES.join('|')})(/|$)|^(\\.\\./){${depth + 3}}extensions(/|$)`,
              message: THROUGH_CORE
            }
          ]
        }
      ]
    }
  };
}

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
  ...[0, 1, 2, 3].map(packageFence),
  {
    files: ['extensions/*/{src,test}/**/*.{ts,tsx}'],
    ignores: ['extensions/core/src/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector:
            "MemberExpression[object.name='ServerConnection'][property.name='makeRequest']",
          message:
            "Requests to the server go through @espri-vre/core's REST client (requestAPI, requestJSON, requestText, requestBytes, requestServer, serverFetch), the one caller of ServerConnection.makeRequest."
        },
        {
          selector:
            "VariableDeclarator[init.name='ServerConnection'] > ObjectPattern > Property[key.name='makeRequest']",
          message:
            "Requests to the server go through @espri-vre/core's REST client, the one caller of ServerConnection.makeRequest."
        }
      ]
    }
  },
  // Cycles within a package; between packages the fence leaves only core, which
  // imports no extension.
  {
    files: ['extensions/*/src/**/*.{ts,tsx}'],
    plugins: { 'import-x': importX },
    settings: {
      'import-x/extensions': ['.ts', '.tsx'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts', '.tsx'] },
      'import-x/resolver-next': [
        createNodeResolver({ extensions: ['.ts', '.tsx', '.js', '.json'] })
      ]
    },
    rules: {
      'import-x/no-cycle': ['error', { ignoreExternal: true }]
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
