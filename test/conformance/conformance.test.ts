import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ADAPTERS } from './adapters.js';
import type { RunningServer } from './harness.js';
import { PRESET_SETUP, PRESETS, SCENARIOS, type PresetName } from './scenarios.js';

// A guard must never throw outside a handler: a rejection nobody handles fails the scenario it
// happened in (the test runner alone only logs it).
const unhandled: unknown[] = [];
process.on('unhandledRejection', (reason) => void unhandled.push(reason));

for (const adapter of ADAPTERS) {
  describe(`conformance: ${adapter.name}`, () => {
    for (const preset of Object.keys(PRESETS) as PresetName[]) {
      const scenarios = SCENARIOS.filter((s) => s.preset === preset);
      if (scenarios.length === 0) continue;
      describe(`preset ${preset}`, () => {
        let server: RunningServer;
        before(async () => {
          server = await adapter.start(PRESETS[preset], PRESET_SETUP[preset]);
        });
        after(() => server.close());
        for (const scenario of scenarios) {
          test(scenario.name, async () => {
            await scenario.run({ url: server.url, options: PRESETS[preset], sessions: server.sessions });
            // Let a late rejection of this scenario's requests surface before judging.
            await new Promise((resolve) => setImmediate(resolve));
            assert.deepEqual(unhandled.splice(0), [], 'unhandled rejections');
          });
        }
      });
    }
  });
}
