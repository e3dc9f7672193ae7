import { ChangeDetectionStrategy, Component, computed, input } from '@angular/core';
import type { StatsBucket } from '../../core/api/api-types';
import { formatTime } from '../../core/ui/format';

const WIDTH = 720;
const HEIGHT = 220;
const PAD = { top: 12, right: 12, bottom: 28, left: 36 };

/** Jobs and failures per bucket as bars, in plain SVG. */
@Component({
  selector: 'pc-jobs-chart',
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <figure class="chart">
      <svg
        [attr.viewBox]="'0 0 ' + width + ' ' + height"
        role="img"
        [attr.aria-label]="summary()"
        preserveAspectRatio="none"
      >
        @for (tick of chart().ticks; track tick.value) {
          <line
            class="grid"
            [attr.x1]="pad.left"
            [attr.x2]="width - pad.right"
            [attr.y1]="tick.y"
            [attr.y2]="tick.y"
          />
          <text class="axis" [attr.x]="pad.left - 6" [attr.y]="tick.y + 4" text-anchor="end">
            {{ tick.value }}
          </text>
        }
        @for (bar of chart().bars; track bar.x) {
          <rect
            class="bar-jobs"
            [attr.x]="bar.x"
            [attr.y]="bar.jobsY"
            [attr.width]="bar.width"
            [attr.height]="bar.jobsHeight"
          >
            <title>{{ bar.label }}: задач {{ bar.jobs }}, ошибок {{ bar.failures }}</title>
          </rect>
          @if (bar.failures > 0) {
            <rect
              class="bar-failures"
              [attr.x]="bar.x"
              [attr.y]="bar.failuresY"
              [attr.width]="bar.width"
              [attr.height]="bar.failuresHeight"
            />
          }
        }
        @for (label of chart().labels; track label.x) {
          <text class="axis" [attr.x]="label.x" [attr.y]="height - 8" text-anchor="middle">
            {{ label.text }}
          </text>
        }
      </svg>
      <figcaption class="legend">
        <span><i class="swatch swatch-jobs"></i>Задачи</span>
        <span><i class="swatch swatch-failures"></i>Таймауты и ошибки провайдера</span>
      </figcaption>
    </figure>
  `,
})
export class JobsChart {
  readonly buckets = input.required<StatsBucket[]>();
  protected readonly width = WIDTH;
  protected readonly height = HEIGHT;
  protected readonly pad = PAD;

  protected readonly summary = computed(() => {
    const buckets = this.buckets();
    const jobs = buckets.reduce((sum, bucket) => sum + bucket.jobs, 0);
    const failures = buckets.reduce(
      (sum, bucket) => sum + bucket.timeouts + bucket.provider_errors,
      0,
    );
    return `График задач по интервалам: всего ${jobs}, ошибок ${failures}`;
  });

  protected readonly chart = computed(() => {
    const buckets = this.buckets();
    const max = Math.max(1, ...buckets.map((bucket) => bucket.jobs));
    const step = niceStep(max);
    const top = Math.ceil(max / step) * step;
    const plotWidth = WIDTH - PAD.left - PAD.right;
    const plotHeight = HEIGHT - PAD.top - PAD.bottom;
    const slot = plotWidth / Math.max(1, buckets.length);
    const y = (value: number) => PAD.top + plotHeight - (value / top) * plotHeight;
    const bars = buckets.map((bucket, index) => {
      const failures = bucket.timeouts + bucket.provider_errors;
      return {
        x: PAD.left + index * slot + slot * 0.15,
        width: slot * 0.7,
        jobs: bucket.jobs,
        failures,
        jobsY: y(bucket.jobs),
        jobsHeight: PAD.top + plotHeight - y(bucket.jobs),
        failuresY: y(failures),
        failuresHeight: PAD.top + plotHeight - y(failures),
        label: formatTime(bucket.start),
      };
    });
    const ticks = [];
    for (let value = 0; value <= top; value += step) ticks.push({ value, y: y(value) });
    const every = Math.max(1, Math.ceil(buckets.length / 6));
    const labels = buckets
      .map((bucket, index) => ({ index, bucket }))
      .filter(({ index }) => index % every === 0)
      .map(({ index, bucket }) => ({
        x: PAD.left + index * slot + slot / 2,
        text: formatTime(bucket.start),
      }));
    return { bars, ticks, labels };
  });
}

function niceStep(max: number): number {
  const rough = max / 4;
  const power = 10 ** Math.floor(Math.log10(rough));
  for (const factor of [1, 2, 5, 10])
    if (power * factor >= rough) return Math.max(1, power * factor);
  return Math.max(1, power * 10);
}
