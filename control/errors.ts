export interface ValidationIssue {
  /** Dotted path of the offending field, such as 'policy.cron'. */
  field: string;
  /** What is wrong, written without the submitted value: a value may be a secret. */
  message: string;
}

/** A request Rotor refuses before starting any workflow; an API maps it to HTTP 400. */
export class ValidationError extends Error {
  readonly code = 'ROT_ERR_VALIDATION';
  readonly statusCode = 400;
  readonly issues: ValidationIssue[];

  constructor(issues: ValidationIssue[]) {
    // Fields and our own messages only, never the input, so logging this error leaks nothing.
    super(`invalid request: ${issues.map((i) => `${i.field} ${i.message}`).join('; ')}`);
    this.name = 'ValidationError';
    this.issues = issues;
  }
}

/** A valid request for something Rotor cannot do yet; an API maps it to HTTP 422. */
export class UnsupportedError extends Error {
  readonly code = 'ROT_ERR_UNSUPPORTED';
  readonly statusCode = 422;

  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
    this.name = 'UnsupportedError';
  }
}

/**
 * The secret's lifecycle workflow has ended (retired, or terminated by an operator), so it takes
 * no signal or update: the caller's 409, not the server's 500.
 */
export class LifecycleNotRunningError extends Error {
  readonly code = 'ROT_ERR_NOT_RUNNING';
  readonly statusCode = 409;
  constructor() {
    super('This secret’s lifecycle is not running (it may be retired)');
    this.name = 'LifecycleNotRunningError';
  }
}

/** No such secret (or one whose row names a type Rotor does not know); HTTP 404. */
export class SecretNotFoundError extends Error {
  readonly code = 'ROT_ERR_NOT_FOUND';
  readonly statusCode = 404;
  constructor() {
    super('No such secret');
    this.name = 'SecretNotFoundError';
  }
}

/** A change to a retired secret; HTTP 409. */
export class SecretRetiredError extends Error {
  readonly code = 'ROT_ERR_RETIRED';
  readonly statusCode = 409;
  constructor() {
    super('The secret is retired');
    this.name = 'SecretRetiredError';
  }
}
