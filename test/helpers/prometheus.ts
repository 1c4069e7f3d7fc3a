/**
 * A strict parser of the Prometheus text exposition format (version 0.0.4), for tests that
 * scrape /metrics. Written here because the npm parsers are unmaintained and prom-client only
 * writes the format. Strict: anything the format does not allow throws, with the line number —
 * a malformed exposition must fail the test, not be skipped.
 *
 * Checked: HELP and TYPE at most once per family and before its samples; the TYPE is one of the
 * five; metric and label names; label values quoted with \\ \" \n escapes only; no duplicate
 * label in a sample and no duplicate sample; the samples of a family are contiguous and named
 * as its type allows (histogram: _bucket/_sum/_count, summary: the name, _sum, _count); values
 * are floats as Go's strconv.ParseFloat reads them (decimal; NaN and [+-]Inf in any case, which
 * is why prom-client's "Nan" passes, as it does in Prometheus); optional integer timestamps.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface Sample {
  name: string;
  labels: Readonly<Record<string, string>>;
  value: number;
  timestamp?: number;
}

export interface MetricFamily {
  name: string;
  help?: string;
  type: MetricType;
  samples: Sample[];
}

export class ParsedMetrics {
  constructor(readonly families: ReadonlyMap<string, MetricFamily>) {}

  /** the family, or undefined */
  family(name: string): MetricFamily | undefined {
    return this.families.get(name);
  }

  /**
   * The value of the one sample named `name` with exactly these labels (none by default);
   * throws when there is no such sample.
   */
  value(name: string, labels: Record<string, string> = {}): number {
    const want = labelKey(labels);
    for (const f of this.families.values()) {
      for (const s of f.samples) {
        if (s.name === name && labelKey(s.labels) === want) return s.value;
      }
    }
    throw new Error(`no sample ${name}${want === '' ? '' : `{${want}}`} in the exposition`);
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES: ReadonlySet<string> = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity)$/i;

