import { ProviderError } from '../provider-driver';
import {
  buildRequestBody,
  FACE_PRESERVING_INSTRUCTION,
  readErrorResponse,
  readGenerateContentResponse,
} from './gemini-protocol';
import { nearestAspectRatio } from './gemini.driver';

const KEY = 'AIzaTestKey-0123456789';

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

describe('nearestAspectRatio', () => {
  it.each([
    [3000, 2000, '3:2'],
    [2000, 3000, '2:3'],
    [1000, 1000, '1:1'],
    [1920, 1080, '16:9'],
    [1080, 1920, '9:16'],
    [4032, 3024, '4:3'],
    [2560, 1080, '21:9'],
    [6000, 1000, '21:9'],
    [1000, 6000, '9:16'],
    // 1.12 is nearer 1:1 on a linear scale but nearer 5:4 in log space.
    [112, 100, '5:4'],
  ])('%i x %i → %s', (width, height, expected) => {
    expect(nearestAspectRatio(width, height)).toBe(expected);
  });

  it('refuses dimensions that are not positive', () => {
    expect(() => nearestAspectRatio(0, 100)).toThrow(RangeError);
  });
});

describe('buildRequestBody', () => {
  it('sends each image once as base64 and puts the instruction before the prompt', () => {
    const image = (text: string, mimeType: 'image/jpeg' | 'image/png') => ({
      bytes: Buffer.from(text),
      mimeType,
      width: 1,
      height: 1,
    });

    const body = JSON.parse(
      buildRequestBody({
        photo: image('photo', 'image/jpeg'),
        templates: [image('first', 'image/png'), image('second', 'image/png')],
        prompt: 'A beach',
        aspectRatio: '4:3',
      }),
    );

    expect(body).toEqual({
      contents: [
        {
          role: 'user',
          parts: [
            {
              inlineData: { mimeType: 'image/jpeg', data: Buffer.from('photo').toString('base64') },
            },
            {
              inlineData: { mimeType: 'image/png', data: Buffer.from('first').toString('base64') },
            },
            {
              inlineData: { mimeType: 'image/png', data: Buffer.from('second').toString('base64') },
            },
            { text: `${FACE_PRESERVING_INSTRUCTION}\n\nA beach` },
          ],
        },
      ],
      generationConfig: { responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '4:3' } },
    });
  });
});

describe('readGenerateContentResponse', () => {
  const png = Buffer.from([0x89, 0x50, 0x4e, 0x47, 1, 2, 3]);

  it('takes the first inline image, even after a text part, with usage and the model', () => {
    const result = readGenerateContentResponse(
      answer({
        candidates: [
          {
            content: {
              parts: [
                { text: 'Here it is' },
                { inlineData: { mimeType: 'image/png', data: png.toString('base64') } },
                { inlineData: { mimeType: 'image/jpeg', data: 'AAAA' } },
              ],
            },
            finishReason: 'STOP',
          },
        ],
        usageMetadata: {
          promptTokenCount: 10,
          candidatesTokenCount: 20,
          totalTokenCount: 30,
          promptTokensDetails: [],
        },
      }),
      'gemini-3-pro-image',
      KEY,
    );

    expect(result).toEqual({
      bytes: png,
      mimeType: 'image/png',
      finishReason: 'STOP',
      usage: {
        promptTokenCount: 10,
        candidatesTokenCount: 20,
        totalTokenCount: 30,
        model: 'gemini-3-pro-image',
      },
    });
  });

  it.each([
    ['empty data', ''],
    ['characters outside base64', 'iVBO#R!!'],
    ['a length that is not a multiple of 4', 'iVBORw0'],
    ['padding in the middle', 'iV==BORw'],
  ])('refuses image data with %s as bad_response', (_, data) => {
    const error = failure(() =>
      readGenerateContentResponse(
        answer({
          candidates: [{ content: { parts: [{ inlineData: { mimeType: 'image/png', data } }] } }],
        }),
        'm',
        KEY,
      ),
    );
    expect(error.reason).toBe('bad_response');
  });

  it.each([
    ['not JSON', 'Internal <html>'],
    ['a JSON array', '[]'],
    ['no candidates and no block reason', '{"candidates":[]}'],
    [
      'inline data that is not an image',
      answer({
        candidates: [
          { content: { parts: [{ inlineData: { mimeType: 'text/plain', data: 'AAAA' } }] } },
        ],
      }),
    ],
  ])('maps %s to bad_response', (_, text) => {
    expect(failure(() => readGenerateContentResponse(text, 'm', KEY))).toMatchObject({
      reason: 'bad_response',
      retryable: false,
    });
  });

  it('maps a prompt block to blocked with its reason', () => {
    const error = failure(() =>
      readGenerateContentResponse(answer({ promptFeedback: { blockReason: 'OTHER' } }), 'm', KEY),
    );
    expect(error.reason).toBe('blocked');
    expect(error.details).toMatchObject({ finishReason: 'OTHER', retryable: false });
  });

  it('maps any reason other than STOP without an image to blocked', () => {
    const error = failure(() =>
      readGenerateContentResponse(
        answer({ candidates: [{ finishReason: 'MAX_TOKENS', finishMessage: 'Too long' }] }),
        'm',
        KEY,
      ),
    );
    expect(error.reason).toBe('blocked');
    expect(error.details).toMatchObject({
      finishReason: 'MAX_TOKENS',
      providerMessage: 'Too long',
    });
  });

  it('maps a text-only STOP answer to blocked NO_IMAGE carrying the text', () => {
    const error = failure(() =>
      readGenerateContentResponse(
        answer({
          candidates: [{ content: { parts: [{ text: 'I cannot' }] }, finishReason: 'STOP' }],
        }),
        'm',
        KEY,
      ),
    );
    expect(error.reason).toBe('blocked');
    expect(error.details).toMatchObject({ finishReason: 'NO_IMAGE', providerMessage: 'I cannot' });
  });
});

describe('readErrorResponse', () => {
  it('keeps the provider message without the key, cut to 500 characters', () => {
    const message = `API key ${KEY} is bad. ${'x'.repeat(2000)}`;
    const error = readErrorResponse(
      400,
      answer({ error: { code: 400, message, status: 'INVALID_ARGUMENT' } }),
      KEY,
    );

    expect(error.reason).toBe('provider_error');
    expect(error.details.providerMessage).toHaveLength(500);
    expect(error.details.providerMessage).toMatch(/^API key \[redacted\] is bad/);
    expect(JSON.stringify(error.details) + error.message).not.toContain(KEY);
  });

  it('treats a 429 mentioning a per-day limit as a daily quota, not worth retrying', () => {
    const error = readErrorResponse(
      429,
      answer({
        error: { message: 'Quota exceeded: requests per day', status: 'RESOURCE_EXHAUSTED' },
      }),
      KEY,
    );
    expect(error).toMatchObject({ reason: 'quota', retryable: false });
  });

  it('maps a 5xx that is not JSON (a proxy page) to provider_unavailable', () => {
    const error = readErrorResponse(502, '<html>Bad gateway</html>', KEY);
    expect(error).toMatchObject({ reason: 'provider_unavailable', retryable: true });
    expect(error.details).toMatchObject({ httpStatus: 502, providerMessage: undefined });
  });
});
