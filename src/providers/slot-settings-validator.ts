import { Injectable } from '@nestjs/common';
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { PROVIDER_CATALOG, ProviderId } from './provider-catalog';

/** Problems keyed by dotted path (`settings.prompt`), the shape of a 422 `errors` map. */
export type FieldErrors = Record<string, string>;

/**
 * Checks a slot's `settings` against its operation's JSON Schema. Every schema is compiled once at
 * start-up, so a broken catalogue entry stops the boot instead of the first save.
 */
@Injectable()
export class SlotSettingsValidator {
  private readonly validators = new Map<string, ValidateFunction>();

  constructor() {
    // Strict mode catches typos in the catalogue; `x-ui` is our hint for the admin form.
    const ajv = new Ajv({ allErrors: true, strict: true });
    ajv.addVocabulary(['x-ui']);
    for (const provider of PROVIDER_CATALOG) {
      for (const operation of provider.operations) {
        this.validators.set(key(provider.id, operation.id), ajv.compile(operation.settingsSchema));
      }
    }
  }

  /**
   * Every problem at once, keyed under `prefix`; empty when the settings are valid.
   * Throws for a provider/operation pair outside the catalogue: callers check that first.
   */
  validate(
    provider: ProviderId,
    operation: string,
    settings: unknown,
    prefix = 'settings',
  ): FieldErrors {
    const validator = this.validators.get(key(provider, operation));
    if (!validator) throw new Error(`No operation ${provider}/${operation} in the catalogue`);
    if (validator(settings)) return {};
    const errors: FieldErrors = {};
    for (const error of validator.errors ?? []) {
      const path = [prefix, ...pathOf(error)].join('.');
      const message = describe(error);
      errors[path] = errors[path] ? `${errors[path]}; ${message}` : message;
    }
    return errors;
  }
}

function key(provider: string, operation: string): string {
  return `${provider}/${operation}`;
}

/** The offending property: ajv reports missing and unknown keys on the parent object. */
function pathOf(error: ErrorObject): string[] {
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((segment) => segment.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (error.keyword === 'required') {
    segments.push(String((error.params as { missingProperty: string }).missingProperty));
  } else if (error.keyword === 'additionalProperties') {
    segments.push(String((error.params as { additionalProperty: string }).additionalProperty));
  }
  return segments;
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not a setting of this operation';
    case 'enum':
      return `must be one of: ${(error.params as { allowedValues: unknown[] }).allowedValues.join(', ')}`;
    default:
      return error.message ?? 'is not valid';
  }
}
