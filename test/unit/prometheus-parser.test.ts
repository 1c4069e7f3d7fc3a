/**
 * The strict Prometheus text parser of test/helpers/prometheus.ts: what it reads, and that it
 * throws on what the exposition format does not allow (a lenient parser would let a malformed
 * /metrics pass the telemetry tests).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText } from '../helpers/prometheus.js';

const GOOD = `# HELP http_requests_total The total number of HTTP requests.\\nSecond line \\\\ done
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
http_requests_total{method="post",code="400",} 3 1395066363000

# a comment
metric_without_timestamp_and_labels 12.47
# TYPE lag gauge
lag{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} -Inf
# TYPE nan_gauge gauge
nan_gauge Nan
# TYPE rpc_duration_seconds summary
rpc_duration_seconds{quantile="0.5"} 4773
rpc_duration_seconds_sum 1.7560473e+07
rpc_duration_seconds_count 2693
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
`;

void describe('parsePrometheusText', () => {
  void it('reads families, labels with escapes, special values, summaries and histograms', () => {
    const m = parsePrometheusText(GOOD);
    const reqs = m.family('http_requests_total');
    assert.equal(reqs?.type, 'counter');
    assert.equal(reqs?.help, 'The total number of HTTP requests.\nSecond line \\ done');
    assert.equal(m.value('http_requests_total', { method: 'post', code: '400' }), 3);
    assert.equal(reqs?.samples[0]?.timestamp, 1395066363000);
    assert.equal(m.family('metric_without_timestamp_and_labels')?.type, 'untyped');
    assert.equal(
      m.value('lag', { path: 'C:\\DIR\\FILE.TXT', error: 'Cannot find file:\n"FILE.TXT"' }),
      -Infinity,
    );
    assert.ok(Number.isNaN(m.value('nan_gauge')));
    assert.equal(m.value('rpc_duration_seconds_sum'), 17560473);
    assert.equal(m.family('rpc_duration_seconds')?.samples.length, 3);
    assert.equal(m.value('http_request_duration_seconds_bucket', { le: '+Inf' }), 144320);
    assert.throws(() => m.value('http_requests_total'), /no sample http_requests_total/);
  });

  void it('refuses what the format does not allow', () => {
    const bad: [string, RegExp][] = [
      ['x 1', /does not end with a newline/],
      ['9x 1\n', /invalid metric name/],
      ['x\n', /expected a value/],
      ['x 1 2 3\n', /expected a value/],
      ['x one\n', /invalid value/],
      ['x -nan\n', /invalid value/],
      ['x 1 1.5\n', /invalid timestamp/],
      ['x{a="1",a="2"} 1\n', /duplicate label/],
      ['x{a="\\t"} 1\n', /invalid escape/],
      ['x{a="1} 1\n', /unterminated|expected/],
      ['x{a=1} 1\n', /quoted value/],
      ['x{9a="1"} 1\n', /invalid label name/],
      ['x 1\nx 2\n', /duplicate sample/],
      ['x 1\ny 1\nx{a="b"} 1\n', /not contiguous/],
      ['x 1\n# TYPE x counter\n', /TYPE for x after its samples/],
      ['# TYPE x counter\n# TYPE x counter\nx 1\n', /second TYPE/],
      ['# HELP x a\n# HELP x b\nx 1\n', /second HELP/],
      ['# TYPE x countr\nx 1\n', /invalid TYPE/],
      ['# HELP x a\\tb\nx 1\n', /invalid escape in HELP/],
      ['# TYPE h histogram\nh 1\n', /without _bucket/],
      ['# TYPE h histogram\nh_bucket 1\n', /without an le label/],
    ];
    for (const [text, err] of bad)
      assert.throws(() => parsePrometheusText(text), err, JSON.stringify(text));
  });
});
