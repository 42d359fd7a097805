import { after, before, describe, test } from 'node:test';
import { ADAPTERS } from './adapters.js';
import type { RunningServer } from './harness.js';
import { PRESETS, SCENARIOS, type PresetName } from './scenarios.js';

for (const adapter of ADAPTERS) {
  describe(`conformance: ${adapter.name}`, () => {
    for (const preset of Object.keys(PRESETS) as PresetName[]) {
      const scenarios = SCENARIOS.filter((s) => s.preset === preset);
      if (scenarios.length === 0) continue;
      describe(`preset ${preset}`, () => {
        let server: RunningServer;
        before(async () => {
          server = await adapter.start(PRESETS[preset]);
        });
        after(() => server.close());
        for (const scenario of scenarios) {
          test(scenario.name, () => scenario.run({ url: server.url, options: PRESETS[preset] }));
        }
      });
    }
  });
}
