import type { AdapterHarness } from './harness.js';
import { express4Harness, expressHarness } from './servers/express.js';
import { fastifyHarness } from './servers/fastify.js';
import { honoHarness } from './servers/hono.js';
import { koa2Harness, koaHarness } from './servers/koa.js';

/** Every adapter the conformance table runs against; a new framework is one line here. */
export const ADAPTERS: readonly AdapterHarness[] = [expressHarness, fastifyHarness, koaHarness, honoHarness, express4Harness, koa2Harness];
