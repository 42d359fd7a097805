import type { AdapterHarness } from './harness.js';
import { expressHarness } from './servers/express.js';
import { fastifyHarness } from './servers/fastify.js';
import { honoHarness } from './servers/hono.js';
import { koaHarness } from './servers/koa.js';

/** Every adapter the conformance table runs against; a new framework is one line here. */
export const ADAPTERS: readonly AdapterHarness[] = [expressHarness, honoHarness, fastifyHarness, koaHarness];
