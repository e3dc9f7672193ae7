// A booth shot through a Turbotext slot end to end (SPEC §4, §5, §7): the fake Turbotext fetches
// the guest photo and the template from our temporary public links, as the real service does.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { FakeTurbotext, TurbotextReply, type TurbotextQueue } from './fakes/fake-turbotext';
import { sql } from './support/database';
import { closeTo, jpeg, pixelAt, Rgb } from './support/images';
import {
  configureIngest,
  jobRow,
  RawJob,
  RunningClock,
  shoot,
  sleep,
  updateSettings,
} from './support/ingest-harness';
import { saveSlot, SlotBody } from './support/ingest-setup';
import { freePort } from './support/server-process';
import { TestApp } from './support/test-app';
import { dimensions, solidImage, TemplateDto, uploadTemplate } from './support/uploads';

const API_KEY = 'tt-test-key-0123456789abcdef';
const PROMPT = 'In the style of a watercolour postcard';
const ORANGE: Rgb = { r: 250, g: 140, b: 20 };
const GREEN: Rgb = { r: 0, g: 200, b: 0 };
const MAX_EDGE = 1024;

interface MediaObjectRow {
  id: string;
  kind: string;
  path: string;
  expires_at: Date;
  cleaned_at: Date | null;
}

// First, alone: passport's strategy registry is process-wide, so a second app started while
// another runs would take over its token checks.
describe('saving a Turbotext slot with a public PUBLIC_MEDIA_BASE_URL', () => {
  it('gives no warning', async () => {
    const publicApp = await TestApp.start({
      env: { PUBLIC_MEDIA_BASE_URL: 'https://booth.example.com' },
    });
    try {
      const token = await publicApp.login();
      const current = await publicApp.request('GET', '/api/slots/slot-001', { token });
      const saved = await publicApp.request('PUT', '/api/slots/slot-001', {
        token,
        json: {
          display_name: 'Turbotext booth',
          provider: 'turbotext',
          operation: 'image_edit',
          is_active: true,
          settings: { prompt: PROMPT },
          template_media: [],
          version: current.body.version,
        },
      });
      expect(saved.status).toBe(200);
      expect(saved.body).toMatchObject({ provider: 'turbotext', is_active: true });
      expect(saved.body.warnings ?? []).toEqual([]);
    } finally {
      await publicApp.close();
    }
  });
});

