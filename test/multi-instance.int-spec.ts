import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import {
  configureGeminiSlot,
  configureIngest,
  shoot,
  updateSettings,
} from './support/ingest-harness';
import { jpeg } from './support/images';
import { TestApp } from './support/test-app';

/** Two app instances on one database and one data folder, as behind a load balancer. */
describe('two instances', () => {
  let gemini: FakeGemini;
  let first: TestApp;
  let second: TestApp;

  beforeAll(async () => {
    gemini = await FakeGemini.start();
    const env = { GEMINI_BASE_URL: gemini.baseUrl, GEMINI_API_KEY: 'multi-gemini-key' };
    first = await TestApp.start({ env });
    second = await TestApp.start({ env, databaseUrl: first.databaseUrl, dataDir: first.dataDir });
    const token = await configureIngest(first);
    await updateSettings(first, token, { slot_concurrency: 1 });
    await configureGeminiSlot(first, token, 'slot-001');
  });

  afterAll(async () => {
    await second.close(true);
    await first.close();
    await gemini.close();
  });

  it('share one per-slot limit and see each other’s settings', async () => {
    const held = GeminiReply.held();
    gemini.respondWith(held);
    const photo = await jpeg(400, 300);
    const running = shoot(first, 'slot-001', photo);
    await held.reached;

    // The slot is full on the first instance: the second refuses too.
    const refused = await shoot(second, 'slot-001', photo);
    expect(refused.status).toBe(429);
    expect(refused.json.failure_reason).toBe('slot_busy');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);

    held.release();
    expect((await running).status).toBe(200);
    gemini.respondWith(GeminiReply.echoPhoto());
    expect((await shoot(second, 'slot-001', photo)).status).toBe(200);
  });
});
