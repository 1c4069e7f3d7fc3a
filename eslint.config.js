// ESLint flat config: type-aware typescript-eslint rules plus the layer rule of STYLE.md §A:
// a folder of src/ may import only from the layers below it.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const ALL = ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider', 'common',
  'sftpd', 'ftpd', 'webdavd', 'httpd', 'telemetry', 'service', 'client', 'tui', 'cli'];
/** layer -> folders it may import (besides itself) */
const ALLOWED = {
  util: ['errors'],
  errors: [],
  api: [],
  config: ['util', 'errors', 'api'],
  logger: ['util', 'errors', 'api', 'config'],
  kms: ['util', 'errors', 'api', 'config', 'logger'],
  vfs: ['util', 'errors', 'api', 'config', 'logger', 'kms'],
  dataprovider: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs'],
  common: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider'],
  sftpd: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider', 'common'],
  ftpd: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider', 'common'],
  webdavd: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider', 'common'],
  httpd: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider', 'common'],
  telemetry: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider', 'common'],
  service: ['util', 'errors', 'api', 'config', 'logger', 'kms', 'vfs', 'dataprovider', 'common',
    'sftpd', 'ftpd', 'webdavd', 'httpd', 'telemetry'],
  client: ['util', 'errors', 'api'],
  tui: ['util', 'errors', 'api', 'client'],
  cli: ALL.filter((l) => l !== 'cli'),
};

const layerRules = Object.entries(ALLOWED).flatMap(([layer, allowed]) => {
  const forbidden = ALL.filter((l) => l !== layer && !allowed.includes(l));
  if (forbidden.length === 0) return [];
  return [{
    files: [`src/${layer}/**/*.{ts,tsx}`],
    ignores: ['src/**/*.test.{ts,tsx}'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: forbidden.flatMap((l) => [`**/${l}/*`, `**/${l}`]),
          message: `layer rule (STYLE.md §A): src/${layer} may import only ${allowed.join(', ') || 'nothing'} from src/`,
        }],
      }],
    },
  }];
});

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'src/api/types.gen.ts', 'bench/**', 'scripts/**', 'bin/**', 'completions/**', 'man/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.{ts,tsx}'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false } }],
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-empty': ['error', { allowEmptyCatch: false }],
    },
  },
  ...layerRules,
);
