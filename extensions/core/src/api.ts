import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import type { ErrorBody } from './api.generated';

/**
 * Path of the suite's REST API under the server's base URL.
 */
export const API_NAMESPACE = 'espri-vre/api';

/**
 * The server answered with an error status (4xx/5xx) or with a body that is not the
 * JSON the API promises.
 *
 * The API answers errors with `{"error": code, "detail": sentence}`; `error` and
 * `detail` carry those. When something else answered (a proxy's HTML page, Tornado's
 * own error JSON, an empty body) `error` is `http-<status>` and `detail` is the best
 * sentence that can be made of what came back.
 */
export class ApiError extends Error {
  constructor(options: ApiError.IOptions) {
    super(`${options.error}: ${options.detail}`);
    this.name = 'ApiError';
    this.status = options.status;
    this.error = options.error;
    this.detail = options.detail;
    this.url = options.url;
  }

  /** HTTP status of the answer (200 when a success answer was not valid JSON). */
  readonly status: number;
  /** Short, stable error code such as `not-found` or `bad-request`. */
  readonly error: string;
  /** A sentence for the user: what failed and what to do next. */
  readonly detail: string;
  /** The URL that was requested. */
  readonly url: string;
}

export namespace ApiError {
  export interface IOptions {
    status: number;
    error: string;
    detail: string;
    url: string;
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
  const url = URLExt.join(settings.baseUrl, API_NAMESPACE, endpoint);
  let response: Response;
  let text: string;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
    text = await response.text();
  } catch (reason) {
    throwIfAborted(init.signal);
    throw new NetworkError(url, reason);
  }

  if (!response.ok) {
    throw errorFromResponse(url, response, text);
  }
  if (response.status === 204 || text.length === 0) {
    return undefined as T;
  }
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new ApiError({
      status: response.status,
      error: 'invalid-response',
      detail: `The server answered ${url} with a body that is not JSON: ${excerpt(text)}`,
      url
    });
  }
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
      url
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
    url
  });
}

function parseJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isErrorBody(body: unknown): body is ErrorBody {
  return (
    typeof body === 'object' &&
    body !== null &&
    typeof (body as ErrorBody).error === 'string' &&
    typeof (body as ErrorBody).detail === 'string'
  );
}

/** The start of a body as one line of plain text, markup removed. */
function excerpt(text: string, limit = 200): string {
  const plain = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return plain.length > limit ? `${plain.slice(0, limit - 1)}…` : plain;
}
