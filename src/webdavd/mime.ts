/**
 * Content types (upstream webdavd getcontenttype, §2.9 of the 2.1.2 reference): the extension
 * table of the platform (/etc/mime.types, as Go's mime package reads it) over a small built-in
 * one; for unknown extensions, sniffing the first 512 bytes (a subset of Go's
 * http.DetectContentType) with the result kept in a cache keyed by extension
 * (`webdavd.cache.mime_types`: never evicts, stops adding at max_size, disabled = no cache;
 * names without an extension are never cached).
 */
import { extname } from 'node:path';
import { loadPlatformTypes, typeByExtension } from '../util/mime.js';

const SIGNATURES: [Buffer, string][] = [
  [Buffer.from('%PDF-'), 'application/pdf'],
  [Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), 'image/png'],
  [Buffer.from([0xff, 0xd8, 0xff]), 'image/jpeg'],
  [Buffer.from('GIF87a'), 'image/gif'],
  [Buffer.from('GIF89a'), 'image/gif'],
  [Buffer.from([0x50, 0x4b, 0x03, 0x04]), 'application/zip'],
  [Buffer.from([0x1f, 0x8b, 0x08]), 'application/x-gzip'],
  [Buffer.from('%!PS-Adobe-'), 'application/postscript'],
  [Buffer.from([0xef, 0xbb, 0xbf]), 'text/plain; charset=utf-8'],
];

/** the content type of the first bytes of a file (at most 512 are looked at) */
export function sniffContentType(head: Buffer): string {
  const b = head.subarray(0, 512);
  for (const [sig, type] of SIGNATURES) {
    if (b.length >= sig.length && b.subarray(0, sig.length).equals(sig)) return type;
  }
  const text = b.toString('latin1').trimStart().toLowerCase();
  if (text.startsWith('<?xml')) return 'text/xml; charset=utf-8';
  if (text.startsWith('<!doctype html') || text.startsWith('<html'))
    return 'text/html; charset=utf-8';
  for (const c of b) {
    // binary control bytes (as Go's isBinary: not TAB/LF/FF/CR/ESC)
    if (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d && c !== 0x1b) {
      return 'application/octet-stream';
    }
  }
  return 'text/plain; charset=utf-8';
}

export interface MimeCacheOptions {
  enabled: boolean;
  maxSize: number;
}

export class MimeTypes {
  private readonly platform: Map<string, string>;
  private readonly cache = new Map<string, string>();
  private readonly maxSize: number;

  constructor(o: MimeCacheOptions, platform = loadPlatformTypes()) {
    this.platform = platform;
    this.maxSize = o.enabled ? o.maxSize : 0;
  }

  /** by extension only (platform table, built-in table, cache); undefined when unknown */
  byName(name: string): string | undefined {
    const ext = extname(name).toLowerCase();
    if (ext === '') return undefined;
    return typeByExtension(name, this.platform) ?? this.cache.get(ext);
  }

  /** remembers a sniffed type for the extension of `name` */
  remember(name: string, type: string): void {
    const ext = extname(name).toLowerCase();
    if (ext === '' || !type) return;
    if (this.cache.size >= this.maxSize) return;
    this.cache.set(ext, type);
  }

  get cacheSize(): number {
    return this.cache.size;
  }
}
