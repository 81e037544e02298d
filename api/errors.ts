/** An error the API reports to the client as is: a stable code, an HTTP status, a safe message. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: `ROT_ERR_${string}`,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
