import {
  fieldsFromSchema,
  initialValues,
  settingsFromValues,
  splitServerErrors,
  validateValues,
} from './schema-form';

// The Gemini image_edit schema as GET /api/providers sends it (abridged).
const GEMINI_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['prompt'],
  properties: {
    prompt: { type: 'string', title: 'Промпт', minLength: 1, maxLength: 4000, 'x-ui': 'textarea' },
    model: {
      type: 'string',
      title: 'Модель',
      maxLength: 128,
      pattern: '^[A-Za-z0-9._-]+$',
      examples: ['gemini-3.1-flash-image', 'gemini-3-pro-image'],
    },
    aspect_ratio: { type: 'string', title: 'Соотношение сторон', enum: ['1:1', '3:2'] },
    output_format: {
      type: 'string',
      title: 'Формат ответа',
      enum: ['input', 'jpeg'],
      default: 'input',
    },
    output_long_edge_px: { type: 'integer', title: 'Длинная сторона', minimum: 256, maximum: 8192 },
  },
};

const TURBOTEXT_SCHEMA = {
  type: 'object',
  properties: {
    face_restore: { type: 'boolean', title: 'Восстановление лица', default: true },
    strength: { type: 'integer', title: 'Сила', minimum: 0, maximum: 80, default: 40 },
    scale: { type: 'number', title: 'Scale', minimum: 1, maximum: 30 },
    negative_prompt: { type: 'string', title: 'Негативный промпт', maxLength: 10 },
  },
};

describe('fieldsFromSchema', () => {
  it('makes one field per property, in order, with the kind its schema implies', () => {
    const fields = fieldsFromSchema(GEMINI_SCHEMA);
    expect(fields.map((field) => [field.key, field.kind, field.required])).toEqual([
      ['prompt', 'textarea', true],
      ['model', 'text', false],
      ['aspect_ratio', 'select', false],
      ['output_format', 'select', false],
      ['output_long_edge_px', 'integer', false],
    ]);
    expect(fields[0]).toMatchObject({ title: 'Промпт', minLength: 1, maxLength: 4000 });
    expect(fields[1]!.suggestions).toEqual(['gemini-3.1-flash-image', 'gemini-3-pro-image']);
    expect(fields[2]!.options).toEqual(['1:1', '3:2']);
    expect(fields[4]).toMatchObject({ minimum: 256, maximum: 8192 });
  });

  it('knows booleans and numbers, and skips what it cannot edit', () => {
    const fields = fieldsFromSchema({
      properties: { ...TURBOTEXT_SCHEMA.properties, nested: { type: 'object' } },
    });
    expect(fields.map((field) => field.kind)).toEqual(['boolean', 'integer', 'number', 'text']);
    expect(fieldsFromSchema(null)).toEqual([]);
  });

  it('uses the key when a property has no title', () => {
    expect(fieldsFromSchema({ properties: { seed: { type: 'integer' } } })[0]!.title).toBe('seed');
  });
});

describe('initialValues', () => {
  it('takes the slot’s settings, else the defaults, else blanks', () => {
    const fields = fieldsFromSchema(GEMINI_SCHEMA);
    expect(initialValues(fields, { prompt: 'Пляж', output_long_edge_px: 2048 })).toEqual({
      prompt: 'Пляж',
      model: '',
      aspect_ratio: '',
      output_format: 'input',
      output_long_edge_px: '2048',
    });
    expect(initialValues(fieldsFromSchema(TURBOTEXT_SCHEMA))).toMatchObject({
      face_restore: true,
      strength: '40',
    });
  });
});

describe('validateValues', () => {
  const gemini = fieldsFromSchema(GEMINI_SCHEMA);
  const turbotext = fieldsFromSchema(TURBOTEXT_SCHEMA);

  it('accepts valid values', () => {
    expect(
      validateValues(gemini, {
        prompt: 'Пляж',
        model: 'gemini-3-pro-image',
        aspect_ratio: '3:2',
        output_format: 'jpeg',
        output_long_edge_px: '1024',
      }),
    ).toEqual({});
  });

  it('reports a missing required field and leaves optional blanks alone', () => {
    expect(validateValues(gemini, { prompt: '   ', model: '', output_long_edge_px: '' })).toEqual({
      prompt: 'Обязательное поле.',
    });
  });

  it('checks minimum and maximum, whole numbers and numbers', () => {
    expect(validateValues(gemini, { prompt: 'x', output_long_edge_px: '100' })).toEqual({
      output_long_edge_px: 'Значение от 256 до 8192.',
    });
    expect(validateValues(gemini, { prompt: 'x', output_long_edge_px: '512.5' })).toEqual({
      output_long_edge_px: 'Нужно целое число.',
    });
    expect(validateValues(turbotext, { strength: '81', scale: 'abc' })).toEqual({
      strength: 'Значение от 0 до 80.',
      scale: 'Нужно число.',
    });
    expect(validateValues(turbotext, { strength: '0', scale: '7,5' })).toEqual({});
  });

  it('checks maxLength, patterns and enum values', () => {
    expect(validateValues(turbotext, { negative_prompt: 'слишком длинно' })).toEqual({
      negative_prompt: 'Не длиннее 10 символов (сейчас 14).',
    });
    expect(validateValues(gemini, { prompt: 'x', model: 'gemini 3', aspect_ratio: '7:5' })).toEqual(
      {
        model: 'Недопустимые символы.',
        aspect_ratio: 'Выберите значение из списка.',
      },
    );
  });
});

describe('settingsFromValues', () => {
  it('sends typed values and leaves blank optional fields out', () => {
    const fields = fieldsFromSchema({
      ...GEMINI_SCHEMA,
      properties: { ...GEMINI_SCHEMA.properties, ...TURBOTEXT_SCHEMA.properties },
    });
    expect(
      settingsFromValues(fields, {
        prompt: 'Пляж',
        model: '',
        aspect_ratio: '3:2',
        output_format: 'input',
        output_long_edge_px: ' 2048 ',
        face_restore: false,
        strength: '40',
        scale: '7,5',
        negative_prompt: '',
      }),
    ).toEqual({
      prompt: 'Пляж',
      aspect_ratio: '3:2',
      output_format: 'input',
      output_long_edge_px: 2048,
      face_restore: false,
      strength: 40,
      scale: 7.5,
    });
  });
});

describe('splitServerErrors', () => {
  it('puts `settings.*` keys on their fields and keeps the others for the form', () => {
    expect(
      splitServerErrors({
        'settings.prompt': 'Обязательное поле.',
        'settings.model.0': 'Недопустимые символы.',
        display_name: 'Не длиннее 100 символов.',
        'template_media.0.template_media_id': 'Шаблон не найден.',
        template_media: 'Нужен шаблон: style.',
      }),
    ).toEqual({
      settings: { prompt: 'Обязательное поле.', model: 'Недопустимые символы.' },
      other: {
        display_name: 'Не длиннее 100 символов.',
        template_media: 'Шаблон не найден. Нужен шаблон: style.',
      },
    });
  });
});
