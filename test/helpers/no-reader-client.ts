/**
 * A hostile SFTP client, run as its own process (so the server's memory can be measured apart
 * from it): it opens a file for writing, then sends WRITE requests as fast as its SSH channel
 * accepts them and never reads a reply. Respects its own channel's backpressure (so its own
 * memory stays small) and stops after `seconds` or `maxBytes`. Prints {"sent": bytes}.
 *
 *   node --import tsx test/helpers/no-reader-client.ts PORT USER PASSWORD PATH SECONDS MAX_BYTES
 */
import ssh2 from 'ssh2';

const [port, user, password, path, seconds, maxBytes] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
const limit = Number(maxBytes);

function packet(type: number, ...parts: Buffer[]): Buffer {
  const body = Buffer.concat(parts);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length + 1, 0);
  head[4] = type;
  return Buffer.concat([head, body]);
}
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
};
const u64 = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n), 0);
  return b;
};
const str = (s: Buffer | string): Buffer => {
  const b = typeof s === 'string' ? Buffer.from(s) : s;
  return Buffer.concat([u32(b.length), b]);
};

const client = new ssh2.Client();
client.on('error', (e) => {
  console.error(e.message);
  process.exit(1);
});
client.on('ready', () => {
  client.subsys('sftp', (err, ch) => {
    if (err) throw err;
    let buf = Buffer.alloc(0);
    let handle: Buffer | undefined;
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
        const len = buf.readUInt32BE(0);
        const type = buf[4];
        const pkt = buf.subarray(5, 4 + len);
        buf = buf.subarray(4 + len);
        if (type === 102) {
          // SSH_FXP_HANDLE: from now on, never read again
          handle = pkt.subarray(8, 8 + pkt.readUInt32BE(4));
          ch.off('data', onData);
          ch.pause();
          void flood(ch, handle);
        } else if (type === 101) {
          console.error('OPEN refused');
          process.exit(1);
        }
      }
    };
    ch.on('data', onData);
    ch.write(packet(1, u32(3)));
    ch.write(packet(3, u32(1), str(path as string), u32(0x02 | 0x08 | 0x10), u32(0)));
  });
});

async function flood(ch: ssh2.ClientChannel, handle: Buffer): Promise<void> {
  const data = Buffer.alloc(32 * 1024, 0x61);
  let sent = 0;
  let id = 2;
  while (Date.now() < deadline && sent < limit) {
    const ok = ch.write(packet(6, u32(id++), str(handle), u64(sent), str(data)));
    sent += data.length;
    if (!ok) {
      const drained = await Promise.race([
        new Promise<boolean>((r) => ch.once('drain', () => r(true))),
        new Promise<boolean>((r) => setTimeout(() => r(false), Math.max(0, deadline - Date.now()))),
      ]);
      if (!drained) break;
    }
  }
  console.log(JSON.stringify({ sent }));
  process.exit(0);
}

client.connect({ host: '127.0.0.1', port: Number(port), username: user, password, readyTimeout: 20_000 });
