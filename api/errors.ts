/** One field a client must fix: its dotted path and what is wrong, never the submitted value. */
export interface Issue {
  field: string;
  message: string;
}

/** An error the API reports to the client as is: a stable code, an HTTP status, a safe message. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: `ROT_ERR_${string}`,
    message: string,
    readonly issues?: readonly Issue[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
