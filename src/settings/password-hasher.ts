import { Injectable } from '@nestjs/common';
import { hashPassword, verifyPassword } from '../common/password-hash';

/** The slow salted hash behind the ingest password; a class so specs can count its calls. */
@Injectable()
export class PasswordHasher {
  hash(password: string): Promise<string> {
    return hashPassword(password);
  }

  verify(password: string, encoded: string): Promise<boolean> {
    return verifyPassword(password, encoded);
  }
}
