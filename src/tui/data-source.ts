import type { SftpgoClient } from '../client/index.js';
import type { Snapshot } from './model.js';

/** Where `sftpgo top` gets its data; the real one wraps the REST client, tests pass a fake. */
export interface TopDataSource {
  /** the server the data comes from, for the header */
  readonly label: string;
  poll(): Promise<Snapshot>;
  closeConnection(id: string): Promise<void>;
}

export function clientDataSource(client: SftpgoClient, now: () => number = Date.now): TopDataSource {
  return {
    label: client.url,
    async poll() {
      const [connections, status] = await Promise.all([
        client.listConnections({ timeoutMs: 5000 }),
        // the status needs view_status; an admin without it still gets the connections
        client.status({ timeoutMs: 5000 }).catch((e: unknown) => {
          if (typeof e === 'object' && e !== null && (e as { status?: unknown }).status === 403) return undefined;
          throw e;
        }),
      ]);
      return { at: now(), connections, status };
    },
    async closeConnection(id) {
      await client.closeConnection(id);
    },
  };
}
