/**
 * How the browser reaches remote catalogues: through the server's allow-listed proxy
 * (`catalogs/{id}/proxy?url=...`), or, for a catalogue on the server's file system,
 * through its `data/files/` route. Both answer text and say whether it was cut.
 */
import { ApiError, API_NAMESPACE, NetworkError } from '@espri-vre/core';
import { ServerConnection } from '@jupyterlab/services';

export interface RemoteRequest {
  method: 'GET' | 'POST';
  url: string;
  /** A JSON or XML body (POST). */
  body?: string;
  headers?: Record<string, string>;
}

export interface RemoteAnswer {
  text: string;
  /** The URL that answered, after redirects: the base of relative links. */
  url: string;
  /** True when the server cut the answer at its size limit. */
  truncated: boolean;
}

export type Fetcher = (
  request: RemoteRequest,
  signal?: AbortSignal
) => Promise<RemoteAnswer>;

/**
 * An answer that was cut at the server's size limit and cannot be read whole.
 */
export class TruncatedAnswerError extends Error {
  constructor(
    readonly url: string,
    readonly bytes: number
  ) {
    super(
      `The answer of ${url} was cut after ${bytes} bytes, the size limit of the server's catalogue proxy (CatalogProxy.max_response_bytes), so it cannot be read whole. Ask for fewer results per page, or an administrator can raise the limit.`
    );
    this.name = 'TruncatedAnswerError';
  }
}

/**
 * Read a cut answer's text with `parse`: when it cannot be read, the error says the
 * answer was cut rather than that it is malformed.
 */
export function parseAnswer<T>(
  answer: RemoteAnswer,
  parse: (text: string, url: string) => T
): T {
  try {
    return parse(answer.text, answer.url);
  } catch (error) {
    if (answer.truncated) {
      throw new TruncatedAnswerError(
        answer.url,
        new TextEncoder().encode(answer.text).byteLength
      );
    }
    throw error;
  }
}

async function send(
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings,
  signal: AbortSignal | undefined
): Promise<Response> {
  try {
    return await ServerConnection.makeRequest(
      url,
      { ...init, signal },
      settings
    );
  } catch (reason) {
    if (signal?.aborted) {
      throw reason;
    }
    throw new NetworkError(url, reason);
  }
}

/** The API's `{error, detail}` of a failed answer, or a sentence with the status. */
export function answerError(
  url: string,
  status: number,
  text: string,
  what: string
): ApiError {
  let error = `http-${status}`;
  let detail = `${what} answered HTTP ${status}.`;
  try {
    const body = JSON.parse(text) as { error?: unknown; detail?: unknown };
    if (typeof body.error === 'string' && typeof body.detail === 'string') {
      error = body.error;
      detail = body.detail;
    }
  } catch {
    // Not the API's error JSON: the status sentence stands.
  }
  return new ApiError({ status, error, detail, url });
}

/**
 * Requests sent through the server's catalogue proxy for catalogue `catalogId`. The
 * server refuses hosts that are not on its allow-list (403 `host-not-allowed`), and
 * answers timeouts (504) and unreachable hosts (502) with a sentence.
 */
export function proxyFetcher(
  catalogId: string,
  settings: ServerConnection.ISettings
): Fetcher {
  const route = `${settings.baseUrl.replace(/\/*$/, '/')}${API_NAMESPACE}/catalogs/${encodeURIComponent(catalogId)}/proxy`;
  return async (request, signal) => {
    const url = `${route}?url=${encodeURIComponent(request.url)}`;
    const init: RequestInit = { method: request.method };
    if (request.method === 'POST') {
      init.body = request.body ?? '';
      init.headers = {
        'Content-Type': 'application/json',
        ...(request.headers ?? {})
      };
    } else if (request.headers !== undefined) {
      init.headers = request.headers;
    }
    const response = await send(url, init, settings, signal);
    const text = await response.text();
    if (!response.ok) {
      throw answerError(
        request.url,
        response.status,
        text,
        `The catalogue server behind ${request.url}`
      );
    }
    return {
      text,
      url: response.headers.get('X-Espri-Vre-Url') ?? request.url,
      truncated: response.headers.get('X-Espri-Vre-Truncated') === 'true'
    };
  };
}

/**
 * GET requests for documents the Jupyter server serves itself (a static catalogue on
 * its file system): `url` is already the server's absolute URL.
 */
export function serverFetcher(settings: ServerConnection.ISettings): Fetcher {
  return async (request, signal) => {
    const response = await send(
      request.url,
      { method: request.method, body: request.body },
      settings,
      signal
    );
    const text = await response.text();
    if (!response.ok) {
      throw answerError(
        request.url,
        response.status,
        text,
        `The server, for ${request.url},`
      );
    }
    return { text, url: request.url, truncated: false };
  };
}
