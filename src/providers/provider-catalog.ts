/** What each provider can do and which slot settings each operation takes (SPEC §5). */
export type ProviderId = 'gemini' | 'turbotext';
export const PROVIDER_IDS: readonly ProviderId[] = ['gemini', 'turbotext'];

export type JsonSchema = Record<string, unknown>;

export const TEMPLATE_KINDS = ['style', 'base', 'background', 'reference', 'overlay'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface OperationSpec {
  id: string;
  name: string;
  /** Template kinds a slot must bind before this operation can run. */
  requiredTemplates: TemplateKind[];
  /** Template kinds it also accepts; anything else is refused when a slot is saved. */
  optionalTemplates: TemplateKind[];
  /** Turbotext methods take one image URL per role, so a second binding would be silently ignored. */
  maxTemplatesPerKind: number | null;
  /** Always `additionalProperties: false`: a misspelt key must not be dropped silently. */
  settingsSchema: JsonSchema;
}

export interface ProviderSpec {
  id: ProviderId;
  name: string;
  operations: OperationSpec[];
}

export const GEMINI_MODELS = ['gemini-3.1-flash-image', 'gemini-3-pro-image'] as const;
export const ASPECT_RATIOS = [
  '1:1',
  '2:3',
  '3:2',
  '3:4',
  '4:3',
  '4:5',
  '5:4',
  '9:16',
  '16:9',
  '21:9',
] as const;
export const OUTPUT_FORMATS = ['input', 'jpeg', 'png', 'webp'] as const;

const output = {
  output_format: {
    type: 'string',
    title: 'Формат ответа',
    enum: OUTPUT_FORMATS,
    default: 'input',
    description: 'input — тот же формат, что у снимка',
  },
  output_long_edge_px: {
    type: 'integer',
    title: 'Длинная сторона ответа, px',
    minimum: 256,
    maximum: 8192,
  },
};

const prompt = (required: boolean): JsonSchema => ({
  type: 'string',
  title: 'Промпт',
  minLength: required ? 1 : 0,
  maxLength: 4000,
  'x-ui': 'textarea',
});

const model = (title: string): JsonSchema => ({
  type: 'string',
  title,
  minLength: 1,
  maxLength: 128,
  pattern: '^[A-Za-z0-9._-]+$',
  examples: [...GEMINI_MODELS],
});

function schema(properties: Record<string, JsonSchema>, required: string[] = []): JsonSchema {
  return { type: 'object', additionalProperties: false, properties, required };
}

export const PROVIDER_CATALOG: readonly ProviderSpec[] = [
  {
    id: 'gemini',
    name: 'Google Gemini',
    operations: [
      {
        id: 'image_edit',
        name: 'Редактирование по промпту',
        requiredTemplates: [],
        optionalTemplates: [...TEMPLATE_KINDS],
        maxTemplatesPerKind: null,
        settingsSchema: schema(
          {
            prompt: prompt(true),
            model: model('Модель'),
            fallback_model: model('Резервная модель'),
            aspect_ratio: { type: 'string', title: 'Соотношение сторон', enum: ASPECT_RATIOS },
            ...output,
          },
          ['prompt'],
        ),
      },
    ],
  },
  {
    id: 'turbotext',
    name: 'Turbotext',
    operations: [
      {
        id: 'style_transfer',
        name: 'Перенос стиля',
        requiredTemplates: ['style'],
        optionalTemplates: [],
        maxTemplatesPerKind: 1,
        settingsSchema: schema({ prompt: prompt(false), ...output }),
      },
      {
        id: 'identity_transfer',
        name: 'Перенос лица',
        requiredTemplates: ['base'],
        optionalTemplates: [],
        maxTemplatesPerKind: 1,
        settingsSchema: schema({
          face_restore: { type: 'boolean', title: 'Восстановление лица', default: true },
          ...output,
        }),
      },
      {
        id: 'image_edit',
        name: 'Редактирование по промпту',
        requiredTemplates: [],
        optionalTemplates: [],
        maxTemplatesPerKind: 1,
        settingsSchema: schema(
          {
            prompt: prompt(true),
            strength: {
              type: 'integer',
              title: 'Сила изменения',
              minimum: 0,
              maximum: 80,
              default: 40,
            },
            negative_prompt: { type: 'string', title: 'Негативный промпт', maxLength: 4000 },
            seed: { type: 'integer', title: 'Seed', minimum: 0, maximum: 2147483647 },
            scale: { type: 'number', title: 'Scale', minimum: 1, maximum: 30 },
            ...output,
          },
          ['prompt'],
        ),
      },
    ],
  },
];

export function isTemplateKind(value: string): value is TemplateKind {
  return (TEMPLATE_KINDS as readonly string[]).includes(value);
}

export function findProvider(id: string): ProviderSpec | undefined {
  return PROVIDER_CATALOG.find((provider) => provider.id === id);
}

export function findOperation(providerId: string, operationId: string): OperationSpec | undefined {
  return findProvider(providerId)?.operations.find((operation) => operation.id === operationId);
}
