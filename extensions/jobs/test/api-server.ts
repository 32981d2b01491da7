import { ServerConnection } from '@jupyterlab/services';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the test server received: its route below `/espri-vre/api/`. */
export interface IApiRequest {
  method: string;
  route: string;
  query: URLSearchParams;
  /** The JSON body, parsed; undefined when there was none. */
  body: unknown;
}

/** An answer: its status and JSON body; undefined for the server's 404. */
export type ApiAnswer = [status: number, body: unknown] | undefined;

/**
 * A real HTTP server on the loopback playing the Jobs API as each spec's `answer`
 * says, so that the extension's own REST client and JobService are what the tests
 * run: what the specs of the form and the table used to start each on its own.
 */
export class JobsApiServer {
  constructor(answer: (request: IApiRequest) => ApiAnswer) {
    this._answer = answer;
  }

  /** Every request received, in order. */
  readonly requests: IApiRequest[] = [];

  /** Settings of JupyterLab's REST client pointing at the server. */
  get serverSettings(): ServerConnection.ISettings {
    return ServerConnection.makeSettings({ baseUrl: this._baseUrl });
  }

  async start(): Promise<void> {
    this._server = http.createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      let text = '';
      req.on('data', chunk => (text += chunk));
      req.on('end', () => {
        const request: IApiRequest = {
          method: req.method ?? 'GET',
          route: url.pathname.replace(/^\/espri-vre\/api\//, ''),
          query: url.searchParams,
          body: text ? JSON.parse(text) : undefined
        };
        this.requests.push(request);
        const [status, body] = this._answer(request) ?? [
          404,
          { error: 'not-found', detail: request.route }
        ];
        res
          .writeHead(status, { 'Content-Type': 'application/json' })
          .end(JSON.stringify(body));
      });
    });
    const server = this._server;
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
    this._baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  stop(): Promise<void> {
    return new Promise<void>(resolve =>
      this._server ? this._server.close(() => resolve()) : resolve()
    );
  }

  private _answer: (request: IApiRequest) => ApiAnswer;
  private _server: http.Server | null = null;
  private _baseUrl = '';
}
