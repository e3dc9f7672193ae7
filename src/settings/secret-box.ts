import { Injectable } from '@nestjs/common';
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { RuntimeSecrets } from '../config/runtime-secrets';

const ALGORITHM = 'aes-256-gcm';
const ENVELOPE_VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SecretBoxError';
  }
}

/**
 * AES-256-GCM under SECRETS_KEY for secrets kept in the database.
 * Envelope: `v1:<iv>:<tag>:<ciphertext>` (base64url). The version prefix leaves room for a new
 * scheme or key without guessing what an old row holds. The context (e.g. the settings key) is
 * bound as associated data, so a ciphertext copied to another row does not open there.
 */
@Injectable()
export class SecretBox {
  constructor(private readonly secrets: RuntimeSecrets) {}

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, this.secrets.secretsKey, iv, {
      authTagLength: TAG_BYTES,
    });
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return [
      ENVELOPE_VERSION,
      iv.toString('base64url'),
      cipher.getAuthTag().toString('base64url'),
      data.toString('base64url'),
    ].join(':');
  }

  /** Throws SecretBoxError when the envelope is malformed, altered, or sealed under another key. */
  open(envelope: string, context: string): string {
    const [version, ivText, tagText, dataText, ...rest] = envelope.split(':');
    if (
      version !== ENVELOPE_VERSION ||
      rest.length > 0 ||
      !ivText ||
      !tagText ||
      dataText === undefined
    ) {
      throw new SecretBoxError('not a v1 secret envelope');
    }
    const iv = Buffer.from(ivText, 'base64url');
    const tag = Buffer.from(tagText, 'base64url');
    // GCM would accept a truncated tag; only the full length is ever written.
    if (iv.length !== IV_BYTES || tag.length !== TAG_BYTES) {
      throw new SecretBoxError('malformed secret envelope');
    }
    const decipher = createDecipheriv(ALGORITHM, this.secrets.secretsKey, iv, {
      authTagLength: TAG_BYTES,
    });
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(tag);
    try {
      const data = Buffer.from(dataText, 'base64url');
      return Buffer.concat([decipher.update(data), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError('secret envelope failed authentication (altered or another key)');
    }
  }
}
