// Copies non-TS assets needed at run time into dist/ after tsc.
import { cpSync, mkdirSync } from 'node:fs';
mkdirSync('dist/api', { recursive: true });
cpSync('src/api/openapi.yaml', 'dist/api/openapi.yaml');
