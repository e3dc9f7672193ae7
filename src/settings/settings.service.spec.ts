import { randomBytes } from 'node:crypto';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import { AppConfig } from '../config/app-config';
import { RuntimeSecrets } from '../config/runtime-secrets';
import { PasswordHasher } from './password-hasher';
import { SecretBox } from './secret-box';
import { SettingsRepository, StoredSettings } from './settings.repository';
import { SettingsService } from './settings.service';

/** Stands in for scrypt: a "hash" is the password with a salt, and every check is counted. */
class FakeHasher extends PasswordHasher {
  verifications = 0;

  override hash(password: string): Promise<string> {
    return Promise.resolve(`${randomBytes(4).toString('hex')}$${password}`);
  }

  override verify(password: string, encoded: string): Promise<boolean> {
    this.verifications += 1;
    return Promise.resolve(encoded.endsWith(`$${password}`));
  }
}

function setup() {
  const stored: StoredSettings = {
    version: 1,
    values: {},
    ingestPassword: null,
    providerKeys: {},
  };
  const repository = { load: () => Promise.resolve(structuredClone(stored)) };
  const hasher = new FakeHasher();
  const secrets = new RuntimeSecrets('jwt', randomBytes(32));
  const service = new SettingsService(
    repository as unknown as SettingsRepository,
    hasher,
    new SecretBox(secrets),
    secrets,
    { resultTtlHours: 72 } as AppConfig,
    new AppLogger('error', () => undefined),
    new Clock(),
  );
  const setPassword = async (password: string): Promise<void> => {
    stored.ingestPassword = {
      hash: await hasher.hash(password),
      rotatedAt: new Date(),
      rotatedBy: 'serg',
    };
  };
  return { service, hasher, setPassword };
}

describe('SettingsService.verifyIngestPassword', () => {
  it('answers not_set while no password exists', async () => {
    const { service, hasher } = setup();
    await expect(service.verifyIngestPassword('anything')).resolves.toBe('not_set');
    expect(hasher.verifications).toBe(0);
  });

  it('runs the slow hash once for a verified password, but every time for a wrong one', async () => {
    const { service, hasher, setPassword } = setup();
    await setPassword('booth-password');
    await expect(service.verifyIngestPassword('booth-password')).resolves.toBe('ok');
    await expect(service.verifyIngestPassword('booth-password')).resolves.toBe('ok');
    expect(hasher.verifications).toBe(1);
    await expect(service.verifyIngestPassword('booth-passwore')).resolves.toBe('wrong');
    await expect(service.verifyIngestPassword('booth-passwore')).resolves.toBe('wrong');
    expect(hasher.verifications).toBe(3);
  });

  it('shares one slow hash among shots arriving together with the same password', async () => {
    const { service, hasher, setPassword } = setup();
    await setPassword('booth-password');
    const right = Array.from({ length: 50 }, () => service.verifyIngestPassword('booth-password'));
    const wrong = Array.from({ length: 20 }, () => service.verifyIngestPassword('booth-passwore'));
    const other = service.verifyIngestPassword('guess');

    expect(await Promise.all(right)).toEqual(Array(50).fill('ok'));
    expect(await Promise.all(wrong)).toEqual(Array(20).fill('wrong'));
    await expect(other).resolves.toBe('wrong');
    expect(hasher.verifications).toBe(3);
    // Once settled, a wrong password is checked again (it is not remembered).
    await expect(service.verifyIngestPassword('booth-passwore')).resolves.toBe('wrong');
    expect(hasher.verifications).toBe(4);
  });

  it('forgets the verified password once the stored hash changes', async () => {
    const { service, hasher, setPassword } = setup();
    await setPassword('booth-password');
    await expect(service.verifyIngestPassword('booth-password')).resolves.toBe('ok');
    // Re-set to the same text: a new salt, so a new hash, so the slow check runs again.
    await setPassword('booth-password');
    await expect(service.verifyIngestPassword('booth-password')).resolves.toBe('ok');
    expect(hasher.verifications).toBe(2);
    await setPassword('another-password');
    await expect(service.verifyIngestPassword('booth-password')).resolves.toBe('wrong');
    expect(hasher.verifications).toBe(3);
  });
});
