import { randomBytes } from 'node:crypto';
import { RuntimeSecrets } from '../config/runtime-secrets';
import { SecretBox } from './secret-box';

const boxWith = (key: Buffer): SecretBox => new SecretBox(new RuntimeSecrets('jwt', key));

describe('SecretBox', () => {
  const key = randomBytes(32);
  const box = boxWith(key);

  it('opens what it sealed, and seals the same text differently each time', () => {
    const first = box.seal('AIza-secret-key', 'provider_key.gemini');
    const second = box.seal('AIza-secret-key', 'provider_key.gemini');
    expect(first).toMatch(/^v1:/);
    expect(first).not.toContain('AIza-secret-key');
    expect(second).not.toBe(first);
    expect(box.open(first, 'provider_key.gemini')).toBe('AIza-secret-key');
  });

  it('refuses an altered envelope or one moved to another context', () => {
    const sealed = box.seal('AIza-secret-key', 'provider_key.gemini');
    const [version, iv, tag, data] = sealed.split(':') as [string, string, string, string];
    const flipped = Buffer.from(data, 'base64url');
    flipped[0] ^= 1;
    expect(() =>
      box.open([version, iv, tag, flipped.toString('base64url')].join(':'), 'provider_key.gemini'),
    ).toThrow(/authentication/);
    expect(() => box.open([version, iv, tag.slice(0, 8), data].join(':'), 'x')).toThrow();
    expect(() => box.open(sealed, 'provider_key.turbotext')).toThrow(/authentication/);
  });

  it('refuses an envelope sealed under another key', () => {
    const sealed = boxWith(randomBytes(32)).seal('AIza-secret-key', 'provider_key.gemini');
    expect(() => box.open(sealed, 'provider_key.gemini')).toThrow(/authentication/);
  });
});
