import sharp from 'sharp';
import { FakeGemini } from './fakes/fake-gemini';
import { boothPost, dslrFields } from './support/booth';
import { jpeg } from './support/images';
import { TestApp } from './support/test-app';

describe('ingest smoke', () => {
  let app: TestApp;
  let gemini: FakeGemini;

  beforeAll(async () => {
    gemini = await FakeGemini.start();
    app = await TestApp.start({
      env: { GEMINI_BASE_URL: gemini.baseUrl, GEMINI_API_KEY: 'test-gemini-key' },
    });
    const token = await app.login();
    await app.request('PUT', '/api/settings', {
      token,
      json: { ingest_password: 'booth-password-1' },
    });
    const put = await app.request('PUT', '/api/slots/slot-001', {
      token,
      json: {
        display_name: 'Booth',
        provider: 'gemini',
        operation: 'image_edit',
        is_active: true,
        settings: { prompt: 'Put them on a beach' },
        template_media: [],
        version: 1,
      },
    });
    expect(put.status).toBe(200);
  });

  afterAll(async () => {
    await app.close();
    await gemini.close();
  });

  it('answers the edited photo', async () => {
    const photo = await jpeg(1200, 800);
    const response = await boothPost(`${app.url}/ingest/slot-001`, {
      fields: { ...dslrFields(), password: 'booth-password-1' },
      file: { bytes: photo },
    });
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('image/jpeg');
    expect(response.headers['x-job-id']).toBeDefined();
    const meta = await sharp(response.body).metadata();
    expect(meta.width).toBe(1200);
  });
});
