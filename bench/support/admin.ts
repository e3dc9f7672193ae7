/** The admin's side of a benchmark: configuration through the public API, as the console does. */
import { ADMIN_PASSWORD, INGEST_PASSWORD, SLOTS } from './server';

export async function api(
  base: string,
  method: string,
  route: string,
  token: string | undefined,
  json?: unknown,
): Promise<unknown> {
  const response = await fetch(`${base}${route}`, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(json !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: json === undefined ? undefined : JSON.stringify(json),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${route}: ${response.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

export async function login(base: string): Promise<string> {
  const answer = (await api(base, 'POST', '/api/login', undefined, {
    username: 'serg',
    password: ADMIN_PASSWORD,
  })) as { access_token: string };
  return answer.access_token;
}

/**
 * Sets the ingest password and `settings`, and makes every slot an active Gemini image edit.
 * Returns the admin's token.
 */
export async function configure(base: string, settings: Record<string, unknown>): Promise<string> {
  const token = await login(base);
  await api(base, 'PUT', '/api/settings', token, {
    ingest_password: INGEST_PASSWORD,
    ...settings,
  });
  for (const slot of SLOTS) {
    const current = (await api(base, 'GET', `/api/slots/${slot}`, token)) as { version: number };
    await api(base, 'PUT', `/api/slots/${slot}`, token, {
      display_name: `Bench ${slot}`,
      provider: 'gemini',
      operation: 'image_edit',
      is_active: true,
      settings: { prompt: 'Put them on a sunny beach' },
      template_media: [],
      version: current.version,
    });
  }
  return token;
}
