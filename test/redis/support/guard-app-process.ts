// One application instance (guard-app.ts) in a process of its own, with its own Redis client, for
// the two-instance tests of guard-sessions.test.ts. Forked with `--import tsx`:
//   fork(file, [JSON.stringify(config)], { execArgv: ['--import', 'tsx'] })
// where config is a GuardProcessConfig. It answers `{ id: 0, ready: true, url }` once listening, then
// requests over IPC (each reply carries the request's id): the programmatic handle
// (`revokeSubject`, `revokeSession`, as an admin tool in that process would call it), `status`
// (the unhandled rejections this process has seen: none may happen) and `close`.
import { CLIENT_KINDS } from './clients.js';
import { startGuardApp, type GuardAppConfig } from './guard-app.js';

export interface GuardProcessConfig extends GuardAppConfig {
  /** A CLIENT_KINDS name, e.g. 'node-redis 5'. */
  readonly kind: string;
  readonly redisUrl: string;
}

export type GuardProcessRequest = { readonly id: number } & (
  | { readonly cmd: 'revokeSubject'; readonly sub: string }
  | { readonly cmd: 'revokeSession'; readonly sid: string }
  | { readonly cmd: 'status' }
  | { readonly cmd: 'close' }
);

export type GuardProcessReply = { readonly id: number; readonly error?: string } & Record<string, unknown>;

// Tripwire: the test asks for these (`status`); none may have happened.
const unhandled: string[] = [];
process.on('unhandledRejection', (reason) => unhandled.push(String(reason)));

const config = JSON.parse(process.argv[2] ?? '{}') as GuardProcessConfig;
const kind = CLIENT_KINDS.find((k) => k.name === config.kind);
if (kind === undefined) throw new Error(`unknown client kind ${config.kind}`);
const client = await kind.connect(config.redisUrl);
const app = await startGuardApp(config, client.client);

const reply = (message: GuardProcessReply): void => void process.send?.(message);

async function handle(request: GuardProcessRequest): Promise<void> {
  const { id } = request;
  switch (request.cmd) {
    case 'revokeSubject':
      await app.sessions.revokeSubject(request.sub);
      return reply({ id });
    case 'revokeSession':
      await app.sessions.revokeSession(request.sid);
      return reply({ id });
    case 'status':
      return reply({ id, unhandled, uptime: process.uptime() });
    case 'close':
      await app.close();
      await client.close();
      reply({ id });
      process.disconnect();
      return;
  }
}

process.on('message', (request: GuardProcessRequest) => {
  handle(request).catch((error: unknown) => reply({ id: request.id, error: String(error) }));
});
reply({ id: 0, ready: true, url: app.url });
