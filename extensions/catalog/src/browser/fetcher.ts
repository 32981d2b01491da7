/**
 * How the browser reaches remote catalogues: through the server's allow-listed proxy
 * (`catalogs/{id}/proxy?url=...`), or, for a catalogue on the server's file system,
 * through its `data/files/` route. Both answer text and say whether it was cut.
 */
import {
  ApiError,
  apiUrl,
  isErrorBody,
  requestText,
  type ServerAnswer
} from '@espri-vre/core';
import type { ServerConnection } from '@jupyterlab/services';

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

/**
 * A failed answer for the catalogue at `url`: the API's `{error, detail}` when the
 * server sent one, else a sentence naming `what` answered.
 */
function answerError(failure: ApiError, url: string, what: string): ApiError {
  const { status, body, text } = failure;
  const sent = isErrorBody(body);
  return new ApiError({
    status,
    error: sent ? body.error : `http-${status}`,
    detail: sent ? body.detail : `${what} answered HTTP ${status}.`,
    url,
    body,
    text
  });
}

/** `requestText`, its ApiError told as `answerError` does. */
async function send(
  url: string,
  init: RequestInit,
  settings: ServerConnection.ISettings,
  remote: string,
  what: string
): Promise<ServerAnswer<string>> {
  try {
    return await requestText(url, init, settings);
  } catch (error) {
    if (error instanceof ApiError) {
      throw answerError(error, remote, what);
    }
    throw error;
  }
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
  const route = apiUrl(
    `catalogs/${encodeURIComponent(catalogId)}/proxy`,
    settings
  );
  return async (request, signal) => {
    const url = `${route}?url=${encodeURIComponent(request.url)}`;
    const init: RequestInit = { method: request.method, signal };
    if (request.method === 'POST') {
      init.body = request.body ?? '';
      init.headers = {
        'Content-Type': 'application/json',
        ...(request.headers ?? {})
      };
    } else if (request.headers !== undefined) {
      init.headers = request.headers;
    }
    const { data, headers } = await send(
      url,
      init,
      settings,
      request.url,
      `The catalogue server behind ${request.url}`
    );
    return {
      text: data,
      url: headers.get('X-Espri-Vre-Url') ?? request.url,
      truncated: headers.get('X-Espri-Vre-Truncated') === 'true'
    };
  };
}

/**
 * GET requests for documents the Jupyter server serves itself (a static catalogue on
 * its file system): `url` is already the server's absolute URL.
 */
export function serverFetcher(settings: ServerConnection.ISettings): Fetcher {
  return async (request, signal) => {
    const { data } = await send(
      request.url,
      { method: request.method, body: request.body, signal },
      settings,
      request.url,
      `The server, for ${request.url},`
    );
    return { text: data, url: request.url, truncated: false };
  };
}
