/** An error the CLI reports as one line (plus field issues), with a stable code and exit status. */
export class CliError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly issues: { field: string; message: string }[] = [],
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export interface ApiClient {
  request<T>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    body?: unknown,
    headers?: Record<string, string>,
  ): Promise<T>;
}

/** Talks to Rotor's HTTP API with the caller's bearer token. */
export function apiClient(baseUrl: string, token: string): ApiClient {
  return {
    async request<T>(
      method: 'GET' | 'POST' | 'PUT' | 'DELETE',
      path: string,
      body?: unknown,
      headers: Record<string, string> = {},
    ): Promise<T> {
      let res: Response;
      try {
        res = await fetch(new URL(path, baseUrl), {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (err) {
        const cause = (err as { cause?: { code?: string } }).cause?.code ?? 'network error';
        throw new CliError(
          'ROT_ERR_UNREACHABLE',
          `Cannot reach the Rotor API at ${baseUrl} (${cause}). Is it running (npm start)? Set ROTOR_API_URL if it is elsewhere.`,
        );
      }
      const text = await res.text();
      let json: unknown;
      try {
        json = text ? (JSON.parse(text) as unknown) : undefined;
      } catch {
        // Not Rotor answering (a proxy's error page, another service at that address): say so,
        // coded, rather than print the JSON parser's complaint about the first character.
        throw new CliError(
          'ROT_ERR_NOT_ROTOR',
          `The server at ${baseUrl} answered HTTP ${res.status} with something other than Rotor's JSON (${
            res.headers.get('content-type') ?? 'no content type'
          })`,
        );
      }
      if (!res.ok) {
        const error = (
          json as {
            error?: {
              code?: string;
              message?: string;
              issues?: { field: string; message: string }[];
            };
          }
        )?.error;
        throw new CliError(
          error?.code ?? `HTTP_${res.status}`,
          error?.message ?? `HTTP ${res.status}`,
          error?.issues ?? [],
        );
      }
      return json as T;
    },
  };
}
