import { HttpClient, HttpEventType, HttpParams } from '@angular/common/http';
import { Injectable, inject } from '@angular/core';
import {
  Observable,
  catchError,
  filter,
  firstValueFrom,
  from,
  map,
  switchMap,
  throwError,
} from 'rxjs';
import { ApiError, toApiError } from './api-error';
import type {
  AccessToken,
  AuditEntry,
  GalleryLink,
  Provider,
  PublicGallery,
  Settings,
  SettingsUpdate,
  SlotDetail,
  SlotSummary,
  SlotUpdate,
  StatsOverview,
  TemplateMedia,
  TestRunResult,
} from './api-types';

export type UploadEvent<T> = { kind: 'progress'; fraction: number } | { kind: 'done'; value: T };

/** Every call the console makes, typed; failures reject with an {@link ApiError}. */
@Injectable({ providedIn: 'root' })
export class ApiClient {
  private readonly http = inject(HttpClient);

  login(username: string, password: string): Promise<AccessToken> {
    return this.call(this.http.post<AccessToken>('/api/login', { username, password }));
  }

  changePassword(currentPassword: string, newPassword: string): Promise<AccessToken> {
    return this.call(
      this.http.post<AccessToken>('/api/account/password', {
        current_password: currentPassword,
        new_password: newPassword,
      }),
    );
  }

  slots(): Promise<SlotSummary[]> {
    return this.call(this.http.get<SlotSummary[]>('/api/slots'));
  }

  slot(id: string): Promise<SlotDetail> {
    return this.call(this.http.get<SlotDetail>(`/api/slots/${encodeURIComponent(id)}`));
  }

  saveSlot(id: string, body: SlotUpdate): Promise<SlotDetail> {
    return this.call(this.http.put<SlotDetail>(`/api/slots/${encodeURIComponent(id)}`, body));
  }

  providers(): Promise<Provider[]> {
    return this.call(this.http.get<Provider[]>('/api/providers'));
  }

  uploadTemplate(file: File, slotId: string, mediaKind: string): Promise<TemplateMedia> {
    const form = new FormData();
    form.append('slot_id', slotId);
    form.append('media_kind', mediaKind);
    form.append('file', file, file.name);
    return this.call(this.http.post<TemplateMedia>('/api/template-media/register', form));
  }

  deleteTemplate(id: string): Promise<void> {
    return this.call(this.http.delete<void>(`/api/template-media/${encodeURIComponent(id)}`));
  }

  /** Admin-only images (template previews): fetched with the token, shown through an object URL. */
  image(url: string): Promise<Blob> {
    return this.call(this.http.get(url, { responseType: 'blob' }));
  }

  /** Runs a photo through the slot; reports the upload's progress, then the edited photo. */
  testRun(slotId: string, file: File): Observable<UploadEvent<TestRunResult>> {
    const form = new FormData();
    form.append('test_image', file, file.name);
    return this.http
      .post(`/api/slots/${encodeURIComponent(slotId)}/test-run`, form, {
        responseType: 'blob',
        reportProgress: true,
        observe: 'events',
      })
      .pipe(
        filter(
          (event) =>
            event.type === HttpEventType.UploadProgress || event.type === HttpEventType.Response,
        ),
        map((event): UploadEvent<TestRunResult> => {
          if (event.type === HttpEventType.UploadProgress) {
            return { kind: 'progress', fraction: event.total ? event.loaded / event.total : 0 };
          }
          const response = event as {
            body: Blob | null;
            headers: { get(name: string): string | null };
          };
          return {
            kind: 'done',
            value: {
              image: response.body ?? new Blob(),
              jobId: response.headers.get('X-Job-Id'),
              resultUrl: response.headers.get('X-Result-Url'),
            },
          };
        }),
        catchError((error: unknown) =>
          from(toApiError(error)).pipe(switchMap((e) => throwError(() => e))),
        ),
      );
  }

  /** The slot's working gallery link, or null when it is not shared. */
  async galleryLink(slotId: string): Promise<GalleryLink | null> {
    try {
      return await this.call(
        this.http.get<GalleryLink>(`/api/slots/${encodeURIComponent(slotId)}/gallery`),
      );
    } catch (error) {
      if (error instanceof ApiError && error.code === 'gallery_not_found') return null;
      throw error;
    }
  }

  shareGallery(slotId: string, hours: number): Promise<GalleryLink> {
    return this.call(
      this.http.post<GalleryLink>(`/api/slots/${encodeURIComponent(slotId)}/gallery`, { hours }),
    );
  }

  revokeGallery(slotId: string): Promise<void> {
    return this.call(this.http.delete<void>(`/api/slots/${encodeURIComponent(slotId)}/gallery`));
  }

  publicGallery(token: string): Promise<PublicGallery> {
    return this.call(
      this.http.get<PublicGallery>(`/public/galleries/${encodeURIComponent(token)}`, {
        headers: { Accept: 'application/json' },
      }),
    );
  }

  settings(): Promise<Settings> {
    return this.call(this.http.get<Settings>('/api/settings'));
  }

  saveSettings(body: SettingsUpdate): Promise<Settings> {
    return this.call(this.http.put<Settings>('/api/settings', body));
  }

  purgeMediaCache(): Promise<{ status: string }> {
    return this.call(this.http.post<{ status: string }>('/api/media/cache/purge', {}));
  }

  stats(windowMinutes: number): Promise<StatsOverview> {
    const params = new HttpParams().set('window_minutes', windowMinutes);
    return this.call(this.http.get<StatsOverview>('/api/stats/overview', { params }));
  }

  audit(limit: number, before?: string): Promise<AuditEntry[]> {
    let params = new HttpParams().set('limit', limit);
    if (before) params = params.set('before', before);
    return this.call(this.http.get<AuditEntry[]>('/api/audit', { params }));
  }

  private async call<T>(request: Observable<T>): Promise<T> {
    try {
      return await firstValueFrom(request, { defaultValue: undefined as T });
    } catch (error) {
      throw await toApiError(error);
    }
  }
}
