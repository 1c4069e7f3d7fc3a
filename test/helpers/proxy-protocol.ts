/** PROXY protocol headers as a proxy (HAProxy's send-proxy / send-proxy-v2) sends them, for tests. */
import {
  Command,
  INETProtocol,
  IPv4Address,
  IPv4ProxyAddress,
  Peer,
  TransportProtocol,
  V1ProxyProtocol,
  V2ProxyProtocol,
} from 'proxy-protocol-js';

/** a v1 header claiming the IPv4 client `ip:port`, to 127.0.0.1:`dstPort` */
export function proxyHeaderV1(ip: string, port: number, dstPort = 22): Buffer {
  return Buffer.from(
    new V1ProxyProtocol(
      INETProtocol.TCP4,
      new Peer(ip, port),
      new Peer('127.0.0.1', dstPort),
    ).build(),
  );
}

/** a v2 PROXY/STREAM header claiming the IPv4 client `ip:port`, to 127.0.0.1:`dstPort` */
export function proxyHeaderV2(ip: string, port: number, dstPort = 22): Buffer {
  const address = new IPv4ProxyAddress(
    IPv4Address.createFrom(ip.split('.').map(Number)),
    port,
    IPv4Address.createFrom([127, 0, 0, 1]),
    dstPort,
  );
  return Buffer.from(new V2ProxyProtocol(Command.PROXY, TransportProtocol.STREAM, address).build());
}
