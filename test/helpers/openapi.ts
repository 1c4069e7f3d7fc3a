/**
 * Validates REST responses against the contract, src/api/openapi.yaml, with ajv: the whole
 * document is added to ajv under one id and each response schema is compiled by JSON pointer,
 * so `$ref`s (schemas and `#/components/responses/...`) resolve as in the spec. OpenAPI 3.0
 * `nullable: true` is turned into JSON Schema (`anyOf [..., {type: null}]`).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';
import { openapiSpecPath } from '../../src/api/index.js';

const DOC_ID = 'openapi.json';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
type JsonObject = { [k: string]: Json };

export interface OperationMatch {
  operationId: string;
  method: string;
  /** the path template as written in the spec, e.g. /users/{username} */
  template: string;
  /** JSON pointer (escaped) of the operation inside the document */
  pointer: string;
}

export interface ResponseToCheck {
  method: string;
  /** request path, with or without query string (e.g. /api/v2/users/a?x=1) */
  path: string;
  status: number;
  /** Content-Type header of the response, if any */
  contentType?: string | null | undefined;
  /** parsed JSON, or the text for non-JSON responses */
  body: unknown;
}

export interface OpenApiValidator {
  readonly document: JsonObject;
  findOperation(method: string, path: string): OperationMatch | undefined;
  /** throws an Error naming the operationId and the ajv errors on mismatch */
  validateResponse(r: ResponseToCheck): void;
  /** validates a value against `#/components/schemas/<name>` */
  validateSchema(name: string, value: unknown): void;
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** OpenAPI 3.0 `nullable` -> JSON Schema, everywhere in the document */
export function convertNullable(node: Json): Json {
  if (Array.isArray(node)) return node.map(convertNullable);
  if (!isObject(node)) return node;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(node)) {
    // The spec's one `oneOf` (dumpdata: ApiResponse | BackupData) lists object schemas whose
    // properties are all optional, so every object matches both branches and a strict
    // "exactly one" can never pass. OpenAPI tools read such unions as "one of these shapes":
    // validate it as anyOf.
    out[k === 'oneOf' ? 'anyOf' : k] = convertNullable(v);
  }
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [out, { type: 'null' }] };
  }
  if ('nullable' in out && typeof out.nullable === 'boolean') delete out.nullable;
  return out;
}

const escapePointer = (s: string): string => s.replace(/~/g, '~0').replace(/\//g, '~1');

function mediaType(contentType: string | null | undefined): string | undefined {
  return contentType?.split(';')[0]?.trim().toLowerCase() || undefined;
}

interface Route {
  params: number;
  template: string;
  pathItem: JsonObject;
  pathServer: string | undefined;
}

function serverUrl(node: Json | undefined): string | undefined {
  if (!Array.isArray(node)) return undefined;
  const first = node[0];
  return isObject(first) && typeof first.url === 'string' ? first.url : undefined;
}

function joinUrl(base: string, template: string): string {
  return base === '/' || base === '' ? template : base.replace(/\/$/, '') + template;
}

function templateRegex(full: string): RegExp {
  const parts = full.split(/(\{[^}]+\})/).map((p) =>
    p.startsWith('{') ? '[^/]+' : p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
  );
  return new RegExp(`^${parts.join('')}$`);
}

