import { QueryFailedError } from 'typeorm';
import { DomainError, statusOf } from '../common/domain-error';
import { databaseUnavailable, isDatabaseUnavailable } from './database-errors';

const coded = (code: string, message = code) => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable', () => {
  it('recognises PostgreSQL stopped, restarting or cut off, however pg and TypeORM wrap it', () => {
    const unavailable = [
      coded('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'),
      coded('ECONNRESET'),
      coded('57P01', 'terminating connection due to administrator command'),
      coded('57P03', 'the database system is starting up'),
      coded('08006', 'connection failure'),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
      new QueryFailedError('SELECT 1', [], coded('57P01')),
      new QueryFailedError('SELECT 1', [], new Error('Connection terminated unexpectedly')),
      new AggregateError([coded('ECONNREFUSED'), coded('ECONNREFUSED')], 'connect failed'),
      new Error('outer', { cause: coded('ECONNREFUSED') }),
    ];
    for (const error of unavailable)
      expect([error.message, isDatabaseUnavailable(error)]).toEqual([error.message, true]);
  });

  it('leaves refused queries and everything else alone', () => {
    const others: unknown[] = [
      new QueryFailedError('INSERT', [], coded('23505', 'duplicate key value')),
      coded('22P02', 'invalid input syntax for type uuid'),
      coded('ENOSPC'),
      new Error('Internal server error'),
      'ECONNREFUSED',
      null,
      undefined,
    ];
    for (const error of others) expect(isDatabaseUnavailable(error)).toBe(false);
  });
});

describe('databaseUnavailable', () => {
  it('is a 503 with SPEC reason internal, the job id when there is one, and Retry-After', () => {
    const error = databaseUnavailable(coded('ECONNREFUSED'), 'job-1');
    expect(error).toBeInstanceOf(DomainError);
    expect(error.code).toBe('internal');
    expect(statusOf(error)).toBe(503);
    expect(error.options).toMatchObject({ jobId: 'job-1', headers: { 'Retry-After': '5' } });
  });
});
