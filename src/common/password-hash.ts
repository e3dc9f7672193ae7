import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';

// OWASP's scrypt floor (N=2^17, r=8, p=1): ~100 ms and 128 MiB per hash.
const PARAMS = { N: 2 ** 17, r: 8, p: 1 } as const;
const KEY_LENGTH = 32;

/**
 * Derivations run one at a time: each takes 128 MiB and a thread of the libuv pool the photos
 * need, so a burst of sign-ins or of booths on a fresh server must not take 4 × 128 MiB at once.
 */
let lastDerivation: Promise<unknown> = Promise.resolve();

function derive(
  password: string,
  salt: Buffer,
  params: { N: number; r: number; p: number },
): Promise<Buffer> {
  const options: ScryptOptions = { ...params, maxmem: 256 * 1024 * 1024 };
  const run = () =>
    new Promise<Buffer>((resolve, reject) =>
      scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) =>
        error ? reject(error) : resolve(key),
      ),
    );
  const derivation = lastDerivation.then(run, run);
  lastDerivation = derivation.catch(() => undefined);
  return derivation;
}

/** A salted slow hash: `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, PARAMS);
  return [
    'scrypt',
    PARAMS.N,
    PARAMS.r,
    PARAMS.p,
    salt.toString('base64url'),
    key.toString('base64url'),
  ].join('$');
}

/**
 * Constant-time check; false (never a throw) for malformed hashes. A password with a NUL never
 * matches: scrypt's HMAC pads short keys with zeros, so `secret` and `secret\0` hash alike.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = encoded.split('$');
  if (scheme !== 'scrypt' || !salt || !hash || password.includes('\0')) return false;
  const expected = Buffer.from(hash, 'base64url');
  const key = await derive(password, Buffer.from(salt, 'base64url'), {
    N: Number(n),
    r: Number(r),
    p: Number(p),
  });
  return key.length === expected.length && timingSafeEqual(key, expected);
}
