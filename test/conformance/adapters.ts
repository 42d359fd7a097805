import type { AdapterHarness } from './harness.js';
import { expressHarness } from './servers/express.js';

/** Every adapter the conformance table runs against; a new framework is one line here. */
export const ADAPTERS: readonly AdapterHarness[] = [expressHarness];
