import { ApiProperty } from '@nestjs/swagger';
import { PROVIDER_IDS, TEMPLATE_KINDS } from '../provider-catalog';
import type { JsonSchema, ProviderId, TemplateKind } from '../provider-catalog';

export class ProviderOperationDto {
  @ApiProperty({ example: 'image_edit' })
  id!: string;

  @ApiProperty({ example: 'Редактирование по промпту' })
  name!: string;

  @ApiProperty({ enum: TEMPLATE_KINDS, isArray: true, description: 'Kinds a slot must bind' })
  required_templates!: TemplateKind[];

  @ApiProperty({ enum: TEMPLATE_KINDS, isArray: true, description: 'Kinds it also accepts' })
  optional_templates!: TemplateKind[];

  @ApiProperty({
    type: Number,
    nullable: true,
    description: 'How many templates of one kind a slot may bind; null: no limit',
  })
  max_templates_per_kind!: number | null;

  @ApiProperty({
    type: 'object',
    additionalProperties: true,
    description: "JSON Schema of the slot's `settings` for this operation",
  })
  settings_schema!: JsonSchema;
}

export class ProviderDto {
  @ApiProperty({ enum: PROVIDER_IDS })
  id!: ProviderId;

  @ApiProperty({ example: 'Google Gemini' })
  name!: string;

  @ApiProperty({ description: 'An API key is stored in settings or set in the environment' })
  configured!: boolean;

  @ApiProperty({ type: [ProviderOperationDto] })
  operations!: ProviderOperationDto[];
}
