import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { randomBytes } from 'node:crypto';
import { AuditRepository } from '../audit/audit.repository';
import { AppLogger } from '../common/app-logger';
import { Clock } from '../common/clock';
import { DomainError } from '../common/domain-error';
import { hashPassword, verifyPassword } from '../common/password-hash';
import type { AppConfig } from '../config/app-config';
import { InjectConfig } from '../config/config.tokens';
import { AdminAccounts } from './admin-accounts.service';
import { AdminAccount } from './credentials-file';
import { AuthenticatedAdmin } from './current-admin.decorator';
import { AccessTokenDto } from './dto/access-token.dto';
import {
  ANY_USERNAME,
  LoginThrottleRepository,
  ReservedAttempt,
  ThrottleRules,
} from './login-throttle.repository';

/** SPEC §6: 10 failures per username+IP within 15 min lock that pair for 15 min. */
export const LOGIN_THROTTLE: ThrottleRules = {
  maxFailures: 10,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
};

/**
 * Beside it, 50 failures from one IP within 15 min, whatever the usernames, lock that IP's
 * sign-ins for 15 min: otherwise each new username guessed buys 10 more guesses (and slow
 * hashes). The two real accounts lock at 10 each, so people typing their own names from one
 * address (a venue's shared Wi-Fi) stay far below it; successes do not count.
 */
export const LOGIN_IP_THROTTLE: ThrottleRules = {
  maxFailures: 50,
  windowMs: 15 * 60_000,
  lockMs: 15 * 60_000,
};

interface TokenClaims {
  sub: string;
  /** The account's token version when issued; a password change moves it on. */
  ver: number;
  iat: number;
  exp: number;
}

type FailureEvent = 'auth.login.failure' | 'auth.password_change.failure';

@Injectable()
export class AuthService {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly accounts: AdminAccounts,
    private readonly throttle: LoginThrottleRepository,
    private readonly jwt: JwtService,
    private readonly audit: AuditRepository,
    private readonly clock: Clock,
    private readonly logger: AppLogger,
    @InjectConfig() private readonly config: AppConfig,
  ) {}

  async login(username: string, password: string, ip: string): Promise<AccessTokenDto> {
    const account = await this.checkPassword(username, password, ip, 'auth.login.failure');
    this.logger.event('info', 'auth.login.success', { username, ip });
    await this.throttle.deleteExpired(this.clock.now(), LOGIN_THROTTLE.windowMs);
    return this.issueToken(account);
  }

  /** Changes the caller's password and answers a fresh token: every older one stops working. */
  async changePassword(
    username: string,
    currentPassword: string,
    newPassword: string,
    ip: string,
  ): Promise<AccessTokenDto> {
    await this.checkPassword(username, currentPassword, ip, 'auth.password_change.failure');
    const now = this.clock.now();
    const account = await this.accounts.setPassword(username, newPassword, now);
    await this.audit.record(
      {
        actor: username,
        entityType: 'account',
        entityId: username,
        action: 'password_changed',
        newValue: { password_changed_at: account.passwordChangedAt },
      },
      now,
    );
    this.logger.event('info', 'auth.password_change.success', { username, ip });
    return this.issueToken(account);
  }

  /** Judges a token whose signature passport-jwt has checked; expiry follows the Clock. */
  async authenticate(payload: unknown): Promise<AuthenticatedAdmin> {
    const claims = payload as Partial<TokenClaims> | null;
    if (
      typeof claims?.sub !== 'string' ||
      typeof claims.ver !== 'number' ||
      typeof claims.exp !== 'number'
    ) {
      throw unauthorized('The access token is not valid: sign in again');
    }
    if (claims.exp * 1000 <= this.clock.now().getTime()) {
      throw unauthorized('The access token has expired: sign in again');
    }
    const account = await this.accounts.find(claims.sub);
    if (!account) throw unauthorized('This account no longer exists');
    if (account.tokenVersion !== claims.ver) {
      throw unauthorized('The password was changed after this token was issued: sign in again');
    }
    return { username: account.username };
  }

  /**
   * The attempt is counted (for the IP, then for the pair) before the slow hash runs, so
   * parallel guesses cannot outrun either limit; a locked IP or pair is refused without looking
   * at the password at all.
   */
  private async checkPassword(
    username: string,
    password: string,
    ip: string,
    failureEvent: FailureEvent,
  ): Promise<AdminAccount> {
    const now = this.clock.now();
    const fromIp = await this.throttle.reserveAttempt(ANY_USERNAME, ip, now, LOGIN_IP_THROTTLE);
    if (fromIp.attempts > LOGIN_IP_THROTTLE.maxFailures) {
      this.logger.event('warn', failureEvent, { username, reason: 'ip_throttled', ip });
      throw throttled(fromIp, LOGIN_IP_THROTTLE, now);
    }
    const attempt = await this.throttle.reserveAttempt(username, ip, now, LOGIN_THROTTLE);
    if (attempt.attempts > LOGIN_THROTTLE.maxFailures) {
      this.logger.event('warn', failureEvent, { username, reason: 'throttled', ip });
      throw throttled(attempt, LOGIN_THROTTLE, now);
    }
    const account = await this.accounts.find(username);
    // Unknown names cost a hash too, so timing does not tell which usernames exist.
    const matches = await verifyPassword(
      password,
      account?.passwordHash ??
        (await (this.dummyHash ??= hashPassword(randomBytes(16).toString('hex')))),
    );
    if (!account || !matches) {
      this.logger.event('warn', failureEvent, {
        username,
        reason: account ? 'wrong_password' : 'unknown_user',
        ip,
        attempts: attempt.attempts,
      });
      throw new DomainError('invalid_credentials', 'Wrong username or password');
    }
    await this.throttle.reset(username, ip);
    await this.throttle.refund(ANY_USERNAME, ip);
    return account;
  }

  private async issueToken(account: AdminAccount): Promise<AccessTokenDto> {
    const iat = Math.floor(this.clock.now().getTime() / 1000);
    const expiresIn = this.config.jwtTtlHours * 3600;
    const claims: TokenClaims = {
      sub: account.username,
      ver: account.tokenVersion,
      iat,
      exp: iat + expiresIn,
    };
    return {
      access_token: await this.jwt.signAsync(claims),
      token_type: 'Bearer',
      expires_in: expiresIn,
    };
  }
}

function throttled(attempt: ReservedAttempt, rules: ThrottleRules, now: Date): DomainError {
  const lockedUntil = attempt.lockedUntil ?? new Date(now.getTime() + rules.lockMs);
  const retryAfter = Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000));
  return new DomainError('throttled', 'Too many failed sign-ins: try again later', {
    headers: { 'Retry-After': String(retryAfter) },
  });
}

function unauthorized(message: string): DomainError {
  return new DomainError('unauthorized', message);
}
