import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { ErrorBody, FieldProblem } from './api.generated';

/**
 * Path of the suite's REST API under the server's base URL.
 */
export const API_NAMESPACE = 'espri-vre/api';

/**
 * The server answered with an error status (4xx/5xx) or with a body that is not the
 * JSON the API promises.
 *
 * The API answers errors with `{"error": code, "detail": sentence, ...}`; `error` and
 * `detail` carry those, `body` the whole answer (with `problems` and any other field).
 * When something else answered (a proxy's HTML page, Tornado's own error JSON, an
 * empty body) `error` is `http-<status>` and `detail` is the best sentence that can be
 * made of what came back.
 */
export class ApiError extends Error {
  constructor(options: ApiError.IOptions) {
    super(`${options.error}: ${options.detail}`);
    this.name = 'ApiError';
    this.status = options.status;
    this.error = options.error;
    this.detail = options.detail;
    this.url = options.url;
    this.body = options.body;
    this.text = options.text ?? '';
    this.problems = options.problems ?? problemsOf(options.body);
  }

  /** HTTP status of the answer (200 when a success answer was not valid JSON). */
  readonly status: number;
  /** Short, stable error code such as `not-found` or `bad-request`. */
  readonly error: string;
  /** A sentence for the user: what failed and what to do next. */
  readonly detail: string;
  /** The URL that was requested. */
  readonly url: string;
  /** The whole answer decoded from JSON; `undefined` when it was not JSON. */
  readonly body: unknown;
  /** The answer's text as it came. */
  readonly text: string;
  /** The wrong fields the answer names (a refused job's `problems`), if any. */
  readonly problems: FieldProblem[];
}

export namespace ApiError {
  export interface IOptions {
    status: number;
    error: string;
    detail: string;
    url: string;
    /** The answer decoded from JSON. */
    body?: unknown;
    /** The answer's text. */
    text?: string;
    /** The wrong fields; `body.problems` by default. */
    problems?: FieldProblem[];
  }
}

/**
 * The server could not be reached at all (connection refused, DNS failure, the
 * network went away): no HTTP answer exists.
 */
export class NetworkError extends Error {
  constructor(url: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(`The Jupyter server could not be reached (${reason}).`, { cause });
    this.name = 'NetworkError';
    this.url = url;
  }

  /** The URL that was requested. */
  readonly url: string;
}

/**
 * A success answer of the server, decoded, with what came with it.
 */
export interface ServerAnswer<T> {
  /** The decoded body. */
  data: T;
  /** 200, 204, or 206 for the answer to a `Range` request. */
  status: number;
  /** The answer's headers (`Content-Range`, the suite's `X-...` headers). */
  headers: Headers;
}

/**
 * Called as the bytes of an answer arrive: the count so far, and the total when the
 * server gave a `Content-Length`.
 */
export type ProgressCallback = (received: number, total: number | null) => void;

/**
 * The absolute URL of an endpoint of the suite's API: `<baseUrl>/espri-vre/api/<endpoint>`.
 */
export function apiUrl(
  endpoint: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, API_NAMESPACE, endpoint);
}

/**
 * The absolute URL of a path of the Jupyter server, relative to its base URL
 * (`files/data/x.zarr`, `dask/clusters/<id>`).
 */
export function serverUrl(
  path: string,
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): string {
  return URLExt.join(settings.baseUrl, path);
}

/**
 * Call the suite's REST API: `GET|POST ... <baseUrl>/espri-vre/api/<endpoint>`.
 *
 * Authentication (token, XSRF) is the one of JupyterLab's `ServerConnection`.
 *
 * @param endpoint - Path under `espri-vre/api/`, with its query string if any.
 * @param init - Fetch options; pass `signal` to make the request cancellable.
 * @param settings - Server connection settings; JupyterLab's page settings by default.
 * @returns The decoded JSON answer; `undefined` for `204 No Content`.
 * @throws {@link ApiError} when the server answers an error status or a body that is
 *   not JSON; {@link NetworkError} when the server cannot be reached; the signal's
 *   `AbortError` when `init.signal` is aborted.
 */
export async function requestAPI<T>(
  endpoint = '',
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const answer = await requestJSON<T>(
    apiUrl(endpoint, settings),
    init,
    settings
  );
  return answer.data;
}

/**
 * Send a request to the Jupyter server (any URL under its base URL) and resolve with
 * the answer once its status is a success, before its body is read: `response.body`
 * is the stream to read progressively.
 *
 * This is the suite's one caller of `ServerConnection.makeRequest`, so that every
 * request carries JupyterLab's credentials and fails the same way.
 *
 * @throws {@link ApiError} with the whole error body for a 4xx/5xx answer;
 *   {@link NetworkError} when the server cannot be reached; the signal's
 *   `AbortError` when `init.signal` is aborted.
 */