describe('ingest through Turbotext', () => {
  let turbotext: FakeTurbotext;
  let app: TestApp;
  let token: string;
  let base: string;
  let style: TemplateDto;
  let body: TemplateDto;
  let photo: Buffer;
  let edited: Buffer;

  const storedTemplate = (template: TemplateDto) =>
    readFile(path.join(app.config.mediaRoot, 'templates', `${template.id}.png`));

  const slot = (overrides: SlotBody): SlotBody => ({
    display_name: 'Turbotext booth',
    provider: 'turbotext',
    is_active: true,
    settings: {},
    template_media: [],
    ...overrides,
  });

  const styleSlot = (): SlotBody =>
    slot({
      operation: 'style_transfer',
      settings: { prompt: PROMPT },
      template_media: [{ media_kind: 'style', template_media_id: style.id }],
    });

  /** The one queue the shot created. */
  const onlyQueue = (): TurbotextQueue => {
    expect(turbotext.queues.length).toBe(1);
    return turbotext.queues[0];
  };

  const jobOf = async (jobId: string) =>
    (await jobRow(app, jobId)) as RawJob & { provider_job_reference: string | null };

  const jobMedia = (jobId: string) =>
    sql<MediaObjectRow & Record<string, unknown>>(
      app.databaseUrl,
      'SELECT id, kind, path, expires_at, cleaned_at FROM media_object WHERE job_id = $1 ORDER BY kind',
      [jobId],
    );

  /** The job's links answer 410 from the moment it ended, and their files are gone. */
  async function expectLinksReleased(jobId: string, queue: TurbotextQueue): Promise<void> {
    for (const input of Object.values(queue.inputs)) {
      const response = await fetch(input.url);
      expect([input.field, response.status]).toEqual([input.field, 410]);
      expect(await response.json()).toMatchObject({ failure_reason: 'media_expired' });
    }
    const rows = await jobMedia(jobId);
    expect(rows).toHaveLength(Object.keys(queue.inputs).length);
    for (const row of rows) {
      expect(row.cleaned_at).toBeInstanceOf(Date);
      expect(existsSync(path.join(app.config.mediaRoot, row.path))).toBe(false);
    }
  }

  beforeAll(async () => {
    turbotext = await FakeTurbotext.start({ apiKey: API_KEY });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await TestApp.start({
      port,
      clock: new RunningClock(),
      env: {
        PUBLIC_MEDIA_BASE_URL: base,
        TURBOTEXT_BASE_URL: turbotext.baseUrl,
        TURBOTEXT_API_KEY: API_KEY,
      },
    });
    token = await configureIngest(app, { settings: { provider_max_edge_px: MAX_EDGE } });
    style = await uploadTemplate(app, token, await solidImage(640, 480, GREEN), {
      media_kind: 'style',
    });
    body = await uploadTemplate(app, token, await solidImage(480, 640, ORANGE), {
      media_kind: 'base',
    });
    photo = await jpeg(3000, 2000);
    edited = await solidImage(500, 400, ORANGE, 'png');
  });

  beforeEach(() => {
    turbotext.reset();
  });

  afterAll(async () => {
    await app?.close();
    await turbotext?.close();
  });

  it('style_transfer: mix_images fetches the photo and the style, the booth gets the result', async () => {
    await saveSlot(app, token, 'slot-001', styleSlot());
    turbotext.enqueue({ reconnects: 1, result: TurbotextReply.image(edited, 'image/png') });

    const answer = await shoot(app, 'slot-001', photo);

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('image/jpeg');
    expect(await dimensions(answer.body)).toEqual({ width: 500, height: 400, format: 'jpeg' });
    expect(closeTo(await pixelAt(answer.body, 250, 200), ORANGE)).toBe(true);

    const queue = onlyQueue();
    expect(queue.method).toBe('mix_images');
    expect(queue.fields.content).toBe(PROMPT);
    expect(queue.fields.url_image_target).toMatch(`${base}/public/provider-media/`);
    expect(queue.fields.url).toMatch(`${base}/public/provider-media/`);
    expect(queue.photo).toMatchObject({ field: 'url_image_target', status: 200 });
    expect(queue.photo?.mimeType).toBe('image/jpeg');
    expect(await dimensions(queue.photo?.bytes ?? Buffer.alloc(0))).toEqual({
      width: MAX_EDGE,
      height: Math.round((2000 * MAX_EDGE) / 3000),
      format: 'jpeg',
    });
    expect(queue.template).toMatchObject({ field: 'url', status: 200, mimeType: 'image/png' });
    expect(queue.template?.bytes?.equals(await storedTemplate(style))).toBe(true);

    const jobId = String(answer.headers['x-job-id']);
    const job = await jobOf(jobId);
    expect(job).toMatchObject({ status: 'completed', provider_job_reference: queue.id });
    const rows = await jobMedia(jobId);
    expect(rows.map((row) => row.kind)).toEqual(['ingest', 'template_link']);
    // Published for this job only, for at most its deadline.
    for (const row of rows)
      expect(row.expires_at.getTime()).toBeLessThanOrEqual(job.deadline_at.getTime() + 1_000);
    await expectLinksReleased(jobId, queue);
  });

  it('identity_transfer: deepfake_photo gets the base photo as url and face_restore', async () => {
    const identity = (settings: Record<string, unknown>) =>
      slot({
        operation: 'identity_transfer',
        settings,
        template_media: [{ media_kind: 'base', template_media_id: body.id }],
      });
    const sent: Array<string | undefined> = [];
    for (const settings of [{}, { face_restore: false }, { face_restore: true }]) {
      await saveSlot(app, token, 'slot-002', identity(settings));
      turbotext.reset();
      const answer = await shoot(app, 'slot-002', photo);
      expect(answer.status).toBe(200);

      const queue = onlyQueue();
      expect(queue.method).toBe('deepfake_photo');
      sent.push(queue.fields.face_restore);
      expect(queue.template).toMatchObject({ field: 'url', status: 200 });
      expect(queue.template?.bytes?.equals(await storedTemplate(body))).toBe(true);
      expect(queue.photo).toMatchObject({ field: 'url_image_target', status: 200 });
      expect((await dimensions(queue.photo?.bytes ?? Buffer.alloc(0))).width).toBe(MAX_EDGE);
      expect(queue.fields.content).toBeUndefined();
    }
    expect(sent).toEqual(['True', 'False', 'True']);
  });

  it('image_edit: generate_image2image gets the photo as url, the prompt and its options', async () => {
    const sent: Array<Record<string, string>> = [];
    for (const settings of [
      { prompt: PROMPT },
      {
        prompt: PROMPT,
        strength: 65,
        negative_prompt: 'blurry, extra fingers',
        seed: 42,
        scale: 7.5,
      },
    ]) {
      await saveSlot(app, token, 'slot-003', slot({ operation: 'image_edit', settings }));
      turbotext.reset();
      const answer = await shoot(app, 'slot-003', photo);
      expect(answer.status).toBe(200);

      const queue = onlyQueue();
      expect(queue.method).toBe('generate_image2image');
      expect(Object.keys(queue.inputs)).toEqual(['url']);
      expect(queue.photo).toMatchObject({ field: 'url', status: 200, mimeType: 'image/jpeg' });
      expect((await dimensions(queue.photo?.bytes ?? Buffer.alloc(0))).width).toBe(MAX_EDGE);
      const { do: action, url, ...fields } = queue.fields;
      expect([action, url]).toEqual(['create_queue', queue.photo?.url]);
      sent.push(fields);
    }
    expect(sent).toEqual([
      { content: PROMPT, strength: '40' },
      {
        content: PROMPT,
        strength: '65',
        negative_prompt: 'blurry, extra fingers',
        seed: '42',
        scale: '7.5',
      },
    ]);
  });

  describe('failures', () => {
    beforeAll(() => saveSlot(app, token, 'slot-004', styleSlot()));

    const failedShot = async (status: number, reason: string) => {
      const answer = await shoot(app, 'slot-004', photo);
      expect([answer.status, answer.json?.failure_reason]).toEqual([status, reason]);
      const jobId = answer.json.job_id as string;
      return { job: await jobOf(jobId), jobId };
    };

    it('forbidden_content → 502 blocked, links released', async () => {
      turbotext.respondWith({ result: TurbotextReply.forbidden() });
      const { job, jobId } = await failedShot(502, 'blocked');
      expect(job).toMatchObject({ status: 'failed_provider', failure_reason: 'blocked' });
      await expectLinksReleased(jobId, onlyQueue());
    });

    it('{"success":false} → 502 provider_error', async () => {
      turbotext.respondWith({ result: TurbotextReply.refused('Недостаточно средств на балансе') });
      const { job } = await failedShot(502, 'provider_error');
      expect(job).toMatchObject({ status: 'failed_provider', failure_reason: 'provider_error' });
      expect(job.provider_message).toContain('Недостаточно средств');
      onlyQueue();
    });

    it('a result link answering 404 → 502 bad_response', async () => {
      turbotext.respondWith({ result: TurbotextReply.missingImage() });
      const { job } = await failedShot(502, 'bad_response');
      expect(job).toMatchObject({ status: 'failed_provider', failure_reason: 'bad_response' });
      expect(turbotext.downloads.map((download) => download.status)).toEqual([404]);
    });

    it('a queue that never finishes → 504 at the deadline, and no poll after it', async () => {
      await updateSettings(app, token, { sync_response_seconds: 10 });
      try {
        turbotext.respondWith({ reconnects: Infinity });
        const started = Date.now();
        const { job, jobId } = await failedShot(504, 'timeout');
        const elapsed = Date.now() - started;

        expect(elapsed).toBeGreaterThanOrEqual(9_500);
        expect(elapsed).toBeLessThanOrEqual(11_500);
        expect(job).toMatchObject({ status: 'failed_timeout', failure_reason: 'timeout' });
        const queue = onlyQueue();
        expect(job.provider_job_reference).toBe(queue.id);
        const polls = turbotext.requestsFor('get_result').length;
        expect(polls).toBeGreaterThanOrEqual(5);
        await sleep(2_000);
        expect(turbotext.requestsFor('get_result').length).toBe(polls);
        expect(turbotext.requests.length).toBe(polls + 1);
        await expectLinksReleased(jobId, queue);
      } finally {
        await updateSettings(app, token, { sync_response_seconds: 48 });
      }
    });
  });

  describe('saving a Turbotext slot', () => {
    const put = async (target: TestApp, adminToken: string, slotId: string, json: SlotBody) => {
      const current = await target.request('GET', `/api/slots/${slotId}`, { token: adminToken });
      return target.request('PUT', `/api/slots/${slotId}`, {
        token: adminToken,
        json: { ...json, version: current.body.version },
      });
    };

    it('warns when an active slot depends on a loopback PUBLIC_MEDIA_BASE_URL', async () => {
      const active = await put(app, token, 'slot-005', styleSlot());
      expect(active.status).toBe(200);
      expect(active.body.warnings).toEqual([expect.stringContaining(base)]);
      expect(active.body.warnings[0]).toContain('PUBLIC_MEDIA_BASE_URL');

      const inactive = await put(app, token, 'slot-005', { ...styleSlot(), is_active: false });
      expect(inactive.status).toBe(200);
      expect(inactive.body.warnings ?? []).toEqual([]);
    });

    it('refuses an operation without its required template with 422', async () => {
      const cases: Array<[string, SlotBody['template_media']]> = [
        ['style_transfer', []],
        ['identity_transfer', []],
        ['identity_transfer', [{ media_kind: 'style', template_media_id: style.id }]],
      ];
      for (const [operation, templates] of cases) {
        const response = await put(
          app,
          token,
          'slot-006',
          slot({ operation, settings: {}, template_media: templates }),
        );
        expect([operation, response.status]).toEqual([operation, 422]);
        expect(response.body).toMatchObject({ failure_reason: 'validation_failed' });
        expect(response.body.errors.template_media).toEqual(expect.any(String));
      }
      const unchanged = await app.request('GET', '/api/slots/slot-006', { token });
      expect(unchanged.body.provider).toBeNull();
    });
  });
});
