import { Injectable } from '@nestjs/common';

/** The one source of "now" for rules that depend on time, so tests move time instead of sleeping. */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
