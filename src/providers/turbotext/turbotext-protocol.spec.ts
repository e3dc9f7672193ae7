import { ProviderError } from '../provider-driver';
import {
  callFor,
  createQueueFields,
  readCreateQueueAnswer,
  readHttpError,
  readResultAnswer,
  resolveResultUrl,
  resultLocation,
  resultMimeType,
} from './turbotext-protocol';
import { PROVIDER_MESSAGE_MAX_CHARS } from '../wire';

const KEY = 'tt-secret-key-0123456789';
const BASE = 'https://www.turbotext.ru/api_ai';
const PHOTO = 'https://booth.example/public/provider-media/photo';
const TEMPLATE = 'https://booth.example/public/provider-media/template';

function failure(run: () => unknown): ProviderError {
  try {
    run();
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error('expected a ProviderError');
}

const answer = (body: unknown) => JSON.stringify(body);

describe('callFor', () => {
  it('maps each operation to its method and the template it needs', () => {
    expect(callFor('style_transfer')).toEqual({ method: 'mix_images', template: 'style' });
    expect(callFor('identity_transfer')).toEqual({ method: 'deepfake_photo', template: 'base' });
    expect(callFor('image_edit')).toEqual({ method: 'generate_image2image' });
    expect(callFor('toString')).toBeUndefined();
  });
});

describe('createQueueFields', () => {
  const urls = { photo: PHOTO, template: TEMPLATE };

  it('style_transfer: the guest photo is the target, the style template is `url`', () => {
    expect(createQueueFields('style_transfer', { prompt: 'oil painting' }, urls)).toEqual({
      do: 'create_queue',
      url_image_target: PHOTO,
      url: TEMPLATE,
      content: 'oil painting',
    });
  });

  it('style_transfer: an empty or missing prompt sends no `content`', () => {
    expect(createQueueFields('style_transfer', { prompt: '  ' }, urls)).not.toHaveProperty(
      'content',
    );
    expect(createQueueFields('style_transfer', {}, urls)).toEqual({
      do: 'create_queue',
      url_image_target: PHOTO,
      url: TEMPLATE,
    });
  });

  it('identity_transfer: the body photo is `url`, the guest face the target', () => {
    expect(createQueueFields('identity_transfer', {}, urls)).toEqual({
      do: 'create_queue',
      url: TEMPLATE,
      url_image_target: PHOTO,
      face_restore: 'True',
    });
    expect(createQueueFields('identity_transfer', { face_restore: false }, urls)).toMatchObject({
      face_restore: 'False',
    });
    expect(createQueueFields('identity_transfer', { face_restore: true }, urls)).toMatchObject({
      face_restore: 'True',
    });
  });

  it('image_edit: the guest photo is `url`, strength defaults to 40, options only when set', () => {
    expect(createQueueFields('image_edit', { prompt: 'a beach' }, { photo: PHOTO })).toEqual({
      do: 'create_queue',
      url: PHOTO,
      content: 'a beach',
      strength: '40',
    });
    expect(
      createQueueFields(
        'image_edit',
        { prompt: 'a beach', strength: 0, negative_prompt: 'blur', seed: 42, scale: 7.5 },
        { photo: PHOTO },
      ),
    ).toEqual({
      do: 'create_queue',
      url: PHOTO,
      content: 'a beach',
      strength: '0',
      negative_prompt: 'blur',
      seed: '42',
      scale: '7.5',
    });
  });

  it('refuses a missing template, a missing image_edit prompt and unknown operations', () => {
    for (const run of [
      () => createQueueFields('style_transfer', {}, { photo: PHOTO }),
      () => createQueueFields('identity_transfer', {}, { photo: PHOTO }),
      () => createQueueFields('image_edit', {}, { photo: PHOTO }),
      () => createQueueFields('face_swap', {}, urls),
    ]) {
      expect(failure(run)).toMatchObject({ reason: 'provider_error', retryable: false });
    }
  });
});

describe('readCreateQueueAnswer', () => {
  it('returns the queue id as text', () => {
    expect(readCreateQueueAnswer(answer({ success: true, queueid: 731001 }), KEY)).toBe('731001');
    expect(readCreateQueueAnswer(answer({ success: true, queueid: '77' }), KEY)).toBe('77');
  });

  it('maps a refusal to provider_error with its message, the key removed', () => {
    const error = failure(() =>
      readCreateQueueAnswer(answer({ success: false, error: `Bad key ${KEY}` }), KEY),
    );
    expect(error).toMatchObject({ reason: 'provider_error', retryable: false });
    expect(error.details.providerMessage).toBe('Bad key [redacted]');
    expect(error.message).not.toContain(KEY);
  });

  it.each([
    ['not JSON', '<html>502</html>'],
    ['no queue id', answer({ success: true })],
    ['a queue id that is not one', answer({ success: true, queueid: { id: 1 } })],
  ])('maps %s to bad_response', (_, text) => {
    expect(failure(() => readCreateQueueAnswer(text, KEY)).reason).toBe('bad_response');
  });
});

describe('resultLocation', () => {
  it('prefers the top-level uploaded_image, then data.uploaded_image, then data.image[0]', () => {
    expect(
      resultLocation({
        uploaded_image: 'a.png',
        data: { uploaded_image: 'b.png', image: ['c.png'] },
      }),
    ).toBe('a.png');
    expect(
      resultLocation({ uploaded_image: '', data: { uploaded_image: 'b.png', image: ['c.png'] } }),
    ).toBe('b.png');
    expect(resultLocation({ data: { image: ['c.png', 'd.png'] } })).toBe('c.png');
    expect(resultLocation({ data: { image: [] } })).toBeUndefined();
    expect(resultLocation({})).toBeUndefined();
  });
});

describe('resolveResultUrl', () => {
  it.each([
    ['https://cdn.turbotext.ru/x/1.png', 'https://cdn.turbotext.ru/x/1.png'],
    ['/image/generate/1.png', 'https://www.turbotext.ru/image/generate/1.png'],
    ['image/generate/1.png', 'https://www.turbotext.ru/image/generate/1.png'],
    ['//cdn.turbotext.ru/1.png', 'https://cdn.turbotext.ru/1.png'],
    [' /a b.png ', 'https://www.turbotext.ru/a%20b.png'],
  ])('%s → %s (relative to the site root, not /api_ai)', (location, expected) => {
    expect(resolveResultUrl(location, BASE)).toBe(expected);
  });

  it('keeps the port of a local base', () => {
    expect(resolveResultUrl('/generated/1.png', 'http://127.0.0.1:4321/api_ai')).toBe(
      'http://127.0.0.1:4321/generated/1.png',
    );
  });

  it.each(['data:image/png;base64,AAAA', 'file:///etc/passwd', 'javascript:alert(1)'])(
    'refuses %s',
    (location) => {
      expect(failure(() => resolveResultUrl(location, BASE)).reason).toBe('bad_response');
    },
  );
});

describe('readResultAnswer', () => {
  it('reads `reconnect` as pending', () => {
    expect(readResultAnswer(answer({ action: 'reconnect' }), BASE, KEY)).toEqual({ done: false });
  });

  it('resolves the done answer to an absolute URL', () => {
    expect(
      readResultAnswer(
        answer({ success: true, error: '', data: { image: ['/generated/9.png'] } }),
        BASE,
        KEY,
      ),
    ).toEqual({ done: true, imageUrl: 'https://www.turbotext.ru/generated/9.png' });
  });

  it('maps forbidden content to blocked, before anything else in the answer', () => {
    const error = failure(() =>
      readResultAnswer(
        answer({ success: true, data: { forbidden_content: true }, uploaded_image: '/x.png' }),
        BASE,
        KEY,
      ),
    );
    expect(error).toMatchObject({ reason: 'blocked', retryable: false });
    expect(error.details.finishReason).toBe('forbidden_content');
  });

  it('maps a refusal to provider_error, its message cut to what the job keeps', () => {
    const long = 'x'.repeat(PROVIDER_MESSAGE_MAX_CHARS + 50);
    const error = failure(() =>
      readResultAnswer(answer({ success: false, error: long }), BASE, KEY),
    );
    expect(error).toMatchObject({ reason: 'provider_error', retryable: false });
    expect(error.details.providerMessage).toHaveLength(PROVIDER_MESSAGE_MAX_CHARS);
  });

  it.each([
    ['not JSON', '{"success":tr'],
    ['a JSON array', '[]'],
    ['no status', answer({ data: {} })],
    ['a done answer without an image', answer({ success: true, error: '', data: {} })],
  ])('maps %s to bad_response', (_, text) => {
    expect(failure(() => readResultAnswer(text, BASE, KEY)).reason).toBe('bad_response');
  });
});

describe('readHttpError', () => {
  it.each([
    [401, 'provider_error', false],
    [403, 'provider_error', false],
    [404, 'provider_error', false],
    [429, 'quota', true],
    [500, 'provider_unavailable', true],
    [503, 'provider_unavailable', true],
  ])('HTTP %i → %s (retryable: %s)', (status, reason, retryable) => {
    const error = readHttpError(status, answer({ success: false, error: `no ${KEY}` }), KEY);
    expect(error).toMatchObject({ reason, retryable });
    expect(error.details).toMatchObject({ httpStatus: status, providerMessage: 'no [redacted]' });
  });
});

describe('resultMimeType', () => {
  const png = Buffer.from('89504e470d0a1a0a0000', 'hex');
  const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex');
  const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]);

  it('takes a declared image type, else sniffs the bytes', () => {
    expect(resultMimeType('image/PNG; charset=binary', jpeg)).toBe('image/png');
    expect(resultMimeType('application/octet-stream', jpeg)).toBe('image/jpeg');
    expect(resultMimeType(null, png)).toBe('image/png');
    expect(resultMimeType(null, webp)).toBe('image/webp');
    expect(resultMimeType('text/html', Buffer.from('<html>'))).toBeUndefined();
  });
});
