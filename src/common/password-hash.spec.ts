import { hashPassword, verifyPassword } from './password-hash';

/** scrypt as it is, counting how many derivations run at once. */
const derivations = { running: 0, most: 0, calls: 0 };
jest.mock('node:crypto', () => {
  const actual = jest.requireActual<typeof import('node:crypto')>('node:crypto');
  return {
    ...actual,
    scrypt: (...args: unknown[]) => {
      const callback = args.pop() as (error: Error | null, key: Buffer) => void;
      derivations.calls += 1;
      derivations.running += 1;
      derivations.most = Math.max(derivations.most, derivations.running);
      (actual.scrypt as (...a: unknown[]) => void)(...args, (error: Error | null, key: Buffer) => {
        derivations.running -= 1;
        callback(error, key);
      });
    },
  };
});

describe('password hashes', () => {
  it('verifies the password it hashed, and nothing else', async () => {
    const encoded = await hashPassword('booth-password');
    expect(encoded).toMatch(/^scrypt\$131072\$8\$1\$[\w-]+\$[\w-]+$/);
    await expect(verifyPassword('booth-password', encoded)).resolves.toBe(true);
    await expect(verifyPassword('booth-passwore', encoded)).resolves.toBe(false);
    await expect(verifyPassword('booth-password\0', encoded)).resolves.toBe(false);
    await expect(verifyPassword('booth-password', 'md5$abc')).resolves.toBe(false);
  });

  it('derives one key at a time, since each takes 128 MiB', async () => {
    const encoded = await hashPassword('booth-password');
    Object.assign(derivations, { running: 0, most: 0, calls: 0 });

    const checks = await Promise.all(
      ['booth-password', 'x', 'booth-password', 'y'].map((password) =>
        verifyPassword(password, encoded),
      ),
    );

    expect(checks).toEqual([true, false, true, false]);
    expect(derivations.calls).toBe(4);
    expect(derivations.most).toBe(1);
  });
});
