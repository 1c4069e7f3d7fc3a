/**
 * The metrics of upstream 2.1.2, by name and type, and what each update moves (read back through
 * the Prometheus text format, parsed strictly).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parsePrometheusText, type ParsedMetrics } from '../../test/helpers/prometheus.js';
import { metrics, metricsRegistry } from './metrics.js';

const scrape = async (): Promise<ParsedMetrics> =>
  parsePrometheusText(await metricsRegistry.metrics());

/** what `fn` changed, for each of `names` */
async function deltas(names: string[], fn: () => void): Promise<Record<string, number>> {
  const before = await scrape();
  fn();
  const after = await scrape();
  return Object.fromEntries(names.map((n) => [n, after.value(n) - before.value(n)]));
}

const LOGIN_INFIXES = [
  'password',
  'public_key',
  'keyboard_interactive',
  'key_and_password',
  'key_and_keyboard_int',
  'tls_cert',
  'tls_cert_and_pwd',
];

const COUNTERS = [
  'sftpgo_uploads_total',
  'sftpgo_downloads_total',
  'sftpgo_upload_errors_total',
  'sftpgo_download_errors_total',
  'sftpgo_upload_size',
  'sftpgo_download_size',
  'sftpgo_ssh_commands_total',
  'sftpgo_ssh_command_errors_total',
  'sftpgo_login_attempts_total',
  'sftpgo_no_auth_total',
  'sftpgo_login_ok_total',
  'sftpgo_login_ko_total',
  ...LOGIN_INFIXES.flatMap((m) =>
    ['attempts', 'ok', 'ko'].map((r) => `sftpgo_${m}_login_${r}_total`),
  ),
  'sftpgo_http_req_total',
  'sftpgo_http_req_ok_total',
  'sftpgo_http_client_errors_total',
  'sftpgo_http_server_errors_total',
  ...['s3', 'gcs', 'az'].flatMap((b) => [
    ...[
      'uploads_total',
      'downloads_total',
      'upload_errors_total',
      'download_errors_total',
      'upload_size',
      'download_size',
    ].map((s) => `sftpgo_${b}_${s}`),
    ...[
      'list_objects',
      'copy_object',
      'delete_object',
      'head_object',
      b === 'az' ? 'head_container' : 'head_bucket',
    ].flatMap((op) => [`sftpgo_${b}_${op}`, `sftpgo_${b}_${op}_errors`]),
  ]),
];

