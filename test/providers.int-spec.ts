import { TestApp } from './support/test-app';

describe('providers API', () => {
  let app: TestApp;

  afterEach(async () => {
    await app.close();
  });

  it('lists the catalogue the slot form is built from, admins only', async () => {
    app = await TestApp.start();
    expect((await app.request('GET', '/api/providers')).status).toBe(401);

    const response = await app.request('GET', '/api/providers', { token: await app.login() });

    expect(response.status).toBe(200);
    const [gemini, turbotext] = response.body;
    expect(gemini).toEqual({
      id: 'gemini',
      name: 'Google Gemini',
      configured: false,
      operations: [
        {
          id: 'image_edit',
          name: expect.any(String),
          required_templates: [],
          optional_templates: ['style', 'base', 'background', 'reference', 'overlay'],
          max_templates_per_kind: null,
          settings_schema: expect.objectContaining({
            type: 'object',
            additionalProperties: false,
            required: ['prompt'],
          }),
        },
      ],
    });
    expect(Object.keys(gemini.operations[0].settings_schema.properties)).toEqual([
      'prompt',
      'model',
      'fallback_model',
      'aspect_ratio',
      'output_format',
      'output_long_edge_px',
    ]);
    expect(turbotext.id).toBe('turbotext');
    expect(turbotext.configured).toBe(false);
    expect(
      turbotext.operations.map((operation: any) => [operation.id, operation.required_templates]),
    ).toEqual([
      ['style_transfer', ['style']],
      ['identity_transfer', ['base']],
      ['image_edit', []],
    ]);
    expect(turbotext.operations[2].settings_schema.properties.strength).toMatchObject({
      minimum: 0,
      maximum: 80,
      default: 40,
    });
  });

  it('reports a provider as configured when its key is in the environment', async () => {
    app = await TestApp.start({ env: { GEMINI_API_KEY: 'test-gemini-key' } });

    const response = await app.request('GET', '/api/providers', { token: await app.login() });

    expect(response.body.map((provider: any) => [provider.id, provider.configured])).toEqual([
      ['gemini', true],
      ['turbotext', false],
    ]);
  });
});
