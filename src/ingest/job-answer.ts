import type { Response } from 'express';
import type { JobAnswer } from './job-runner';

/** The edited photo as the booth receives it (SPEC §4 success). */
export function sendJobAnswer(response: Response, answer: JobAnswer): void {
  response.status(200).set({
    'Content-Type': answer.mimeType,
    'Content-Length': String(answer.bytes.length),
    'Cache-Control': 'no-store',
    'X-Job-Id': answer.jobId,
    'X-Result-Url': answer.resultUrl,
  });
  if (answer.deduplicated) response.set('X-Deduplicated', 'true');
  response.end(answer.bytes);
}