export function createOpenApiValidator(specPath: string = openapiSpecPath()): OpenApiValidator {
  const raw = parseYaml(readFileSync(specPath, 'utf8')) as Json;
  const document = convertNullable(raw);
  if (!isObject(document) || !isObject(document.paths)) throw new Error(`${specPath}: no paths`);
  const rootServer = serverUrl(document.servers) ?? '/';

  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  const addFormats = (addFormatsModule as unknown as { default: (a: Ajv) => Ajv }).default;
  addFormats(ajv);
  for (const f of ['int32', 'int64', 'password']) ajv.addFormat(f, true);
  ajv.addSchema(document, DOC_ID);
  const compiled = new Map<string, ValidateFunction>();
  const compile = (pointer: string): ValidateFunction => {
    let v = compiled.get(pointer);
    if (!v) {
      v = ajv.compile({ $ref: `${DOC_ID}#${pointer}` });
      compiled.set(pointer, v);
    }
    return v;
  };

  const routes: Route[] = Object.entries(document.paths)
    .filter((e): e is [string, JsonObject] => isObject(e[1]))
    .map(([template, pathItem]) => ({
      template,
      pathItem,
      pathServer: serverUrl(pathItem.servers),
      params: (template.match(/\{/g) ?? []).length,
    }));

  function resolveRef(ref: string): { node: JsonObject; pointer: string } {
    if (!ref.startsWith('#/')) throw new Error(`unsupported $ref ${ref}`);
    let node: Json = document;
    for (const seg of ref.slice(2).split('/')) {
      const key = seg.replace(/~1/g, '/').replace(/~0/g, '~');
      if (!isObject(node)) throw new Error(`dangling $ref ${ref}`);
      node = node[key] ?? null;
    }
    if (!isObject(node)) throw new Error(`dangling $ref ${ref}`);
    return { node, pointer: ref.slice(1) };
  }

  function findOperation(method: string, path: string): OperationMatch | undefined {
    const m = method.toLowerCase();
    const pathname = path.split('?')[0] ?? path;
    const candidates: { route: Route; op: JsonObject }[] = [];
    for (const route of routes) {
      const opNode = route.pathItem[m];
      if (!isObject(opNode)) continue;
      const base = serverUrl(opNode.servers) ?? route.pathServer ?? rootServer;
      if (templateRegex(joinUrl(base, route.template)).test(pathname)) {
        candidates.push({ route, op: opNode });
      }
    }
    candidates.sort((a, b) => a.route.params - b.route.params);
    const best = candidates[0];
    if (!best) return undefined;
    return {
      operationId: typeof best.op.operationId === 'string' ? best.op.operationId : `${m} ${best.route.template}`,
      method: m,
      template: best.route.template,
      pointer: `/paths/${escapePointer(best.route.template)}/${m}`,
    };
  }

  function fail(what: string, details: string): never {
    throw new Error(`OpenAPI contract violation: ${what}\n${details}`);
  }

  function validateResponse(r: ResponseToCheck): void {
    const op = findOperation(r.method, r.path);
    if (!op) {
      // not in the contract (unknown route, wrong method): must still be the API's error shape
      if (mediaType(r.contentType) === 'application/json') {
        const v = compile('/components/schemas/ApiResponse');
        if (!v(r.body)) {
          fail(`${r.method} ${r.path} -> ${r.status} (no operation)`, ajv.errorsText(v.errors));
        }
      }
      return;
    }
    const { node: opNode } = resolveRef(`#${op.pointer}`);
    const responses = opNode.responses;
    if (!isObject(responses)) fail(op.operationId, 'operation without responses');
    const key = String(r.status) in responses ? String(r.status) : 'default';
    const respNode = responses[key];
    if (!isObject(respNode)) {
      fail(`${op.operationId} answered ${r.status}`, 'status not documented and no default response');
    }
    let respPointer = `${op.pointer}/responses/${escapePointer(key)}`;
    let resp: JsonObject = respNode;
    if (typeof respNode.$ref === 'string') {
      const target = resolveRef(respNode.$ref);
      resp = target.node;
      respPointer = target.pointer;
    }
    const content = resp.content;
    const what = `${op.operationId} (${op.method.toUpperCase()} ${op.template}) -> ${r.status}`;
    if (!isObject(content)) {
      if (r.body !== undefined && r.body !== '' && r.body !== null) {
        fail(what, 'the spec documents no body but one was sent');
      }
      return;
    }
    // the documented media type: exact, else a `type/*` or `*/*` range (file downloads)
    const actual = mediaType(r.contentType);
    const media =
      actual === undefined ? undefined : [actual, `${actual.split('/')[0] ?? ''}/*`, '*/*'].find((k) => isObject(content[k]));
    if (media === undefined) {
      fail(what, `content type ${String(r.contentType)} not documented (${Object.keys(content).join(', ')})`);
    }
    const mediaNode = content[media];
    if (!isObject(mediaNode) || mediaNode.schema === undefined) return;
    const v = compile(`${respPointer}/content/${escapePointer(media)}/schema`);
    if (!v(r.body)) {
      fail(
        what,
        `${ajv.errorsText(v.errors, { separator: '\n' })}\nerrors: ${JSON.stringify(v.errors, null, 1)}\nbody: ${JSON.stringify(r.body).slice(0, 2000)}`,
      );
    }
  }

  function validateSchema(name: string, value: unknown): void {
    const v = compile(`/components/schemas/${escapePointer(name)}`);
    if (!v(value)) fail(`schema ${name}`, ajv.errorsText(v.errors, { separator: '\n' }));
  }

  return { document, findOperation, validateResponse, validateSchema };
}
