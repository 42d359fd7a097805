/**
 * "Another site" for the SPA example: a page that tries what a malicious site would, a form and a
 * credentialed fetch that post a note to the app. Served on 127.0.0.1, which browsers treat as a
 * different site from `localhost` (and on `localhost:<its port>`, a different origin of the same
 * site). jwtguard refuses both with 403 `csrf_refused`.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

const template = readFileSync(new URL('./public/other-site.html', import.meta.url), 'utf8');

export interface RunningOtherSite {
  /** `http://127.0.0.1:<port>`: another site than the app's `localhost`. */
  readonly url: string;
  /** The same server as `http://localhost:<port>`: the same site as the app, another origin. */
  readonly sameSiteUrl: string;
  close(): Promise<void>;
}

/** Serves the page, aimed at `appUrl` (the app's origin), on 127.0.0.1. */
export function startOtherSite(appUrl: string, port = 0): Promise<RunningOtherSite> {
  const page = template.replaceAll('__APP__', appUrl);
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
    response.end(page);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      const { port: bound } = server.address() as AddressInfo;
      resolve({
        url: `http://127.0.0.1:${bound}`,
        sameSiteUrl: `http://localhost:${bound}`,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
