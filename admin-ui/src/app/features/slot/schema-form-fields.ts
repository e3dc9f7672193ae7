import { ChangeDetectionStrategy, Component, input, model } from '@angular/core';
import type { FormValues, SchemaField } from './schema-form';

/** Renders a form built from a JSON Schema (see schema-form.ts) and edits its values. */
@Component({
  selector: 'pc-schema-form-fields',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    @for (field of fields(); track field.key) {
      <div class="field" [class.field-wide]="field.kind === 'textarea'">
        @let id = 'setting-' + field.key;
        @let error = errors()[field.key];
        @switch (field.kind) {
          @case ('boolean') {
            <label class="switch" [for]="id">
              <input
                type="checkbox"
                [id]="id"
                [name]="field.key"
                [checked]="values()[field.key] === true"
                (change)="set(field.key, $any($event.target).checked)"
              />
              <span class="switch-track" aria-hidden="true"></span>
              <span>{{ field.title }}</span>
            </label>
          }
          @default {
            <label [for]="id">
              {{ field.title }}
              @if (field.required) {
                <span class="required" aria-hidden="true">*</span>
              }
            </label>
            @switch (field.kind) {
              @case ('textarea') {
                <textarea
                  [id]="id"
                  [name]="field.key"
                  rows="5"
                  [value]="text(field.key)"
                  [attr.maxlength]="field.maxLength ?? null"
                  [attr.required]="field.required || null"
                  [attr.aria-invalid]="!!error"
                  [attr.aria-describedby]="
                    error ? id + '-error' : field.description ? id + '-hint' : null
                  "
                  (input)="set(field.key, $any($event.target).value)"
                ></textarea>
              }
              @case ('select') {
                <select
                  [id]="id"
                  [name]="field.key"
                  [attr.aria-invalid]="!!error"
                  [attr.aria-describedby]="
                    error ? id + '-error' : field.description ? id + '-hint' : null
                  "
                  (change)="set(field.key, $any($event.target).value)"
                >
                  @if (!field.required) {
                    <option value="" [selected]="values()[field.key] === ''">— не задано —</option>
                  }
                  @for (option of field.options ?? []; track option) {
                    <option [value]="option" [selected]="values()[field.key] === option">
                      {{ option }}
                    </option>
                  }
                </select>
              }
              @case ('text') {
                <input
                  type="text"
                  [id]="id"
                  [name]="field.key"
                  [value]="text(field.key)"
                  [attr.list]="field.suggestions ? id + '-list' : null"
                  [attr.placeholder]="
                    field.suggestions ? 'Например: ' + field.suggestions[0] : null
                  "
                  [attr.maxlength]="field.maxLength ?? null"
                  [attr.aria-invalid]="!!error"
                  [attr.aria-describedby]="
                    error ? id + '-error' : field.description ? id + '-hint' : null
                  "
                  (input)="set(field.key, $any($event.target).value)"
                />
                @if (field.suggestions) {
                  <datalist [id]="id + '-list'">
                    @for (option of field.suggestions; track option) {
                      <option [value]="option"></option>
                    }
                  </datalist>
                }
              }
              @default {
                <input
                  type="number"
                  [id]="id"
                  [name]="field.key"
                  [value]="text(field.key)"
                  [attr.min]="field.minimum ?? null"
                  [attr.max]="field.maximum ?? null"
                  [attr.step]="field.kind === 'integer' ? 1 : 'any'"
                  inputmode="decimal"
                  [attr.aria-invalid]="!!error"
                  [attr.aria-describedby]="
                    error ? id + '-error' : field.description ? id + '-hint' : null
                  "
                  (input)="set(field.key, $any($event.target).value)"
                />
              }
            }
          }
        }
        @if (error) {
          <span class="field-error" [id]="id + '-error'" role="alert">{{ error }}</span>
        } @else if (
          field.description || field.minimum !== undefined || field.maximum !== undefined
        ) {
          <span class="hint" [id]="id + '-hint'">
            {{ field.description }}
            @if (field.minimum !== undefined && field.maximum !== undefined) {
              (от {{ field.minimum }} до {{ field.maximum }})
            }
          </span>
        }
      </div>
    }
  `,
})
export class SchemaFormFields {
  readonly fields = input.required<SchemaField[]>();
  readonly values = model.required<FormValues>();
  readonly errors = input<Record<string, string>>({});

  protected text(key: string): string {
    const value = this.values()[key];
    return typeof value === 'string' ? value : '';
  }

  protected set(key: string, value: string | boolean): void {
    this.values.update((current) => ({ ...current, [key]: value }));
  }
}
