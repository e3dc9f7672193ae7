import { DomainError } from '../common/domain-error';

/** Slot ids are fixed by the schema migration; anything else is simply not a slot. */
export const SLOT_ID_PATTERN = /^slot-\d{3}$/;

export function slotNotFound(id: string): DomainError {
  // Only echo ids that look like one; arbitrary path input stays out of the message.
  const shown = SLOT_ID_PATTERN.test(id) ? ` "${id}"` : '';
  return new DomainError('slot_not_found', `There is no slot${shown}`);
}

export function versionConflict(id: string, sent: number, current: number): DomainError {
  return new DomainError(
    'version_conflict',
    `Slot "${id}" was changed meanwhile: it is at version ${current}, this save was based on version ${sent}. Reload it and try again.`,
  );
}

export function invalidSlot(errors: Record<string, string>): DomainError {
  return new DomainError('validation_failed', 'The slot was not saved: some fields are not valid', {
    errors,
  });
}
