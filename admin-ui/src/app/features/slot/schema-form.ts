import type { JsonSchema } from '../../core/api/api-types';

/** How one setting is edited, decided from its JSON Schema. */
export type FieldKind = 'text' | 'textarea' | 'select' | 'integer' | 'number' | 'boolean';

export interface SchemaField {
  key: string;
  title: string;
  description?: string;
  kind: FieldKind;
  required: boolean;
  /** Allowed values of a `select`. */
  options?: string[];
  /** Suggestions offered for free text (`examples`). */
  suggestions?: string[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  default?: unknown;
}

/** What the inputs hold: text for text and number boxes, booleans for checkboxes. */
export type FormValues = Record<string, string | boolean>;

function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function asStrings(value: unknown): string[] | undefined {
  return Array.isArray(value) ? value.map((item) => String(item)) : undefined;
}

function kindOf(property: JsonSchema): FieldKind | undefined {
  const type = Array.isArray(property['type']) ? property['type'][0] : property['type'];
  if (Array.isArray(property['enum'])) return 'select';
  switch (type) {
    case 'string':
      return property['x-ui'] === 'textarea' || (asNumber(property['maxLength']) ?? 0) > 300
        ? 'textarea'
        : 'text';
    case 'integer':
      return 'integer';
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    default:
      return undefined;
  }
}

/** The form for an operation's `settings_schema`: one field per known property, in schema order. */
export function fieldsFromSchema(schema: JsonSchema | null | undefined): SchemaField[] {
  const properties = (schema?.['properties'] ?? {}) as Record<string, JsonSchema>;
  const required = new Set(asStrings(schema?.['required']) ?? []);
  const fields: SchemaField[] = [];
  for (const [key, property] of Object.entries(properties)) {
    const kind = kindOf(property);
    if (!kind) continue;
    const field: SchemaField = {
      key,
      title: typeof property['title'] === 'string' ? property['title'] : key,
      kind,
      required: required.has(key),
    };
    if (typeof property['description'] === 'string') field.description = property['description'];
    if (kind === 'select') field.options = asStrings(property['enum']);
    const suggestions = asStrings(property['examples']);
    if (suggestions && kind === 'text') field.suggestions = suggestions;
    const minimum = asNumber(property['minimum']);
    const maximum = asNumber(property['maximum']);
    const minLength = asNumber(property['minLength']);
    const maxLength = asNumber(property['maxLength']);
    if (minimum !== undefined) field.minimum = minimum;
    if (maximum !== undefined) field.maximum = maximum;
    if (minLength !== undefined) field.minLength = minLength;
    if (maxLength !== undefined) field.maxLength = maxLength;
    if (typeof property['pattern'] === 'string') field.pattern = property['pattern'];
    if (property['default'] !== undefined) field.default = property['default'];
    fields.push(field);
  }
  return fields;
}

/** The inputs' starting values: the slot's settings, else the schema defaults, else empty. */
export function initialValues(
  fields: SchemaField[],
  settings: Record<string, unknown> = {},
): FormValues {
  const values: FormValues = {};
  for (const field of fields) {
    const value = field.key in settings ? settings[field.key] : field.default;
    if (field.kind === 'boolean') values[field.key] = value === true;
    else values[field.key] = value === undefined || value === null ? '' : String(value);
  }
  return values;
}

function isBlank(value: string | boolean | undefined): boolean {
  return value === undefined || (typeof value === 'string' && value.trim() === '');
}

/** Checks what the schema says before anything is sent; messages are Russian, keyed by field. */
export function validateValues(fields: SchemaField[], values: FormValues): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const field of fields) {
    const value = values[field.key];
    if (field.kind === 'boolean') continue;
    const text = typeof value === 'string' ? value : '';
    if (isBlank(value)) {
      if (field.required) errors[field.key] = 'Обязательное поле.';
      continue;
    }
    switch (field.kind) {
      case 'integer':
      case 'number': {
        const trimmed = text.trim().replace(',', '.');
        const number = Number(trimmed);
        if (!/^-?\d+(\.\d+)?$/.test(trimmed) || !Number.isFinite(number)) {
          errors[field.key] = field.kind === 'integer' ? 'Нужно целое число.' : 'Нужно число.';
        } else if (field.kind === 'integer' && !Number.isInteger(number)) {
          errors[field.key] = 'Нужно целое число.';
        } else if (field.minimum !== undefined && number < field.minimum) {
          errors[field.key] = rangeMessage(field);
        } else if (field.maximum !== undefined && number > field.maximum) {
          errors[field.key] = rangeMessage(field);
        }
        break;
      }
      case 'select':
        if (!(field.options ?? []).includes(text))
          errors[field.key] = 'Выберите значение из списка.';
        break;
      case 'text':
      case 'textarea':
        if (field.minLength !== undefined && text.length < field.minLength) {
          errors[field.key] = `Не короче ${field.minLength} символов.`;
        } else if (field.maxLength !== undefined && text.length > field.maxLength) {
          errors[field.key] = `Не длиннее ${field.maxLength} символов (сейчас ${text.length}).`;
        } else if (field.pattern !== undefined && !new RegExp(field.pattern).test(text)) {
          errors[field.key] = 'Недопустимые символы.';
        }
        break;
    }
  }
  return errors;
}

function rangeMessage(field: SchemaField): string {
  if (field.minimum !== undefined && field.maximum !== undefined) {
    return `Значение от ${field.minimum} до ${field.maximum}.`;
  }
  return field.minimum !== undefined
    ? `Не меньше ${field.minimum}.`
    : `Не больше ${field.maximum}.`;
}

/** The `settings` object to send: typed values, blank optional fields left out. */
export function settingsFromValues(
  fields: SchemaField[],
  values: FormValues,
): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  for (const field of fields) {
    const value = values[field.key];
    if (field.kind === 'boolean') {
      settings[field.key] = value === true;
      continue;
    }
    if (isBlank(value)) continue;
    const text = String(value);
    settings[field.key] =
      field.kind === 'integer' || field.kind === 'number'
        ? Number(text.trim().replace(',', '.'))
        : text;
  }
  return settings;
}

/**
 * Where a 422 `errors` key belongs: `settings.prompt` → the `prompt` field; anything else is a
 * form-level key (`display_name`, `template_media`, …) kept as sent.
 */
export function splitServerErrors(errors: Readonly<Record<string, string>>): {
  settings: Record<string, string>;
  other: Record<string, string>;
} {
  const settings: Record<string, string> = {};
  const other: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) {
    if (path.startsWith('settings.')) {
      const key = path.slice('settings.'.length).split('.')[0]!;
      settings[key] = settings[key] ? `${settings[key]} ${message}` : message;
    } else {
      const key = path.startsWith('template_media') ? 'template_media' : path;
      other[key] = other[key] ? `${other[key]} ${message}` : message;
    }
  }
  return { settings, other };
}
