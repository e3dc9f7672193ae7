import { provideHttpClient, withInterceptors } from '@angular/common/http';
import { HttpTestingController, provideHttpClientTesting } from '@angular/common/http/testing';
import { TestBed } from '@angular/core/testing';
import { provideRouter, Router } from '@angular/router';
import { firstValueFrom, toArray } from 'rxjs';
import { authInterceptor } from '../auth/auth.interceptor';
import { AuthService } from '../auth/auth.service';
import { ApiClient } from './api-client';
import { ApiError } from './api-error';

describe('ApiClient', () => {
  let api: ApiClient;
  let http: HttpTestingController;

  beforeEach(() => {
    sessionStorage.clear();
    TestBed.configureTestingModule({
      providers: [
        provideRouter([]),
        provideHttpClient(withInterceptors([authInterceptor])),
        provideHttpClientTesting(),
      ],
    });
    api = TestBed.inject(ApiClient);
    http = TestBed.inject(HttpTestingController);
  });

  afterEach(() => http.verify());

  it('sends the Bearer token to admin routes, not to sign-in or public routes', async () => {
    TestBed.inject(AuthService).store('header.payload.signature');

    const slots = api.slots();
    const slotsCall = http.expectOne('/api/slots');
    expect(slotsCall.request.headers.get('Authorization')).toBe('Bearer header.payload.signature');
    slotsCall.flush([]);
    expect(await slots).toEqual([]);

    const login = api.login('serg', 'pw');
    const loginCall = http.expectOne('/api/login');
    expect(loginCall.request.headers.has('Authorization')).toBe(false);
    expect(loginCall.request.body).toEqual({ username: 'serg', password: 'pw' });
    loginCall.flush({ access_token: 't', token_type: 'Bearer', expires_in: 60 });
    await login;

    const gallery = api.publicGallery('tok');
    const galleryCall = http.expectOne('/public/galleries/tok');
    expect(galleryCall.request.headers.has('Authorization')).toBe(false);
    expect(galleryCall.request.headers.get('Accept')).toBe('application/json');
    galleryCall.flush({ slot_id: 'slot-001', display_name: 'x', expires_at: '', results: [] });
    await gallery;
  });

  it('rejects with an ApiError carrying Russian text and field errors', async () => {
    const saving = api.saveSettings({ sync_response_seconds: 5 });
    http.expectOne({ method: 'PUT', url: '/api/settings' }).flush(
      {
        status: 'error',
        failure_reason: 'validation_failed',
        message: 'Some fields are not valid',
        errors: { sync_response_seconds: 'must be a whole number from 10 to 60' },
      },
      { status: 422, statusText: 'Unprocessable Entity' },
    );
    const error = (await saving.catch((e: unknown) => e)) as ApiError;
    expect(error).toBeInstanceOf(ApiError);
    expect(error.code).toBe('validation_failed');
    expect(error.fields['sync_response_seconds']).toBe('Целое число от 10 до 60.');
  });

  it('sends 401 unauthorized to sign-in, but not a wrong current password', async () => {
    const auth = TestBed.inject(AuthService);
    const router = TestBed.inject(Router);
    const navigate = vi.spyOn(router, 'navigate').mockResolvedValue(true);
    auth.store('a.b.c');

    const change = api.changePassword('wrong', 'new-password-1');
    http
      .expectOne('/api/account/password')
      .flush(
        { status: 'error', failure_reason: 'invalid_credentials', message: 'x' },
        { status: 401, statusText: 'Unauthorized' },
      );
    expect(((await change.catch((e: unknown) => e)) as ApiError).code).toBe('invalid_credentials');
    expect(auth.token()).toBe('a.b.c');

    const slots = api.slots();
    http
      .expectOne('/api/slots')
      .flush(
        { status: 'error', failure_reason: 'unauthorized', message: 'x' },
        { status: 401, statusText: 'Unauthorized' },
      );
    expect(((await slots.catch((e: unknown) => e)) as ApiError).message).toBe(
      'Сеанс истёк. Войдите снова.',
    );
    expect(auth.token()).toBeNull();
    expect(navigate).toHaveBeenCalledWith(['/login'], expect.anything());
  });

  it('answers null for a slot whose gallery is not shared', async () => {
    const link = api.galleryLink('slot-001');
    http
      .expectOne('/api/slots/slot-001/gallery')
      .flush(
        { status: 'error', failure_reason: 'gallery_not_found', message: 'x' },
        { status: 404, statusText: 'Not Found' },
      );
    expect(await link).toBeNull();
  });

  it('reports test-run upload progress, then the photo and its headers', async () => {
    const events = firstValueFrom(
      api
        .testRun('slot-001', new File(['photo'], 'guest.jpg', { type: 'image/jpeg' }))
        .pipe(toArray()),
    );
    const call = http.expectOne('/api/slots/slot-001/test-run');
    expect(call.request.body).toBeInstanceOf(FormData);
    expect((call.request.body as FormData).get('test_image')).toBeInstanceOf(File);
    call.event({ type: 1, loaded: 5, total: 10 });
    call.flush(new Blob(['edited']), {
      headers: { 'X-Job-Id': 'job-1', 'X-Result-Url': 'http://x/public/results/job-1' },
    });
    const [progress, done] = await events;
    expect(progress).toEqual({ kind: 'progress', fraction: 0.5 });
    expect(done).toMatchObject({
      kind: 'done',
      value: { jobId: 'job-1', resultUrl: 'http://x/public/results/job-1' },
    });
  });

  it('turns a test-run error (a Blob body) into Russian text', async () => {
    const run = firstValueFrom(
      api.testRun('slot-001', new File(['x'], 'x.jpg', { type: 'image/jpeg' })),
    );
    http
      .expectOne('/api/slots/slot-001/test-run')
      .flush(
        new Blob([JSON.stringify({ status: 'error', failure_reason: 'blocked', message: 'x' })]),
        { status: 502, statusText: 'Bad Gateway' },
      );
    const error = (await run.catch((e: unknown) => e)) as ApiError;
    expect(error.code).toBe('blocked');
    expect(error.message).toMatch(/фильтр контента/);
  });
});
