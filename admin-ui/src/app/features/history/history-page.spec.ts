import { describeChanges } from './history-page';

describe('describeChanges', () => {
  it('lists changed fields, one level into nested objects, without the version', () => {
    expect(
      describeChanges({
        old_value: {
          display_name: 'Слот 001',
          is_active: false,
          settings: { prompt: 'Пляж', aspect_ratio: '3:2' },
          version: 1,
        },
        new_value: {
          display_name: 'Пляж на закате',
          is_active: false,
          settings: { prompt: 'Пляж', aspect_ratio: '1:1', output_format: 'png' },
          version: 2,
        },
      }),
    ).toEqual([
      { key: 'display_name', before: 'Слот 001', after: 'Пляж на закате' },
      { key: 'settings.aspect_ratio', before: '3:2', after: '1:1' },
      { key: 'settings.output_format', before: '—', after: 'png' },
    ]);
  });

  it('handles entries without an old or new value', () => {
    expect(describeChanges({ old_value: null, new_value: { media_kind: 'style' } })).toEqual([
      { key: 'media_kind', before: '—', after: 'style' },
    ]);
    expect(describeChanges({ old_value: null, new_value: null })).toEqual([]);
  });
});