function labelKey(labels: Readonly<Record<string, string>>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${JSON.stringify(labels[k])}`)
    .join(',');
}

function parseFloatStrict(s: string, where: string): number {
  if (/^nan$/i.test(s)) return Number.NaN;
  if (!FLOAT.test(s)) throw new Error(`${where}: invalid value ${JSON.stringify(s)}`);
  if (/inf(?:inity)?$/i.test(s)) return s.startsWith('-') ? -Infinity : Infinity;
  return Number(s);
}

/** HELP text: only \\ and \n are escapes */
function unescapeHelp(s: string, where: string): string {
  return s.replace(/\\(.?)/g, (_m, c: string) => {
    if (c === '\\') return '\\';
    if (c === 'n') return '\n';
    throw new Error(`${where}: invalid escape in HELP`);
  });
}

/** the family a sample name belongs to, given the families declared so far */
function familyOf(sample: string, declared: ReadonlyMap<string, MetricFamily>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!sample.endsWith(suffix)) continue;
    const base = sample.slice(0, -suffix.length);
    const f = declared.get(base);
    if (f?.type === 'histogram' || (f?.type === 'summary' && suffix !== '_bucket')) return base;
  }
  return sample;
}

/** `{a="x",b="y"}` starting at `text[0] === '{'`; returns the labels and the rest of the line */
function parseLabels(
  text: string,
  where: string,
): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const skipSpaces = (): void => {
    while (text[i] === ' ' || text[i] === '\t') i++;
  };
  for (;;) {
    skipSpaces();
    if (text[i] === '}') {
      i++;
      break;
    }
    const nameStart = i;
    while (i < text.length && /[a-zA-Z0-9_]/.test(text[i] as string)) i++;
    const name = text.slice(nameStart, i);
    if (!LABEL_NAME.test(name))
      throw new Error(`${where}: invalid label name ${JSON.stringify(name)}`);
    if (name in labels) throw new Error(`${where}: duplicate label ${name}`);
    skipSpaces();
    if (text[i] !== '=') throw new Error(`${where}: expected = after label ${name}`);
    i++;
    skipSpaces();
    if (text[i] !== '"') throw new Error(`${where}: label ${name}: expected a quoted value`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new Error(`${where}: label ${name}: unterminated value`);
      i++;
      if (c === '"') break;
      if (c !== '\\') {
        value += c;
        continue;
      }
      const e = text[i];
      i++;
      if (e === '\\' || e === '"') value += e;
      else if (e === 'n') value += '\n';
      else throw new Error(`${where}: label ${name}: invalid escape \\${e ?? ''}`);
    }
    labels[name] = value;
    skipSpaces();
    if (text[i] === ',') {
      i++;
      continue;
    }
    if (text[i] === '}') {
      i++;
      break;
    }
    throw new Error(`${where}: expected , or } after label ${name}`);
  }
  return { labels, rest: text.slice(i) };
}

export function parsePrometheusText(text: string): ParsedMetrics {
  const families = new Map<string, MetricFamily>();
  /** families whose samples are over (another family's sample came after them) */
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  if (text !== '' && !text.endsWith('\n'))
    throw new Error('the exposition does not end with a newline');
  const lines = text.split('\n');
  lines.pop();
  const declare = (name: string, where: string): MetricFamily => {
    if (!METRIC_NAME.test(name))
      throw new Error(`${where}: invalid metric name ${JSON.stringify(name)}`);
    let f = families.get(name);
    if (!f) {
      f = { name, type: 'untyped', samples: [] };
      families.set(name, f);
    }
    return f;
  };
  lines.forEach((line, n) => {
    const where = `line ${n + 1}`;
    if (line.trim() === '') return;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) return; // a comment
      const [, kind, name = '', rest = ''] = m;
      const f = declare(name, where);
      if (f.samples.length > 0) throw new Error(`${where}: ${kind} for ${name} after its samples`);
      if (kind === 'HELP') {
        if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
        f.help = unescapeHelp(rest, where);
      } else {
        if (seen.has(`TYPE ${name}`)) throw new Error(`${where}: second TYPE for ${name}`);
        seen.add(`TYPE ${name}`);
        if (!TYPES.has(rest.trim()))
          throw new Error(`${where}: invalid TYPE ${JSON.stringify(rest)}`);
        f.type = rest.trim() as MetricType;
      }
      return;
    }
    const nameMatch = /^[^\s{]+/.exec(line);
    const sampleName = nameMatch?.[0] ?? '';
    if (!METRIC_NAME.test(sampleName))
      throw new Error(`${where}: invalid metric name ${JSON.stringify(sampleName)}`);
    let rest = line.slice(sampleName.length);
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, where));
    const fields = rest.trim().split(/[ \t]+/);
    if (!/^[ \t]/.test(rest) || fields.length < 1 || fields.length > 2 || fields[0] === '') {
      throw new Error(`${where}: expected a value (and an optional timestamp) after ${sampleName}`);
    }
    const value = parseFloatStrict(fields[0] as string, where);
    let timestamp: number | undefined;
    if (fields[1] !== undefined) {
      if (!/^-?[0-9]+$/.test(fields[1]))
        throw new Error(`${where}: invalid timestamp ${fields[1]}`);
      timestamp = Number(fields[1]);
    }
    const familyName = familyOf(sampleName, families);
    const f = declare(familyName, where);
    if (f.type === 'histogram' && sampleName === familyName) {
      throw new Error(`${where}: histogram ${familyName} has a sample without _bucket/_sum/_count`);
    }
    if (f.type === 'histogram' && sampleName.endsWith('_bucket') && labels.le === undefined) {
      throw new Error(`${where}: histogram bucket without an le label`);
    }
    if (closed.has(familyName))
      throw new Error(`${where}: the samples of ${familyName} are not contiguous`);
    if (current !== undefined && current !== familyName) closed.add(current);
    current = familyName;
    const key = `${sampleName}{${labelKey(labels)}}`;
    if (seen.has(key)) throw new Error(`${where}: duplicate sample ${key}`);
    seen.add(key);
    f.samples.push({
      name: sampleName,
      labels,
      value,
      ...(timestamp === undefined ? {} : { timestamp }),
    });
  });
  return new ParsedMetrics(families);
}