export async function requestServer(
  url: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Response> {
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (reason) {
    throwIfAborted(init.signal);
    throw new NetworkError(url, reason);
  }
  if (!response.ok) {
    const text = await readText(response, url, init.signal);
    throw errorFromResponse(url, response, text);
  }
  return response;
}

/**
 * The answer of the server as text, with its status and headers.
 *
 * @throws as {@link requestServer}.
 */
export async function requestText(
  url: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<ServerAnswer<string>> {
  const response = await requestServer(url, init, settings);
  const data = await readText(response, url, init.signal);
  return { data, status: response.status, headers: response.headers };
}

/**
 * The answer of the server decoded from JSON (`undefined` for an empty body or
 * `204 No Content`), with its status and headers.
 *
 * @throws as {@link requestServer}; {@link ApiError} `invalid-response` when a
 *   success answer is not JSON.
 */
export async function requestJSON<T>(
  url: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<ServerAnswer<T>> {
  const {
    data: text,
    status,
    headers
  } = await requestText(url, init, settings);
  if (status === 204 || text.length === 0) {
    return { data: undefined as T, status, headers };
  }
  try {
    return { data: JSON.parse(text) as T, status, headers };
  } catch {
    throw new ApiError({
      status,
      error: 'invalid-response',
      detail: `The server answered ${url} with a body that is not JSON: ${excerpt(text)}`,
      url,
      text
    });
  }
}

/**
 * The answer of the server as bytes (an Arrow IPC stream, a Zarr chunk, the `206
 * Partial Content` of a `Range` request), with its status and headers, read
 * progressively so that `onProgress` can follow a long download.
 *
 * @throws as {@link requestServer}.
 */
export async function requestBytes(
  url: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings(),
  onProgress?: ProgressCallback
): Promise<ServerAnswer<Uint8Array>> {
  const response = await requestServer(url, init, settings);
  let data: Uint8Array;
  try {
    data = await readBytes(response, onProgress);
  } catch (reason) {
    throwIfAborted(init.signal);
    throw new NetworkError(url, reason);
  }
  return { data, status: response.status, headers: response.headers };
}

/**
 * A `fetch` for libraries that make their own requests (zarrita's stores): requests
 * to the Jupyter server go with JupyterLab's credentials, keeping their method,
 * headers (`Range`), signal and cache mode; requests elsewhere (object storage) go
 * as they are, so that the server's token never leaves it.
 */
export function serverFetch(
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): (request: Request) => Promise<Response> {
  return request => {
    if (!request.url.startsWith(settings.baseUrl)) {
      // Called unbound: the browser's fetch refuses any `this` but the window.
      return settings.fetch.call(globalThis, request);
    }
    // The request's own cache mode (`default`) keeps makeRequest's cache-busting
    // query, meant for API calls, off the chunks' URLs.
    return ServerConnection.makeRequest(
      request.url,
      {
        method: request.method,
        headers: request.headers,
        signal: request.signal,
        cache: request.cache,
        credentials: 'same-origin'
      },
      settings
    );
  };
}

/**
 * Whether an error is the rejection of an aborted request.
 */
export function isAbortError(reason: unknown): boolean {
  return (
    typeof reason === 'object' &&
    reason !== null &&
    (reason as { name?: unknown }).name === 'AbortError'
  );
}

function throwIfAborted(signal: AbortSignal | null | undefined): void {
  if (!signal?.aborted) {
    return;
  }
  // `reason` is the caller's own value when they passed one to `abort()`.
  if (isAbortError(signal.reason)) {
    throw signal.reason;
  }
  throw new DOMException('The request was aborted.', 'AbortError');
}

async function readText(
  response: Response,
  url: string,
  signal: AbortSignal | null | undefined
): Promise<string> {
  try {
    return await response.text();
  } catch (reason) {
    throwIfAborted(signal);
    throw new NetworkError(url, reason);
  }
}

async function readBytes(
  response: Response,
  onProgress: ProgressCallback | undefined
): Promise<Uint8Array> {
  const header = Number(response.headers.get('Content-Length'));
  const total = Number.isFinite(header) && header > 0 ? header : null;
  if (!response.body) {
    return new Uint8Array(await response.arrayBuffer());
  }
  const reader = response.body.getReader();
  const parts: Uint8Array[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) {
      break;
    }
    parts.push(value);
    received += value.byteLength;
    onProgress?.(received, total);
  }
  const out = new Uint8Array(received);
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function errorFromResponse(
  url: string,
  response: Response,
  text: string
): ApiError {
  const status = response.status;
  const body = parseJSON(text);
  if (isErrorBody(body)) {
    return new ApiError({
      status,
      error: body.error,
      detail: body.detail,
      url,
      body,
      text
    });
  }
  const statusLine = `${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  // Tornado's own errors (e.g. 403 on a missing token) are JSON with a `message`.
  const message =
    body && typeof body === 'object' && 'message' in body
      ? String((body as { message: unknown }).message)
      : excerpt(text);
  return new ApiError({
    status,
    error: `http-${status}`,
    detail: message
      ? `The server answered ${statusLine}: ${message}`
      : `The server answered ${statusLine}.`,
    url,
    body,
    text
  });
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a decoded answer is the API's `{"error", "detail", ...}`. */
export function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ErrorBody).error === 'string' &&
    typeof (body as ErrorBody).detail === 'string'
  );
}

function problemsOf(body: unknown): FieldProblem[] {
  const problems = (body as { problems?: unknown } | null | undefined)
    ?.problems;
  return Array.isArray(problems) ? (problems as FieldProblem[]) : [];
}

/** The start of a body as one line of plain text, markup removed. */
function excerpt(text: string, limit = 200): string {
  const plain = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > limit ? `${plain.slice(0, limit - 1)}…` : plain;
}
