import { fileURLToPath } from 'node:url';
import type { components, operations, paths } from './types.gen.js';

export type { components, operations, paths };
export type Schemas = components['schemas'];
export type ApiUser = Schemas['User'];
export type ApiAdmin = Schemas['Admin'];
export type ApiFolder = Schemas['BaseVirtualFolder'];
export type ApiVirtualFolder = Schemas['VirtualFolder'];
export type ApiSecret = Schemas['Secret'];
export type ApiFilesystemConfig = Schemas['FilesystemConfig'];
export type ApiResponse = Schemas['ApiResponse'];
export type BackupData = Schemas['BackupData'];
export type Permission = Schemas['Permission'];
export type AdminPermission = Schemas['AdminPermissions'];

/** Absolute path of the OpenAPI document shipped with the package (src/api or dist/api). */
export function openapiSpecPath(): string {
  return fileURLToPath(new URL('./openapi.yaml', import.meta.url));
}
