import { PROVIDER_CATALOG } from './provider-catalog';
import { SlotSettingsValidator } from './slot-settings-validator';

describe('SlotSettingsValidator', () => {
  const validator = new SlotSettingsValidator();

  it('accepts settings that follow the operation schema', () => {
    expect(
      validator.validate('gemini', 'image_edit', {
        prompt: 'Замени фон на ночной город',
        model: 'gemini-3-pro-image',
        aspect_ratio: '3:2',
        output_format: 'png',
      }),
    ).toEqual({});
  });

  it('reports every problem at once, keyed by dotted path', () => {
    expect(
      validator.validate('turbotext', 'image_edit', { strength: 81, seed: 'x', foo: true }),
    ).toEqual({
      'settings.prompt': 'is required',
      'settings.strength': 'must be <= 80',
      'settings.seed': 'must be integer',
      'settings.foo': 'is not a setting of this operation',
    });
    expect(
      validator.validate('gemini', 'image_edit', { prompt: 'x', aspect_ratio: '7:5' }),
    ).toEqual({ 'settings.aspect_ratio': expect.stringContaining('3:2') });
    expect(validator.validate('gemini', 'image_edit', [], 'slot.settings')).toEqual({
      'slot.settings': 'must be object',
    });
  });

  it('refuses unknown keys in every operation of the catalogue', () => {
    for (const provider of PROVIDER_CATALOG) {
      for (const operation of provider.operations) {
        const errors = validator.validate(provider.id, operation.id, { extra: 1 });
        expect(errors['settings.extra']).toBe('is not a setting of this operation');
      }
    }
  });

  it('throws for an operation outside the catalogue', () => {
    expect(() => validator.validate('gemini', 'style_transfer', {})).toThrow(
      /gemini\/style_transfer/,
    );
  });
});