void describe('metrics', () => {
  void it("exposes upstream's metric names with their types and help", async () => {
    const m = await scrape();
    for (const name of COUNTERS) {
      const f = m.family(name);
      assert.ok(f, `${name} is exposed`);
      assert.equal(f.type, 'counter', name);
      assert.ok((f.help ?? '').startsWith('The total'), `${name} has upstream's help`);
    }
    for (const name of ['sftpgo_dataprovider_availability', 'sftpgo_active_connections']) {
      assert.equal(m.family(name)?.type, 'gauge', name);
    }
    assert.equal(m.family('sftpgo_s3_head_container'), undefined);
    assert.equal(m.family('sftpgo_az_head_bucket'), undefined);
    assert.equal(
      m.family('sftpgo_key_and_keyboard_int_login_ok_total')?.help,
      'The total number of successful logins using public key + keyboard interactive',
    );
    assert.equal(
      m.family('sftpgo_gcs_list_objects_errors')?.help,
      'The total number of GCS list objects errors',
    );
    assert.equal(
      m.family('sftpgo_upload_size')?.help,
      'The total upload size as bytes, partial uploads are included',
    );
    assert.equal(
      m.family('sftpgo_az_download_size')?.help,
      'The total Azure download size as bytes, partial downloads are included',
    );
    assert.equal(
      m.family('sftpgo_s3_uploads_total')?.help,
      'The total number of successful S3 uploads',
    );
  });

  void it('counts a login as one attempt and one result, by method', async () => {
    const names = [
      'sftpgo_login_attempts_total',
      'sftpgo_login_ok_total',
      'sftpgo_login_ko_total',
      'sftpgo_key_and_password_login_attempts_total',
      'sftpgo_key_and_password_login_ok_total',
      'sftpgo_tls_cert_login_ko_total',
      'sftpgo_password_login_attempts_total',
      'sftpgo_password_login_ko_total',
    ];
    assert.deepEqual(
      await deltas(names, () => {
        metrics.loginCompleted('publickey+password', true);
        metrics.loginCompleted('TLSCertificate', false);
        metrics.loginCompleted('hostbased', false); // unknown: a password login, as upstream
      }),
      {
        sftpgo_login_attempts_total: 3,
        sftpgo_login_ok_total: 1,
        sftpgo_login_ko_total: 2,
        sftpgo_key_and_password_login_attempts_total: 1,
        sftpgo_key_and_password_login_ok_total: 1,
        sftpgo_tls_cert_login_ko_total: 1,
        sftpgo_password_login_attempts_total: 1,
        sftpgo_password_login_ko_total: 1,
      },
    );
  });

  void it('counts transfers with their bytes, partial ones included', async () => {
    const names = [
      'sftpgo_uploads_total',
      'sftpgo_upload_errors_total',
      'sftpgo_upload_size',
      'sftpgo_downloads_total',
      'sftpgo_download_size',
      'sftpgo_s3_uploads_total',
      'sftpgo_s3_upload_size',
      'sftpgo_az_download_errors_total',
      'sftpgo_az_download_size',
    ];
    assert.deepEqual(
      await deltas(names, () => {
        metrics.transferCompleted('upload', 100, true);
        metrics.transferCompleted('upload', 7, false);
        metrics.transferCompleted('download', 0, true);
        metrics.cloudTransferCompleted('s3', 'upload', 5, true);
        metrics.cloudTransferCompleted('az', 'download', 3, false);
      }),
      {
        sftpgo_uploads_total: 1,
        sftpgo_upload_errors_total: 1,
        sftpgo_upload_size: 107,
        sftpgo_downloads_total: 1,
        sftpgo_download_size: 0,
        sftpgo_s3_uploads_total: 1,
        sftpgo_s3_upload_size: 5,
        sftpgo_az_download_errors_total: 1,
        sftpgo_az_download_size: 3,
      },
    );
  });

  void it('sorts HTTP responses by status class', async () => {
    const names = [
      'sftpgo_http_req_total',
      'sftpgo_http_req_ok_total',
      'sftpgo_http_client_errors_total',
      'sftpgo_http_server_errors_total',
    ];
    assert.deepEqual(
      await deltas(names, () => {
        for (const s of [200, 204, 301, 401, 404, 500, 503]) metrics.httpRequestServed(s);
      }),
      {
        sftpgo_http_req_total: 7,
        sftpgo_http_req_ok_total: 2,
        sftpgo_http_client_errors_total: 2,
        sftpgo_http_server_errors_total: 2,
      },
    );
  });

  void it('meters an object storage request by its outcome, passing it through', async () => {
    const before = await scrape();
    assert.equal(await metrics.meterCloudRequest('gcs', 'head_object', Promise.resolve(42)), 42);
    const boom = new Error('boom');
    await assert.rejects(
      metrics.meterCloudRequest('az', 'head_container', Promise.reject(boom)),
      (e) => e === boom,
    );
    const after = await scrape();
    assert.equal(after.value('sftpgo_gcs_head_object') - before.value('sftpgo_gcs_head_object'), 1);
    assert.equal(
      after.value('sftpgo_gcs_head_object_errors') - before.value('sftpgo_gcs_head_object_errors'),
      0,
    );
    assert.equal(
      after.value('sftpgo_az_head_container_errors') -
        before.value('sftpgo_az_head_container_errors'),
      1,
    );
  });

  void it('gauges: data provider availability, active connections, and the SSH and no-auth counters', async () => {
    metrics.setDataProviderAvailable(false);
    metrics.setActiveConnections(3);
    let m = await scrape();
    assert.equal(m.value('sftpgo_dataprovider_availability'), 0);
    assert.equal(m.value('sftpgo_active_connections'), 3);
    metrics.setDataProviderAvailable(true);
    m = await scrape();
    assert.equal(m.value('sftpgo_dataprovider_availability'), 1);
    assert.deepEqual(
      await deltas(
        ['sftpgo_ssh_commands_total', 'sftpgo_ssh_command_errors_total', 'sftpgo_no_auth_total'],
        () => {
          metrics.sshCommandCompleted(true);
          metrics.sshCommandCompleted(false);
          metrics.noAuthTried();
        },
      ),
      { sftpgo_ssh_commands_total: 1, sftpgo_ssh_command_errors_total: 1, sftpgo_no_auth_total: 1 },
    );
  });

  void it("adds Node's process metrics once enabled", async () => {
    assert.equal((await scrape()).family('process_cpu_user_seconds_total'), undefined);
    metrics.enableProcessMetrics();
    metrics.enableProcessMetrics(); // idempotent: a second registration would throw
    const m = await scrape();
    assert.equal(m.family('process_cpu_user_seconds_total')?.type, 'counter');
    assert.ok(m.value('process_resident_memory_bytes') > 0);
    assert.equal(m.family('nodejs_eventloop_lag_seconds')?.type, 'gauge');
  });
});
