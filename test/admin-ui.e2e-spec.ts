/**
 * The admin console in a real browser (Debian's chromium through playwright-core) against the real
 * server with a fake Gemini: sign in, configure a slot, test it, change settings, watch statistics
 * move after a booth shot, share the gallery and open it as a guest. Every page of the run is
 * watched for Content-Security-Policy violations; Swagger UI too. Screenshots go to
 * test-artifacts/screenshots/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import type { BrowserContext, Locator, Page } from 'playwright-core';
import { chromium } from 'playwright-core';
import sharp from 'sharp';
import { FakeGemini, GeminiReply } from './fakes/fake-gemini';
import { boothPost, dslrFields } from './support/booth';
import { freePort } from './support/server-process';
import { ADMIN_PASSWORDS, TestApp } from './support/test-app';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const UI_INDEX = path.join(
  __dirname,
  '..',
  'admin-ui',
  'dist',
  'admin-ui',
  'browser',
  'index.html',
);
const SCREENSHOTS = path.join(__dirname, '..', 'test-artifacts', 'screenshots');
const INGEST_PASSWORD = 'booth-password-e2e';

const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && process.env.CI) {
  // .ci/run installs chromium: in CI a missing browser is a failure, not a skip.
  throw new Error(`${CHROMIUM} is missing in CI`);
}
if (!haveChromium) {
  console.warn(
    `admin-ui e2e skipped: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`,
  );
}
const describeInBrowser = haveChromium ? describe : describe.skip;

/** A small scene, so screenshots show a photo rather than a test pattern. */
function scene(sky: string, ground: string, label: string): Promise<Buffer> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="900" height="600">
    <defs><linearGradient id="s" x1="0" y1="0" x2="0" y2="1">
      <stop offset="0" stop-color="${sky}"/><stop offset="1" stop-color="#ffffff"/></linearGradient></defs>
    <rect width="900" height="600" fill="url(#s)"/>
    <circle cx="720" cy="140" r="70" fill="#ffd75e"/>
    <rect y="420" width="900" height="180" fill="${ground}"/>
    <circle cx="450" cy="250" r="70" fill="#f1c7a5"/>
    <rect x="370" y="320" width="160" height="200" rx="60" fill="#2f4858"/>
    <text x="40" y="70" font-family="sans-serif" font-size="42" fill="#0f2b26">${label}</text>
  </svg>`;
  return sharp(Buffer.from(svg)).jpeg({ quality: 85 }).toBuffer();
}

describeInBrowser('admin console in a browser', () => {
  let gemini: FakeGemini;
  let app: TestApp;
  let context: BrowserContext;
  let page: Page;
  let profileDir: string;
  let photo: Buffer;
  let edited: Buffer;
  let template: Buffer;
  /** Every CSP violation any page of the run reported, as one readable line each. */
  const violations: string[] = [];

  jest.setTimeout(120_000);

  const shot = (target: Page, name: string) =>
    target.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });

  const api = async (method: string, route: string, json?: unknown) =>
    app.request(method, route, { token: await app.login('igor'), json });

  beforeAll(async () => {
    if (!existsSync(UI_INDEX)) {
      throw new Error(`The admin console is not built (${UI_INDEX}): run npm run build:ui`);
    }
    mkdirSync(SCREENSHOTS, { recursive: true });
    [photo, edited, template] = await Promise.all([
      scene('#8ec9e8', '#6b8f5e', 'Снимок гостя'),
      scene('#f59e6b', '#f3d9a4', 'Пляж на закате'),
      scene('#f4b3c2', '#e9d5ff', 'Стиль'),
    ]);
    gemini = await FakeGemini.start();
    gemini.respondWith(GeminiReply.image(edited, 'image/jpeg'));
    const port = await freePort();
    app = await TestApp.start({
      port,
      env: {
        GEMINI_BASE_URL: gemini.baseUrl,
        GEMINI_API_KEY: 'e2e-gemini-key',
        PUBLIC_MEDIA_BASE_URL: `http://127.0.0.1:${port}`,
      },
    });
    profileDir = mkdtempSync(path.join(tmpdir(), 'photochanger-chromium-'));
    context = await chromium.launchPersistentContext(profileDir, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1280, height: 900 },
      locale: 'ru-RU',
      timezoneId: 'Europe/Moscow',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    // Init scripts run outside the page's CSP, so the listener itself is never blocked.
    await context.exposeBinding('reportCspViolation', (_source, line: string) => {
      violations.push(line);
    });
    await context.addInitScript(`document.addEventListener('securitypolicyviolation', (event) =>
      window.reportCspViolation(event.effectiveDirective + ' refused ' +
        (event.blockedURI || 'inline') + ' on ' + event.documentURI + ' ' + (event.sample || '')))`);
    context.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(15_000);
  });

  afterAll(async () => {
    await context?.close();
    await app?.close();
    await gemini?.close();
    if (profileDir) rmSync(profileDir, { recursive: true, force: true });
  });

  it('signs in and lists the 15 slots', async () => {
    await page.goto(`${app.url}/`);
    await page.waitForURL('**/admin/login**');
    await page.getByRole('heading', { name: 'Привет!' }).waitFor();
    await shot(page, '01-login');

    await page.getByLabel('Имя пользователя').fill('serg');
    await page.getByLabel('Пароль', { exact: true }).fill('wrong-password');
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.getByText('Неверное имя пользователя или пароль.').waitFor();

    await page.getByLabel('Пароль', { exact: true }).fill(ADMIN_PASSWORDS.serg);
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.waitForURL('**/admin/slots');
    await page.getByRole('heading', { name: 'Слоты AI-обработки' }).waitFor();
    await expectCount(page.locator('.slot-row'), 15);
    await shot(page, '02-slots');
  });

  it('saves settings: the ingest password and T_sync_response with the slider', async () => {
    await page.getByRole('link', { name: 'Настройки' }).click();
    await page.getByRole('heading', { name: 'Настройки платформы' }).waitFor();
    expect(await page.getByTestId('sync-value').textContent()).toBe('48 с');

    await page.getByLabel(/Синхронный таймаут/).fill('30');
    expect(await page.getByTestId('sync-value').textContent()).toBe('30 с');
    await page.getByLabel('Новый ingest-пароль').fill('short');
    await page.getByRole('button', { name: 'Сохранить' }).click();
    await page.getByText('Не короче 8 символов.').waitFor();

    await page.getByLabel('Новый ingest-пароль').fill(INGEST_PASSWORD);
    await page.getByRole('button', { name: 'Сохранить' }).click();
    await page.getByText('Настройки сохранены').waitFor();
    await page.getByText(/Пароль задан/).waitFor();
    expect(await page.getByLabel('Новый ingest-пароль').inputValue()).toBe('');

    const settings = await api('GET', '/api/settings');
    expect(settings.body).toMatchObject({ sync_response_seconds: 30, ingest_password_set: true });
    await shot(page, '03-settings');

    await page.getByRole('button', { name: 'Очистить мультимедиа кеш' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Очистить' }).click();
    await page.getByText('Очистка кеша запущена').waitFor();
  });

  it('configures a slot from the schema form, with a template, and runs a test photo', async () => {
    await page.getByRole('link', { name: 'Слоты', exact: true }).click();
    await page.getByRole('link', { name: 'Слот 001', exact: true }).click();
    await page.getByRole('heading', { name: 'Слот — AI обработка' }).waitFor();

    await page.getByLabel('Название').fill('Пляж на закате');
    await page.getByLabel('Провайдер').selectOption('gemini');
    expect(await page.getByLabel('Операция').inputValue()).toBe('image_edit');
    // Client-side validation from the schema: the prompt is required.
    await page.getByRole('button', { name: 'Сохранить' }).click();
    await page.getByText('Обязательное поле.').waitFor();
    expect(gemini.requests).toHaveLength(0);

    await page.getByLabel('Промпт').fill('Перенеси людей на пляж на закате, лица не меняй');
    await page.getByLabel('Соотношение сторон').selectOption('3:2');
    await page.getByLabel('Роль шаблона').selectOption('style');
    await page.getByTestId('template-input-optional').setInputFiles({
      name: 'style.jpg',
      mimeType: 'image/jpeg',
      buffer: template,
    });
    await page.locator('.template-card img').waitFor();
    await page.getByText('Слот активен').click();
    await page.getByRole('button', { name: 'Сохранить' }).click();
    await page.getByText('Слот сохранён').waitFor();

    const slot = await api('GET', '/api/slots/slot-001');
    expect(slot.body).toMatchObject({
      display_name: 'Пляж на закате',
      provider: 'gemini',
      operation: 'image_edit',
      is_active: true,
      version: 2,
      settings: { prompt: 'Перенеси людей на пляж на закате, лица не меняй', aspect_ratio: '3:2' },
      template_media: [expect.objectContaining({ media_kind: 'style' })],
    });

    await page.getByTestId('test-photo-input').setInputFiles({
      name: 'guest.jpg',
      mimeType: 'image/jpeg',
      buffer: photo,
    });
    await page.getByRole('button', { name: 'Тест', exact: true }).click();
    const result = page.getByTestId('test-result');
    await result.waitFor();
    await waitUntil(
      page,
      `document.querySelector('[data-testid="test-result"]')?.naturalWidth === 900`,
    );
    expect(gemini.requests).toHaveLength(1);
    await shot(page, '04-slot');
  });

  it('offers to reload when another admin saved the slot meanwhile', async () => {
    const current = await api('GET', '/api/slots/slot-001');
    const { display_name, provider, operation, is_active, settings, version } = current.body;
    const template_media = current.body.template_media.map((binding: any) => ({
      media_kind: binding.media_kind,
      template_media_id: binding.template_media_id,
    }));
    const saved = await api('PUT', '/api/slots/slot-001', {
      display_name,
      provider,
      operation,
      is_active,
      settings: { ...settings, prompt: 'Изменено другим администратором' },
      template_media,
      version,
    });
    expect(saved.status).toBe(200);

    await page.getByLabel('Название').fill('Пляж на закате (моя правка)');
    await page.getByRole('button', { name: 'Сохранить' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Слот изменён другим администратором').waitFor();
    await shot(page, '05-version-conflict');
    await dialog.getByRole('button', { name: 'Загрузить заново' }).click();
    await waitUntil(
      page,
      `document.getElementById('setting-prompt')?.value === 'Изменено другим администратором'`,
    );
    expect(await page.getByLabel('Название').inputValue()).toBe('Пляж на закате');
  });

  it('shows statistics move after a booth shot', async () => {
    await page.getByRole('link', { name: 'Статистика' }).click();
    await page.getByRole('heading', { name: 'Статистика AI-слотов' }).waitFor();
    expect((await page.getByTestId('window-jobs').locator('strong').textContent())?.trim()).toBe(
      '0',
    );

    const answer = await boothPost(`${app.url}/ingest/slot-001`, {
      fields: { ...dslrFields(), password: INGEST_PASSWORD },
      file: { bytes: photo },
    });
    expect(answer.status).toBe(200);

    await page.getByRole('button', { name: 'Обновить' }).click();
    await waitUntil(
      page,
      `document.querySelector('[data-testid="window-jobs"] strong')?.textContent.trim() === '1'`,
    );
    await page.locator('.chart svg').waitFor();
    await shot(page, '06-statistics');
  });

  it('shares the gallery with a link and QR code, and a guest opens it without signing in', async () => {
    await page.getByRole('link', { name: 'Слоты', exact: true }).click();
    await page.getByRole('link', { name: 'Пляж на закате', exact: true }).click();
    await page.locator('.results-grid .result-card').first().waitFor();

    await page.getByLabel('Срок действия, часов (1–168)').fill('48');
    await page.getByRole('button', { name: 'Создать ссылку' }).click();
    await page.getByText('Ссылка на галерею создана').waitFor();
    const link = await page.getByTestId('gallery-link').inputValue();
    expect(link).toMatch(new RegExp(`^${app.url}/public/galleries/[A-Za-z0-9_-]{43}$`));
    await page.getByRole('img', { name: 'QR-код публичной галереи' }).waitFor();
    await shot(page, '07-slot-gallery-shared');

    const guest = await context.newPage();
    await guest.goto(link);
    await guest.getByRole('heading', { name: 'Пляж на закате' }).waitFor();
    expect(await guest.evaluate('sessionStorage.length')).toBe(0);
    await waitUntil(guest, `document.querySelector('.result-card img')?.naturalWidth > 0`);
    await expectCount(guest.getByRole('link', { name: 'Скачать' }), 1);
    await guest.getByRole('img', { name: 'QR-код для скачивания фото' }).waitFor();
    await shot(guest, '08-public-gallery');

    await page.getByRole('button', { name: 'Отозвать доступ' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Отозвать' }).click();
    await page.getByText('Доступ к галерее отозван').waitFor();
    await guest.reload();
    await guest.getByRole('heading', { name: 'Галерея недоступна' }).waitFor();
    await guest.getByText('Срок действия ссылки на галерею истёк или доступ отозван.').waitFor();
    await guest.close();
  });

  it('shows the change history and fits a tablet', async () => {
    await page.getByRole('link', { name: 'История' }).click();
    await page.getByRole('heading', { name: 'История изменений' }).waitFor();
    await page.getByText('Слот slot-001').first().waitFor();
    await shot(page, '09-history');

    await page.setViewportSize({ width: 768, height: 1024 });
    await page.getByRole('link', { name: 'Слоты', exact: true }).click();
    await page.getByRole('heading', { name: 'Слоты AI-обработки' }).waitFor();
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot(page, '10-slots-tablet');
  });

  it('changes the signed-in admin’s own password and stays signed in', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.getByRole('link', { name: 'serg' }).click();
    await page.getByRole('heading', { name: 'Смена пароля' }).waitFor();
    await page.getByLabel('Текущий пароль').fill('not-my-password');
    await page.getByLabel('Новый пароль', { exact: true }).fill('serg-new-password-2');
    await page.getByLabel('Повторите новый пароль').fill('serg-new-password-2');
    await page.getByRole('button', { name: 'Сменить пароль' }).click();
    // A wrong current password is a form error, not the end of the session.
    await page.getByText('Неверный текущий пароль.').waitFor();

    await page.getByLabel('Текущий пароль').fill(ADMIN_PASSWORDS.serg);
    await page.getByRole('button', { name: 'Сменить пароль' }).click();
    await page.getByText('Пароль изменён').waitFor();
    await page.getByRole('link', { name: 'Слоты', exact: true }).click();
    await page.getByRole('heading', { name: 'Слоты AI-обработки' }).waitFor();
    const login = await app.request('POST', '/api/login', {
      json: { username: 'serg', password: 'serg-new-password-2' },
    });
    expect(login.status).toBe(200);
  });

  it('signs out with «Выйти» and back in with the new password', async () => {
    await page.getByRole('button', { name: 'Выйти' }).click();
    await page.waitForURL('**/admin/login**');
    expect(await page.evaluate('sessionStorage.length')).toBe(0);
    await page.goto(`${app.url}/admin/settings`);
    await page.waitForURL('**/admin/login?returnUrl=%2Fsettings');
    await page.getByLabel('Имя пользователя').fill('serg');
    await page.getByLabel('Пароль', { exact: true }).fill('serg-new-password-2');
    await page.getByRole('button', { name: 'Войти' }).click();
    await page.waitForURL('**/admin/settings');
    await page.getByRole('heading', { name: 'Настройки платформы' }).waitFor();
  });

  it('sends an expired session back to sign-in', async () => {
    await page.evaluate(`sessionStorage.setItem('photochanger.token', 'not.a-valid.token')`);
    await page.goto(`${app.url}/admin/settings`);
    await page.waitForURL('**/admin/login**');
    await page.getByRole('heading', { name: 'Привет!' }).waitFor();
  });

  it('renders Swagger UI under its own policy', async () => {
    const docs = await context.newPage();
    const response = await docs.goto(`${app.url}/api/docs`);
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self';");
    await docs.getByRole('heading', { name: /PhotoChanger/ }).waitFor();
    await docs.locator('.opblock-tag', { hasText: 'auth' }).first().waitFor();
    await docs.locator('.opblock-summary-path', { hasText: '/api/login' }).first().click();
    await docs.getByText('Sign in as an admin').first().waitFor();
    // "Try it out" calls the API from the page (connect-src).
    await docs.getByRole('button', { name: 'Try it out' }).click();
    await docs.getByRole('button', { name: 'Execute' }).click();
    await docs.locator('.live-responses-table .response-col_status', { hasText: '401' }).waitFor();
    await shot(docs, '11-swagger-ui');
    await docs.close();
  });

  it('ran every page above within the Content-Security-Policy', async () => {
    // Styles Angular adds at run time are allowed only through the nonce the page carries.
    const response = await fetch(`${app.url}/admin/`);
    const policy = response.headers.get('content-security-policy') ?? '';
    const nonce = /style-src 'self' 'nonce-([A-Za-z0-9+/=]{24})'/.exec(policy)?.[1];
    expect(await response.text()).toContain(`<pc-root ngCspNonce="${nonce}">`);
    expect(policy).not.toContain('unsafe-inline');
    expect(violations).toEqual([]);
  });
});

/**
 * Waits up to 10 s for `expression` to be true in the page. Polled with `evaluate`: the string
 * form of `waitForFunction` evaluates with eval inside the page, which its CSP rightly refuses.
 */
async function waitUntil(target: Page, expression: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await target.evaluate<boolean>(`Boolean(${expression})`))) {
    if (Date.now() > deadline) throw new Error(`still false after 10 s: ${expression}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Waits up to 10 s for the locator to match `count` elements. */
async function expectCount(locator: Locator, count: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = await locator.count();
  while (seen !== count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    seen = await locator.count();
  }
  expect(seen).toBe(count);
}
